//! The webhook endpoint Graph calls: the validation handshake, then notifications verified by
//! their clientState and turned into durable jobs before the answer (DESIGN invariant 1).
//!
//! It never calls Graph or Dataverse: a change notification only says "this folder of this
//! mailbox changed", so it requests that folder's pass (coalesced with one already queued);
//! a lifecycle notification becomes a job for `subscribe`. One [`app`] serves both URLs exsync
//! gives Graph (`/graph/notify` and `/graph/lifecycle`): on Lambda behind a Function URL, in
//! one process behind the local listener.
//!
//! Before a pass is requested, the tracking rule gets its say ([`super::prefilter`]): with
//! rich notifications the message's senders and recipients, decrypted and verified, decide
//! it, so untracked mail enqueues nothing; a rich notification that does not verify is
//! ignored and still answered 202.

use std::{sync::Arc, time::Duration};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::json;
use tracing::{debug, info, instrument, warn};

use super::{
    passes::request_pass,
    prefilter::{Judgement, Prefilter, TokenCheck},
    subscribe::record_for_notification,
};
use crate::{
    domain::SubscriptionId,
    graph::model::{ChangeNotification, NotificationCollection},
    jobs::{Envelope, Job, QueueName, Trigger},
    ports::{Clock, JobQueue, PassStore, SubscriptionStore},
};

/// Graph's validation tokens are short opaque strings; anything much longer is not Graph.
const MAX_VALIDATION_TOKEN: usize = 1024;

/// Notification batches are small (ids, not content); rich ones carry encrypted resource data.
const MAX_BODY: usize = 4 * 1024 * 1024;

/// What the webhook endpoint needs.
#[derive(Debug, Clone)]
pub struct NotifyDeps {
    /// Subscription records, to verify clientState and find the mailbox and folder.
    pub subscriptions: Arc<dyn SubscriptionStore>,
    /// Pass coalescing marks.
    pub passes: Arc<dyn PassStore>,
    /// Where folder passes and lifecycle jobs go.
    pub queue: Arc<dyn JobQueue>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// The tracking rule before any read, and the checks of rich notifications.
    pub prefilter: Arc<Prefilter>,
}

/// The HTTP app: `POST /graph/notify`, `POST /graph/lifecycle`, `GET /healthz`.
pub fn app(deps: NotifyDeps) -> Router {
    Router::new()
        .route("/graph/notify", post(receive))
        .route("/graph/lifecycle", post(receive))
        .route("/healthz", get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(Arc::new(deps))
}

#[derive(Debug, Deserialize)]
struct Handshake {
    #[serde(rename = "validationToken")]
    validation_token: Option<String>,
}

/// What became of one POST's notifications.
#[derive(Debug, Default)]
struct Verdict {
    accepted: usize,
    coalesced: usize,
    refused: Vec<String>,
    /// Left out by the tracking rule: nothing enqueued.
    untracked: usize,
    /// Rich notifications that did not verify: ignored, answered 202 (reference 5.4).
    ignored: usize,
}

async fn receive(
    State(deps): State<Arc<NotifyDeps>>,
    Query(handshake): Query<Handshake>,
    body: Bytes,
) -> Response {
    // Any POST carrying validationToken is the handshake, never a notification (reference
    // graph.md 2): answer 200, text/plain, the decoded token verbatim, within 10 s.
    if let Some(token) = handshake.validation_token {
        if token.is_empty() || token.len() > MAX_VALIDATION_TOKEN {
            return refuse(StatusCode::BAD_REQUEST, "the validationToken is empty or too long");
        }
        return ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], token).into_response();
    }
    let collection: NotificationCollection = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => {
            warn!(error = %e, "refused a malformed notification POST");
            return refuse(
                StatusCode::BAD_REQUEST,
                &format!("the body is not a Graph change-notification collection: {e}"),
            );
        }
    };
    match handle(&deps, collection.value, &collection.validation_tokens).await {
        Ok(v)
            if v.accepted + v.coalesced + v.untracked + v.ignored == 0 && !v.refused.is_empty() =>
        {
            // Nothing in it proved to be Graph's: refused, and nothing was enqueued.
            refuse(StatusCode::FORBIDDEN, &v.refused.join("; "))
        }
        Ok(v) => (
            StatusCode::ACCEPTED,
            Json(json!({
                "accepted": v.accepted,
                "coalesced": v.coalesced,
                "refused": v.refused.len(),
                "untracked": v.untracked,
                "ignored": v.ignored,
            })),
        )
            .into_response(),
        Err(reason) => {
            // 5xx makes Graph deliver again: nothing is lost while the store or queue is down.
            let mut response = refuse(StatusCode::SERVICE_UNAVAILABLE, &reason);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
            response
        }
    }
}

#[instrument(skip_all, fields(notifications = notifications.len()))]
async fn handle(
    deps: &NotifyDeps,
    notifications: Vec<ChangeNotification>,
    validation_tokens: &[String],
) -> Result<Verdict, String> {
    let mut verdict = Verdict::default();
    let mut lifecycle_jobs = Vec::new();
    let mut screen_jobs = Vec::new();
    let tokens = deps.prefilter.check_tokens(validation_tokens).await;
    if let TokenCheck::Refused(refusal) = &tokens {
        // Any token that fails makes the whole POST suspicious (reference 5.4).
        warn!(%refusal, notifications = notifications.len(), "ignored a POST whose validation token did not verify");
        verdict.ignored = notifications.len();
        return Ok(verdict);
    }
    for n in notifications {
        let id = match SubscriptionId::parse(n.subscription_id.clone()) {
            Ok(id) => id,
            Err(e) => {
                verdict.refused.push(e.to_string());
                continue;
            }
        };
        let Some(client_state) = n.client_state.as_ref() else {
            verdict.refused.push(format!("subscription {id}: the notification has no clientState"));
            continue;
        };
        let record = record_for_notification(deps.subscriptions.as_ref(), &id, client_state)
            .await
            .map_err(|e| format!("cannot verify subscription {id}: {e}"))?;
        let Some(record) = record else {
            // Unknown subscription or wrong clientState: forged, or from a subscription exsync
            // no longer keeps. The clientState itself is never logged.
            warn!(subscription = %id, tenant = n.tenant_id.as_deref().unwrap_or(""), "refused a notification that did not verify");
            verdict
                .refused
                .push(format!("subscription {id}: unknown, or the clientState does not match"));
            continue;
        };
        if let Some(event) = n.lifecycle() {
            info!(subscription = %id, mailbox = %record.mailbox, ?event, "lifecycle notification");
            lifecycle_jobs.push(Envelope::new(Job::Lifecycle { subscription: record.id, event }));
            verdict.accepted += 1;
            continue;
        }
        match deps.prefilter.judge(&record, &n, &tokens).await {
            Judgement::Pass => {}
            Judgement::Untracked(why) => {
                debug!(subscription = %id, mailbox = %record.mailbox, why, "not tracked; nothing to read");
                verdict.untracked += 1;
                continue;
            }
            Judgement::Screen(screening) => {
                let (mailbox, folder) = (record.mailbox.clone(), record.folder);
                screen_jobs.push(Envelope::new(Job::Screen { mailbox, folder, screening }));
                verdict.accepted += 1;
                continue;
            }
            Judgement::Refused(refusal) => {
                warn!(subscription = %id, mailbox = %record.mailbox, %refusal, "ignored a rich notification that did not verify");
                verdict.ignored += 1;
                continue;
            }
            Judgement::Unavailable(why) => {
                return Err(format!("cannot check a rich notification of {id} now: {why}"));
            }
        }
        let queued = request_pass(
            deps.passes.as_ref(),
            deps.queue.as_ref(),
            deps.clock.as_ref(),
            &record.mailbox,
            record.folder,
            Trigger::Notification,
        )
        .await
        .map_err(|e| {
            format!("cannot queue the pass of {} {}: {e}", record.mailbox, record.folder)
        })?;
        if queued {
            verdict.accepted += 1;
        } else {
            verdict.coalesced += 1;
        }
    }
    if !lifecycle_jobs.is_empty() {
        deps.queue
            .enqueue(QueueName::Subscriptions, &lifecycle_jobs, Duration::ZERO)
            .await
            .map_err(|e| format!("cannot queue lifecycle events: {e}"))?;
    }
    if !screen_jobs.is_empty() {
        deps.queue
            .enqueue(QueueName::Writes, &screen_jobs, Duration::ZERO)
            .await
            .map_err(|e| format!("cannot queue rich notifications for screening: {e}"))?;
    }
    Ok(verdict)
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({"error": {"code": status.as_u16(), "message": message}}))).into_response()
}
