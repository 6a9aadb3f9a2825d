//! Delta queries (reference 6): per-folder rounds of pages linked by opaque state tokens
//! (`$skiptoken` for the next page, `$deltatoken` for the next round) kept in a bounded cache
//! per mailbox, as Outlook keeps them: evicted or expired tokens answer 410.

use std::collections::{HashMap, VecDeque};

use time::OffsetDateTime;

mod page;
mod tokens;

pub(crate) use page::{PageSettings, serve};
pub(crate) use tokens::TokenCache;

use super::{
    errors::GraphError,
    odata::Filter,
    request::ApiRequest,
    store::{Item, ItemData, Mailbox},
};

/// What a delta round tracks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scope {
    Messages { folder: u32 },
    CalendarView { folder: u32, start: OffsetDateTime, end: OffsetDateTime },
    Contacts { folder: u32 },
    Tasks { folder: u32 },
}

impl Scope {
    /// Whether a token of scope `self` may be used on a request for `other` (a calendar
    /// view token keeps its own window).
    pub(super) fn same_target(&self, other: &Scope) -> bool {
        match (self, other) {
            (Self::CalendarView { folder: a, .. }, Self::CalendarView { folder: b, .. }) => a == b,
            _ => self == other,
        }
    }
}

/// The query options of a round's first request, kept in its tokens.
#[derive(Debug, Clone, Default)]
pub(crate) struct Options {
    pub select: Option<Vec<String>>,
    pub filter: Option<Filter>,
    /// The `changeType` custom option: `created`, `updated` or `deleted`.
    pub change_type: Option<String>,
    pub order_desc: bool,
    pub top: Option<usize>,
    /// The first request's query, to rebuild its URL for a sync reset's `Location`.
    pub initial_query: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub(super) struct Known {
    pub(super) regular: String,
    pub(super) immutable: String,
}

/// What a client knows after a round: the items it has seen, up to a change number.
#[derive(Debug, Clone)]
pub(crate) struct SyncState {
    pub(super) scope: Scope,
    pub(super) options: Options,
    known: HashMap<u64, Known>,
    watermark: u64,
}

#[derive(Debug, Clone)]
pub(super) enum Entry {
    Upsert(u64),
    Removed(Known),
}

/// Where a scope's links point (below `/v1.0`).
pub(super) fn scope_path(mb: &Mailbox, scope: &Scope) -> String {
    match scope {
        Scope::Messages { folder } => {
            format!(
                "/users/{}/mailFolders('{}')/messages/delta",
                mb.id, mb.folders[*folder as usize].id
            )
        }
        Scope::CalendarView { .. } => format!("/users/{}/calendarView/delta", mb.id),
        Scope::Contacts { folder } => format!(
            "/users/{}/contactFolders('{}')/contacts/delta",
            mb.id, mb.folders[*folder as usize].id
        ),
        Scope::Tasks { folder } => {
            format!("/users/{}/todo/lists/{}/tasks/delta", mb.id, mb.folders[*folder as usize].id)
        }
    }
}

pub(super) fn type_name(scope: &Scope) -> &'static str {
    match scope {
        Scope::Messages { .. } => "message",
        Scope::CalendarView { .. } => "event",
        Scope::Contacts { .. } => "contact",
        Scope::Tasks { .. } => "todoTask",
    }
}

pub(super) fn in_scope(item: &Item, scope: &Scope, options: &Options) -> bool {
    match (scope, &item.data) {
        (Scope::Messages { folder }, ItemData::Message(_)) => {
            item.folder == *folder && options.filter.as_ref().is_none_or(|f| f.matches(item))
        }
        (Scope::CalendarView { folder, start, end }, ItemData::Event(e)) => {
            item.folder == *folder && e.start < *end && e.end > *start
        }
        (Scope::Contacts { folder }, ItemData::Contact(_))
        | (Scope::Tasks { folder }, ItemData::Task(_)) => item.folder == *folder,
        _ => false,
    }
}

fn received(item: &Item) -> OffsetDateTime {
    item.message().map_or(item.created, |m| m.received)
}

/// Computes a round: every entry the client must see, and what it knows afterwards.
pub(super) fn round(
    mb: &Mailbox,
    scope: &Scope,
    options: &Options,
    prev: Option<&SyncState>,
    filter_cap: usize,
) -> (VecDeque<Entry>, SyncState) {
    let mut members: Vec<&Item> =
        mb.items.values().filter(|i| in_scope(i, scope, options)).collect();
    if prev.is_none() && options.filter.is_some() && members.len() > filter_cap {
        // With $filter an initial round returns at most 5,000 messages (reference 6.1):
        // the newest.
        members.sort_by_key(|i| std::cmp::Reverse(received(i)));
        members.truncate(filter_cap);
        members.sort_by_key(|i| i.key);
    }
    if options.order_desc {
        members.sort_by_key(|i| std::cmp::Reverse(received(i)));
    }
    let known: HashMap<u64, Known> = members
        .iter()
        .map(|i| (i.key, Known { regular: mb.regular_id(i), immutable: mb.immutable_id(i) }))
        .collect();
    let wants = |change: &str| options.change_type.as_deref().is_none_or(|c| c == change);
    let mut entries = VecDeque::new();
    match prev {
        None => entries.extend(members.iter().map(|i| Entry::Upsert(i.key))),
        Some(p) => {
            for i in &members {
                let change = match p.known.contains_key(&i.key) {
                    false => "created",
                    true if i.changed_seq > p.watermark => "updated",
                    true => continue,
                };
                if wants(change) {
                    entries.push_back(Entry::Upsert(i.key));
                }
            }
            if wants("deleted") {
                let mut gone: Vec<(&u64, &Known)> =
                    p.known.iter().filter(|(k, _)| !known.contains_key(k)).collect();
                gone.sort_by_key(|(k, _)| **k);
                entries.extend(gone.into_iter().map(|(_, k)| Entry::Removed(k.clone())));
                // Calendar view delta also reports events outside the window that changed
                // as removed (reference 6.3).
                if let Scope::CalendarView { folder, .. } = scope {
                    entries.extend(
                        mb.items
                            .values()
                            .filter(|i| i.folder == *folder && i.changed_seq > p.watermark)
                            .filter(|i| {
                                !known.contains_key(&i.key) && !p.known.contains_key(&i.key)
                            })
                            .map(|i| {
                                Entry::Removed(Known {
                                    regular: mb.regular_id(i),
                                    immutable: mb.immutable_id(i),
                                })
                            }),
                    );
                }
            }
        }
    }
    let next =
        SyncState { scope: scope.clone(), options: options.clone(), known, watermark: mb.seq };
    (entries, next)
}

/// How a delta request starts: fresh, or from a token.
#[derive(Debug, Clone)]
pub(crate) enum Start {
    Initial(Scope, Options),
    SkipToken(String, Scope),
    DeltaToken(String, Scope),
}

/// Reads how a delta request starts. Query options belong on the initial request only; Graph
/// encodes them into the tokens (docs: concepts/delta-query-overview.md, which also says
/// "Delta queries with both `$select` and `$skipToken` will not be supported"), so options
/// next to a token are refused. An empty `$deltatoken=` (the `Location` of a sync reset) is
/// an initial request.
pub(crate) fn start(
    req: &ApiRequest,
    scope: Scope,
    options: impl FnOnce() -> Result<Options, GraphError>,
) -> Result<Start, GraphError> {
    let token = |name| req.query_value(name).filter(|t| !t.is_empty()).map(str::to_string);
    let (skip, delta) = (token("$skiptoken"), token("$deltatoken"));
    if skip.is_none() && delta.is_none() {
        return Ok(Start::Initial(scope, options()?));
    }
    if req.query.len() > 1 {
        return Err(GraphError::bad_request(
            "Query options cannot be combined with $skiptoken or $deltatoken; they are \
             encoded in the token.",
        ));
    }
    Ok(match skip {
        Some(t) => Start::SkipToken(t, scope),
        None => Start::DeltaToken(delta.unwrap_or_default(), scope),
    })
}
