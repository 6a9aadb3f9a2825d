//! Handlers: plain async code over ports, given the jobs of one received batch.

use std::{fmt, panic::AssertUnwindSafe};

use async_trait::async_trait;
use futures::{FutureExt, future::join_all};
use tracing::{Instrument, Span};

use crate::{
    jobs::{Envelope, QueueName},
    outcome::Outcome,
};

/// Handles the jobs of one batch (the Dataverse writer batches its writes; most handlers lift
/// a one-job function with [`EachJob`]).
#[async_trait]
pub trait JobHandler: Send + Sync + fmt::Debug {
    /// One outcome per job, in the order of `jobs`. A missing outcome counts as a retryable
    /// failure; a panic fails the whole batch retryably.
    async fn handle(&self, jobs: Vec<Envelope>) -> Vec<Outcome>;
}

/// Handles one job.
#[async_trait]
pub trait HandleOne: Send + Sync + fmt::Debug {
    /// What happened to `job`.
    async fn handle_one(&self, job: Envelope) -> Outcome;
}

/// Lifts a one-job handler to batches: the jobs of a batch run concurrently, each in its
/// [`job_span`], and a panic fails only its own job (retryably).
#[derive(Debug, Clone)]
pub struct EachJob<H> {
    queue: QueueName,
    handler: H,
}

impl<H: HandleOne> EachJob<H> {
    /// Lifts `handler`, which handles jobs of `queue`.
    pub fn new(queue: QueueName, handler: H) -> Self {
        Self { queue, handler }
    }

    /// The one-job handler inside.
    pub fn inner(&self) -> &H {
        &self.handler
    }
}

#[async_trait]
impl<H: HandleOne> JobHandler for EachJob<H> {
    async fn handle(&self, jobs: Vec<Envelope>) -> Vec<Outcome> {
        join_all(jobs.into_iter().map(|job| {
            let span = job_span(self.queue, &job);
            let run = AssertUnwindSafe(self.handler.handle_one(job)).catch_unwind();
            async move {
                match run.await {
                    Ok(outcome) => outcome,
                    Err(panic) => panicked(panic.as_ref()),
                }
            }
            .instrument(span)
        }))
        .await
    }
}

/// The span of one job: its queue, trace id, mailbox and attempt.
pub fn job_span(queue: QueueName, job: &Envelope) -> Span {
    let mailbox = job.job().mailbox().map(|m| m.as_str()).unwrap_or("");
    tracing::info_span!(
        "job",
        queue = queue.as_str(),
        job = %job.id(),
        mailbox,
        attempt = job.attempt()
    )
}

/// The retryable failure a panic becomes (a panic is a bug; the retry may hit it again, and
/// the attempt limit then parks the job with this reason).
pub(crate) fn panicked(payload: &(dyn std::any::Any + Send)) -> Outcome {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string payload".into());
    Outcome::retry(format!("the handler panicked: {message}"))
}
