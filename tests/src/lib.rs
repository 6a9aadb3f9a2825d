//! Strict simulators of the three Microsoft services exsync talks to, for every test.
//!
//! # Layout
//!
//! - [`tls`]: a throw-away CA and server certificates (the services are HTTPS only).
//! - [`server`]: serving an axum app on 127.0.0.1 with or without TLS.
//! - [`jwt`]: RS256 tokens, signed by the Entra simulator, verified by the others.
//! - [`auth`]: the bearer-token checks every resource simulator shares.
//! - [`clock`]: simulated time that tests can move forward.
//! - [`faults`]: injected failures and concurrency accounting.
//! - One module per simulated service, each an axum app over shared state with a Rust handle
//!   to seed data, inject faults and inspect what happened:
//!   - [`entra`]: the Entra ID token endpoint (client credentials) and its signing keys;
//!   - [`graph`]: Microsoft Graph for Exchange Online mailboxes;
//!   - [`dataverse`]: the Dataverse Web API v9.2 (environments, application users, tables,
//!     queries, `$batch`, service protection limits).
//! - [`cloud`]: all three started together on one CA, clock and token issuer, with the
//!   directory set-up an admin does and the exsync configuration that points at them.
//! - [`settle`]: waiting for exsync's queues to go quiet.
//! - [`scenario`]: the demo organisation (two Exchange tenants, Dataverse on a third) and a
//!   realistic stream of its mail.

pub mod auth;
pub mod clock;
pub mod cloud;
pub mod dataverse;
pub mod entra;
pub mod faults;
pub mod graph;
pub mod jwt;
pub mod scenario;
pub mod server;
pub mod settle;
pub mod tls;
