//! Configuration of the AWS adapters, from the environment only.
//!
//! Credentials, region and endpoint come from aws-config's default chain
//! ([`sdk_config`]: `AWS_REGION`, `AWS_ENDPOINT_URL` for moto or LocalStack, the Lambda role's
//! credentials); the names of exsync's resources from the variables below, which the SAM
//! template sets on every function.

use std::collections::HashMap;

use crate::jobs::QueueName;

/// The DynamoDB table of every store port.
pub const TABLE_NAME: &str = "EXSYNC_TABLE_NAME";
/// The name (or ARN) of the `tokens` function.
pub const TOKENS_FUNCTION: &str = "EXSYNC_TOKENS_FUNCTION";
/// Where the configuration file is: `s3://bucket/key` (the Lambda glue reads it).
pub const CONFIG_URI: &str = "EXSYNC_CONFIG_URI";
/// The https URL Graph calls (the `notify` Function URL); overrides `runtime.public_url`.
pub const PUBLIC_URL: &str = "EXSYNC_PUBLIC_URL";

/// The variable holding the URL of `queue`.
pub fn queue_url_variable(queue: QueueName) -> &'static str {
    match queue {
        QueueName::Changes => "EXSYNC_CHANGES_QUEUE_URL",
        QueueName::Writes => "EXSYNC_WRITES_QUEUE_URL",
        QueueName::Subscriptions => "EXSYNC_SUBSCRIPTIONS_QUEUE_URL",
    }
}

/// The variable holding the URL of `queue`'s dead-letter queue.
pub fn dead_letter_url_variable(queue: QueueName) -> &'static str {
    match queue {
        QueueName::Changes => "EXSYNC_CHANGES_DLQ_URL",
        QueueName::Writes => "EXSYNC_WRITES_DLQ_URL",
        QueueName::Subscriptions => "EXSYNC_SUBSCRIPTIONS_DLQ_URL",
    }
}

/// A variable the AWS adapters need is not set (or empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the environment variable {name} is not set: it must hold {what} (the SAM template sets it)"
)]
pub struct MissingVariable {
    /// The variable.
    pub name: &'static str,
    /// What it holds.
    pub what: &'static str,
}

/// Reads a required variable through `lookup` (the process environment in production).
pub fn required(
    lookup: &dyn Fn(&str) -> Option<String>,
    name: &'static str,
    what: &'static str,
) -> Result<String, MissingVariable> {
    lookup(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .ok_or(MissingVariable { name, what })
}

/// The process environment, as a lookup.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The AWS SDK configuration from the environment (region, credentials, `AWS_ENDPOINT_URL`).
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// A queue and its dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueUrls {
    /// Where jobs are sent and received.
    pub url: String,
    /// Where jobs that failed for good are parked, with their reason.
    pub dead_letter_url: String,
}

/// The URLs of the three queues and their dead-letter queues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMap(HashMap<QueueName, QueueUrls>);

impl QueueMap {
    /// From explicit URLs (tests).
    pub fn new(urls: impl IntoIterator<Item = (QueueName, QueueUrls)>) -> Self {
        Self(urls.into_iter().collect())
    }

    /// From the six `EXSYNC_*_QUEUE_URL` / `EXSYNC_*_DLQ_URL` variables of `lookup`; the
    /// error names the first one missing.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, MissingVariable> {
        let mut urls = HashMap::new();
        for queue in QueueName::ALL {
            let url = required(lookup, queue_url_variable(queue), "an SQS queue URL")?;
            let dead_letter_url =
                required(lookup, dead_letter_url_variable(queue), "an SQS dead-letter queue URL")?;
            urls.insert(queue, QueueUrls { url, dead_letter_url });
        }
        Ok(Self(urls))
    }

    /// From the process environment.
    pub fn from_env() -> Result<Self, MissingVariable> {
        Self::from_lookup(&process_env)
    }

    /// The URLs of `queue`.
    pub fn of(&self, queue: QueueName) -> Option<&QueueUrls> {
        self.0.get(&queue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_queue_url_names_its_variable() {
        let lookup =
            |name: &str| (name != "EXSYNC_WRITES_DLQ_URL").then(|| format!("url-of-{name}"));
        let error = QueueMap::from_lookup(&lookup).unwrap_err();
        assert_eq!(error.name, "EXSYNC_WRITES_DLQ_URL");
        assert_eq!(
            error.to_string(),
            "the environment variable EXSYNC_WRITES_DLQ_URL is not set: it must hold an SQS \
             dead-letter queue URL (the SAM template sets it)"
        );
        let blank = |name: &str| Some(if name == TABLE_NAME { " ".into() } else { "x".into() });
        assert_eq!(required(&blank, TABLE_NAME, "a table").unwrap_err().name, TABLE_NAME);
    }

    #[test]
    fn every_queue_gets_its_own_urls() {
        let lookup = |name: &str| Some(format!("url-of-{name}"));
        let map = QueueMap::from_lookup(&lookup).unwrap();
        let writes = map.of(QueueName::Writes).unwrap();
        assert_eq!(writes.url, "url-of-EXSYNC_WRITES_QUEUE_URL");
        assert_eq!(writes.dead_letter_url, "url-of-EXSYNC_WRITES_DLQ_URL");
    }
}
