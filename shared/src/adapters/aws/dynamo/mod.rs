//! The store ports over one DynamoDB table.
//!
//! # Table design
//!
//! One table, string keys `pk` (partition) and `sk` (sort), billed per request, TTL on the
//! Number attribute `expires_at`. All reads are strongly consistent: a handler reads what the
//! previous step wrote.
//!
//! | item                         | `pk`                  | `sk`              | attributes |
//! |------------------------------|-----------------------|-------------------|------------|
//! | subscription, by id          | `sub#{id}`            | `subscription`    | `mailbox`, `folder`, `subscription_expires`, `client_state` |
//! | subscription, by mailbox     | `mbx#{mailbox}`       | `sub#{id}`        | the same (both written in one transaction) |
//! | delta cursor                 | `mbx#{mailbox}`       | `cursor#{folder}` | `kind` (`next`/`delta`), `link` |
//! | pass mark                    | `mbx#{mailbox}`       | `pass#{folder}`   | `ticket`, `begun`, `queued`, `queued_at` (ns) |
//! | Message-ID to activity       | `msgid#{message-id}`  | `activity`        | `activity`, `message_id` |
//! | mailbox status               | `status`              | `mbx#{mailbox}`   | counters, `health`, `health_state`, `next_retry`, times (ns) |
//!
//! - A mailbox's subscriptions, cursors and pass marks share its partition: one `Query` finds
//!   its subscriptions (`begins_with(sk, "sub#")`); notify's lookup by id is one `GetItem`.
//! - Statuses share the `status` partition, so `exsync status` is one `Query`. Its writes are
//!   bounded by what Dataverse accepts (service protection: thousands of requests per five
//!   minutes per user), far below a partition's 1,000 writes per second.
//! - Message-IDs longer than [`keys::MAX_MESSAGE_ID_KEY`] bytes are keyed by their SHA-256
//!   (a partition key holds 2,048 bytes at most).
//! - `clientState` is stored as it is (the table is encrypted at rest) and never logged: the
//!   adapter never prints an item, and never asks DynamoDB to return one in an error.
//!
//! # What expires
//!
//! Only the Graph request slots of the limiter carry `expires_at`. Pass items never expire:
//! their tickets must only grow (see the `passes` module); a request removes the `expires_at`
//! that marks of earlier versions carried; a stale mark is recognised by its `queued_at`.
//! Dedupe entries do not expire: they are the guarantee that one email is one activity (DESIGN
//! invariant 3), and a sweep or a reset delta cursor can meet a years-old email again; an entry costs about 100 bytes, a few cents per
//! million emails a month. Subscriptions are deleted by `subscribe`, which knows when Graph
//! dropped them; their Graph expiry is `subscription_expires`, deliberately not the TTL
//! attribute.

mod cursors;
mod dedupe;
mod item;
pub mod keys;
mod passes;
mod status;
mod status_update;
mod subscriptions;

use super::{
    env::{self, MissingVariable},
    error::AwsFailure,
};
use crate::ports::StoreError;

/// The attribute DynamoDB's TTL reads (epoch seconds).
pub const TTL_ATTRIBUTE: &str = "expires_at";

/// Every store port ([`SubscriptionStore`](crate::ports::SubscriptionStore),
/// [`CursorStore`](crate::ports::CursorStore), [`PassStore`](crate::ports::PassStore),
/// [`DedupeStore`](crate::ports::DedupeStore), [`StatusStore`](crate::ports::StatusStore)) over
/// one DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoStore {
    /// The table `table`, through `client`.
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    /// The table named by [`env::TABLE_NAME`], with the SDK configured from the environment.
    pub async fn from_env() -> Result<Self, MissingVariable> {
        let table = env::required(&env::process_env, env::TABLE_NAME, "the DynamoDB table name")?;
        Ok(Self::new(aws_sdk_dynamodb::Client::new(&env::sdk_config().await), table))
    }

    fn error(&self, failure: AwsFailure) -> StoreError {
        StoreError {
            message: format!("DynamoDB table {}: {}", self.table, failure.message),
            retryable: failure.retryable,
        }
    }
}
