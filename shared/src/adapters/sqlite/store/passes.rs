//! Pass coalescing: per folder, the last ticket issued, the last ticket whose pass began, and
//! the mark of the queued pass (its ticket and when its job was enqueued).
//!
//! Each operation is one statement, so SQLite orders them as the protocol on [`PassStore`]
//! needs: a request issues a ticket only when no fresh mark holds; a mark is written only
//! after its job was enqueued and only while no pass of that ticket or a later one has begun;
//! a pass clears the mark as it begins. A mark thus always has a job that will run it.

use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use time::OffsetDateTime;

use super::SqliteStore;
use crate::{
    adapters::sqlite::to_nanos,
    domain::{Folder, MailboxAddress},
    ports::{PassStore, StoreError},
};

/// Tickets are stored as SQLite integers (signed 64 bits); none comes near the limit.
fn signed(ticket: u64) -> i64 {
    i64::try_from(ticket).unwrap_or(i64::MAX)
}

#[async_trait]
impl PassStore for SqliteStore {
    async fn request_pass(
        &self,
        mailbox: &MailboxAddress,
        folder: Folder,
        now: OffsetDateTime,
        stale_after: Duration,
    ) -> Result<Option<u64>, StoreError> {
        let mailbox = mailbox.clone();
        let now = to_nanos(now);
        let stale_before =
            now.saturating_sub(i64::try_from(stale_after.as_nanos()).unwrap_or(i64::MAX));
        Ok(self
            .db
            .call(move |conn| {
                // No row comes back when a fresh mark holds: the request joins its pass.
                let ticket: Option<i64> = conn
                    .prepare_cached(
                        "INSERT INTO pass_marks (mailbox, folder, ticket) VALUES (?1, ?2, 1)
                         ON CONFLICT (mailbox, folder) DO UPDATE SET ticket = pass_marks.ticket + 1
                         WHERE pass_marks.queued_at IS NULL OR pass_marks.queued_at <= ?3
                         RETURNING ticket",
                    )?
                    .query_row(
                        params![mailbox.as_str(), folder.well_known_name(), stale_before],
                        |row| row.get(0),
                    )
                    .optional()?;
                Ok(ticket.map(|t| t.max(0) as u64))
            })
            .await?)
    }

    async fn pass_queued(
        &self,
        mailbox: &MailboxAddress,
        folder: Folder,
        ticket: u64,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mailbox = mailbox.clone();
        let now = to_nanos(now);
        Ok(self
            .db
            .call(move |conn| {
                conn.prepare_cached(
                    "UPDATE pass_marks SET queued = ?3, queued_at = ?4
                     WHERE mailbox = ?1 AND folder = ?2 AND begun < ?3",
                )?
                .execute(params![
                    mailbox.as_str(),
                    folder.well_known_name(),
                    signed(ticket),
                    now
                ])?;
                Ok(())
            })
            .await?)
    }

    async fn begin_pass(
        &self,
        mailbox: &MailboxAddress,
        folder: Folder,
        ticket: u64,
    ) -> Result<(), StoreError> {
        let mailbox = mailbox.clone();
        Ok(self
            .db
            .call(move |conn| {
                // A pass whose ticket is not after the last begun one leaves the mark: it
                // belongs to a later job, which has not begun (it would have cleared it).
                conn.prepare_cached(
                    "UPDATE pass_marks SET begun = max(begun, ?3), queued = NULL, queued_at = NULL
                     WHERE mailbox = ?1 AND folder = ?2 AND (?3 = 0 OR begun < ?3)",
                )?
                .execute(params![
                    mailbox.as_str(),
                    folder.well_known_name(),
                    signed(ticket)
                ])?;
                Ok(())
            })
            .await?)
    }
}
