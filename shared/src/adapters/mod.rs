//! Adapters: the ports implemented over real infrastructure.
//!
//! - [`sqlite`]: the embedded default, state and queues in one SQLite file.
//! - [`aws`] (feature `aws`): SQS, DynamoDB, Secrets Manager and the `tokens` function, for
//!   the Lambda functions.

#[cfg(feature = "aws")]
pub mod aws;
pub mod sqlite;
