//! `StatusStore`: each event is one atomic `UpdateItem`. Counters are `ADD`ed, so concurrent
//! workers never lose a count; the parts that only apply under a condition (health unless the
//! mailbox is disabled, `last_success` and `updated_at` only forward in time) are written
//! with that condition. When one fails, the item is read and the update sent again without
//! the parts that no longer apply, so the counters are still added exactly once. The result
//! is what [`MailboxStatus`]'s rules give for the same events in any order they land.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::ReturnValue;
use time::OffsetDateTime;

use super::{
    DynamoStore,
    item::{Item, Read, key},
    keys,
    status_update::Update,
};
use crate::{
    adapters::aws::error::classify,
    domain::MailboxAddress,
    ports::{StatusStore, StoreError},
    status::{Health, MailboxStatus, StatusEvent},
};

/// Rounds of "condition failed, read, drop what no longer applies": each drops a part, and
/// there are four at most (a pass that ended: its times, its reset and its health).
const ROUNDS: usize = 5;

/// The health an item holds (none written yet: pending).
fn health_of(item: &Item) -> Result<Health, StoreError> {
    match Read::new(item).opt_s("health") {
        None => Ok(Health::Pending),
        Some(json) => serde_json::from_str(json).map_err(|e| StoreError {
            message: format!("mailbox status: unreadable health: {e}"),
            retryable: false,
        }),
    }
}

fn status_of(item: &Item) -> Result<MailboxStatus, StoreError> {
    let read = Read::new(item);
    let mailbox: MailboxAddress =
        read.parsed("mailbox", "a mailbox address", MailboxAddress::parse)?;
    let health = match read.opt_s("health") {
        None => Health::Pending,
        Some(json) => serde_json::from_str(json).map_err(|e| StoreError {
            message: format!("status of {mailbox}: unreadable health: {e}"),
            retryable: false,
        })?,
    };
    Ok(MailboxStatus {
        health,
        consecutive_failures: read.n_or("consecutive_failures", 0)?,
        last_success: read.opt_instant("last_success")?,
        next_retry: read.opt_instant("next_retry")?,
        emails_seen: read.n_or("emails_seen", 0)?,
        emails_written: read.n_or("emails_written", 0)?,
        emails_duplicate: read.n_or("emails_duplicate", 0)?,
        emails_skipped: read.n_or("emails_skipped", 0)?,
        updated_at: read.instant("updated_at")?,
        mailbox,
    })
}

impl DynamoStore {
    async fn status_item(&self, mailbox: &MailboxAddress) -> Result<Option<Item>, StoreError> {
        let answer = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::status(mailbox))))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.error(classify("GetItem", &e)))?;
        Ok(answer.item)
    }
}

#[async_trait]
impl StatusStore for DynamoStore {
    async fn report(
        &self,
        mailbox: &MailboxAddress,
        event: StatusEvent,
        at: OffsetDateTime,
    ) -> Result<Option<Health>, StoreError> {
        let mut update = Update::of(mailbox, event, at)?;
        for _ in 0..ROUNDS {
            let (expression, condition) = update.expressions();
            let answer = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(keys::status(mailbox))))
                .update_expression(expression)
                .set_condition_expression(condition)
                .set_expression_attribute_values(Some(update.values()))
                .return_values(ReturnValue::AllOld)
                .send()
                .await;
            match answer {
                Ok(answer) => return answer.attributes.as_ref().map(health_of).transpose(),
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
                {
                    let now = self.status_item(mailbox).await?;
                    let mut kept = Vec::new();
                    for part in &update.guarded {
                        if part.holds(now.as_ref(), at)? {
                            kept.push(*part);
                        }
                    }
                    update.guarded = kept;
                }
                Err(e) => return Err(self.error(classify("UpdateItem", &e))),
            }
        }
        Err(StoreError {
            message: format!("status of {mailbox}: changed under every one of {ROUNDS} attempts"),
            retryable: true,
        })
    }

    async fn status(&self, mailbox: &MailboxAddress) -> Result<Option<MailboxStatus>, StoreError> {
        self.status_item(mailbox).await?.as_ref().map(status_of).transpose()
    }

    async fn statuses(&self) -> Result<Vec<MailboxStatus>, StoreError> {
        let items = self.query_prefix(keys::STATUS_PARTITION.into(), "mbx#").await?;
        items.iter().map(status_of).collect()
    }
}
