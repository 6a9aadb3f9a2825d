//! `PassStore`: the protocol on [`PassStore`] as one conditional write per step. DynamoDB
//! applies conditional writes to one item one at a time, so the folder's item orders them:
//! `ticket` (the last issued), `begun` (the last ticket whose pass began), and the mark,
//! `queued` (the queued pass's ticket) with `queued_at` (when its job was enqueued, ns).
//!
//! The item is never deleted: its tickets must only grow (a ticket issued again could let a
//! late mark name a pass that already began). It carries no TTL; the `marked_at` and
//! `expires_at` of the earlier mark format are removed by the first request that meets them.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::{error::SdkError, types::ReturnValue};
use time::OffsetDateTime;

use super::{
    DynamoStore, TTL_ATTRIBUTE,
    item::{Read, instant, key, n},
    keys,
};
use crate::{
    adapters::aws::error::classify,
    domain::{Folder, MailboxAddress},
    ports::{PassStore, StoreError},
};

/// Whether an UpdateItem failed only because its condition did not hold.
fn condition_failed<R>(
    e: &SdkError<aws_sdk_dynamodb::operation::update_item::UpdateItemError, R>,
) -> bool {
    e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception())
}

#[async_trait]
impl PassStore for DynamoStore {
    async fn request_pass(
        &self,
        mailbox: &MailboxAddress,
        folder: Folder,
        now: OffsetDateTime,
        stale_after: Duration,
    ) -> Result<Option<u64>, StoreError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::pass(mailbox, folder))))
            .update_expression(
                "SET ticket = if_not_exists(ticket, :zero) + :one REMOVE marked_at, #ttl",
            )
            .condition_expression("attribute_not_exists(queued_at) OR queued_at <= :stale_before")
            .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":stale_before", instant(now - stale_after))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        match update {
            Ok(output) => {
                let item = output.attributes.unwrap_or_default();
                let ticket = Read::new(&item).n_or("ticket", 0u64)?;
                if ticket == 0 {
                    return Err(StoreError {
                        message: format!(
                            "DynamoDB table {}: UpdateItem of a pass mark returned no ticket",
                            self.table
                        ),
                        retryable: true,
                    });
                }
                Ok(Some(ticket))
            }
            // A fresh mark holds: its pass has not begun and will see this change.
            Err(e) if condition_failed(&e) => Ok(None),
            Err(e) => Err(self.error(classify("UpdateItem", &e))),
        }
    }

    async fn pass_queued(
        &self,
        mailbox: &MailboxAddress,
        folder: Folder,
        ticket: u64,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::pass(mailbox, folder))))
            .update_expression("SET queued = :ticket, queued_at = :now")
            .condition_expression("attribute_not_exists(begun) OR begun < :ticket")
            .expression_attribute_values(":ticket", n(ticket))
            .expression_attribute_values(":now", instant(now))
            .send()
            .await;
        match update {
            // Refused: this pass (or a later one) began already and sees the change.
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(self.error(classify("UpdateItem", &e))),
        }
    }

    async fn begin_pass(
        &self,
        mailbox: &MailboxAddress,
        folder: Folder,
        ticket: u64,
    ) -> Result<(), StoreError> {
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::pass(mailbox, folder))));
        let request = if ticket == 0 {
            request
                .update_expression("REMOVE queued, queued_at")
                .condition_expression("attribute_exists(ticket)")
        } else {
            // Refused when a later ticket began: the mark, if any, is a later job's that has
            // not begun (it would have cleared it), so it stays.
            request
                .update_expression("SET begun = :ticket REMOVE queued, queued_at")
                .condition_expression("attribute_not_exists(begun) OR begun < :ticket")
                .expression_attribute_values(":ticket", n(ticket))
        };
        match request.send().await {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(self.error(classify("UpdateItem", &e))),
        }
    }
}
