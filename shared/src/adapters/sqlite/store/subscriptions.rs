//! Subscriptions and their clientState. The clientState is stored (notify must compare it) but
//! never logged: it is bound as a parameter, read back into a `Secret`, and no error built
//! here quotes a row.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, Row, params};

use super::{SqliteStore, folder_named, mailbox_named};
use crate::{
    adapters::sqlite::{DbError, from_nanos, to_nanos},
    domain::{MailboxAddress, SubscriptionId},
    ports::{StoreError, SubscriptionRecord, SubscriptionShape, SubscriptionStore},
    secret::Secret,
};

const COLUMNS: &str = "id, mailbox, folder, expires_at, client_state, shape";

type RawRecord = (String, String, String, i64, String, Option<String>);

fn raw(r: &Row<'_>) -> rusqlite::Result<RawRecord> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
}

fn record(
    (id, mailbox, folder, expires_at, client_state, shape): RawRecord,
) -> Result<SubscriptionRecord, DbError> {
    Ok(SubscriptionRecord {
        id: SubscriptionId::parse(id)
            .map_err(|e| DbError::permanent(format!("in the database: {e}")))?,
        mailbox: mailbox_named(mailbox)?,
        folder: folder_named(&folder)?,
        expires_at: from_nanos(expires_at)?,
        client_state: Secret::new(client_state),
        shape: SubscriptionShape::from_stored(shape.as_deref()),
    })
}

#[async_trait]
impl SubscriptionStore for SqliteStore {
    async fn put_subscription(&self, record: &SubscriptionRecord) -> Result<(), StoreError> {
        let record = record.clone();
        Ok(self
            .db
            .call(move |conn| {
                let mut put = conn.prepare_cached(
                    "INSERT INTO subscriptions (id, mailbox, folder, expires_at, client_state, shape)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (id) DO UPDATE SET mailbox = excluded.mailbox,
                        folder = excluded.folder, expires_at = excluded.expires_at,
                        client_state = excluded.client_state, shape = excluded.shape",
                )?;
                put.execute(params![
                    record.id.as_str(),
                    record.mailbox.as_str(),
                    record.folder.well_known_name(),
                    to_nanos(record.expires_at),
                    record.client_state.expose(),
                    record.shape.to_stored(),
                ])?;
                Ok(())
            })
            .await?)
    }

    async fn subscription(
        &self,
        id: &SubscriptionId,
    ) -> Result<Option<SubscriptionRecord>, StoreError> {
        let id = id.clone();
        Ok(self
            .db
            .read(move |conn| {
                let sql = format!("SELECT {COLUMNS} FROM subscriptions WHERE id = ?1");
                let found = conn.prepare_cached(&sql)?.query_row([id.as_str()], raw).optional()?;
                found.map(record).transpose()
            })
            .await?)
    }

    async fn subscriptions_of(
        &self,
        mailbox: &MailboxAddress,
    ) -> Result<Vec<SubscriptionRecord>, StoreError> {
        let mailbox = mailbox.clone();
        Ok(self
            .db
            .read(move |conn| {
                let sql = format!(
                    "SELECT {COLUMNS} FROM subscriptions WHERE mailbox = ?1 ORDER BY folder, id"
                );
                let mut select = conn.prepare_cached(&sql)?;
                let rows =
                    select.query_map([mailbox.as_str()], raw)?.collect::<Result<Vec<_>, _>>()?;
                rows.into_iter().map(record).collect()
            })
            .await?)
    }

    async fn delete_subscription(&self, id: &SubscriptionId) -> Result<(), StoreError> {
        let id = id.clone();
        Ok(self
            .db
            .call(move |conn| {
                conn.prepare_cached("DELETE FROM subscriptions WHERE id = ?1")?
                    .execute([id.as_str()])?;
                Ok(())
            })
            .await?)
    }
}
