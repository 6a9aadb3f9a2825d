//! `QueueDepths` from SQS's approximate counts of a queue and its dead-letter queue.

use async_trait::async_trait;
use aws_sdk_sqs::types::QueueAttributeName;

use super::{SqsQueue, queue_error};
use crate::{
    adapters::aws::error::classify,
    jobs::QueueName,
    ports::{QueueDepth, QueueDepths, QueueError},
};

impl SqsQueue {
    async fn counts(&self, queue: QueueName, url: &str) -> Result<[u64; 3], QueueError> {
        let names = [
            QueueAttributeName::ApproximateNumberOfMessages,
            QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
            QueueAttributeName::ApproximateNumberOfMessagesDelayed,
        ];
        let answer = self
            .client
            .get_queue_attributes()
            .queue_url(url)
            .set_attribute_names(Some(names.to_vec()))
            .send()
            .await
            .map_err(|e| queue_error(queue, classify("GetQueueAttributes", &e)))?;
        let attributes = answer.attributes.unwrap_or_default();
        Ok(names.map(|name| attributes.get(&name).and_then(|v| v.parse().ok()).unwrap_or(0)))
    }
}

#[async_trait]
impl QueueDepths for SqsQueue {
    async fn depth(&self, queue: QueueName) -> Result<QueueDepth, QueueError> {
        let urls = self.urls(queue)?;
        let [visible, in_flight, delayed] = self.counts(queue, &urls.url).await?;
        let dead = self.counts(queue, &urls.dead_letter_url).await?;
        Ok(QueueDepth { visible, in_flight, delayed, dead_lettered: dead.iter().sum() })
    }
}
