//! The SQLite twins against the port contracts, plus what only the embedded twin promises:
//! durability across reopen and kill -9, in-process wakeups, group commit.

mod bench;
mod claim;
mod contract;
mod crash;
mod embedded;
mod passes;

use std::sync::Arc;

use super::{Database, SqliteQueue, SqliteStore};

/// A fresh database in a temporary directory that lives as long as the returned guard.
fn fresh() -> (Arc<Database>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = Database::open(&dir.path().join("state.db")).expect("open");
    (db, dir)
}

fn queue_and_store() -> (SqliteQueue, SqliteStore, tempfile::TempDir) {
    let (db, dir) = fresh();
    (SqliteQueue::new(db.clone()), SqliteStore::new(db), dir)
}
