//! The contract suites, run against the SQLite twins.

use std::sync::Arc;

use super::fresh;
use crate::{
    adapters::sqlite::{SqliteQueue, SqliteStore},
    ports::contract::{QueueTwin, StoreTwin},
};

async fn queue_twin() -> QueueTwin {
    let (db, dir) = fresh();
    QueueTwin::of(Arc::new(SqliteQueue::new(db))).holding(dir)
}

async fn store_twin() -> StoreTwin {
    let (db, dir) = fresh();
    StoreTwin::of(Arc::new(SqliteStore::new(db))).holding(dir)
}

mod queue {
    crate::queue_contract!(super::queue_twin());
}

mod store {
    crate::store_contract!(super::store_twin());
}
