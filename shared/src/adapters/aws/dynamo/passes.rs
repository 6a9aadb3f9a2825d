//! `PassStore`: the coalescing rule as one conditional write. A request sets the folder's
//! mark if there is none or it is stale; DynamoDB applies conditional writes to one item one
//! at a time, so of racing requests exactly one is told to enqueue.

use std::time::Duration;

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{
    DynamoStore, TTL_ATTRIBUTE,
    item::{instant, key, n},
    keys,
};
use crate::{
    adapters::aws::error::classify,
    domain::{Folder, MailboxAddress},
    ports::{PassStore, StoreError},
};

/// When TTL may delete a mark made at `marked`: once it is stale it coalesces nothing, so
/// deleting it changes nothing (epoch seconds, rounded up).
fn expiry(marked: OffsetDateTime, stale_after: Duration) -> i64 {
    let stale = marked + stale_after;
    stale.unix_timestamp() + i64::from(stale.nanosecond() > 0)
}

#[async_trait]
impl PassStore for DynamoStore {
    async fn request_pass(
        &self,
        mailbox: &MailboxAddress,
        folder: Folder,
        now: OffsetDateTime,
        stale_after: Duration,
    ) -> Result<bool, StoreError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::pass(mailbox, folder))))
            .update_expression("SET marked_at = :now, #ttl = :ttl")
            .condition_expression("attribute_not_exists(marked_at) OR marked_at <= :stale_before")
            .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
            .expression_attribute_values(":now", instant(now))
            .expression_attribute_values(":ttl", n(expiry(now, stale_after)))
            .expression_attribute_values(":stale_before", instant(now - stale_after))
            .send()
            .await;
        match update {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(self.error(classify("UpdateItem", &e))),
        }
    }

    async fn begin_pass(&self, mailbox: &MailboxAddress, folder: Folder) -> Result<(), StoreError> {
        self.delete_item(keys::pass(mailbox, folder)).await
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn a_mark_may_expire_only_once_it_is_stale() {
        let marked = datetime!(2026-11-23 10:00:00.5 UTC);
        let stale_after = Duration::from_secs(600);
        assert_eq!(expiry(marked, stale_after), (marked + stale_after).unix_timestamp() + 1);
        let whole = datetime!(2026-11-23 10:00 UTC);
        assert_eq!(expiry(whole, stale_after), whole.unix_timestamp() + 600);
    }
}
