//! The AWS twins of the ports (feature `aws`), for the Lambda functions.
//!
//! - [`env`](mod@env): configuration from the environment only, with errors naming the variable.
//! - [`sqs`]: [`SqsQueue`], the queue ports over SQS standard queues and their DLQs.
//! - [`dynamo`]: [`DynamoStore`], every store port over one DynamoDB table.
//! - [`secrets`]: [`SecretsManagerSecrets`], `aws-sm:` secret references.
//! - [`tokens`]: [`LambdaTokens`], tokens from the `tokens` function.
//! - [`limiter`]: [`DynamoLimiter`], Graph's request limits across every instance.
//! - `error`: AWS SDK errors classified (retryable or not) for every adapter.

pub mod dynamo;
pub mod env;
mod error;
pub mod limiter;
pub mod secrets;
pub mod sqs;
pub mod tokens;

pub use dynamo::DynamoStore;
pub use limiter::{DynamoLimiter, DynamoLimiterSettings};
pub use secrets::SecretsManagerSecrets;
pub use sqs::SqsQueue;
pub use tokens::LambdaTokens;
