//! The machinery between queues and handlers, written once: the embedded runtime uses it now,
//! the Lambda SQS adapter later.
//!
//! - [`handler`]: the handler trait (batch-capable) and the lift of a one-job handler.
//! - [`settle`](mod@settle): what an [`Outcome`](crate::outcome::Outcome) means for the message (pure).
//! - [`batch`]: one received batch: parse, handle, settle, each message in its span.
//! - [`worker`]: the embedded pull loop with graceful shutdown.
//! - [`drain`](mod@drain): run workers until their queues are empty (`exsync sync --once`).

pub mod batch;
pub mod drain;
pub mod handler;
pub mod settle;
pub mod worker;

#[cfg(test)]
mod tests;

pub use batch::{Queues, Tally, process_batch};
pub use drain::{DrainError, drain};
pub use handler::{EachJob, HandleOne, JobHandler, job_span};
pub use settle::{RetryPolicy, Settlement, settle};
pub use worker::{Activity, Worker, WorkerSettings, run};
