//! `notify` behind its Function URL: each request (the HTTP API v2 payload, which lambda_http
//! turns into an `http::Request`) goes through the same [`app`](crate::handlers::notify::app)
//! the local listener serves, so the handshake, the clientState check and "202 only after the
//! jobs are enqueued" are one piece of code on both.

use axum::{
    body::Body,
    http::{HeaderValue, Response, StatusCode, header},
};
use tower::ServiceExt;

use super::Pipeline;
use crate::handlers::notify;

/// Answers one Function URL request.
pub async fn handle(
    pipeline: &Pipeline,
    request: lambda_http::Request,
) -> Result<Response<Body>, lambda_http::Error> {
    let wiring = match pipeline.wiring().await {
        Ok(wiring) => wiring,
        Err(error) => {
            // Graph delivers again after a 5xx: nothing is lost while the configuration is
            // out of reach.
            tracing::error!(%error, "cannot answer Graph without the configuration");
            let mut response = Response::new(Body::from("the configuration is out of reach"));
            *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
            return Ok(response);
        }
    };
    let app = notify::app(wiring.notify_deps());
    Ok(app.oneshot(request.map(Body::new)).await?)
}
