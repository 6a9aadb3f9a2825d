//! The `exsync` binary end to end against the simulators (issue 3): `sync --once` with a
//! refused token and after the fix, configuration and secret errors, `demo`, and `serve`
//! killed with SIGKILL again and again while mail arrives. Every run logs at debug level and
//! no output or log may show a secret, a token or a clientState.
//!
//! - [`common`]: running the binary, and what its output must never contain.
//! - [`once`]: `sync --once` and configuration errors.
//! - [`demo`]: `exsync demo`.
//! - [`kill`]: kill -9 and restart mid-stream.
//! - [`ops`]: failing mailboxes (issue 5): parked with one alert and healed without a restart,
//!   a hanging mailbox next to healthy ones, the admin's switch obeyed by `serve`.
//! - [`admin`]: Test & Enable, and dead letters listed, replayed and purged.

mod admin;
mod common;
mod demo;
mod kill;
mod once;
mod ops;
