//! `$batch` (reference A6): many operations in one HTTP request, as `multipart/mixed`.
//!
//! Reads travel as single parts; writes travel in changesets, which Dataverse runs atomically
//! (all or nothing), in order, and within which a `Content-ID` can be referenced as `$n`
//! (`PATCH $1` updates the record the part with `Content-ID: 1` created). At most
//! [`MAX_OPERATIONS`] requests per batch; no nesting.

mod response;

use std::fmt::Write as _;

use serde_json::Value;
use uuid::Uuid;

pub use response::{ItemResult, PartResponse, ResponseItem, assign, parse};

use crate::dataverse::query::Query;

/// The most requests one `$batch` may carry (A6).
pub const MAX_OPERATIONS: usize = 1000;

/// The `Content-ID` of a write in a changeset; `$n` refers to its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentId(u32);

impl ContentId {
    /// The number on the wire.
    pub fn value(self) -> u32 {
        self.0
    }
}

/// What a write addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A URL relative to the Web API root: `emails`, `emails(<guid>)`.
    Url(String),
    /// The record an earlier write of the same changeset created (`$n`).
    Created(ContentId),
}

/// A write inside a changeset.
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    /// Its `Content-ID`.
    pub content_id: ContentId,
    /// `POST` (create) or `PATCH` (update).
    pub method: WriteMethod,
    /// Where it goes.
    pub target: Target,
    /// The JSON body.
    pub body: Value,
}

/// The HTTP method of a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMethod {
    /// Create (`POST <set>`).
    Create,
    /// Update (`PATCH <record>`).
    Update,
}

/// One top-level item of a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchItem {
    /// A GET, outside any changeset (GET is not allowed inside one).
    Query(Query),
    /// Writes that succeed or fail together.
    ChangeSet(Vec<Write>),
}

/// A `$batch` request being built.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    items: Vec<BatchItem>,
    next_content_id: u32,
    continue_on_error: bool,
}

/// A `$batch` body ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedBatch {
    /// The request's `Content-Type` (with its boundary).
    pub content_type: String,
    /// The multipart body.
    pub body: String,
}

impl Batch {
    /// An empty batch that stops at the first failure (HTTP 400 with only that response).
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks Dataverse to run every item even when one fails
    /// (`Prefer: odata.continue-on-error`): the answer is then 200 with every item's result.
    pub fn continue_on_error(mut self) -> Self {
        self.continue_on_error = true;
        self
    }

    /// Whether the batch continues after a failure.
    pub fn continues_on_error(&self) -> bool {
        self.continue_on_error
    }

    /// Adds a read; returns its item index.
    pub fn query(&mut self, query: Query) -> usize {
        self.items.push(BatchItem::Query(query));
        self.items.len() - 1
    }

    /// Opens a new changeset at the end of the batch.
    pub fn changeset(&mut self) -> ChangeSet<'_> {
        self.items.push(BatchItem::ChangeSet(Vec::new()));
        let index = self.items.len() - 1;
        ChangeSet { batch: self, index }
    }

    /// The items, in order.
    pub fn items(&self) -> &[BatchItem] {
        &self.items
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Requests it carries (each counts against the limits, A7).
    pub fn operations(&self) -> usize {
        self.items
            .iter()
            .map(|item| match item {
                BatchItem::Query(_) => 1,
                BatchItem::ChangeSet(writes) => writes.len(),
            })
            .sum()
    }

    /// The item that holds `id`.
    pub fn item_of(&self, id: u32) -> Option<usize> {
        self.items.iter().position(|item| match item {
            BatchItem::ChangeSet(writes) => writes.iter().any(|w| w.content_id.0 == id),
            BatchItem::Query(_) => false,
        })
    }

    /// The multipart body; `api_path` is the Web API root's path (`/api/data/v9.2/`).
    pub fn encode(&self, api_path: &str) -> EncodedBatch {
        let batch = format!("batch_{}", Uuid::new_v4());
        let mut body = String::new();
        for item in &self.items {
            let _ = write!(body, "--{batch}\r\n");
            match item {
                BatchItem::Query(query) => {
                    body.push_str(
                        "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n",
                    );
                    let _ = write!(body, "GET {api_path}{} HTTP/1.1\r\n", query.relative_url());
                    body.push_str("Accept: application/json\r\n");
                    if let Some(prefer) = query.prefer() {
                        let _ = write!(body, "Prefer: {prefer}\r\n");
                    }
                    body.push_str("\r\n");
                }
                BatchItem::ChangeSet(writes) => {
                    let changeset = format!("changeset_{}", Uuid::new_v4());
                    let _ =
                        write!(body, "Content-Type: multipart/mixed; boundary={changeset}\r\n\r\n");
                    for write in writes {
                        encode_write(&mut body, &changeset, api_path, write);
                    }
                    let _ = write!(body, "--{changeset}--\r\n");
                }
            }
        }
        let _ = write!(body, "--{batch}--\r\n");
        EncodedBatch { content_type: format!("multipart/mixed; boundary=\"{batch}\""), body }
    }
}

fn encode_write(body: &mut String, changeset: &str, api_path: &str, write: &Write) {
    let _ = write!(
        body,
        "--{changeset}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\
         Content-ID: {}\r\n\r\n",
        write.content_id.0
    );
    let method = match write.method {
        WriteMethod::Create => "POST",
        WriteMethod::Update => "PATCH",
    };
    let url = match &write.target {
        Target::Url(relative) => format!("{api_path}{relative}"),
        Target::Created(id) => format!("${}", id.0),
    };
    let _ = write!(
        body,
        "{method} {url} HTTP/1.1\r\nContent-Type: application/json; type=entry\r\n\r\n{}\r\n",
        write.body
    );
}

/// A changeset being filled; its writes run in the order added.
#[derive(Debug)]
pub struct ChangeSet<'a> {
    batch: &'a mut Batch,
    index: usize,
}

impl ChangeSet<'_> {
    /// The changeset's item index in the batch.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Adds a create (`POST <entity_set>`).
    pub fn create(&mut self, entity_set: &str, body: Value) -> ContentId {
        self.push(WriteMethod::Create, Target::Url(entity_set.to_string()), body)
    }

    /// Adds an update of `target`.
    pub fn update(&mut self, target: Target, body: Value) -> ContentId {
        self.push(WriteMethod::Update, target, body)
    }

    fn push(&mut self, method: WriteMethod, target: Target, body: Value) -> ContentId {
        self.batch.next_content_id += 1;
        let content_id = ContentId(self.batch.next_content_id);
        let BatchItem::ChangeSet(writes) = &mut self.batch.items[self.index] else {
            unreachable!("a ChangeSet handle always points at a changeset item");
        };
        writes.push(Write { content_id, method, target, body });
        content_id
    }
}

#[cfg(test)]
mod tests;
