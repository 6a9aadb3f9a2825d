//! Injected faults, applied before any route runs.
//!
//! A throttled client credentials request gets **429 with `Retry-After: 60`**, and the body may
//! not be JSON: a plain "Too Many Requests" was seen (reference B1, "Throttling of the token
//! endpoint"; MSAL.NET issue #2855). 5xx answers carry a JSON `temporarily_unavailable` error.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::{
    Shared,
    errors::AadError,
    records::{TokenOutcome, TokenRequest},
};
use crate::faults::Fault;

/// The middleware: asks the injector, then misbehaves or passes the request on.
pub async fn inject(State(sim): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let Some(fault) = sim.faults.pick(request.method().as_str(), &path) else {
        return next.run(request).await;
    };
    let response = match &fault {
        Fault::Latency(delay) => {
            tokio::time::sleep(*delay).await;
            return next.run(request).await;
        }
        Fault::Hang => std::future::pending::<Response>().await,
        Fault::Status { status, retry_after } => {
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let mut response = if status == StatusCode::TOO_MANY_REQUESTS {
                (status, [(header::CONTENT_TYPE, "text/plain")], "Too Many Requests")
                    .into_response()
            } else {
                AadError::unavailable(status)
                    .into_response_at(sim.clock.now(), &uuid::Uuid::new_v4().to_string())
            };
            // Entra's throttling answer always names 60 s (reference B1).
            let retry_after =
                retry_after.or((status == StatusCode::TOO_MANY_REQUESTS).then_some(60));
            if let Some(seconds) = retry_after {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            response
        }
    };
    if let Some(tenant) = token_tenant(&path) {
        sim.log.lock().expect("log lock").push(TokenRequest {
            at: sim.clock.now(),
            tenant: tenant.to_string(),
            tenant_id: None,
            client_id: None,
            resource: None,
            outcome: TokenOutcome::Faulted(fault),
        });
    }
    response
}

/// The `{tenant}` of a token endpoint path.
fn token_tenant(path: &str) -> Option<&str> {
    path.strip_prefix('/')?.strip_suffix("/oauth2/v2.0/token")
}
