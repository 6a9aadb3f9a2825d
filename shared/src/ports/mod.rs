//! Ports: the small capabilities handlers are written against, held as `Arc<dyn Port>`.
//!
//! Each has an embedded twin (SQLite, in-process) and an AWS twin, and one contract test
//! suite that both pass ([`contract`], behind the `contract-tests` feature).

pub mod clock;
#[cfg(any(test, feature = "contract-tests"))]
pub mod contract;
pub mod dead_letters;
pub mod limiter;
pub mod queue;
pub mod secrets;
pub mod store;
pub mod tokens;

pub use clock::{Clock, SystemClock};
pub use dead_letters::{DeadLetter, DeadLetters, replay_body};
pub use limiter::{LimitError, LimitKey, LocalLimiter, RequestLimiter, RequestPermit};
pub use queue::{
    Delivery, JobQueue, JobSource, MAX_BODY_BYTES, MAX_DELAY, QueueDepth, QueueDepths, QueueError,
};
pub use secrets::Secrets;
pub use store::{
    CursorStore, DedupeStore, DeltaCursor, PassStore, StatusStore, StoreError, SubscriptionRecord,
    SubscriptionShape, SubscriptionStore,
};
pub use tokens::{AccessToken, CredentialKey, Resource, TokenError, Tokens};
