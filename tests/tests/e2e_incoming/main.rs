//! The incoming path end to end in one process: `Embedded` (SQLite state and queue) serving
//! the demo organisation (two Exchange tenants, Dataverse on a third) over real HTTPS against
//! the simulators. Issue 3's "Done when", one contract per test.
//!
//! - [`app`]: `TestApp`, the pipeline started against the simulators, and bounded waits.
//! - [`logs`]: every test's logs, searched for its secrets when its `TestApp` is dropped.
//! - [`parties`]: activity parties as the tests compare them.
//! - [`delivery`]: mail of both tenants lands once each, as server-side sync records it; the
//!   webhook path and the polling path.
//! - [`once`]: one email in several synced mailboxes is one activity with all its parties; a
//!   duplicate notification, a replayed delta round and a redelivered job create nothing.
//! - [`forged`]: notifications that do not prove they are Graph's are refused, enqueue nothing.
//! - [`refused`]: a mailbox whose token is refused fails alone, says why, and heals.
//! - [`rules`]: "process emails from" / "received after" and `incoming = false`.
//! - [`large`]: a body too large for a queue message lands complete.

mod app;
mod delivery;
mod forged;
mod large;
mod logs;
mod once;
mod parties;
mod refused;
mod rules;
