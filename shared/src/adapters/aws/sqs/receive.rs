//! `JobSource` over `ReceiveMessage`, `DeleteMessage` and `ChangeMessageVisibility`.
//!
//! [`JobSource::wait_for`] long-polls: the messages it meets are kept (leased for
//! [`STASH_LEASE`]) and handed out by the next `receive`, which then sets their lease to the
//! one asked for. Releasing them instead would cost each one a receive count, and enough of
//! those move a job to its dead-letter queue without it ever being handled.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_sqs::types::{ChangeMessageVisibilityBatchRequestEntry, MessageSystemAttributeName};
use tracing::instrument;

use super::{
    SqsQueue, attributes,
    attributes::Received,
    queue_error,
    send::Outgoing,
    timer::{NOT_BEFORE, Timer, parse_not_before},
    whole_seconds,
};
use crate::{
    adapters::aws::error::classify,
    jobs::QueueName,
    ports::{Delivery, JobSource, QueueError},
};

/// SQS's longest visibility timeout (12 hours).
const MAX_LEASE_SECONDS: u64 = 43_200;

/// SQS's longest long poll.
const MAX_WAIT_SECONDS: u64 = 20;

/// How long messages met by `wait_for` stay leased while they wait for `receive`.
const STASH_LEASE: Duration = Duration::from_secs(30);

/// A kept message is handed out only this long after `wait_for` leased it: later, its lease
/// may be running out, and another consumer may get it.
const STASH_FRESH: Duration = Duration::from_secs(20);

/// A message met by `wait_for`, waiting for `receive`.
#[derive(Debug)]
pub(super) struct Stashed {
    message: Received,
    leased_at: Instant,
}

impl SqsQueue {
    /// One `ReceiveMessage` on `url`; messages met before they are due hop on (see
    /// [`super::timer`]) and are not returned.
    async fn receive_due(
        &self,
        queue: QueueName,
        url: &str,
        max: usize,
        lease_seconds: i32,
        wait_seconds: i32,
    ) -> Result<Vec<Received>, QueueError> {
        let answer = self
            .client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(max.clamp(1, 10) as i32)
            .visibility_timeout(lease_seconds)
            .wait_time_seconds(wait_seconds)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| queue_error(queue, classify("ReceiveMessage", &e)))?;
        let mut due = Vec::new();
        for message in answer.messages.unwrap_or_default().into_iter().filter_map(Received::read) {
            if !self.hop_if_early(queue, url, &message).await {
                due.push(message);
            }
        }
        Ok(due)
    }

    /// Sends an early message on with the time it has left and deletes this copy; `false` if
    /// it is due. If the hop fails the message stays, and comes back when its lease ends.
    async fn hop_if_early(&self, queue: QueueName, url: &str, message: &Received) -> bool {
        let Some(due) = message.attributes.get(NOT_BEFORE).and_then(|v| parse_not_before(v)) else {
            return false;
        };
        let Some(hop) = Timer::next_hop(due, self.clock.now(), self.timer_cap) else {
            return false;
        };
        let next = Outgoing::raw(message.message_id.clone(), message.body.clone(), hop);
        let hopped = match self.send_all(queue, url, &[next]).await {
            Ok(()) => self.delete(queue, url, &message.receipt).await,
            Err(e) => Err(e),
        };
        if let Err(error) = hopped {
            tracing::warn!(%error, message = %message.message_id, "could not send a delayed job on; it comes back after its lease");
        }
        true
    }

    async fn delete(&self, queue: QueueName, url: &str, receipt: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(url)
            .receipt_handle(receipt)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| queue_error(queue, classify("DeleteMessage", &e)))
    }

    /// Up to `max` kept messages of `queue`, leased anew for `lease_seconds`.
    async fn take_stashed(
        &self,
        queue: QueueName,
        url: &str,
        max: usize,
        lease_seconds: i32,
    ) -> Vec<Received> {
        let taken: Vec<Received> = {
            let mut stash = self.stash.lock().expect("stash lock");
            let kept = stash.entry(queue).or_default();
            kept.retain(|s| s.leased_at.elapsed() < STASH_FRESH);
            let n = max.min(kept.len());
            kept.drain(..n).map(|s| s.message).collect()
        };
        if taken.is_empty() {
            return taken;
        }
        let entries = taken.iter().enumerate().map(|(i, m)| {
            ChangeMessageVisibilityBatchRequestEntry::builder()
                .id(i.to_string())
                .receipt_handle(&m.receipt)
                .visibility_timeout(lease_seconds)
                .build()
                .expect("id and receipt are set")
        });
        let answer = self
            .client
            .change_message_visibility_batch()
            .queue_url(url)
            .set_entries(Some(entries.collect()))
            .send()
            .await;
        match answer {
            // Those whose lease could not be set are dropped: they come back to the queue.
            Ok(answer) => {
                let failed: Vec<&str> = answer.failed().iter().map(|f| f.id()).collect();
                taken
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| !failed.contains(&i.to_string().as_str()))
                    .map(|(_, m)| m)
                    .collect()
            }
            Err(e) => {
                let error = classify("ChangeMessageVisibilityBatch", &e).message;
                tracing::warn!(%error, "could not lease kept messages; they come back to the queue");
                Vec::new()
            }
        }
    }
}

fn delivery(queue: QueueName, message: Received) -> Delivery {
    Delivery {
        queue,
        receipt: message.receipt,
        body: message.body,
        receive_count: message.receive_count,
    }
}

#[async_trait]
impl JobSource for SqsQueue {
    #[instrument(skip_all, fields(queue = queue.as_str(), max))]
    async fn receive(
        &self,
        queue: QueueName,
        max: usize,
        lease: Duration,
    ) -> Result<Vec<Delivery>, QueueError> {
        let max = max.min(10);
        if max == 0 {
            return Ok(Vec::new());
        }
        let url = &self.urls(queue)?.url;
        let lease_seconds = whole_seconds(lease, MAX_LEASE_SECONDS);
        let mut got = self.take_stashed(queue, url, max, lease_seconds).await;
        if got.len() < max {
            got.extend(self.receive_due(queue, url, max - got.len(), lease_seconds, 0).await?);
        }
        Ok(got.into_iter().map(|m| delivery(queue, m)).collect())
    }

    async fn ack(&self, delivery: &Delivery) -> Result<(), QueueError> {
        let url = &self.urls(delivery.queue)?.url;
        self.delete(delivery.queue, url, &delivery.receipt).await
    }

    async fn ack_all(&self, deliveries: &[Delivery]) -> Result<(), QueueError> {
        for queue in QueueName::ALL {
            let receipts: Vec<&str> = deliveries
                .iter()
                .filter(|d| d.queue == queue)
                .map(|d| d.receipt.as_str())
                .collect();
            if receipts.is_empty() {
                continue;
            }
            let url = &self.urls(queue)?.url;
            let (deleted, failure) = self.delete_batch(queue, url, &receipts).await?;
            if let Some(why) = failure {
                let message = format!(
                    "SQS deleted {deleted} of {} acked messages ({why}); the rest come back when \
                     their lease ends",
                    receipts.len()
                );
                return Err(QueueError { queue: queue.as_str(), message, retryable: true });
            }
        }
        Ok(())
    }

    #[instrument(skip_all, fields(queue = delivery.queue.as_str()))]
    async fn dead_letter(&self, delivery: &Delivery, reason: &str) -> Result<(), QueueError> {
        let queue = delivery.queue;
        let urls = self.urls(queue)?;
        let now = self.clock.now();
        // Sent before the original is deleted: a failure in between leaves a duplicate in one
        // of the two queues, never a lost job.
        self.client
            .send_message()
            .queue_url(&urls.dead_letter_url)
            .message_body(&delivery.body)
            .message_attributes(
                attributes::REASON,
                attributes::string(attributes::bounded_reason(reason)),
            )
            .message_attributes(
                attributes::RECEIVE_COUNT,
                attributes::number(delivery.receive_count),
            )
            .message_attributes(
                attributes::DEAD_LETTERED_AT,
                attributes::number(now.unix_timestamp_nanos() / 1_000_000),
            )
            .send()
            .await
            .map_err(|e| {
                queue_error(queue, classify("SendMessage to the dead-letter queue", &e))
            })?;
        self.delete(queue, &urls.url, &delivery.receipt).await
    }

    async fn wait_for(&self, queue: QueueName, timeout: Duration) {
        let has_kept =
            self.stash.lock().expect("stash lock").get(&queue).is_some_and(|k| !k.is_empty());
        if has_kept {
            return;
        }
        // Without a URL (receive says why) or for less than a second (SQS waits whole
        // seconds), just wait: the caller's loop must not spin.
        let urls = match self.urls(queue) {
            Ok(urls) if timeout >= Duration::from_secs(1) => urls,
            _ => return tokio::time::sleep(timeout).await,
        };
        let wait = timeout.as_secs().min(MAX_WAIT_SECONDS) as i32;
        let lease = whole_seconds(STASH_LEASE, MAX_LEASE_SECONDS);
        let leased_at = Instant::now();
        match self.receive_due(queue, &urls.url, 10, lease, wait).await {
            Ok(got) => {
                let mut stash = self.stash.lock().expect("stash lock");
                let kept = stash.entry(queue).or_default();
                kept.extend(got.into_iter().map(|message| Stashed { message, leased_at }));
            }
            Err(error) => {
                tracing::warn!(%error, "long poll failed");
                tokio::time::sleep(timeout.min(Duration::from_secs(1))).await;
            }
        }
    }
}
