//! `DeleteMessageBatch`, ten receipts at a time: acks and dead-letter clean-up.

use aws_sdk_sqs::types::DeleteMessageBatchRequestEntry;

use super::{SqsQueue, queue_error};
use crate::{adapters::aws::error::classify, jobs::QueueName, ports::QueueError};

impl SqsQueue {
    /// Deletes the messages of `receipts` from `url` (a queue of `queue`, or its dead-letter
    /// queue). Returns how many went, and SQS's reason for the first that did not.
    pub(super) async fn delete_batch(
        &self,
        queue: QueueName,
        url: &str,
        receipts: &[&str],
    ) -> Result<(u64, Option<String>), QueueError> {
        let (mut deleted, mut first_failure) = (0, None);
        for chunk in receipts.chunks(10) {
            let entries = chunk.iter().enumerate().map(|(i, receipt)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(*receipt)
                    .build()
                    .expect("id and receipt are set")
            });
            let answer = self
                .client
                .delete_message_batch()
                .queue_url(url)
                .set_entries(Some(entries.collect()))
                .send()
                .await
                .map_err(|e| queue_error(queue, classify("DeleteMessageBatch", &e)))?;
            deleted += answer.successful().len() as u64;
            if let Some(failed) = answer.failed().first() {
                first_failure.get_or_insert_with(|| {
                    format!("{}: {}", failed.code(), failed.message().unwrap_or(""))
                });
            }
        }
        Ok((deleted, first_failure))
    }
}
