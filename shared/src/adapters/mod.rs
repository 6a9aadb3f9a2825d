//! Adapters: the ports implemented over real infrastructure.
//!
//! - [`sqlite`]: the embedded default, state and queues in one SQLite file.

pub mod sqlite;
