//! Microsoft Graph for Exchange Online, app-only: message delta per folder, messages,
//! attachments, subscriptions, and the change-notification payloads (reference graph.md).
//!
//! Every request goes through [`GraphClient`]'s one loop: a cached token (refreshed once on
//! 401), a request slot of the mailbox and its profile ([`crate::ports::RequestLimiter`]),
//! `Prefer: IdType="ImmutableId"`, and bounded retries that honour short `Retry-After`s.
//! Failures are [`GraphError`]s whose [`GraphError::class`] tells the handlers what to do.

mod access;
mod auth;
mod client;
mod delta;
mod error;
mod folders;
mod messages;
pub mod model;
mod notification;
mod retry;
pub mod rich;
mod subscriptions;

pub use access::{MailboxAccess, folder_resource};
pub use client::{DEFAULT_PAGE_SIZE, GraphClient};
pub use delta::{DeltaFrom, DeltaPage};
pub use error::{
    ApiError, DEFAULT_THROTTLE, Denial, ErrorClass, ErrorKind, GraphError, Missing, Operation,
};
pub use folders::MailFolder;
pub use retry::RetryPolicy;
pub use subscriptions::NewSubscription;
