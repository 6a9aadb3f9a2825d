//! An SQS event source mapping as Lambda runs one: receive up to ten messages (leasing them
//! for the queue's visibility timeout), invoke the function with a real `SqsEvent`, delete
//! every message the batch response does not list as failed; a failed invocation deletes
//! nothing. What is not deleted comes back when its lease ends, and SQS's redrive policy moves
//! a message received `maxReceiveCount` times to the dead-letter queue.

use std::{collections::HashSet, sync::Arc, time::Duration};

use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName};
use exsync_shared::lambda::{SqsBatchResponse, SqsEvent};
use futures::future::BoxFuture;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::moto::REGION;

/// A function as the mapping invokes it: an event in, a batch response or an error out.
pub type Function =
    Arc<dyn Fn(SqsEvent) -> BoxFuture<'static, Result<SqsBatchResponse, String>> + Send + Sync>;

/// How long a received batch stays invisible (the tests' stand-in for the template's six
/// function timeouts): short, so a failed message comes back quickly.
pub const LEASE_SECONDS: i32 = 2;

/// What one poll did.
#[derive(Debug, Default, Clone)]
pub struct Polled {
    /// Message ids received.
    pub received: Vec<String>,
    /// Message ids the function reported failed (or all, when the invocation failed).
    pub failed: Vec<String>,
}

/// One queue's event source mapping.
#[derive(Clone)]
pub struct Mapping {
    /// The queue's URL.
    pub url: String,
    /// The queue's ARN (`eventSourceARN` of each record).
    pub arn: String,
    sqs: aws_sdk_sqs::Client,
    function: Function,
}

impl std::fmt::Debug for Mapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mapping").field("url", &self.url).finish_non_exhaustive()
    }
}

impl Mapping {
    /// Invokes `function` with the messages of the queue at `url`.
    pub fn new(sqs: aws_sdk_sqs::Client, url: String, arn: String, function: Function) -> Self {
        Self { url, arn, sqs, function }
    }

    /// Receives one batch (waiting up to a second for it), invokes the function, deletes
    /// what succeeded.
    pub async fn poll(&self) -> Polled {
        let received = self
            .sqs
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(10)
            .visibility_timeout(LEASE_SECONDS)
            .wait_time_seconds(1)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .expect("ReceiveMessage")
            .messages
            .unwrap_or_default();
        let mut polled = Polled::default();
        if received.is_empty() {
            return polled;
        }
        polled.received = received.iter().filter_map(|m| m.message_id.clone()).collect();
        let event = self.event(&received);
        let failed: HashSet<String> = match (self.function)(event).await {
            Ok(response) => {
                let response = serde_json::to_value(response).expect("a batch response");
                response["batchItemFailures"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|f| f["itemIdentifier"].as_str().map(String::from))
                    .collect()
            }
            Err(error) => {
                tracing::warn!(%error, "the invocation failed; the whole batch comes back");
                polled.received.iter().cloned().collect()
            }
        };
        let done: Vec<&Message> = received
            .iter()
            .filter(|m| !failed.contains(m.message_id.as_deref().unwrap_or_default()))
            .collect();
        for chunk in done.chunks(10) {
            let entries = chunk.iter().enumerate().map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(m.receipt_handle.clone().unwrap_or_default())
                    .build()
                    .expect("id and receipt")
            });
            self.sqs
                .delete_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries.collect()))
                .send()
                .await
                .expect("DeleteMessageBatch");
        }
        polled.failed = failed.into_iter().collect();
        polled
    }

    /// Polls until `stop` is cancelled.
    pub fn spawn(self, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            while !stop.is_cancelled() {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = self.poll() => {}
                }
            }
        })
    }

    /// The event Lambda would send for `messages`.
    pub fn event(&self, messages: &[Message]) -> SqsEvent {
        let records: Vec<Value> = messages.iter().map(|m| record(m, &self.arn)).collect();
        serde_json::from_value(json!({ "Records": records })).expect("an SQS event")
    }
}

/// One record of an SQS event, as Lambda writes it.
fn record(message: &Message, arn: &str) -> Value {
    let attributes: serde_json::Map<String, Value> = message
        .attributes
        .iter()
        .flatten()
        .map(|(k, v)| (k.as_str().to_string(), Value::String(v.clone())))
        .collect();
    json!({
        "messageId": message.message_id,
        "receiptHandle": message.receipt_handle,
        "body": message.body,
        "md5OfBody": message.md5_of_body,
        "attributes": attributes,
        "messageAttributes": {},
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": REGION,
    })
}

/// Polls `mapping` until `check` holds or `limit` passes.
pub async fn poll_until(
    mapping: &Mapping,
    limit: Duration,
    mut check: impl FnMut(&Polled) -> bool,
) {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let polled = mapping.poll().await;
        if check(&polled) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "waited {limit:?} polling {}", mapping.url);
    }
}
