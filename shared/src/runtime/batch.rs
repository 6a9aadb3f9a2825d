//! One received batch: parse each body, hand the readable jobs to the handler, settle every
//! message in its own span. Nothing is dropped: an unreadable body is dead-lettered with the
//! parse error, a panic or an overrun is a retryable failure.

use std::{panic::AssertUnwindSafe, sync::Arc, time::Duration};

use futures::{FutureExt, future::join_all};
use tracing::{Instrument, Span};

use super::{
    handler::{JobHandler, job_span, panicked},
    settle::{RetryPolicy, Settlement, settle},
};
use crate::{
    jobs::Envelope,
    outcome::Outcome,
    ports::{Delivery, JobQueue, JobSource, QueueError},
};

/// The queue capabilities a worker uses.
#[derive(Debug, Clone)]
pub struct Queues {
    /// Where jobs are received, acked and dead-lettered.
    pub source: Arc<dyn JobSource>,
    /// Where retries and throttled jobs are enqueued again.
    pub sink: Arc<dyn JobQueue>,
}

/// What happened to the messages of one or more batches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Handled and acked.
    pub done: u64,
    /// Acked because the mailbox is parked (its status says why).
    pub parked: u64,
    /// Requeued after throttling, same attempt.
    pub throttled: u64,
    /// Requeued after a retryable failure, one attempt later.
    pub retried: u64,
    /// Moved to the dead-letter store.
    pub dead_lettered: u64,
    /// Could not be settled (the queue failed): they return when their lease runs out.
    pub unsettled: u64,
}

impl Tally {
    /// Adds `other` to this tally.
    pub fn add(&mut self, other: &Tally) {
        self.done += other.done;
        self.parked += other.parked;
        self.throttled += other.throttled;
        self.retried += other.retried;
        self.dead_lettered += other.dead_lettered;
        self.unsettled += other.unsettled;
    }
}

/// The result of one batch.
#[derive(Debug, Clone, Default)]
pub struct BatchReport {
    /// Counts by settlement.
    pub tally: Tally,
    /// Receipts of the messages that could not be settled (SQS: the batch item failures).
    pub unsettled: Vec<String>,
}

/// Handles one received batch and settles every message in it. `deadline` bounds the handler
/// (keep it inside the lease, so no other consumer gets the jobs while they run).
pub async fn process_batch(
    deliveries: Vec<Delivery>,
    handler: &dyn JobHandler,
    queues: &Queues,
    policy: &RetryPolicy,
    deadline: Duration,
) -> BatchReport {
    let (mut decided, readable) = triage(deliveries, policy);
    let (received, envelopes): (Vec<Delivery>, Vec<Envelope>) = readable.into_iter().unzip();
    let outcomes = handle(handler, envelopes.clone(), deadline).await;
    for ((delivery, envelope), outcome) in received.into_iter().zip(envelopes).zip(outcomes) {
        let span = job_span(delivery.queue, &envelope);
        let settlement = settle(&envelope, outcome.clone(), policy, rand::random::<f64>());
        decided.push(Decided { delivery, span, outcome: Some(outcome), settlement });
    }
    let mut report = BatchReport::default();
    for (kind, unsettled) in apply_all(decided, queues).await {
        let t = &mut report.tally;
        match kind {
            Kind::Done => t.done += 1,
            Kind::Parked => t.parked += 1,
            Kind::Throttled => t.throttled += 1,
            Kind::Retried => t.retried += 1,
            Kind::DeadLettered => t.dead_lettered += 1,
            Kind::Unsettled => t.unsettled += 1,
        }
        report.unsettled.extend(unsettled);
    }
    report
}

/// A message and what is to become of it.
struct Decided {
    delivery: Delivery,
    span: Span,
    /// The handler's outcome, if the handler saw it.
    outcome: Option<Outcome>,
    settlement: Settlement,
}

/// Settles what no handler needs to see (received too often, unreadable); returns the rest.
fn triage(
    deliveries: Vec<Delivery>,
    policy: &RetryPolicy,
) -> (Vec<Decided>, Vec<(Delivery, Envelope)>) {
    let mut decided = Vec::new();
    let mut readable = Vec::with_capacity(deliveries.len());
    for delivery in deliveries {
        let reason = if delivery.receive_count > policy.max_receives {
            format!(
                "received {} times without being settled: handling it crashed or stalled the \
                 worker each time",
                delivery.receive_count
            )
        } else {
            match Envelope::from_body(&delivery.body) {
                Ok(envelope) => {
                    readable.push((delivery, envelope));
                    continue;
                }
                Err(e) => format!("unreadable job: {e}"),
            }
        };
        let span = message_span(&delivery);
        decided.push(Decided {
            delivery,
            span,
            outcome: None,
            settlement: Settlement::DeadLetter { reason },
        });
    }
    (decided, readable)
}

/// Logs and applies every settlement: acks, the common case, in one round trip; the rest one
/// by one, concurrently. Returns each message's kind, and its receipt if it stays unsettled.
async fn apply_all(decided: Vec<Decided>, queues: &Queues) -> Vec<(Kind, Option<String>)> {
    let mut acks = Vec::new();
    let mut others = Vec::new();
    for Decided { delivery, span, outcome, settlement } in decided {
        span.in_scope(|| log(outcome.as_ref(), &settlement));
        let kind = kind(outcome.as_ref(), &settlement);
        match settlement {
            Settlement::Ack => acks.push((delivery, span, kind)),
            settlement => others.push((delivery, span, kind, settlement)),
        }
    }
    let mut results = join_all(others.into_iter().map(|(delivery, span, kind, settlement)| {
        async move {
            match apply(&delivery, settlement, queues).await {
                Ok(()) => (kind, None),
                Err(error) => {
                    tracing::warn!(%error, "could not settle; the message returns when its lease runs out");
                    (Kind::Unsettled, Some(delivery.receipt))
                }
            }
        }
        .instrument(span)
    }))
    .await;
    let (deliveries, spans): (Vec<Delivery>, Vec<(Span, Kind)>) =
        acks.into_iter().map(|(d, span, kind)| (d, (span, kind))).unzip();
    match queues.source.ack_all(&deliveries).await {
        Ok(()) => results.extend(spans.into_iter().map(|(_, kind)| (kind, None))),
        Err(error) => {
            for ((span, _), delivery) in spans.into_iter().zip(deliveries) {
                span.in_scope(|| {
                    tracing::warn!(%error, "could not ack; the message returns when its lease runs out")
                });
                results.push((Kind::Unsettled, Some(delivery.receipt)));
            }
        }
    }
    results
}

/// Runs the handler with a deadline, turning a panic or an overrun into retryable failures
/// and padding missing outcomes, so there is exactly one outcome per job.
async fn handle(handler: &dyn JobHandler, jobs: Vec<Envelope>, deadline: Duration) -> Vec<Outcome> {
    if jobs.is_empty() {
        return Vec::new();
    }
    let count = jobs.len();
    let span = tracing::info_span!("batch", jobs = count);
    let run = AssertUnwindSafe(handler.handle(jobs)).catch_unwind().instrument(span);
    let mut outcomes = match tokio::time::timeout(deadline, run).await {
        Ok(Ok(outcomes)) => outcomes,
        Ok(Err(panic)) => vec![panicked(panic.as_ref()); count],
        Err(_) => {
            vec![Outcome::retry(format!("the handler did not finish within {deadline:?}")); count]
        }
    };
    if outcomes.len() != count {
        tracing::error!(
            jobs = count,
            outcomes = outcomes.len(),
            "a handler broke its contract: one outcome per job"
        );
    }
    outcomes.resize(count, Outcome::retry("the handler returned no outcome for this job"));
    outcomes
}

async fn apply(
    delivery: &Delivery,
    settlement: Settlement,
    queues: &Queues,
) -> Result<(), QueueError> {
    match settlement {
        Settlement::Ack => queues.source.ack_all(std::slice::from_ref(delivery)).await,
        Settlement::Requeue { envelope, delay } => {
            // Enqueue before ack: a crash in between leaves a duplicate, which is harmless,
            // never a lost job.
            queues.sink.enqueue(delivery.queue, &[envelope], delay).await?;
            queues.source.ack(delivery).await
        }
        Settlement::DeadLetter { reason } => queues.source.dead_letter(delivery, &reason).await,
    }
}

enum Kind {
    Done,
    Parked,
    Throttled,
    Retried,
    DeadLettered,
    Unsettled,
}

fn kind(outcome: Option<&Outcome>, settlement: &Settlement) -> Kind {
    match (outcome, settlement) {
        (_, Settlement::DeadLetter { .. }) => Kind::DeadLettered,
        (Some(Outcome::Parked { .. }), _) => Kind::Parked,
        (Some(Outcome::Throttled { .. }), _) => Kind::Throttled,
        (_, Settlement::Requeue { .. }) => Kind::Retried,
        (_, Settlement::Ack) => Kind::Done,
    }
}

/// Levels as in vector's STYLE: a dead letter is an ERROR (an operator must act); a retry is a
/// WARN; throttling and parking are expected and explained elsewhere.
fn log(outcome: Option<&Outcome>, settlement: &Settlement) {
    match (outcome, settlement) {
        (_, Settlement::DeadLetter { reason }) => tracing::error!(%reason, "dead-lettered"),
        (Some(Outcome::Throttled { reason, .. }), Settlement::Requeue { delay, .. }) => {
            tracing::info!(%reason, ?delay, "throttled; will run again")
        }
        (Some(Outcome::Failed { reason, .. }), Settlement::Requeue { delay, .. }) => {
            tracing::warn!(%reason, ?delay, "failed; will retry")
        }
        (Some(Outcome::Parked { reason }), _) => tracing::info!(%reason, "parked"),
        _ => tracing::debug!("done"),
    }
}

/// The span of a message before (or without) a readable job.
fn message_span(delivery: &Delivery) -> Span {
    tracing::info_span!("message", queue = delivery.queue.as_str(), receipt = %delivery.receipt)
}
