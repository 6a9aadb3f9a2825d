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
//! - [`ports`]: the capabilities handlers use (queue, store, tokens, secrets, clock, request
//!   limits).
//! - [`http`]: the one HTTP client (rustls, timeouts, `[cloud] ca_file`).
//! - [`entra`]: access tokens from Entra ID: the token service and the cache callers use.
//! - [`outcome`]: what a handler says happened to a job.
//! - [`graph`]: Microsoft Graph for Exchange: the client, its errors, its JSON.
//! - [`dataverse`]: the Dataverse Web API: client, queries, `$batch`, errors, party lookup.
//! - [`mapping`]: Graph's shapes to exsync's (`message`), and as Dataverse stores them
//!   (`email`).
//! - [`tracking`]: the tracking rule (server-side sync's "Track email messages").
//! - [`handlers`]: the functions' work over ports: the folder pass (`sync`), subscription
//!   upkeep and lifecycle events (`subscribe`), `write`.
//! - [`listener`]: serving an HTTP app, plain or TLS, with a graceful stop.
//! - [`embedded`]: exsync in one process over SQLite: `serve` and `sync --once`.
//! - [`admin`]: what the admin commands (status, Test & Enable, dead letters) work on, over
//!   either runtime's state.
//! - [`telemetry`]: logs, JSON on Lambda, text at a terminal.
//! - [`runtime`]: turns outcomes into queue operations; the embedded pull loop and drain.
//! - [`wiring`]: each handler's dependencies from a configuration and the adapters (both
//!   ways of running build them there).
//! - [`tokens_api`]: what the `tokens` function is asked and answers (Lambda payloads).
//! - `lambda` (feature `aws`): the five Lambda functions' glue: configuration from S3, SQS
//!   events through the batch runtime, the Function URL, the schedules, the tokens function.
//! - [`adapters`]: the ports over real infrastructure (SQLite: the embedded default;
//!   `adapters::aws`, feature `aws`: SQS, DynamoDB, Secrets Manager, the `tokens` function).

pub mod adapters;
pub mod admin;
pub mod config;
pub mod dataverse;
pub mod domain;
pub mod embedded;
pub mod entra;
pub mod graph;
pub mod handlers;
pub mod http;
pub mod jobs;
#[cfg(feature = "aws")]
pub mod lambda;
pub mod listener;
pub mod mapping;
pub mod model;
pub mod outcome;
pub mod ports;
pub mod runtime;
pub mod secret;
pub mod status;
pub mod telemetry;
pub mod tokens_api;
pub mod tracking;
pub mod wiring;
