//! Internet Message-ID to Dataverse activity: the first record wins (`ON CONFLICT DO NOTHING`).

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;

use super::SqliteStore;
use crate::{
    adapters::sqlite::{DbError, to_nanos},
    domain::{InternetMessageId, RecordId},
    ports::{DedupeStore, StoreError},
};

fn find(conn: &Connection, message_id: &InternetMessageId) -> Result<Option<RecordId>, DbError> {
    let found: Option<String> = conn
        .prepare_cached("SELECT activity FROM activities WHERE message_id = ?1")?
        .query_row([message_id.as_str()], |r| r.get(0))
        .optional()?;
    found
        .map(|id| {
            RecordId::parse_str(&id)
                .map_err(|e| DbError::permanent(format!("activity id {id:?} in the database: {e}")))
        })
        .transpose()
}

fn record(
    conn: &Connection,
    message_id: &InternetMessageId,
    activity: RecordId,
    recorded_at: i64,
) -> Result<(), DbError> {
    conn.prepare_cached(
        "INSERT INTO activities (message_id, activity, recorded_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (message_id) DO NOTHING",
    )?
    .execute(params![message_id.as_str(), activity.hyphenated().to_string(), recorded_at])?;
    Ok(())
}

#[async_trait]
impl DedupeStore for SqliteStore {
    async fn activity_of(
        &self,
        message_id: &InternetMessageId,
    ) -> Result<Option<RecordId>, StoreError> {
        let message_id = message_id.clone();
        Ok(self.db.read(move |conn| find(conn, &message_id)).await?)
    }

    async fn record_activity(
        &self,
        message_id: &InternetMessageId,
        activity: RecordId,
    ) -> Result<(), StoreError> {
        self.record_activities(&[(message_id.clone(), activity)]).await
    }

    async fn activities_of(
        &self,
        message_ids: &[InternetMessageId],
    ) -> Result<Vec<Option<RecordId>>, StoreError> {
        let message_ids = message_ids.to_vec();
        Ok(self.db.read(move |conn| message_ids.iter().map(|id| find(conn, id)).collect()).await?)
    }

    async fn record_activities(
        &self,
        records: &[(InternetMessageId, RecordId)],
    ) -> Result<(), StoreError> {
        let records = records.to_vec();
        let recorded_at = to_nanos(OffsetDateTime::now_utc());
        Ok(self
            .db
            .call(move |conn| {
                records
                    .iter()
                    .try_for_each(|(id, activity)| record(conn, id, *activity, recorded_at))
            })
            .await?)
    }
}
