//! `DeadLetters` on the dead-letter queues.
//!
//! An SQS queue cannot be read without receiving: listing receives the dead letters (each
//! leased for [`SWEEP_LEASE`], so successive receives move on through the queue), then
//! releases them. A dead letter is found again by its SQS message id. Messages SQS itself moved
//! here (redrive after `maxReceiveCount` receives, a consumer that crashed or overran its lease
//! each time) carry no reason of ours; they are explained as such.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, MessageSystemAttributeName, QueueAttributeName,
};
use time::OffsetDateTime;

use super::{
    SqsQueue, attributes, attributes::Received, queue_error, send::Outgoing, timer::Timer,
};
use crate::{
    adapters::aws::error::classify,
    jobs::{Envelope, QueueName},
    ports::{DeadLetter, DeadLetters, QueueError, replay_body},
};

/// How long a sweep keeps the dead letters it has seen from being seen again.
const SWEEP_LEASE: i32 = 60;

/// The most receives of one sweep (10 messages each): a bound, not an expected size.
const SWEEP_RECEIVES: usize = 10_000;

impl SqsQueue {
    /// Receives up to 10 dead letters of `queue` (long poll of a second: an empty answer means
    /// the dead-letter queue has nothing visible, not a sampled miss).
    async fn receive_dead(&self, queue: QueueName) -> Result<Vec<Received>, QueueError> {
        let url = &self.urls(queue)?.dead_letter_url;
        let answer = self
            .client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .visibility_timeout(SWEEP_LEASE)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| {
                queue_error(queue, classify("ReceiveMessage from the dead-letter queue", &e))
            })?;
        Ok(answer.messages.unwrap_or_default().into_iter().filter_map(Received::read).collect())
    }

    /// Makes swept dead letters visible again.
    async fn release_dead(&self, queue: QueueName, swept: &[Received]) {
        let Ok(urls) = self.urls(queue) else { return };
        for chunk in swept.chunks(10) {
            let entries = chunk.iter().enumerate().map(|(i, m)| {
                ChangeMessageVisibilityBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(&m.receipt)
                    .visibility_timeout(0)
                    .build()
                    .expect("id and receipt are set")
            });
            let released = self
                .client
                .change_message_visibility_batch()
                .queue_url(&urls.dead_letter_url)
                .set_entries(Some(entries.collect()))
                .send()
                .await;
            if let Err(e) = released {
                let error = classify("ChangeMessageVisibilityBatch", &e).message;
                tracing::warn!(%error, "dead letters stay hidden until their sweep lease ends");
            }
        }
    }

    /// Deletes dead letters; returns how many went.
    async fn delete_dead(&self, queue: QueueName, gone: &[Received]) -> Result<u64, QueueError> {
        let url = &self.urls(queue)?.dead_letter_url;
        let receipts: Vec<&str> = gone.iter().map(|m| m.receipt.as_str()).collect();
        let (deleted, _) = self.delete_batch(queue, url, &receipts).await?;
        Ok(deleted)
    }

    /// Sends dead letters back to their queue, with a fresh set of attempts.
    async fn send_back(&self, queue: QueueName, letters: &[Received]) -> Result<(), QueueError> {
        let url = &self.urls(queue)?.url;
        let now = Timer { delay_seconds: 0, not_before: None };
        let messages: Vec<Outgoing> = letters
            .iter()
            .map(|m| Outgoing::raw(m.message_id.clone(), replay_body(&m.body), now))
            .collect();
        self.send_all(queue, url, &messages).await
    }

    /// `maxReceiveCount` of the queue's redrive policy: how often a message SQS moved to the
    /// dead-letter queue was received.
    async fn max_receives(&self, queue: QueueName) -> Option<u32> {
        if let Some(n) = self.max_receives.lock().expect("lock").get(&queue) {
            return Some(*n);
        }
        let url = &self.urls(queue).ok()?.url;
        let answer = self
            .client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::RedrivePolicy)
            .send()
            .await
            .ok()?;
        let policy = answer.attributes()?.get(&QueueAttributeName::RedrivePolicy)?;
        let n = max_receive_count(policy)?;
        self.max_receives.lock().expect("lock").insert(queue, n);
        Some(n)
    }

    async fn dead_letter_of(&self, queue: QueueName, m: &Received) -> DeadLetter {
        let attribute = |name: &str| m.attributes.get(name).and_then(|v| v.parse::<i128>().ok());
        let (reason, receive_count) = match m.attributes.get(attributes::REASON) {
            Some(reason) => {
                let count =
                    attribute(attributes::RECEIVE_COUNT).and_then(|n| u32::try_from(n).ok());
                (reason.clone(), count.unwrap_or(m.receive_count))
            }
            None => {
                let count = self.max_receives(queue).await.unwrap_or(m.receive_count);
                (redrive_reason(count), count)
            }
        };
        let dead_lettered_at = attribute(attributes::DEAD_LETTERED_AT)
            .and_then(|ms| OffsetDateTime::from_unix_timestamp_nanos(ms * 1_000_000).ok())
            .or(m.sent_at)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        DeadLetter {
            id: m.message_id.clone(),
            queue,
            body: m.body.clone(),
            reason,
            receive_count,
            dead_lettered_at,
        }
    }
}

/// What a dead letter is a job of: the envelope's id (kept by replays), or the body itself
/// when it cannot be read.
fn job_of(body: &str) -> String {
    Envelope::from_body(body).map_or_else(|_| body.to_string(), |e| e.id().to_string())
}

/// Why a message SQS moved by itself is here.
fn redrive_reason(receives: u32) -> String {
    format!(
        "SQS moved it here after {receives} receives without an ack: handling it crashed the \
         consumer or overran its lease each time (see the function's logs for its trace id)"
    )
}

/// `maxReceiveCount` of a redrive policy (SQS writes it as a string, moto as a number).
fn max_receive_count(policy: &str) -> Option<u32> {
    let policy: serde_json::Value = serde_json::from_str(policy).ok()?;
    match policy.get("maxReceiveCount")? {
        serde_json::Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

#[async_trait]
impl DeadLetters for SqsQueue {
    async fn dead_letters(
        &self,
        queue: QueueName,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, QueueError> {
        let mut seen: HashMap<String, Received> = HashMap::new();
        let mut swept = Vec::new();
        for _ in 0..SWEEP_RECEIVES {
            if seen.len() >= limit {
                break;
            }
            let batch = match self.receive_dead(queue).await {
                Ok(batch) => batch,
                Err(e) => {
                    self.release_dead(queue, &swept).await;
                    return Err(e);
                }
            };
            if batch.is_empty() {
                break;
            }
            for m in batch {
                seen.entry(m.message_id.clone()).or_insert_with(|| m.clone());
                swept.push(m);
            }
        }
        self.release_dead(queue, &swept).await;
        let mut letters = Vec::with_capacity(seen.len());
        for m in seen.values() {
            letters.push(self.dead_letter_of(queue, m).await);
        }
        letters.sort_by(|a, b| a.dead_lettered_at.cmp(&b.dead_lettered_at).then(a.id.cmp(&b.id)));
        letters.truncate(limit);
        Ok(letters)
    }

    async fn replay(&self, queue: QueueName, id: &str) -> Result<bool, QueueError> {
        let mut swept = Vec::new();
        let mut found = None;
        for _ in 0..SWEEP_RECEIVES {
            let batch = match self.receive_dead(queue).await {
                Ok(batch) => batch,
                Err(e) => {
                    self.release_dead(queue, &swept).await;
                    return Err(e);
                }
            };
            if batch.is_empty() {
                break;
            }
            for m in batch {
                if m.message_id == id && found.is_none() {
                    found = Some(m);
                } else {
                    swept.push(m);
                }
            }
            if found.is_some() {
                break;
            }
        }
        self.release_dead(queue, &swept).await;
        let Some(letter) = found else { return Ok(false) };
        // Back on its queue before it leaves the dead-letter queue: a failure in between
        // leaves a duplicate, never a lost job.
        self.send_back(queue, std::slice::from_ref(&letter)).await?;
        self.delete_dead(queue, std::slice::from_ref(&letter)).await?;
        Ok(true)
    }

    /// Each job once: while a consumer runs, a replayed job that fails again is dead-lettered
    /// anew (a new SQS message) during the sweep; it is left for the admin, not replayed in
    /// a loop.
    async fn replay_all(&self, queue: QueueName) -> Result<u64, QueueError> {
        let mut replayed = 0;
        let mut jobs = HashSet::new();
        let mut again = Vec::new();
        for _ in 0..SWEEP_RECEIVES {
            let batch = match self.receive_dead(queue).await {
                Ok(batch) => batch,
                Err(e) => {
                    self.release_dead(queue, &again).await;
                    return Err(e);
                }
            };
            if batch.is_empty() {
                break;
            }
            let (fresh, seen): (Vec<Received>, Vec<Received>) =
                batch.into_iter().partition(|m| jobs.insert(job_of(&m.body)));
            again.extend(seen);
            if fresh.is_empty() {
                continue;
            }
            let sent = self.send_back(queue, &fresh).await;
            if let Err(e) = sent {
                self.release_dead(queue, &again).await;
                return Err(e);
            }
            replayed += self.delete_dead(queue, &fresh).await?;
        }
        self.release_dead(queue, &again).await;
        Ok(replayed)
    }

    async fn purge(&self, queue: QueueName) -> Result<u64, QueueError> {
        let mut purged = 0;
        for _ in 0..SWEEP_RECEIVES {
            let batch = self.receive_dead(queue).await?;
            if batch.is_empty() {
                break;
            }
            purged += self.delete_dead(queue, &batch).await?;
        }
        Ok(purged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_redrive_count_is_read_as_sqs_and_moto_write_it() {
        assert_eq!(
            max_receive_count(r#"{"deadLetterTargetArn":"arn","maxReceiveCount":"5"}"#),
            Some(5)
        );
        assert_eq!(
            max_receive_count(r#"{"deadLetterTargetArn":"arn","maxReceiveCount":7}"#),
            Some(7)
        );
        assert_eq!(max_receive_count("{}"), None);
        assert!(redrive_reason(5).starts_with("SQS moved it here after 5 receives without an ack"));
    }
}
