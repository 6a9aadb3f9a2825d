//! A strict simulator of Microsoft Graph for Exchange Online mailboxes, from
//! `/work/shared/reference/graph.md`: app-only tokens with roles, mailboxes in many tenants,
//! messages (get, list, attachments, sendMail), per-folder delta with expiring state tokens,
//! events, contacts and To Do tasks, subscriptions with the validation handshake, change and
//! lifecycle notifications (rich ones encrypted), Outlook throttling, JSON batching, and the
//! wire errors of each.
//!
//! # Layout
//!
//! - `mod.rs` (this file): [`GraphSim`] and the HTTP entry; `handle.rs`, `control.rs`: its
//!   control API (seeding; then delta state, lifecycle, faults, inspection).
//! - `config`: wiring and limits; `model`: what tests seed; `store`, `state`: mailboxes and
//!   the change feed; `ids`, `dates`, `errors`, `request`, `render`, `odata`: wire formats.
//! - `pipeline`, `routes`, `throttle`: what every request goes through.
//! - `folders`, `messages`, `sendmail`, `mailflow`, `pim`, `delta`: the mailbox API.
//! - `subscription`, `subscriptions`, `handshake`, `changes`, `notify`, `crypto`: webhooks.
//! - `batch`: `$batch`.

mod batch;
mod changes;
mod config;
mod control;
mod crypto;
mod dates;
mod delta;
mod errors;
mod folders;
mod handle;
mod handshake;
mod ids;
mod mailflow;
mod messages;
mod model;
mod notify;
mod odata;
mod pim;
mod pipeline;
mod render;
mod request;
mod routes;
mod sendmail;
mod state;
mod store;
mod subscription;
mod subscriptions;
mod throttle;

use std::sync::{Arc, Mutex, RwLock};

use axum::{
    Router,
    body::Body,
    extract::{DefaultBodyLimit, State as AxumState},
    http::{HeaderMap, HeaderValue, Method, Uri},
    response::Response,
};
use bytes::Bytes;

pub use config::{DeliveryLimits, GRAPH_APP_ID, GraphConfig, GraphLimits};
pub use control::{MessageView, SubscriptionInfo};
pub use crypto::NOTIFICATION_PUBLISHER_APP_ID;
pub use model::{
    LifecycleEvent, MessageIds, MessageUpdate, NewAttachment, NewContact, NewEvent, NewMessage,
    NewTask, Recipient,
};
pub use notify::{NotificationFaults, NotificationStats};
pub use throttle::RequestStats;

use crate::{
    auth::{Rejection, TokenValidator},
    faults::FaultInjector,
    server::RunningServer,
};
use errors::GraphError;
use request::{ApiRequest, ApiResponse, ResponseBody};
use state::{ChangeEvent, State};

/// The simulator's shared insides.
#[derive(Debug)]
pub(crate) struct Inner {
    config: GraphConfig,
    validator: TokenValidator,
    state: Mutex<State>,
    throttle: throttle::Throttle,
    faults: FaultInjector,
    notifier: notify::Notifier,
    base_url: RwLock<Option<String>>,
}

impl Inner {
    /// Hands the notifications of `changes` to delivery (call with the state lock held, so
    /// notifications leave in the order of the changes).
    fn publish(&self, state: &State, changes: &[ChangeEvent]) {
        let now = self.config.clock.now();
        let grace = time::Duration::try_from(self.config.limits.delivery.reauthorization_grace)
            .expect("grace fits");
        for change in changes {
            let (outgoing, paused) = changes::notifications(state, change, now, grace);
            self.notifier.count_paused(paused);
            self.notifier.enqueue(outgoing);
        }
    }

    /// The URL standing for `https://graph.microsoft.com`.
    fn base(&self, headers: &HeaderMap) -> String {
        if let Some(base) = self.base_url.read().expect("base lock").clone() {
            return base;
        }
        let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost");
        format!("https://{host}")
    }
}

/// The Graph simulator's handle: cheap to clone, shared with the axum app.
#[derive(Debug, Clone)]
pub struct GraphSim {
    inner: Arc<Inner>,
}

impl GraphSim {
    /// A simulator with no tenants yet.
    pub fn new(config: GraphConfig) -> Self {
        let audiences = vec![config.identifier_uri.clone(), GRAPH_APP_ID.to_string()];
        let validator = TokenValidator::new(config.keys.clone(), config.clock.clone(), audiences);
        let limits = &config.limits;
        let throttle = throttle::Throttle::new(
            config.clock.clone(),
            limits.concurrent_requests,
            limits.requests_per_window,
            limits.rate_window,
        );
        let notifier = notify::Notifier::new(
            config.webhook_client.clone(),
            config.clock.clone(),
            limits.delivery.clone(),
            config.validation_signer.clone(),
        );
        Self {
            inner: Arc::new(Inner {
                config,
                validator,
                state: Mutex::default(),
                throttle,
                faults: FaultInjector::default(),
                notifier,
                base_url: RwLock::new(None),
            }),
        }
    }

    /// The axum app: everything below `/v1.0`.
    pub fn router(&self) -> Router {
        Router::new()
            .fallback(entry)
            .layer(DefaultBodyLimit::max(150 * 1024 * 1024))
            .with_state(self.inner.clone())
    }

    /// Serves the simulator on 127.0.0.1 (a free port), over TLS when `tls` is given, and
    /// makes its URL the base of every link it returns.
    pub async fn start(
        &self,
        tls: Option<Arc<rustls::ServerConfig>>,
    ) -> std::io::Result<RunningServer> {
        let server =
            RunningServer::start(self.router(), "127.0.0.1:0".parse().expect("addr"), tls).await?;
        self.set_base_url(server.base_url().as_str());
        Ok(server)
    }

    /// Sets the URL that stands for `https://graph.microsoft.com` in links.
    pub fn set_base_url(&self, url: &str) {
        *self.inner.base_url.write().expect("base lock") = Some(url.trim_end_matches('/').into());
    }
}

/// Starts a simulator over TLS: its handle and the running server.
pub async fn start(
    config: GraphConfig,
    tls: Arc<rustls::ServerConfig>,
) -> std::io::Result<(GraphSim, RunningServer)> {
    let sim = GraphSim::new(config);
    let server = sim.start(Some(tls)).await?;
    Ok((sim, server))
}

/// The 401 for a rejected token (reference 10.2); the messages are the
/// [`Rejection`] texts, which are Graph's.
fn unauthenticated(rejection: &Rejection) -> GraphError {
    GraphError::unauthenticated(rejection.to_string())
}

async fn entry(
    AxumState(sim): AxumState<Arc<Inner>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let client_request_id = headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| request_id.clone(), str::to_string);
    let base = sim.base(&headers);
    let result = async {
        let path = uri.path();
        let rest = match path.strip_prefix("/v1.0") {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
            _ => {
                let version = path.trim_start_matches('/').split('/').next().unwrap_or_default();
                // UNCONFIRMED wording.
                return Err(GraphError::bad_request(format!("Invalid version: {version}")));
            }
        };
        let token = sim.validator.validate_headers(&headers).map_err(|r| unauthenticated(&r))?;
        let req = ApiRequest::new(method, rest, uri.query(), headers, body);
        if rest == "/$batch" {
            batch::run(&sim, &token, &req, &base).await
        } else {
            pipeline::run(&sim, &token, &req, &base).await
        }
    }
    .await;
    let response = result.unwrap_or_else(|e| {
        let body = e.body(&request_id, &client_request_id, sim.config.clock.now());
        let mut r = ApiResponse::json(e.status, body);
        if let Some(s) = e.retry_after {
            r = r.with_header("retry-after", &s.to_string());
        }
        if let Some(l) = &e.location {
            r = r.with_header("location", l);
        }
        if e.status == axum::http::StatusCode::UNAUTHORIZED {
            r = r.with_header(
                "www-authenticate",
                &format!(
                    "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/\
                     oauth2/authorize\", client_id=\"{GRAPH_APP_ID}\""
                ),
            );
        }
        r
    });
    to_http(response, &request_id, &client_request_id)
}

fn to_http(r: ApiResponse, request_id: &str, client_request_id: &str) -> Response {
    let (body, content_type) = match r.body {
        ResponseBody::Empty => (Body::empty(), None),
        ResponseBody::Json(v) => (Body::from(v.to_string()), None),
        ResponseBody::Bytes { content_type, bytes } => (Body::from(bytes), Some(content_type)),
    };
    let mut response = Response::new(body);
    *response.status_mut() = r.status;
    *response.headers_mut() = r.headers;
    let h = response.headers_mut();
    if let Some(ct) = content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
        h.insert("content-type", ct);
    }
    for (name, value) in [("request-id", request_id), ("client-request-id", client_request_id)] {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    }
    response
}
