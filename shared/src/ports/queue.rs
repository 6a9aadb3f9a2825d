//! Durable queues between the functions (SQS on AWS, a SQLite table in one process).

use std::time::Duration;

use async_trait::async_trait;

use crate::jobs::{Envelope, QueueName};

/// A queue operation that failed.
#[derive(Debug, thiserror::Error)]
#[error("queue {queue}: {message}")]
pub struct QueueError {
    /// The queue.
    pub queue: &'static str,
    /// What failed.
    pub message: String,
    /// Whether trying again can help.
    pub retryable: bool,
}

/// The largest body a queue accepts, in bytes: SQS's default `MaximumMessageSize` (256 KiB;
/// a queue can be configured up to 1 MiB, but both twins hold to the default).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// The longest enqueue delay: SQS `DelaySeconds` goes from 0 to 900 seconds.
pub const MAX_DELAY: Duration = Duration::from_secs(900);

/// Sends jobs. Returning `Ok` means every job is durably stored (DESIGN invariant 1).
#[async_trait]
pub trait JobQueue: Send + Sync + std::fmt::Debug {
    /// Enqueues `jobs` on `queue`, visible after `delay` (zero: at once). All or an error:
    /// a body over [`MAX_BODY_BYTES`] or a delay over [`MAX_DELAY`] refuses the whole batch.
    async fn enqueue(
        &self,
        queue: QueueName,
        jobs: &[Envelope],
        delay: Duration,
    ) -> Result<(), QueueError>;
}

/// A received message, invisible to other consumers until acked or its lease runs out.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The queue it came from.
    pub queue: QueueName,
    /// Handle to ack, release or dead-letter it.
    pub receipt: String,
    /// The raw body (parsed by the worker, so an unreadable body can be dead-lettered).
    pub body: String,
    /// How many times it has been received, this time included.
    pub receive_count: u32,
}

/// Pulls jobs (the embedded runtime; on Lambda the SQS event source pulls instead).
#[async_trait]
pub trait JobSource: Send + Sync + std::fmt::Debug {
    /// Leases up to `max` visible messages for `lease` (fewer when fewer are visible; SQS gives
    /// at most 10 per call). Each delivery's `receive_count` counts this receive; a message
    /// whose lease runs out without an ack becomes visible again.
    async fn receive(
        &self,
        queue: QueueName,
        max: usize,
        lease: Duration,
    ) -> Result<Vec<Delivery>, QueueError>;

    /// Removes a message whose effect is durable (DESIGN invariant 2). Acking twice is harmless;
    /// an ack after the lease ran out and another consumer received it may leave it queued.
    async fn ack(&self, delivery: &Delivery) -> Result<(), QueueError>;

    /// Acks several messages in one round trip where the queue can (SQS `DeleteMessageBatch`
    /// takes 10, SQLite one transaction). `Ok` means all were acked; on `Err` any may remain,
    /// to come back when their lease runs out.
    async fn ack_all(&self, deliveries: &[Delivery]) -> Result<(), QueueError> {
        for delivery in deliveries {
            self.ack(delivery).await?;
        }
        Ok(())
    }

    /// Moves a message to the queue's dead-letter store with the reason it failed.
    async fn dead_letter(&self, delivery: &Delivery, reason: &str) -> Result<(), QueueError>;

    /// Waits until `queue` may have something new, or `timeout` passes (a hint, not a promise).
    async fn wait_for(&self, queue: QueueName, timeout: Duration);
}

/// How many messages a queue holds, by state (for `exsync status`, drains and benchmarks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueDepth {
    /// Ready to be received.
    pub visible: u64,
    /// Received and not yet acked, with a lease still running.
    pub in_flight: u64,
    /// Enqueued with a delay that has not passed yet.
    pub delayed: u64,
    /// In the queue's dead-letter store.
    pub dead_lettered: u64,
}

impl QueueDepth {
    /// Whether nothing is waiting, delayed or being worked on (dead letters aside).
    pub fn is_idle(&self) -> bool {
        self.visible == 0 && self.in_flight == 0 && self.delayed == 0
    }
}

/// Counts a queue's messages (SQS: the `ApproximateNumberOfMessages*` attributes).
#[async_trait]
pub trait QueueDepths: Send + Sync + std::fmt::Debug {
    /// The queue's depth now.
    async fn depth(&self, queue: QueueName) -> Result<QueueDepth, QueueError>;
}
