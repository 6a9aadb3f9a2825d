//! azure_identity's transport: exsync's reqwest client with a deadline per token request, and
//! error answers that are not JSON kept as HTTP errors.
//!
//! azure_identity parses every non-2xx body as Entra's JSON error; a throttled token endpoint
//! may answer `429 Too Many Requests` in plain text (reference B1, MSAL.NET issue #2855),
//! which would surface as a JSON parse error without its status or `Retry-After`. Here such an
//! answer becomes `ErrorKind::HttpResponse` with the raw response, so [`super::error`] can
//! classify it.

use std::time::Duration;

use async_trait::async_trait;
use azure_core::{
    error::{Error, ErrorKind},
    http::{AsyncRawResponse, HttpClient, Request},
};

/// How long one token request may take before it counts as a timeout.
pub const TOKEN_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A token request that got no answer in time.
#[derive(Debug, thiserror::Error)]
#[error("the token endpoint did not answer within {} s", .0.as_secs())]
pub struct TimedOut(pub Duration);

/// The transport handed to azure_identity credentials.
#[derive(Debug, Clone)]
pub struct EntraTransport {
    http: reqwest::Client,
    timeout: Duration,
}

impl EntraTransport {
    /// Wraps exsync's client (see [`crate::http`]).
    pub fn new(http: reqwest::Client) -> Self {
        Self { http, timeout: TOKEN_REQUEST_TIMEOUT }
    }
}

#[async_trait]
impl HttpClient for EntraTransport {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let sent = tokio::time::timeout(self.timeout, self.http.execute_request(request));
        let response =
            sent.await.map_err(|_| Error::new(ErrorKind::Io, TimedOut(self.timeout)))??;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status();
        let raw = response.try_into_raw_response().await?;
        let is_json = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(
            raw.body().as_ref(),
        )
        .is_ok();
        if is_json {
            let (status, headers, body) = raw.deconstruct();
            return Ok(AsyncRawResponse::from_bytes(status, headers, Vec::from(body.as_ref())));
        }
        Err(Error::new(
            ErrorKind::HttpResponse { status, error_code: None, raw_response: Some(Box::new(raw)) },
            format!("the token endpoint answered HTTP {} without a JSON body", u16::from(status)),
        ))
    }
}

/// Rebuilds a response from its parts (for tests of [`super::error`]).
#[cfg(test)]
pub(crate) fn raw(
    status: u16,
    headers: &[(&'static str, &str)],
    body: &str,
) -> azure_core::http::RawResponse {
    let mut map = azure_core::http::headers::Headers::new();
    for (name, value) in headers {
        map.insert(*name, value.to_string());
    }
    azure_core::http::RawResponse::from_bytes(status.into(), map, body.as_bytes().to_vec())
}
