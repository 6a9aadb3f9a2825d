//! Mailbox status: each report reads, applies ([`MailboxStatus::apply`]) and writes the record
//! in one transaction on the writer thread, so concurrent reports add up.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};
use time::OffsetDateTime;

use super::{SqliteStore, mailbox_named};
use crate::{
    adapters::sqlite::{DbError, from_nanos, to_nanos},
    domain::MailboxAddress,
    ports::{StatusStore, StoreError},
    status::{Health, MailboxStatus, StatusEvent},
};

const COLUMNS: &str = "mailbox, health, consecutive_failures, last_success, emails_seen, \
                       emails_written, emails_duplicate, updated_at, emails_skipped, next_retry";

type RawStatus = (String, String, i64, Option<i64>, i64, i64, i64, i64, i64, Option<i64>);

fn raw(r: &Row<'_>) -> rusqlite::Result<RawStatus> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
    ))
}

fn status(row: RawStatus) -> Result<MailboxStatus, DbError> {
    let (
        mailbox,
        health,
        failures,
        last_success,
        seen,
        written,
        duplicate,
        updated_at,
        skipped,
        next_retry,
    ) = row;
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    Ok(MailboxStatus {
        health: serde_json::from_str(&health)
            .map_err(|e| DbError::permanent(format!("health of {mailbox} in the database: {e}")))?,
        mailbox: mailbox_named(mailbox)?,
        consecutive_failures: u32::try_from(failures).unwrap_or(u32::MAX),
        last_success: last_success.map(from_nanos).transpose()?,
        next_retry: next_retry.map(from_nanos).transpose()?,
        emails_seen: count(seen),
        emails_written: count(written),
        emails_duplicate: count(duplicate),
        emails_skipped: count(skipped),
        updated_at: from_nanos(updated_at)?,
    })
}

fn read(conn: &Connection, mailbox: &MailboxAddress) -> Result<Option<MailboxStatus>, DbError> {
    let sql = format!("SELECT {COLUMNS} FROM mailbox_status WHERE mailbox = ?1");
    let found = conn.prepare_cached(&sql)?.query_row([mailbox.as_str()], raw).optional()?;
    found.map(status).transpose()
}

fn write(conn: &Connection, s: &MailboxStatus) -> Result<(), DbError> {
    let health = serde_json::to_string(&s.health).expect("health serialises");
    let sql = format!(
        "INSERT OR REPLACE INTO mailbox_status ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
    );
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    conn.prepare_cached(&sql)?.execute(params![
        s.mailbox.as_str(),
        health,
        s.consecutive_failures,
        s.last_success.map(to_nanos),
        count(s.emails_seen),
        count(s.emails_written),
        count(s.emails_duplicate),
        to_nanos(s.updated_at),
        count(s.emails_skipped),
        s.next_retry.map(to_nanos),
    ])?;
    Ok(())
}

#[async_trait]
impl StatusStore for SqliteStore {
    async fn report(
        &self,
        mailbox: &MailboxAddress,
        event: StatusEvent,
        at: OffsetDateTime,
    ) -> Result<Option<Health>, StoreError> {
        let mailbox = mailbox.clone();
        Ok(self
            .db
            .call(move |conn| {
                let found = read(conn, &mailbox)?;
                let before = found.as_ref().map(|s| s.health.clone());
                let mut status = found.unwrap_or_else(|| MailboxStatus::new(mailbox, at));
                status.apply(event, at);
                write(conn, &status)?;
                Ok(before)
            })
            .await?)
    }

    async fn status(&self, mailbox: &MailboxAddress) -> Result<Option<MailboxStatus>, StoreError> {
        let mailbox = mailbox.clone();
        Ok(self.db.read(move |conn| read(conn, &mailbox)).await?)
    }

    async fn statuses(&self) -> Result<Vec<MailboxStatus>, StoreError> {
        Ok(self
            .db
            .read(|conn| {
                let sql = format!("SELECT {COLUMNS} FROM mailbox_status ORDER BY mailbox");
                let mut select = conn.prepare_cached(&sql)?;
                let rows = select.query_map([], raw)?.collect::<Result<Vec<_>, _>>()?;
                rows.into_iter().map(status).collect()
            })
            .await?)
    }
}
