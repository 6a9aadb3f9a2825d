//! The resources exsync's template makes, made on a moto server: queues with their
//! dead-letter queues, the table, secrets.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    TimeToLiveSpecification,
};
use aws_sdk_sqs::types::QueueAttributeName;

use super::Moto;

/// The TTL attribute of tables made by [`Moto::create_table`].
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// A queue and its dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuePair {
    /// The queue.
    pub url: String,
    /// Its dead-letter queue, where SQS moves a message received `maxReceiveCount` times.
    pub dead_letter_url: String,
}

impl Moto {
    /// Creates queue `name` and its dead-letter queue `{name}-dlq`, with the redrive policy
    /// that moves a message received `max_receive_count` times.
    pub async fn create_queue(&self, name: &str, max_receive_count: u32) -> QueuePair {
        let sqs = aws_sdk_sqs::Client::new(&self.sdk_config().await);
        let dlq = sqs
            .create_queue()
            .queue_name(format!("{name}-dlq"))
            .attributes(QueueAttributeName::MessageRetentionPeriod, "1209600")
            .send()
            .await
            .expect("create the dead-letter queue");
        let dead_letter_url = dlq.queue_url.expect("a queue URL");
        let arn = sqs
            .get_queue_attributes()
            .queue_url(&dead_letter_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("the dead-letter queue's ARN")
            .attributes
            .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
            .expect("QueueArn");
        let redrive = serde_json::json!({
            "deadLetterTargetArn": arn,
            "maxReceiveCount": max_receive_count.to_string(),
        });
        let queue = sqs
            .create_queue()
            .queue_name(name)
            .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
            .attributes(QueueAttributeName::VisibilityTimeout, "30")
            .send()
            .await
            .expect("create the queue");
        QueuePair { url: queue.queue_url.expect("a queue URL"), dead_letter_url }
    }

    /// Creates table `name` as exsync's template does: `pk`/`sk` strings, on demand, TTL on
    /// [`TTL_ATTRIBUTE`].
    pub async fn create_table(&self, name: &str) {
        let dynamo = aws_sdk_dynamodb::Client::new(&self.sdk_config().await);
        let attribute = |n: &str| {
            AttributeDefinition::builder()
                .attribute_name(n)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("name and type")
        };
        let key = |n: &str, t: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(n)
                .key_type(t)
                .build()
                .expect("name and type")
        };
        dynamo
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attribute("pk"))
            .attribute_definitions(attribute("sk"))
            .key_schema(key("pk", KeyType::Hash))
            .key_schema(key("sk", KeyType::Range))
            .send()
            .await
            .expect("create the table");
        let ttl = TimeToLiveSpecification::builder()
            .attribute_name(TTL_ATTRIBUTE)
            .enabled(true)
            .build()
            .expect("name and flag");
        dynamo
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(ttl)
            .send()
            .await
            .expect("enable TTL");
    }

    /// Creates secret `name` holding `value`; returns its ARN.
    pub async fn create_secret(&self, name: &str, value: &str) -> String {
        let secrets = aws_sdk_secretsmanager::Client::new(&self.sdk_config().await);
        let created = secrets
            .create_secret()
            .name(name)
            .secret_string(value)
            .send()
            .await
            .expect("create the secret");
        created.arn.expect("an ARN")
    }

    /// Gives secret `arn` a new current value, as a rotation does.
    pub async fn rotate_secret(&self, arn: &str, value: &str) {
        let secrets = aws_sdk_secretsmanager::Client::new(&self.sdk_config().await);
        secrets
            .put_secret_value()
            .secret_id(arn)
            .secret_string(value)
            .send()
            .await
            .expect("put a new secret value");
    }
}
