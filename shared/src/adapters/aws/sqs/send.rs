//! `JobQueue` over `SendMessageBatch`: batches of at most ten messages and 256 KiB, entries
//! SQS failed for a passing reason sent again a bounded number of times, all or an error.

use std::{collections::HashMap, time::Duration};

use async_trait::async_trait;
use aws_sdk_sqs::types::{
    BatchResultErrorEntry, MessageAttributeValue, SendMessageBatchRequestEntry,
};
use tracing::instrument;

use super::{
    SqsQueue, attributes, queue_error,
    timer::{NOT_BEFORE, Timer, not_before_value},
};
use crate::{
    adapters::aws::error::classify,
    jobs::{Envelope, QueueName},
    ports::{JobQueue, MAX_BODY_BYTES, MAX_DELAY, QueueError},
};

/// Entries per `SendMessageBatch` (SQS's limit).
const BATCH_ENTRIES: usize = 10;

/// Bytes per `SendMessageBatch`, bodies and attributes together. SQS's batch limit was
/// 256 KiB ("the maximum total payload size (the sum of the individual lengths of all of the
/// batched messages)", SendMessageBatch API reference) and is 1 MiB on queues that allow
/// 1 MiB messages; the smaller one holds everywhere.
const BATCH_BYTES: usize = 256 * 1024;

/// A message about to be sent.
#[derive(Debug, Clone)]
pub(super) struct Outgoing {
    /// What names it in an error (the job id, or the dead letter's message id).
    pub label: String,
    /// The body, as SQS accepts it.
    pub body: String,
    /// Its timer.
    pub timer: Timer,
}

impl Outgoing {
    /// The message of a job, or the error naming the job if no queue message can hold it.
    pub fn job(queue: QueueName, job: &Envelope, timer: Timer) -> Result<Self, QueueError> {
        let body = job.to_body();
        if body.len() > MAX_BODY_BYTES {
            return Err(QueueError {
                queue: queue.as_str(),
                message: format!(
                    "job {}: its body is {} bytes, over the {MAX_BODY_BYTES} bytes a queue message \
                     holds; nothing of this batch was enqueued",
                    job.id(),
                    body.len()
                ),
                retryable: false,
            });
        }
        Ok(Self::raw(job.id().to_string(), body, timer))
    }

    /// A message with a body as it is (a replay, a hop).
    pub fn raw(label: String, body: String, timer: Timer) -> Self {
        Self { label, body: sqs_safe(body), timer }
    }

    fn attributes(&self) -> HashMap<String, MessageAttributeValue> {
        let mut attributes = HashMap::new();
        if let Some(due) = self.timer.not_before {
            attributes.insert(NOT_BEFORE.to_string(), attributes::number(not_before_value(due)));
        }
        attributes
    }

    fn size(&self) -> usize {
        self.body.len() + attributes::size(&self.attributes())
    }

    fn entry(&self, id: usize) -> SendMessageBatchRequestEntry {
        let attributes = self.attributes();
        SendMessageBatchRequestEntry::builder()
            .id(id.to_string())
            .message_body(&self.body)
            .delay_seconds(self.timer.delay_seconds)
            .set_message_attributes((!attributes.is_empty()).then_some(attributes))
            .build()
            .expect("id and body are set")
    }
}

/// SQS refuses U+FFFE and U+FFFF in a body (allowed: `#x9 | #xA | #xD | #x20 to #xD7FF |
/// #xE000 to #xFFFD | #x10000 to #x10FFFF`, SendMessage API reference); serde_json writes them
/// raw. In a JSON body they can only stand inside strings, where an escape means the same.
fn sqs_safe(body: String) -> String {
    if !body.contains(['\u{FFFE}', '\u{FFFF}']) {
        return body;
    }
    body.replace('\u{FFFE}', "\\ufffe").replace('\u{FFFF}', "\\uffff")
}

/// Splits `messages` into batches SQS takes.
fn batches(messages: &[Outgoing]) -> Vec<&[Outgoing]> {
    let mut batches = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, message) in messages.iter().enumerate() {
        let full = i - start == BATCH_ENTRIES || bytes + message.size() > BATCH_BYTES;
        if full && i > start {
            batches.push(&messages[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += message.size();
    }
    if start < messages.len() {
        batches.push(&messages[start..]);
    }
    batches
}

/// What to do after SQS answered a batch.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    /// Every entry was accepted.
    Done,
    /// SQS failed these entries for a passing reason: send them again.
    Resend {
        /// Their indices.
        entries: Vec<usize>,
        /// SQS's explanation of the first.
        why: String,
    },
    /// SQS refused an entry for what it is: sending it again cannot help.
    Refused {
        /// Its index.
        entry: usize,
        /// SQS's explanation.
        why: String,
    },
}

fn after_batch(failed: &[BatchResultErrorEntry]) -> Next {
    let why = |f: &BatchResultErrorEntry| format!("{}: {}", f.code(), f.message().unwrap_or(""));
    let index = |f: &BatchResultErrorEntry| f.id().parse::<usize>().unwrap_or(usize::MAX);
    if let Some(refused) = failed.iter().find(|f| f.sender_fault()) {
        return Next::Refused { entry: index(refused), why: why(refused) };
    }
    match failed.first() {
        None => Next::Done,
        Some(first) => {
            Next::Resend { entries: failed.iter().map(index).collect(), why: why(first) }
        }
    }
}

impl SqsQueue {
    /// Sends `messages` to `url` (a queue of `queue`, or its dead-letter queue): `Ok` once SQS
    /// accepted every one. An error after some batches went out leaves those queued; the
    /// caller's retry sends them again, which handlers absorb (a job handled twice has the
    /// effect of once).
    pub(super) async fn send_all(
        &self,
        queue: QueueName,
        url: &str,
        messages: &[Outgoing],
    ) -> Result<(), QueueError> {
        for batch in batches(messages) {
            self.send_batch(queue, url, batch).await?;
        }
        Ok(())
    }

    async fn send_batch(
        &self,
        queue: QueueName,
        url: &str,
        batch: &[Outgoing],
    ) -> Result<(), QueueError> {
        let mut pending: Vec<usize> = (0..batch.len()).collect();
        let mut last_why = String::new();
        for attempt in 0..=self.resends {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(100 << attempt.min(6))).await;
            }
            let entries = pending.iter().map(|&i| batch[i].entry(i)).collect();
            let answer = self
                .client
                .send_message_batch()
                .queue_url(url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| queue_error(queue, classify("SendMessageBatch", &e)))?;
            match after_batch(answer.failed()) {
                Next::Done => return Ok(()),
                Next::Refused { entry, why } => {
                    let label = batch.get(entry).map_or("?", |m| m.label.as_str());
                    let message = format!("SQS refused {label}: {why}");
                    return Err(QueueError { queue: queue.as_str(), message, retryable: false });
                }
                Next::Resend { entries, why } => {
                    tracing::warn!(failed = entries.len(), %why, attempt, "SQS failed part of a batch; sending those again");
                    (pending, last_why) = (entries, why);
                }
            }
        }
        let labels: Vec<&str> =
            pending.iter().filter_map(|&i| batch.get(i)).map(|m| m.label.as_str()).collect();
        Err(QueueError {
            queue: queue.as_str(),
            message: format!(
                "SQS did not accept {} of {} messages after {} attempts ({last_why}): {}",
                labels.len(),
                batch.len(),
                self.resends + 1,
                labels.join(", ")
            ),
            retryable: true,
        })
    }
}

#[async_trait]
impl JobQueue for SqsQueue {
    #[instrument(skip_all, fields(queue = queue.as_str(), jobs = jobs.len(), ?delay))]
    async fn enqueue(
        &self,
        queue: QueueName,
        jobs: &[Envelope],
        delay: Duration,
    ) -> Result<(), QueueError> {
        let url = &self.urls(queue)?.url;
        if delay > MAX_DELAY {
            let message = format!(
                "a delay of {delay:?} is over the {MAX_DELAY:?} the queue port allows; nothing of \
                 this batch was enqueued"
            );
            return Err(QueueError { queue: queue.as_str(), message, retryable: false });
        }
        let timer = Timer::new(delay, self.timer_cap, self.clock.now());
        let messages: Vec<Outgoing> =
            jobs.iter().map(|job| Outgoing::job(queue, job, timer)).collect::<Result<_, _>>()?;
        self.send_all(queue, url, &messages).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(bytes: usize) -> Outgoing {
        Outgoing::raw("m".into(), "x".repeat(bytes), Timer { delay_seconds: 0, not_before: None })
    }

    #[test]
    fn batches_hold_ten_messages_and_256_kib_at_most() {
        let small: Vec<_> = (0..25).map(|_| message(10)).collect();
        let sizes: Vec<usize> = batches(&small).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [10, 10, 5]);
        let big: Vec<_> = (0..5).map(|_| message(100 * 1024)).collect();
        let sizes: Vec<usize> = batches(&big).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [2, 2, 1]);
        assert!(batches(&[]).is_empty());
    }

    #[test]
    fn a_passing_failure_resends_those_entries_and_a_sender_fault_refuses() {
        let entry = |id: &str, sender_fault: bool| {
            BatchResultErrorEntry::builder()
                .id(id)
                .sender_fault(sender_fault)
                .code(if sender_fault { "InvalidParameterValue" } else { "InternalError" })
                .message("m")
                .build()
                .unwrap()
        };
        assert_eq!(after_batch(&[]), Next::Done);
        assert_eq!(
            after_batch(&[entry("1", false), entry("4", false)]),
            Next::Resend { entries: vec![1, 4], why: "InternalError: m".into() }
        );
        assert_eq!(
            after_batch(&[entry("1", false), entry("7", true)]),
            Next::Refused { entry: 7, why: "InvalidParameterValue: m".into() }
        );
    }

    #[test]
    fn characters_sqs_refuses_are_escaped_inside_json_strings() {
        let body = serde_json::to_string("a\u{FFFF}b\u{FFFE}").unwrap();
        let safe = sqs_safe(body);
        assert_eq!(safe, r#""a\uffffb\ufffe""#);
        assert_eq!(serde_json::from_str::<String>(&safe).unwrap(), "a\u{FFFF}b\u{FFFE}");
    }
}
