//! The validation handshake Graph runs against notification endpoints before it creates a
//! subscription (reference 2).

use std::time::Duration;

use axum::http::header::CONTENT_TYPE;

use super::{errors::GraphError, request::encode_component};

/// The failure Graph reports when an endpoint does not validate (reference 1.4; exact text
/// UNCONFIRMED).
pub(crate) fn failed() -> GraphError {
    GraphError::invalid_request(
        "Subscription validation request failed. Notification endpoint must respond with \
         200 OK to validation request.",
    )
}

/// POSTs `{url}?validationToken={token}` (appended with `&` when the URL has a query) with
/// `Content-Type: text/plain; charset=utf-8` and an empty body. The endpoint must answer
/// within `timeout` with 200, `text/plain`, and the URL-decoded token as the body.
pub(crate) async fn validate(
    client: &reqwest::Client,
    url: &str,
    timeout: Duration,
) -> Result<(), GraphError> {
    // Graph's tokens read like this one; spaces and colons make sure the endpoint decodes.
    let token = format!(
        "Validation: Testing client application reachability for subscription Request-Id: {}",
        uuid::Uuid::new_v4()
    );
    let separator = if url.contains('?') { '&' } else { '?' };
    let target = format!("{url}{separator}validationToken={}", encode_component(&token));
    let response = client
        .post(target)
        .header(CONTENT_TYPE, "text/plain; charset=utf-8")
        .timeout(timeout)
        .send()
        .await
        .map_err(|_| failed())?;
    let plain = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("text/plain"));
    if response.status() != reqwest::StatusCode::OK || !plain {
        return Err(failed());
    }
    match response.text().await {
        Ok(body) if body == token => Ok(()),
        _ => Err(failed()),
    }
}
