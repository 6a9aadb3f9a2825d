//! Handlers: plain async functions over ports, one per kind of job, the same on Lambda and in
//! one process. Each returns an [`crate::outcome::Outcome`].
//!
//! - [`check`]: Test & Enable, every check a mailbox needs, then enabled.
//! - [`jobs`]: each handler as the runtime calls it (jobs in, outcomes out).
//! - [`notify`]: the webhook endpoint: handshake, verification, durable jobs.
//! - [`sync`]: the folder pass, Graph delta to write jobs.
//! - [`subscribe`]: subscription upkeep and lifecycle events.
//! - [`passes`]: asking for a folder pass, coalesced.
//! - [`running`]: one pass at a time per folder in a process.
//! - [`schedule`]: what the schedules ask for: every folder's pass, subscription upkeep.
//! - [`prefilter`]: the tracking rule as `notify` applies it (rich notifications verified).
//! - [`write`]: emails into Dataverse, exactly once.

pub mod check;
mod failure;
pub mod jobs;
pub mod notify;
pub mod passes;
pub mod prefilter;
pub mod running;
pub mod schedule;
pub mod subscribe;
pub mod sync;
pub mod write;
