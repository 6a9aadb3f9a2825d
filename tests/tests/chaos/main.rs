//! The chaos test of issue 5 ("Done when"): many emails across several mailboxes of two
//! Exchange tenants, synced while the simulators fail a share of Graph and Dataverse calls
//! (429 with Retry-After, 5xx, requests that never answer), drop, duplicate and reorder
//! notifications, remove subscriptions and send `missed`. At the end every email is in
//! Dataverse exactly once with all its parties, no job is left (queues empty, nothing
//! dead-lettered) and no limit was exceeded (the simulators' peak concurrency per app and
//! mailbox against 4, per app against the profile's `max_concurrent_connections`, Graph's rate
//! window, Dataverse's service protection).
//!
//! Two runtimes, one test each:
//! - [`embedded`]: the `exsync serve` binary over SQLite, killed with SIGKILL at random moments
//!   and restarted on the same state.
//! - [`aws`]: the handlers over SQS and DynamoDB (moto server), several "instances" each
//!   receiving batches and running them through `runtime::process_batch` as a Lambda event
//!   source mapping does, with the DynamoDB request limiter; skipped, saying so, without
//!   `EXSYNC_MOTO_SERVER`.
//!
//! Sizes: small by default (CI); `EXSYNC_CHAOS=large` for the benchmark run (BENCHMARKS.md).
//! `EXSYNC_CHAOS_SEED=N` replays a run's mail, kill moments, lifecycle events and HTTP fault
//! draws (the seed is printed first; timing still varies between runs).
//!
//! - [`instance`]: one Lambda instance of every function over the AWS twins.
//! - [`moto`]: the moto server (shared with `aws_contract`).
//! - [`plan`]: size and seed.
//! - [`world`]: the organisation, its configuration, the faults and the lifecycle events.
//! - [`verdict`]: what must hold at the end, and the figures of the run.

mod aws;
mod embedded;
mod instance;
// Only part of the harness is used here.
#[allow(dead_code, unused_imports)]
#[path = "../aws_contract/moto/mod.rs"]
mod moto;
mod plan;
mod verdict;
mod world;
