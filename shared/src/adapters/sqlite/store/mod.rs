//! The state ports over the state database: one file per port.

mod cursors;
mod dedupe;
mod passes;
mod status;
mod subscriptions;

use std::sync::Arc;

use super::{Database, DbError};
use crate::domain::{Folder, MailboxAddress};

/// [`SubscriptionStore`](crate::ports::SubscriptionStore),
/// [`CursorStore`](crate::ports::CursorStore), [`PassStore`](crate::ports::PassStore),
/// [`DedupeStore`](crate::ports::DedupeStore) and [`StatusStore`](crate::ports::StatusStore)
/// over the state database.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    db: Arc<Database>,
}

impl SqliteStore {
    /// The state of `db`.
    pub fn new(db: Arc<Database>) -> Self {
        Self { db }
    }
}

/// A stored folder name back to the folder.
fn folder_named(name: &str) -> Result<Folder, DbError> {
    Folder::from_well_known_name(name)
        .ok_or_else(|| DbError::permanent(format!("unknown folder {name:?} in the database")))
}

/// A stored mailbox address back to the type.
fn mailbox_named(address: String) -> Result<MailboxAddress, DbError> {
    MailboxAddress::parse(address).map_err(|e| DbError::permanent(format!("in the database: {e}")))
}
