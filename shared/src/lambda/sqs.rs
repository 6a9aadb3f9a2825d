//! An SQS event: the batch the event source mapping received, handled by
//! [`process_batch`] and answered with its batch item failures, so one bad message never
//! fails or repeats its batch.
//!
//! The event source mapping receives and deletes; the function settles through
//! [`EventBatch`]:
//! - done, parked, retried and throttled jobs are left out of the failures, so the mapping
//!   deletes them. A retry or a throttled job was first sent again as a new message with its
//!   delay (a message timer, the attempt in the envelope): waiting for Retry-After does not use
//!   up a receive of the original, which would move it to the dead-letter queue.
//! - a dead-lettered job is sent to the dead-letter queue with its reason, then deleted.
//! - a message that could not be settled (SQS or DynamoDB unavailable) is a batch item
//!   failure: it comes back when its visibility timeout ends, and after `maxReceiveCount`
//!   receives SQS's redrive moves it to the dead-letter queue.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use async_trait::async_trait;
pub use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use lambda_runtime::LambdaEvent;

use super::Pipeline;
use crate::{
    adapters::aws::SqsQueue,
    jobs::QueueName,
    ports::{Delivery, JobSource, QueueError},
    runtime::{JobHandler, Queues, RetryPolicy, process_batch},
};

/// Time kept back from the invocation's deadline to settle the batch and answer.
const SETTLE_MARGIN: Duration = Duration::from_secs(10);

/// The handler's time when the event carries no deadline (a test calling it directly).
const DEFAULT_DEADLINE: Duration = Duration::from_secs(60);

/// Handles an SQS event of `queue` with the handler of the current configuration.
pub async fn handle(
    pipeline: &Pipeline,
    queue: QueueName,
    event: LambdaEvent<SqsEvent>,
) -> Result<SqsBatchResponse, lambda_runtime::Error> {
    // Without a configuration nothing can be handled: the invocation fails as a whole (the
    // Errors alarm fires) and the batch comes back after its visibility timeout.
    let wiring = pipeline.wiring().await?;
    let deadline = handler_deadline(event.context.deadline);
    Ok(handle_with(
        pipeline.queue().clone(),
        queue,
        &*wiring.handler(queue),
        event.payload,
        deadline,
    )
    .await)
}

/// Handles `event`'s messages of `queue` with `handler`, within `deadline`.
pub async fn handle_with(
    sqs: Arc<SqsQueue>,
    queue: QueueName,
    handler: &dyn JobHandler,
    event: SqsEvent,
    deadline: Duration,
) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    let mut ids = HashMap::new();
    let mut deliveries = Vec::with_capacity(event.records.len());
    for record in event.records {
        match delivery(queue, record) {
            Ok((id, delivery)) => {
                ids.insert(delivery.receipt.clone(), id);
                deliveries.push(delivery);
            }
            // Not a message SQS could have sent: failing it is all that can be done.
            Err(Some(id)) => response.add_failure(id),
            Err(None) => {
                tracing::error!("an SQS record without a message id; it cannot be reported")
            }
        }
    }
    let queues = Queues { source: Arc::new(EventBatch { sqs: sqs.clone() }), sink: sqs };
    let report = process_batch(deliveries, handler, &queues, &RetryPolicy::DEFAULT, deadline).await;
    for receipt in report.unsettled {
        if let Some(id) = ids.remove(&receipt) {
            response.add_failure(id);
        }
    }
    tracing::info!(tally = ?report.tally, "batch handled");
    response
}

/// The message id and the delivery of a record; `Err` with the id when the record lacks a
/// receipt handle or a body.
fn delivery(queue: QueueName, record: SqsMessage) -> Result<(String, Delivery), Option<String>> {
    let id = record.message_id.ok_or(None)?;
    let (Some(receipt), Some(body)) = (record.receipt_handle, record.body) else {
        return Err(Some(id));
    };
    let receive_count =
        record.attributes.get("ApproximateReceiveCount").and_then(|c| c.parse().ok()).unwrap_or(1);
    Ok((id, Delivery { queue, receipt, body, receive_count }))
}

/// The handler's share of an invocation whose deadline is `deadline_ms` (Unix milliseconds).
fn handler_deadline(deadline_ms: u64) -> Duration {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let left = Duration::from_millis(deadline_ms).saturating_sub(now);
    if left.is_zero() {
        return DEFAULT_DEADLINE;
    }
    left.saturating_sub(SETTLE_MARGIN).max(Duration::from_secs(1))
}

/// The messages of one event: the mapping deletes what is not reported, so an ack is the
/// absence of a failure.
#[derive(Debug)]
struct EventBatch {
    sqs: Arc<SqsQueue>,
}

#[async_trait]
impl JobSource for EventBatch {
    async fn receive(
        &self,
        queue: QueueName,
        _max: usize,
        _lease: Duration,
    ) -> Result<Vec<Delivery>, QueueError> {
        Err(QueueError {
            queue: queue.as_str(),
            message: "on Lambda the event source mapping receives the messages".into(),
            retryable: false,
        })
    }

    async fn ack(&self, _delivery: &Delivery) -> Result<(), QueueError> {
        Ok(())
    }

    async fn dead_letter(&self, delivery: &Delivery, reason: &str) -> Result<(), QueueError> {
        self.sqs.dead_letter(delivery, reason).await
    }

    async fn wait_for(&self, _queue: QueueName, timeout: Duration) {
        tokio::time::sleep(timeout).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_become_deliveries_with_their_receive_count() {
        let event: SqsEvent = serde_json::from_value(serde_json::json!({"Records": [
            {"messageId": "m-1", "receiptHandle": "r-1", "body": "{}",
             "attributes": {"ApproximateReceiveCount": "3"}},
            {"messageId": "m-2", "body": "{}"},
        ]}))
        .unwrap();
        let mut records = event.records.into_iter();
        let (id, d) = delivery(QueueName::Writes, records.next().unwrap()).unwrap();
        assert_eq!((id.as_str(), d.receipt.as_str(), d.receive_count), ("m-1", "r-1", 3));
        assert_eq!(
            delivery(QueueName::Writes, records.next().unwrap()).unwrap_err(),
            Some("m-2".into())
        );
    }

    #[test]
    fn the_handler_leaves_time_to_settle() {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
        let share = handler_deadline(now + 120_000);
        assert!(share <= Duration::from_secs(110) && share > Duration::from_secs(100), "{share:?}");
        assert_eq!(handler_deadline(0), DEFAULT_DEADLINE);
    }
}
