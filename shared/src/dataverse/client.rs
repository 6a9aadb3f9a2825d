//! The Dataverse Web API client: authenticated, bounded, and polite to service protection.
//!
//! Every request carries the A1 headers and a bearer token for the environment
//! (`CredentialKey::Dataverse`, `Resource::Dataverse`); a 401 makes it drop that token and try
//! once more with a fresh one. Service protection (A7) is respected in two ways: requests in
//! flight are capped well below the 52 concurrent requests Dataverse allows per user, and a 429
//! pauses the whole client for its `Retry-After`, answering [`DataverseError::Paused`] without
//! sending anything meanwhile (a client that keeps pushing makes the wait grow, A7). Nothing is
//! retried here beyond the 401: throughput comes from `$batch`, retries from the job queue.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::{
    sync::{Mutex, Semaphore},
    time::Instant,
};
use url::Url;

use super::{
    batch::{self, Batch, ItemResult},
    error::DataverseError,
    query::Query,
};
use crate::{domain::RecordId, ports::Tokens};

mod transport;

use transport::{Body, prefer_header};

/// The Web API version exsync speaks.
pub const API_PATH: &str = "api/data/v9.2/";

/// Limits that keep one client inside service protection.
#[derive(Debug, Clone)]
pub struct ClientLimits {
    /// Requests in flight at once (Dataverse refuses beyond 52 per user per web server, and
    /// other exsync processes share that user).
    pub max_concurrent: usize,
    /// Longest one request may take (a `$batch` of many writes takes a while).
    pub request_timeout: Duration,
    /// Pages a query may follow before it is refused as too large.
    pub max_pages: usize,
}

impl Default for ClientLimits {
    fn default() -> Self {
        Self { max_concurrent: 8, request_timeout: Duration::from_secs(120), max_pages: 20 }
    }
}

/// A client of one Dataverse environment.
#[derive(Debug)]
pub struct DataverseClient {
    http: reqwest::Client,
    api: Url,
    tokens: Arc<dyn Tokens>,
    limits: ClientLimits,
    permits: Semaphore,
    paused_until: Mutex<Option<Instant>>,
    sent: AtomicU64,
}

fn protocol(operation: &str, message: impl Into<String>) -> DataverseError {
    DataverseError::Protocol { operation: operation.to_string(), message: message.into() }
}

/// The GUID at the end of an `OData-EntityId` (`.../emails(<guid>)`).
pub fn entity_id_of(url: &str) -> Option<RecordId> {
    let inner = url.trim().strip_suffix(')')?.rsplit_once('(')?.1;
    RecordId::parse_str(inner).ok()
}

impl DataverseClient {
    /// A client of the environment at `environment_url` (e.g. `https://org.crm.dynamics.com`).
    pub fn new(
        http: reqwest::Client,
        environment_url: &Url,
        tokens: Arc<dyn Tokens>,
        limits: ClientLimits,
    ) -> Self {
        let mut root = environment_url.clone();
        if !root.path().ends_with('/') {
            root.set_path(&format!("{}/", root.path()));
        }
        let api = root.join(API_PATH).expect("a constant relative path joins");
        let permits = Semaphore::new(limits.max_concurrent.max(1));
        let paused_until = Mutex::new(None);
        Self { http, api, tokens, limits, permits, paused_until, sent: AtomicU64::new(0) }
    }

    /// The Web API root (`.../api/data/v9.2/`).
    pub fn api_url(&self) -> &Url {
        &self.api
    }

    /// HTTP requests sent so far (a `$batch` is one), for metrics.
    pub fn requests_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Every row `query` matches (following `@odata.nextLink` up to the page limit).
    pub async fn query(&self, query: &Query) -> Result<Vec<Value>, DataverseError> {
        let operation = format!("GET {}", query.entity_set());
        let url = self.url(&query.relative_url(), &operation)?;
        let prefer = query.prefer();
        let headers = prefer_header(prefer.as_deref());
        let answer = self.send(&operation, Method::GET, url, &headers, None).await?;
        let first = self.success(&operation, answer)?.json(&operation)?;
        self.collect_pages(&operation, first, prefer.as_deref()).await
    }

    /// Adds the rows of the pages after `page` to `page`'s (a query's first page, from a plain
    /// GET or a `$batch` part).
    pub async fn collect_pages(
        &self,
        operation: &str,
        mut page: Value,
        prefer: Option<&str>,
    ) -> Result<Vec<Value>, DataverseError> {
        let mut rows = Vec::new();
        for _ in 0..self.limits.max_pages {
            let Some(Value::Array(values)) = page.get_mut("value").map(Value::take) else {
                return Err(protocol(operation, "a collection answer has no \"value\" array"));
            };
            rows.extend(values);
            let Some(next) = page.get("@odata.nextLink").and_then(Value::as_str) else {
                return Ok(rows);
            };
            let next =
                Url::parse(next).map_err(|e| protocol(operation, format!("nextLink: {e}")))?;
            let headers = prefer_header(prefer);
            let answer = self.send(operation, Method::GET, next, &headers, None).await?;
            page = self.success(operation, answer)?.json(operation)?;
        }
        Err(protocol(
            operation,
            format!("more than {} pages: narrow the query", self.limits.max_pages),
        ))
    }

    /// One record by id, or `None` when it does not exist.
    pub async fn get(
        &self,
        entity_set: &str,
        id: RecordId,
        select: &[&str],
    ) -> Result<Option<Value>, DataverseError> {
        let operation = format!("GET {entity_set}({id})");
        let mut relative = format!("{entity_set}({id})");
        if !select.is_empty() {
            relative.push_str(&format!("?$select={}", select.join(",")));
        }
        let url = self.url(&relative, &operation)?;
        let answer = self.send(&operation, Method::GET, url, &[], None).await?;
        if answer.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        self.success(&operation, answer)?.json(&operation).map(Some)
    }

    /// `WhoAmI`: the application user the token maps to (`UserId`), proving the app may use
    /// the environment (Test & Enable).
    pub async fn who_am_i(&self) -> Result<RecordId, DataverseError> {
        let operation = "GET WhoAmI".to_string();
        let url = self.url("WhoAmI", &operation)?;
        let answer = self.send(&operation, Method::GET, url, &[], None).await?;
        let body: Value = self.success(&operation, answer)?.json(&operation)?;
        body.get("UserId")
            .and_then(Value::as_str)
            .and_then(|id| RecordId::parse_str(id).ok())
            .ok_or_else(|| protocol(&operation, "the answer has no UserId"))
    }

    /// Creates a record; answers its id (204 + `OData-EntityId`, A2).
    pub async fn create(&self, entity_set: &str, body: &Value) -> Result<RecordId, DataverseError> {
        let operation = format!("POST {entity_set}");
        let url = self.url(entity_set, &operation)?;
        let answer = self.send(&operation, Method::POST, url, &[], Some(body)).await?;
        let answer = self.success(&operation, answer)?;
        answer
            .header("OData-EntityId")
            .and_then(entity_id_of)
            .ok_or_else(|| protocol(&operation, "a created record came without OData-EntityId"))
    }

    /// Creates a record and answers it as stored (`Prefer: return=representation`: 201).
    pub async fn create_returning(
        &self,
        entity_set: &str,
        body: &Value,
    ) -> Result<Value, DataverseError> {
        let operation = format!("POST {entity_set}");
        let url = self.url(entity_set, &operation)?;
        let prefer = [("Prefer", "return=representation")];
        let answer = self.send(&operation, Method::POST, url, &prefer, Some(body)).await?;
        self.success(&operation, answer)?.json(&operation)
    }

    /// Updates an existing record (`If-Match: *`: never creates one, 404 if it is gone).
    pub async fn update(
        &self,
        entity_set: &str,
        id: RecordId,
        body: &Value,
    ) -> Result<(), DataverseError> {
        let operation = format!("PATCH {entity_set}({id})");
        let url = self.url(&format!("{entity_set}({id})"), &operation)?;
        let if_match = [("If-Match", "*")];
        let answer = self.send(&operation, Method::PATCH, url, &if_match, Some(body)).await?;
        self.success(&operation, answer).map(drop)
    }

    /// Runs a `$batch`; answers one result per item, in order.
    ///
    /// Without continue-on-error Dataverse stops at the first failure and answers 400 with
    /// only that response (A6); that comes back as `Err` with its error, since which earlier
    /// items ran cannot be told from the answer.
    pub async fn batch(&self, batch: &Batch) -> Result<Vec<ItemResult>, DataverseError> {
        let operation = format!("$batch of {}", batch.operations());
        if batch.operations() > batch::MAX_OPERATIONS {
            return Err(protocol(&operation, "over the 1000 requests a batch may carry"));
        }
        let encoded = batch.encode(self.api.path());
        let url = self.url("$batch", &operation)?;
        let prefer = prefer_header(batch.continues_on_error().then_some("odata.continue-on-error"));
        let body = Body { content_type: &encoded.content_type, text: &encoded.body };
        let answer = self.send_raw(&operation, Method::POST, url, &prefer, Some(body)).await?;
        let content_type = answer.header("Content-Type").unwrap_or_default().to_string();
        let is_multipart = content_type.to_ascii_lowercase().starts_with("multipart/mixed");
        // A 400 in multipart form is the stop-at-first-failure answer (A6), read below.
        let stopped = answer.status == StatusCode::BAD_REQUEST && is_multipart;
        if !answer.status.is_success() && !stopped {
            return Err(answer.error(&operation));
        }
        let items =
            batch::parse(&content_type, &answer.body).map_err(|m| protocol(&operation, m))?;
        self.pause_on_throttled_parts(&items).await;
        if stopped {
            let failed = items.iter().find_map(|item| match item {
                batch::ResponseItem::Single(part) if !part.is_success() => Some(part),
                batch::ResponseItem::ChangeSet(parts) => parts.iter().find(|p| !p.is_success()),
                batch::ResponseItem::Single(_) => None,
            });
            let api = failed
                .map(batch::PartResponse::error)
                .ok_or_else(|| protocol(&operation, "HTTP 400 without a failed part"))?;
            return Err(DataverseError::Api { operation, api });
        }
        batch::assign(batch, items).map_err(|m| protocol(&operation, m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_is_read_from_odata_entity_id() {
        let id = entity_id_of(
            "https://org.crm.dynamics.com/api/data/v9.2/emails(7d2b5b3c-1f7a-4f3b-9a3e-0c2f1d5e6a7b)",
        );
        assert_eq!(id.unwrap().to_string(), "7d2b5b3c-1f7a-4f3b-9a3e-0c2f1d5e6a7b");
        assert_eq!(entity_id_of("https://org/api/data/v9.2/emails"), None);
        assert_eq!(entity_id_of("emails(nope)"), None);
    }
}
