//! What a SQLite call can fail with, classified once for the queue and store ports.

use rusqlite::ErrorCode;

use crate::ports::{QueueError, StoreError};

/// A failed database call: what failed and whether trying again can help.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct DbError {
    /// What failed (SQLite's message, or ours); never holds a secret, as no statement binds one
    /// into its text.
    pub message: String,
    /// Whether the same call can succeed later (locked, busy, disk full, I/O).
    pub retryable: bool,
}

impl DbError {
    /// A failure that no retry fixes.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self { message: message.into(), retryable: false }
    }

    /// The writer thread is gone: the database was closed, or a statement panicked.
    pub fn closed() -> Self {
        Self {
            message: "the SQLite writer dropped the request (database closed, or a statement \
                      panicked: see the log)"
                .into(),
            retryable: true,
        }
    }

    /// As a queue port error on `queue`.
    pub fn on_queue(self, queue: &'static str) -> QueueError {
        QueueError { queue, message: self.message, retryable: self.retryable }
    }
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        let retryable = matches!(
            e.sqlite_error_code(),
            Some(
                ErrorCode::DatabaseBusy
                    | ErrorCode::DatabaseLocked
                    | ErrorCode::DiskFull
                    | ErrorCode::SystemIoFailure
                    | ErrorCode::OutOfMemory
            )
        );
        Self { message: format!("sqlite: {e}"), retryable }
    }
}

impl From<DbError> for StoreError {
    fn from(e: DbError) -> Self {
        StoreError { message: e.message, retryable: e.retryable }
    }
}
