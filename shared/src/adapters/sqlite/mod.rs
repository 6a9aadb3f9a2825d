//! The embedded default: state and the three durable queues in one SQLite file
//! (`runtime.state = "sqlite:PATH"`).
//!
//! [`Database::open`] configures the file and migrates its schema; [`SqliteQueue`] and
//! [`SqliteStore`] implement the ports over it; [`Database::claim`] makes a consuming process
//! the state's only one and releases what a dead predecessor left in flight. Every statement runs on one thread that owns
//! the connection, and writes are committed in groups (see `writer`).

mod claim;
mod dead_letters;
mod error;
mod queue;
mod schema;
mod store;
mod writer;

#[cfg(test)]
mod tests;

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use rusqlite::{Connection, config::DbConfig};
use time::OffsetDateTime;
use tokio::sync::Notify;

pub use claim::{Claim, Recovered, lock_path};
pub use error::DbError;
pub use queue::SqliteQueue;
pub use schema::SCHEMA_VERSION;
pub use store::SqliteStore;

use crate::{config::StateLocation, jobs::QueueName};
use writer::Writer;

/// How long a statement waits for a lock held by another process (say `exsync status` or
/// `exsync dead-letters` next to a running `serve`) before failing as retryable.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// One open state database, shared by the queue and the store (`Arc`).
#[derive(Debug)]
pub struct Database {
    path: PathBuf,
    writer: Writer,
    wakeups: [Notify; 3],
}

impl Database {
    /// Opens (creating if needed) the database at `path`, configures it and migrates its schema.
    pub fn open(path: &Path) -> Result<Arc<Self>, DbError> {
        let context = |e: DbError| DbError {
            message: format!("state database {}: {}", path.display(), e.message),
            retryable: e.retryable,
        };
        let folder = path.parent().filter(|p| !p.as_os_str().is_empty());
        if let Some(folder) = folder.filter(|f| !f.is_dir()) {
            return Err(context(DbError::permanent(format!(
                "the folder {} does not exist: create it, or point runtime.state elsewhere",
                folder.display()
            ))));
        }
        let mut conn = Connection::open(path).map_err(|e| context(e.into()))?;
        configure(&conn).map_err(context)?;
        schema::migrate(&mut conn).map_err(context)?;
        let writer = Writer::start(conn)
            .map_err(|e| context(DbError::permanent(format!("cannot start its thread: {e}"))))?;
        Ok(Arc::new(Self {
            path: path.to_path_buf(),
            writer,
            wakeups: [Notify::new(), Notify::new(), Notify::new()],
        }))
    }

    /// Opens the database a configuration names.
    pub fn open_location(location: &StateLocation) -> Result<Arc<Self>, DbError> {
        match location {
            StateLocation::Sqlite(path) => Self::open(path),
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version the file is at.
    pub async fn schema_version(&self) -> Result<i64, DbError> {
        self.read(schema::version).await
    }

    /// Runs `f` on the writer thread, in a transaction committed before this returns.
    async fn call<R, F>(&self, f: F) -> Result<R, DbError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, DbError> + Send + 'static,
    {
        self.writer.run(f).await
    }

    /// Runs the read-only `f`. Reads go to the writer thread too: measured against a pool of
    /// reader connections on `spawn_blocking`, they cost half the CPU for the same throughput
    /// (`tests::bench::reads_beside_the_writer`), and CPU is what two cores run short of.
    async fn read<R, F>(&self, f: F) -> Result<R, DbError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, DbError> + Send + 'static,
    {
        self.writer.run(f).await
    }

    /// Wakes workers waiting on `queue` in this process.
    fn wakeup(&self, queue: QueueName) -> &Notify {
        let index = QueueName::ALL.iter().position(|q| *q == queue).expect("every queue is in ALL");
        &self.wakeups[index]
    }
}

fn configure(conn: &Connection) -> Result<(), DbError> {
    // WAL: readers never block the writer, and a commit appends to the log instead of
    // rewriting pages.
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(DbError::permanent(format!(
            "cannot switch to WAL (journal_mode is {mode}): put the file on a local disk"
        )));
    }
    // NORMAL in WAL mode: a COMMIT has written the transaction to the WAL file (the OS holds
    // it) before it returns, so a process crash (kill -9, panic=abort, OOM kill) loses nothing
    // that was committed: that is our contract, as `Ok` from enqueue or ack promises the effect
    // survives the process. The WAL is fsynced at each checkpoint. What FULL would add is an
    // fsync at every COMMIT, so that committed transactions also survive a power cut or kernel
    // crash; with NORMAL the last few may roll back then (the file is never corrupted). That
    // costs a disk flush per commit, and a power cut on a single machine is not a case the
    // embedded runtime promises to survive.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.set_prepared_statement_cache_capacity(64);
    // The query planner stability guarantee: a statement's plan does not depend on the values
    // bound to it. Without it SQLite marks statements whose plan could (a bound LIMIT, an `=`
    // filter such as the ack's `receive_count = ?2`) to be re-prepared when a binding changes,
    // and rusqlite clears the bindings of every statement it puts back in its cache: those
    // statements were parsed and planned again on every use, a quarter of exsync's
    // instructions per email (callgrind). No plan here gains from the values (no ANALYZE
    // statistics, no LIKE).
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(())
}

/// Unix milliseconds now (the queue tables' clock, like SQS's own).
fn now_ms() -> i64 {
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

/// A duration in whole milliseconds, saturating.
fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// An instant as Unix nanoseconds (exact for every date a mailbox can have).
fn to_nanos(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos()).unwrap_or(i64::MAX)
}

/// Unix nanoseconds back to an instant (UTC).
fn from_nanos(nanos: i64) -> Result<OffsetDateTime, DbError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
        .map_err(|e| DbError::permanent(format!("a stored time is out of range: {e}")))
}

/// Unix milliseconds back to an instant (UTC).
fn from_ms(ms: i64) -> Result<OffsetDateTime, DbError> {
    from_nanos(ms.saturating_mul(1_000_000))
}
