//! Ports: the small capabilities handlers are written against, held as `Arc<dyn Port>`.
//!
//! Each has an embedded twin (SQLite, in-process) and an AWS twin, and one contract test
//! suite that both pass.

pub mod clock;
pub mod queue;
pub mod secrets;
pub mod store;
pub mod tokens;

pub use clock::{Clock, SystemClock};
pub use queue::{Delivery, JobQueue, JobSource, QueueError};
pub use secrets::Secrets;
pub use store::{
    CursorStore, DedupeStore, DeltaCursor, PassStore, StatusStore, StoreError, SubscriptionRecord,
    SubscriptionStore,
};
pub use tokens::{AccessToken, CredentialKey, Resource, TokenError, Tokens};
