//! `CursorStore`: one item per mailbox and folder.

use async_trait::async_trait;

use super::{
    DynamoStore,
    item::{Read, key, s},
    keys,
};
use crate::{
    adapters::aws::error::classify,
    domain::{Folder, MailboxAddress},
    ports::{CursorStore, DeltaCursor, StoreError},
};

#[async_trait]
impl CursorStore for DynamoStore {
    async fn cursor(
        &self,
        mailbox: &MailboxAddress,
        folder: Folder,
    ) -> Result<Option<DeltaCursor>, StoreError> {
        let answer = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::cursor(mailbox, folder))))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.error(classify("GetItem", &e)))?;
        let Some(item) = answer.item else { return Ok(None) };
        let read = Read::new(&item);
        let link = read.s("link")?.to_string();
        match read.s("kind")? {
            "next" => Ok(Some(DeltaCursor::Next(link))),
            "delta" => Ok(Some(DeltaCursor::Delta(link))),
            other => Err(StoreError {
                message: format!("cursor of {mailbox} {folder}: unknown kind {other:?}"),
                retryable: false,
            }),
        }
    }

    async fn put_cursor(
        &self,
        mailbox: &MailboxAddress,
        folder: Folder,
        cursor: &DeltaCursor,
    ) -> Result<(), StoreError> {
        let (kind, link) = match cursor {
            DeltaCursor::Next(link) => ("next", link),
            DeltaCursor::Delta(link) => ("delta", link),
        };
        let mut item = key(keys::cursor(mailbox, folder));
        item.insert("kind".into(), s(kind));
        item.insert("link".into(), s(link));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.error(classify("PutItem", &e)))
    }

    async fn clear_cursor(
        &self,
        mailbox: &MailboxAddress,
        folder: Folder,
    ) -> Result<(), StoreError> {
        self.delete_item(keys::cursor(mailbox, folder)).await
    }
}

impl DynamoStore {
    /// Deletes an item (absent is fine).
    pub(super) async fn delete_item(&self, at: (String, String)) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(at)))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.error(classify("DeleteItem", &e)))
    }
}
