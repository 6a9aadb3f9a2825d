//! azure_identity's transport: exsync's reqwest client with a deadline per token request, and
//! every error answer handed back as an HTTP error with its raw response.
//!
//! azure_identity 1.0 parses an error body into a struct that borrows `error_description` as
//! `&str`; serde_json cannot borrow a string with escapes, and every real Entra description has
//! them (`...\r\nTrace ID: ...`, reference B1). The parse fails and the error loses its status,
//! its code and `Retry-After`. A throttled endpoint may also answer in plain text (reference
//! B1, MSAL.NET issue #2855). So any non-2xx answer becomes `ErrorKind::HttpResponse` here,
//! before azure_identity reads it, and [`super::error`] reads the body itself.

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

    /// Gives each token request `timeout` instead of [`TOKEN_REQUEST_TIMEOUT`].
    pub fn with_timeout(self, timeout: Duration) -> Self {
        Self { timeout, ..self }
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
        Err(Error::new(
            ErrorKind::HttpResponse { status, error_code: None, raw_response: Some(Box::new(raw)) },
            format!("the token endpoint answered HTTP {}", u16::from(status)),
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
