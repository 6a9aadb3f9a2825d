//! Pass coalescing: one mark per folder whose pass is queued and has not begun reading.
//!
//! `request_pass` is one statement (an upsert that only replaces a stale mark), so two
//! triggers racing for the same folder cannot both be told to enqueue: SQLite runs them one
//! after the other and the second sees the first's mark. The protocol that makes the marks
//! lose no change is on [`PassStore`]; in short: a pass clears its mark *before* it reads,
//! so anything that arrives while it reads queues another pass; a failed enqueue releases the
//! mark; a mark whose job died with its process stops coalescing after `stale_after`; and a
//! late pass clearing a newer mark costs one extra pass, never a change.

use std::time::Duration;

use async_trait::async_trait;
use rusqlite::params;
use time::OffsetDateTime;

use super::SqliteStore;
use crate::{
    adapters::sqlite::to_nanos,
    domain::{Folder, MailboxAddress},
    ports::{PassStore, StoreError},
};

#[async_trait]
impl PassStore for SqliteStore {
    async fn request_pass(
        &self,
        mailbox: &MailboxAddress,
        folder: Folder,
        now: OffsetDateTime,
        stale_after: Duration,
    ) -> Result<bool, StoreError> {
        let mailbox = mailbox.clone();
        let now = to_nanos(now);
        let stale_before =
            now.saturating_sub(i64::try_from(stale_after.as_nanos()).unwrap_or(i64::MAX));
        Ok(self
            .db
            .call(move |conn| {
                let changed = conn
                    .prepare_cached(
                        "INSERT INTO pass_marks (mailbox, folder, requested_at) VALUES (?1, ?2, ?3)
                         ON CONFLICT (mailbox, folder) DO UPDATE SET requested_at = excluded.requested_at
                         WHERE pass_marks.requested_at <= ?4",
                    )?
                    .execute(params![mailbox.as_str(), folder.well_known_name(), now, stale_before])?;
                // 1: no mark, or a stale one replaced: the caller enqueues. 0: a fresh mark holds.
                Ok(changed == 1)
            })
            .await?)
    }

    async fn begin_pass(&self, mailbox: &MailboxAddress, folder: Folder) -> Result<(), StoreError> {
        let mailbox = mailbox.clone();
        Ok(self
            .db
            .call(move |conn| {
                conn.prepare_cached("DELETE FROM pass_marks WHERE mailbox = ?1 AND folder = ?2")?
                    .execute(params![mailbox.as_str(), folder.well_known_name()])?;
                Ok(())
            })
            .await?)
    }
}
