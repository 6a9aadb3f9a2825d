//! What a handler says happened to a job; the runtime (embedded worker or Lambda batch
//! adapter) turns it into ack, delayed requeue or dead-letter.

use std::time::Duration;

/// The result of handling one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The effect is durable: remove the job.
    Done,
    /// A service asked to slow down: run the job again after `after`, without counting an
    /// attempt (throttling never burns a job's retries).
    Throttled {
        /// The service's Retry-After (or our backoff when it gave none).
        after: Duration,
        /// Which service and limit, for the logs and the mailbox status.
        reason: String,
    },
    /// It failed. Retryable failures run again with capped exponential backoff until the
    /// attempt limit, then go to the dead-letter store; others go there at once.
    Failed {
        /// What failed, on which ids, and what to do (no secrets).
        reason: String,
        /// Whether running it again can help.
        retryable: bool,
    },
    /// The mailbox cannot sync until an admin acts (bad secret, no permission); its status
    /// says why and it is retried by the next poll or sweep, so the job itself is removed.
    Parked {
        /// The reason shown in the mailbox status.
        reason: String,
    },
}

impl Outcome {
    /// A retryable failure.
    pub fn retry(reason: impl Into<String>) -> Self {
        Outcome::Failed { reason: reason.into(), retryable: true }
    }

    /// A failure that no retry can fix.
    pub fn poison(reason: impl Into<String>) -> Self {
        Outcome::Failed { reason: reason.into(), retryable: false }
    }
}
