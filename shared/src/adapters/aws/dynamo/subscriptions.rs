//! `SubscriptionStore`: each subscription twice, by id and under its mailbox, written and
//! deleted together in one transaction, so both lookups are single strongly consistent reads.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};

use super::{
    DynamoStore,
    item::{Item, Read, instant, key, s},
    keys::{self, PK, SK},
};
use crate::{
    adapters::aws::error::classify,
    domain::{Folder, MailboxAddress, SubscriptionId},
    ports::{StoreError, SubscriptionRecord, SubscriptionShape, SubscriptionStore},
    secret::Secret,
};

fn item(record: &SubscriptionRecord, at: (String, String)) -> Item {
    let mut item = key(at);
    item.insert("id".into(), s(record.id.as_str()));
    item.insert("mailbox".into(), s(record.mailbox.as_str()));
    item.insert("folder".into(), s(record.folder.well_known_name()));
    item.insert("subscription_expires".into(), instant(record.expires_at));
    item.insert("client_state".into(), s(record.client_state.expose()));
    if let Some(shape) = record.shape.to_stored() {
        item.insert("shape".into(), s(&shape));
    }
    item
}

fn record(item: &Item) -> Result<SubscriptionRecord, StoreError> {
    let read = Read::new(item);
    let folder = read.s("folder")?;
    Ok(SubscriptionRecord {
        id: read.parsed("id", "a subscription id", SubscriptionId::parse)?,
        mailbox: read.parsed("mailbox", "a mailbox address", MailboxAddress::parse)?,
        folder: Folder::from_well_known_name(folder).ok_or_else(|| StoreError {
            message: format!("subscription item: unknown folder {folder:?}"),
            retryable: false,
        })?,
        expires_at: read.instant("subscription_expires")?,
        client_state: Secret::new(read.s("client_state")?),
        shape: SubscriptionShape::from_stored(
            item.get("shape").and_then(|v| v.as_s().ok()).map(String::as_str),
        ),
    })
}

impl DynamoStore {
    fn put_of(&self, item: Item) -> TransactWriteItem {
        let put = Put::builder().table_name(&self.table).set_item(Some(item)).build();
        TransactWriteItem::builder().put(put.expect("table and item are set")).build()
    }

    fn delete_of(&self, at: (String, String)) -> TransactWriteItem {
        let delete = Delete::builder().table_name(&self.table).set_key(Some(key(at))).build();
        TransactWriteItem::builder().delete(delete.expect("table and key are set")).build()
    }

    async fn transact(&self, writes: Vec<TransactWriteItem>) -> Result<(), StoreError> {
        self.client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.error(classify("TransactWriteItems", &e)))
    }
}

#[async_trait]
impl SubscriptionStore for DynamoStore {
    async fn put_subscription(&self, record: &SubscriptionRecord) -> Result<(), StoreError> {
        let previous = self.subscription(&record.id).await?;
        let mut writes = vec![
            self.put_of(item(record, keys::subscription(&record.id))),
            self.put_of(item(record, keys::subscription_of(&record.mailbox, &record.id))),
        ];
        if let Some(old) = previous.filter(|old| old.mailbox != record.mailbox) {
            writes.push(self.delete_of(keys::subscription_of(&old.mailbox, &old.id)));
        }
        self.transact(writes).await
    }

    async fn subscription(
        &self,
        id: &SubscriptionId,
    ) -> Result<Option<SubscriptionRecord>, StoreError> {
        let answer = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::subscription(id))))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.error(classify("GetItem", &e)))?;
        answer.item.as_ref().map(record).transpose()
    }

    async fn subscriptions_of(
        &self,
        mailbox: &MailboxAddress,
    ) -> Result<Vec<SubscriptionRecord>, StoreError> {
        let items = self.query_prefix(keys::mailbox(mailbox), keys::SUBSCRIPTION_PREFIX).await?;
        items.iter().map(record).collect()
    }

    async fn delete_subscription(&self, id: &SubscriptionId) -> Result<(), StoreError> {
        let Some(old) = self.subscription(id).await? else { return Ok(()) };
        self.transact(vec![
            self.delete_of(keys::subscription(id)),
            self.delete_of(keys::subscription_of(&old.mailbox, id)),
        ])
        .await
    }
}

impl DynamoStore {
    /// Every item of partition `pk` whose sort key starts with `prefix` (all pages; `None`
    /// prefix: the whole partition).
    pub(super) async fn query_prefix(
        &self,
        pk: String,
        prefix: &str,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        // A partition holds a mailbox's few items, or one status per mailbox: the loop ends
        // after a page or a few; the bound only guards against a service that never stops.
        for _ in 0..10_000 {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_values(":pk", AttributeValue::S(pk.clone()))
                .expression_attribute_values(":prefix", s(prefix))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| self.error(classify("Query", &e)))?;
            items.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(items);
            }
        }
        Err(StoreError { message: format!("Query of {pk} did not end"), retryable: true })
    }
}
