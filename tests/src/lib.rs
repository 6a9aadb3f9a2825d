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
//! - [`entra`]: the Entra ID token endpoint (client credentials) and its signing keys.
//! - `graph`, `dataverse`: one module per simulated service, each an axum app over
//!   shared state with a Rust handle to seed data, inject faults and inspect what happened.
//! - `cloud`: all three started together, wired to one CA and one token issuer.

pub mod auth;
pub mod clock;
pub mod entra;
pub mod faults;
pub mod jwt;
pub mod server;
pub mod tls;
