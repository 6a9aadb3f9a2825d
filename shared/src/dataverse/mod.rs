//! The Dataverse Web API v9.2 (reference `dataverse-entra.md` part A).
//!
//! - [`client`]: authenticated requests, concurrency cap, service-protection pause.
//! - [`query`]: `$select` / `$filter` built safely.
//! - [`batch`]: the `multipart/mixed` `$batch` writer and its strict answer parser.
//! - [`error`]: the error body, and what each error means for the caller.
//! - [`model`]: the tables, columns and codes exsync writes (email, activity parties).
//! - [`parties`]: email addresses resolved to records, in bulk, with a cache.

pub mod batch;
pub mod client;
pub mod error;
pub mod model;
pub mod parties;
pub mod query;

pub use client::{ClientLimits, DataverseClient};
pub use error::{ApiError, DataverseError, ErrorClass};
