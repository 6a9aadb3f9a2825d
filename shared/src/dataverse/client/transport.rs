//! How one request is sent: a pause check, a concurrency permit, the A1 headers and a bearer
//! token (refreshed once on 401), and the service-protection pause a 429 starts.

use std::{sync::atomic::Ordering, time::Duration};

use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::time::Instant;
use tracing::{debug, warn};
use url::Url;

use super::{DataverseClient, protocol};
use crate::{
    dataverse::{
        batch,
        error::{ApiError, DataverseError, ErrorClass, parse_retry_after},
    },
    ports::{CredentialKey, Resource},
};

/// A response as read: status, headers, body.
#[derive(Debug)]
pub(super) struct Answer {
    pub(super) status: StatusCode,
    headers: reqwest::header::HeaderMap,
    pub(super) body: String,
}

impl Answer {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(super) fn error(&self, operation: &str) -> DataverseError {
        let retry_after = parse_retry_after(self.header("Retry-After"));
        let api = ApiError::parse(self.status.as_u16(), retry_after, &self.body);
        DataverseError::Api { operation: operation.to_string(), api }
    }

    pub(super) fn json(&self, operation: &str) -> Result<Value, DataverseError> {
        serde_json::from_str(&self.body).map_err(|e| protocol(operation, format!("body: {e}")))
    }
}

impl DataverseClient {
    pub(super) async fn pause_on_throttled_parts(&self, items: &[batch::ResponseItem]) {
        let throttled = items
            .iter()
            .flat_map(|item| match item {
                batch::ResponseItem::Single(part) => std::slice::from_ref(part),
                batch::ResponseItem::ChangeSet(parts) => parts.as_slice(),
            })
            .filter_map(|part| match part.error().class() {
                ErrorClass::Throttled { retry_after } if !part.is_success() => Some(retry_after),
                _ => None,
            })
            .max();
        if let Some(wait) = throttled {
            self.pause(wait).await;
        }
    }

    pub(super) fn url(&self, relative: &str, operation: &str) -> Result<Url, DataverseError> {
        self.api
            .join(relative)
            .map_err(|e| protocol(operation, format!("bad URL {relative:?}: {e}")))
    }

    pub(super) fn success(
        &self,
        operation: &str,
        answer: Answer,
    ) -> Result<Answer, DataverseError> {
        if answer.status.is_success() { Ok(answer) } else { Err(answer.error(operation)) }
    }

    pub(super) async fn send(
        &self,
        operation: &str,
        method: Method,
        url: Url,
        headers: &[(&str, &str)],
        json: Option<&Value>,
    ) -> Result<Answer, DataverseError> {
        let text = json.map(Value::to_string);
        let body = text.as_deref().map(|text| Body { content_type: "application/json", text });
        self.send_raw(operation, method, url, headers, body).await
    }

    /// Sends one request: waits out a pause, holds a concurrency permit, authenticates,
    /// refreshes the token once on 401, and pauses the client on 429.
    pub(super) async fn send_raw(
        &self,
        operation: &str,
        method: Method,
        url: Url,
        headers: &[(&str, &str)],
        body: Option<Body<'_>>,
    ) -> Result<Answer, DataverseError> {
        self.check_pause(operation).await?;
        let _permit = self.permits.acquire().await.expect("the semaphore is never closed");
        // A 429 may have come in while this request waited for its turn.
        self.check_pause(operation).await?;
        let key = CredentialKey::Dataverse;
        let token_error = |source| DataverseError::Token {
            operation: operation.to_string(),
            source: Box::new(source),
        };
        let mut token = self.tokens.token(&key, Resource::Dataverse).await.map_err(token_error)?;
        let mut refreshed = false;
        loop {
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(token.token.expose())
                .header("Accept", "application/json")
                .header("OData-MaxVersion", "4.0")
                .header("OData-Version", "4.0")
                .timeout(self.limits.request_timeout);
            // The docs' samples send `If-None-Match: null` (A1); a conditional request sends
            // its own condition instead.
            if !headers.iter().any(|(name, _)| name.starts_with("If-")) {
                request = request.header("If-None-Match", "null");
            }
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            if let Some(body) = &body {
                request =
                    request.header("Content-Type", body.content_type).body(body.text.to_string());
            }
            self.sent.fetch_add(1, Ordering::Relaxed);
            let response = request.send().await.map_err(|e| DataverseError::Transport {
                operation: operation.to_string(),
                message: e.without_url().to_string(),
            })?;
            let status = response.status();
            let headers = response.headers().clone();
            let text = response.text().await.map_err(|e| DataverseError::Transport {
                operation: operation.to_string(),
                message: format!("reading the answer: {}", e.without_url()),
            })?;
            let answer = Answer { status, headers, body: text };
            debug!(operation, status = status.as_u16(), "dataverse answered");
            if status == StatusCode::UNAUTHORIZED && !refreshed {
                refreshed = true;
                self.tokens.rejected(&key, Resource::Dataverse, &token).await;
                token = self.tokens.token(&key, Resource::Dataverse).await.map_err(token_error)?;
                continue;
            }
            if status == StatusCode::TOO_MANY_REQUESTS {
                let error = answer.error(operation);
                if let ErrorClass::Throttled { retry_after } = error.class() {
                    warn!(operation, ?retry_after, "dataverse service protection: pausing");
                    self.pause(retry_after).await;
                }
            }
            return Ok(answer);
        }
    }

    async fn check_pause(&self, operation: &str) -> Result<(), DataverseError> {
        let until = *self.paused_until.lock().await;
        match until {
            Some(until) if until > Instant::now() => Err(DataverseError::Paused {
                operation: operation.to_string(),
                remaining: until - Instant::now(),
            }),
            _ => Ok(()),
        }
    }

    async fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut paused = self.paused_until.lock().await;
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
        }
    }
}

/// `Prefer: <value>` when there is a value.
pub(super) fn prefer_header(value: Option<&str>) -> Vec<(&'static str, &str)> {
    value.map(|v| ("Prefer", v)).into_iter().collect()
}

/// A request body and its type.
#[derive(Debug, Clone, Copy)]
pub(super) struct Body<'a> {
    pub(super) content_type: &'a str,
    pub(super) text: &'a str,
}
