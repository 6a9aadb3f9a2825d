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

/// Sends jobs. Returning `Ok` means every job is durably stored (DESIGN invariant 1).
#[async_trait]
pub trait JobQueue: Send + Sync + std::fmt::Debug {
    /// Enqueues `jobs` on `queue`, visible after `delay` (zero: at once). All or an error.
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
    /// Leases up to `max` visible messages for `lease`.
    async fn receive(
        &self,
        queue: QueueName,
        max: usize,
        lease: Duration,
    ) -> Result<Vec<Delivery>, QueueError>;

    /// Removes a message whose effect is durable (DESIGN invariant 2).
    async fn ack(&self, delivery: &Delivery) -> Result<(), QueueError>;

    /// Moves a message to the queue's dead-letter store with the reason it failed.
    async fn dead_letter(&self, delivery: &Delivery, reason: &str) -> Result<(), QueueError>;

    /// Waits until `queue` may have something new, or `timeout` passes (a hint, not a promise).
    async fn wait_for(&self, queue: QueueName, timeout: Duration);
}
