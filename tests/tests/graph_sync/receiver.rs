//! A tiny HTTPS stand-in for exsync's webhook endpoint: answers the validation handshake,
//! verifies notifications with `record_for_notification`, and turns them into passes or
//! remembered lifecycle events.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

use axum::{
    Router,
    body::Bytes,
    extract::{RawQuery, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use exsync_shared::{
    adapters::sqlite::SqliteStore,
    domain::{MailboxAddress, SubscriptionId},
    graph::model::NotificationCollection,
    handlers::{passes::request_pass, subscribe::record_for_notification},
    jobs::{LifecycleEvent, Trigger},
    ports::SubscriptionStore,
    secret::Secret,
};
use exsync_sim::server::RunningServer;
use tokio::net::TcpListener;

use super::common::{Env, MemQueue, SimTime};

#[derive(Debug, Default)]
pub struct Seen {
    /// Validation requests answered.
    pub handshakes: AtomicUsize,
    /// Validation requests during which the store already held a placeholder record of the
    /// subscription being created.
    pub handshakes_with_placeholder: AtomicUsize,
    /// Notifications whose clientState matched a record.
    pub verified: AtomicUsize,
    /// Notifications refused (unknown subscription or wrong clientState).
    pub refused: AtomicUsize,
    /// Lifecycle events received and verified.
    pub lifecycle: Mutex<Vec<(SubscriptionId, LifecycleEvent)>>,
    /// Answer validation requests with 500.
    pub fail_handshakes: AtomicBool,
}

#[derive(Clone)]
struct Ctx {
    store: Arc<SqliteStore>,
    mailboxes: Vec<MailboxAddress>,
    queue: Arc<MemQueue>,
    clock: SimTime,
    seen: Arc<Seen>,
}

/// The endpoint, served on a listener bound before the configuration named its URL.
pub struct Receiver {
    _server: RunningServer,
    pub seen: Arc<Seen>,
}

/// Binds a port for the receiver; `https://127.0.0.1:{port}` is the public URL.
pub async fn bind() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://127.0.0.1:{}", listener.local_addr().unwrap().port());
    (listener, url)
}

impl Receiver {
    pub fn serve(listener: TcpListener, env: &Env) -> Self {
        let seen = Arc::new(Seen::default());
        let ctx = Ctx {
            store: env.store.clone(),
            mailboxes: env.config.mailboxes.iter().map(|m| m.address.clone()).collect(),
            queue: env.queue.clone(),
            clock: SimTime(env.clock.clone()),
            seen: seen.clone(),
        };
        let app = Router::new()
            .route("/graph/notify", post(receive))
            .route("/graph/lifecycle", post(receive))
            .with_state(ctx);
        let server = RunningServer::serve(app, listener, Some(env.ca.server_config()));
        Self { _server: server, seen }
    }
}

async fn receive(State(ctx): State<Ctx>, RawQuery(query): RawQuery, body: Bytes) -> Response {
    let token = query.as_deref().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "validationToken")
            .map(|(_, v)| v.into_owned())
    });
    if let Some(token) = token {
        ctx.seen.handshakes.fetch_add(1, Ordering::SeqCst);
        let mut placeholders = 0;
        for mailbox in &ctx.mailboxes {
            let records = ctx.store.subscriptions_of(mailbox).await.unwrap();
            placeholders +=
                records.iter().filter(|r| r.id.as_str().starts_with("pending-")).count();
        }
        if placeholders > 0 {
            ctx.seen.handshakes_with_placeholder.fetch_add(1, Ordering::SeqCst);
        }
        if ctx.seen.fail_handshakes.load(Ordering::SeqCst) {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        return ([(header::CONTENT_TYPE, "text/plain")], token).into_response();
    }
    let Ok(collection) = serde_json::from_slice::<NotificationCollection>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    for n in collection.value {
        let Ok(id) = SubscriptionId::parse(n.subscription_id.clone()) else { continue };
        let state = n.client_state.clone().unwrap_or_else(|| Secret::new(""));
        let record = record_for_notification(&*ctx.store, &id, &state).await.unwrap();
        let Some(record) = record else {
            ctx.seen.refused.fetch_add(1, Ordering::SeqCst);
            continue;
        };
        ctx.seen.verified.fetch_add(1, Ordering::SeqCst);
        match n.lifecycle() {
            Some(event) => ctx.seen.lifecycle.lock().unwrap().push((id, event)),
            None => {
                request_pass(
                    &*ctx.store,
                    &*ctx.queue,
                    &ctx.clock,
                    &record.mailbox,
                    record.folder,
                    Trigger::Notification,
                )
                .await
                .unwrap();
            }
        }
    }
    StatusCode::ACCEPTED.into_response()
}

/// Waits (real time, bounded) until `check` holds.
pub async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..200 {
        if check() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for {what}");
}
