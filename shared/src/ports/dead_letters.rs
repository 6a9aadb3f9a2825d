//! Jobs that could not be handled, kept with their reason until an admin replays or purges them
//! (`exsync dead-letters`; SQS: each queue's dead-letter queue).

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::jobs::{Envelope, QueueName};

use super::queue::QueueError;

/// A message parked in a queue's dead-letter store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The handle to replay it by (the store's id, not the job's).
    pub id: String,
    /// The queue it failed on, and returns to when replayed.
    pub queue: QueueName,
    /// The body as it was received (it may be unreadable: that can be the reason).
    pub body: String,
    /// Why it was parked: what failed, on which ids.
    pub reason: String,
    /// How many times it was received before it was parked.
    pub receive_count: u32,
    /// When it was parked.
    pub dead_lettered_at: OffsetDateTime,
}

/// Lists, replays and purges dead letters.
#[async_trait]
pub trait DeadLetters: Send + Sync + std::fmt::Debug {
    /// Up to `limit` of a queue's dead letters, oldest first.
    async fn dead_letters(
        &self,
        queue: QueueName,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, QueueError>;

    /// Puts one dead letter back on its queue with [`replay_body`]; `false` if there is no such
    /// dead letter (already replayed or purged).
    async fn replay(&self, queue: QueueName, id: &str) -> Result<bool, QueueError>;

    /// Puts all of a queue's dead letters back on it; returns how many.
    async fn replay_all(&self, queue: QueueName) -> Result<u64, QueueError>;

    /// Deletes all of a queue's dead letters; returns how many.
    async fn purge(&self, queue: QueueName) -> Result<u64, QueueError>;
}

/// The body a dead letter is replayed with: a readable envelope starts over with a full set of
/// attempts (an admin replays after fixing the cause); an unreadable one goes back verbatim, as a
/// newer exsync may be able to read it.
pub fn replay_body(body: &str) -> String {
    match Envelope::from_body(body) {
        Ok(Envelope::V1 { id, job, .. }) => Envelope::V1 { id, attempt: 0, job }.to_body(),
        Err(_) => body.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{domain::MailboxAddress, jobs::Job};

    #[test]
    fn a_replayed_envelope_starts_over_and_an_unreadable_body_is_kept() {
        let mailbox = MailboxAddress::parse("alice@fabrikam.example").unwrap();
        let tired = Envelope::new(Job::EnsureSubscriptions { mailbox }).retried().retried();
        let replayed = Envelope::from_body(&replay_body(&tired.to_body())).unwrap();
        assert_eq!(replayed.attempt(), 0);
        assert_eq!(replayed.id(), tired.id());
        assert_eq!(replayed.job(), tired.job());
        assert_eq!(replay_body("{not json"), "{not json");
    }
}
