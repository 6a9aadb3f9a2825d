//! Delta cursors per mailbox and folder.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use crate::{
    adapters::sqlite::DbError,
    domain::{Folder, MailboxAddress},
    ports::{CursorStore, DeltaCursor, StoreError},
};

#[async_trait]
impl CursorStore for SqliteStore {
    async fn cursor(
        &self,
        mailbox: &MailboxAddress,
        folder: Folder,
    ) -> Result<Option<DeltaCursor>, StoreError> {
        let mailbox = mailbox.clone();
        Ok(self
            .db
            .read(move |conn| {
                let found = conn
                    .prepare_cached(
                        "SELECT kind, link FROM cursors WHERE mailbox = ?1 AND folder = ?2",
                    )?
                    .query_row(params![mailbox.as_str(), folder.well_known_name()], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                    })
                    .optional()?;
                match found {
                    None => Ok(None),
                    Some((kind, link)) if kind == "next" => Ok(Some(DeltaCursor::Next(link))),
                    Some((kind, link)) if kind == "delta" => Ok(Some(DeltaCursor::Delta(link))),
                    Some((kind, _)) => Err(DbError::permanent(format!(
                        "unknown cursor kind {kind:?} in the database"
                    ))),
                }
            })
            .await?)
    }

    async fn put_cursor(
        &self,
        mailbox: &MailboxAddress,
        folder: Folder,
        cursor: &DeltaCursor,
    ) -> Result<(), StoreError> {
        let mailbox = mailbox.clone();
        let (kind, link) = match cursor {
            DeltaCursor::Next(link) => ("next", link.clone()),
            DeltaCursor::Delta(link) => ("delta", link.clone()),
        };
        Ok(self
            .db
            .call(move |conn| {
                conn.prepare_cached(
                    "INSERT INTO cursors (mailbox, folder, kind, link) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (mailbox, folder) DO UPDATE SET kind = excluded.kind,
                        link = excluded.link",
                )?
                .execute(params![
                    mailbox.as_str(),
                    folder.well_known_name(),
                    kind,
                    link
                ])?;
                Ok(())
            })
            .await?)
    }

    async fn clear_cursor(
        &self,
        mailbox: &MailboxAddress,
        folder: Folder,
    ) -> Result<(), StoreError> {
        let mailbox = mailbox.clone();
        Ok(self
            .db
            .call(move |conn| {
                conn.prepare_cached("DELETE FROM cursors WHERE mailbox = ?1 AND folder = ?2")?
                    .execute(params![mailbox.as_str(), folder.well_known_name()])?;
                Ok(())
            })
            .await?)
    }
}
