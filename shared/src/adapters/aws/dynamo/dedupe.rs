//! `DedupeStore`: a conditional put; the first activity recorded for a Message-ID wins.

use async_trait::async_trait;

use super::{
    DynamoStore,
    item::{Read, key, s},
    keys::{self, PK},
};
use crate::{
    adapters::aws::error::classify,
    domain::{InternetMessageId, RecordId},
    ports::{DedupeStore, StoreError},
};

#[async_trait]
impl DedupeStore for DynamoStore {
    async fn activity_of(
        &self,
        message_id: &InternetMessageId,
    ) -> Result<Option<RecordId>, StoreError> {
        let answer = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::dedupe(message_id))))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.error(classify("GetItem", &e)))?;
        answer
            .item
            .as_ref()
            .map(|item| Read::new(item).parsed("activity", "a GUID", RecordId::parse_str))
            .transpose()
    }

    async fn record_activity(
        &self,
        message_id: &InternetMessageId,
        activity: RecordId,
    ) -> Result<(), StoreError> {
        let mut item = key(keys::dedupe(message_id));
        item.insert("activity".into(), s(activity.hyphenated().to_string()));
        item.insert("message_id".into(), s(message_id.as_str()));
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .send()
            .await;
        match put {
            Ok(_) => Ok(()),
            // Another copy recorded its activity first: that one stands.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(self.error(classify("PutItem", &e))),
        }
    }
}
