//! Internet Message-ID to Dataverse activity: the first record wins (`ON CONFLICT DO NOTHING`).

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use time::OffsetDateTime;

use super::SqliteStore;
use crate::{
    adapters::sqlite::{DbError, to_nanos},
    domain::{InternetMessageId, RecordId},
    ports::{DedupeStore, StoreError},
};

#[async_trait]
impl DedupeStore for SqliteStore {
    async fn activity_of(
        &self,
        message_id: &InternetMessageId,
    ) -> Result<Option<RecordId>, StoreError> {
        let message_id = message_id.clone();
        Ok(self
            .db
            .read(move |conn| {
                let found: Option<String> = conn
                    .prepare_cached("SELECT activity FROM activities WHERE message_id = ?1")?
                    .query_row([message_id.as_str()], |r| r.get(0))
                    .optional()?;
                found
                    .map(|id| {
                        RecordId::parse_str(&id).map_err(|e| {
                            DbError::permanent(format!("activity id {id:?} in the database: {e}"))
                        })
                    })
                    .transpose()
            })
            .await?)
    }

    async fn record_activity(
        &self,
        message_id: &InternetMessageId,
        activity: RecordId,
    ) -> Result<(), StoreError> {
        let message_id = message_id.clone();
        let recorded_at = to_nanos(OffsetDateTime::now_utc());
        Ok(self
            .db
            .call(move |conn| {
                conn.prepare_cached(
                    "INSERT INTO activities (message_id, activity, recorded_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (message_id) DO NOTHING",
                )?
                .execute(params![
                    message_id.as_str(),
                    activity.hyphenated().to_string(),
                    recorded_at
                ])?;
                Ok(())
            })
            .await?)
    }
}
