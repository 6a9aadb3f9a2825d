//! exsync's library: everything the functions and the local runner share.
//!
//! # Layout
//!
//! - [`domain`]: ids and nouns as types (a `MailboxAddress` is not a `String`).
//! - [`secret`]: secrets that never print, and the references that name them.
//! - [`config`]: the TOML file, validated, with the key of every problem.
//! - [`model`]: an email as it travels from Graph to Dataverse.
//! - [`jobs`]: the versioned queue messages between the functions.
//! - [`status`]: a mailbox's health as an admin sees it.
//! - [`ports`]: the capabilities handlers use (queue, store, tokens, secrets, clock).
//! - [`http`]: the one HTTP client (rustls, timeouts, `[cloud] ca_file`).
//! - [`entra`]: access tokens from Entra ID: the token service and the cache callers use.
//! - [`outcome`]: what a handler says happened to a job.
//! - [`runtime`]: turns outcomes into queue operations; the embedded pull loop and drain.
//! - [`tokens_api`]: what the `tokens` function is asked and answers (Lambda payloads).
//! - [`adapters`]: the ports over real infrastructure (SQLite: the embedded default;
//!   `adapters::aws`, feature `aws`: SQS, DynamoDB, Secrets Manager, the `tokens` function).

pub mod adapters;
pub mod config;
pub mod domain;
pub mod entra;
pub mod http;
pub mod jobs;
pub mod model;
pub mod outcome;
pub mod ports;
pub mod runtime;
pub mod secret;
pub mod status;
pub mod tokens_api;
