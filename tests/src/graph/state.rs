//! Everything the simulator holds: tenants and their access policies, mailboxes,
//! subscriptions, and the item mutations that feed delta and notifications.

use std::collections::{HashMap, HashSet};

use time::OffsetDateTime;

use super::{
    errors::GraphError,
    store::{Item, ItemData, Mailbox},
    subscription::Subscription,
};

/// A tenant: its mailboxes live in [`State::mailboxes`]; here only its scoping rules.
#[derive(Debug, Default)]
pub(crate) struct Tenant {
    /// App id (lower case) -> the user ids it may reach (reference 11.2). Apps without an
    /// entry reach every mailbox of the tenant.
    pub policies: HashMap<String, HashSet<String>>,
}

/// One item before and after a change (either side absent for creation and deletion).
#[derive(Debug, Clone)]
pub(crate) struct ChangeEvent {
    pub mailbox_id: String,
    pub before: Option<Item>,
    pub after: Option<Item>,
}

/// The simulator's state, behind one lock.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub tenants: HashMap<String, Tenant>,
    /// By user id.
    pub mailboxes: HashMap<String, Mailbox>,
    /// By subscription id.
    pub subscriptions: HashMap<String, Subscription>,
}

impl State {
    /// The user id of the mailbox `reference` (a user id or a UPN, case-insensitive) in
    /// `tenant`. A user of another tenant is as unknown as a user that does not exist.
    pub fn find_user(&self, tenant: &str, reference: &str) -> Result<String, GraphError> {
        self.mailboxes
            .values()
            .find(|m| {
                m.tenant.eq_ignore_ascii_case(tenant)
                    && (m.id.eq_ignore_ascii_case(reference)
                        || m.address.eq_ignore_ascii_case(reference))
            })
            .map(|m| m.id.clone())
            .ok_or_else(|| GraphError::invalid_user(reference))
    }

    /// The user id of the mailbox `reference` in `tenant`, if the user has a mailbox.
    pub fn find_mailbox(&self, tenant: &str, reference: &str) -> Result<String, GraphError> {
        let id = self.find_user(tenant, reference)?;
        if self.mailbox(&id).enabled { Ok(id) } else { Err(GraphError::mailbox_not_enabled()) }
    }

    /// The mailbox with this SMTP address, in any tenant (mail routing).
    pub fn mailbox_by_address(&self, address: &str) -> Option<&Mailbox> {
        self.mailboxes.values().find(|m| m.address.eq_ignore_ascii_case(address))
    }

    /// The mailbox with this user id.
    pub fn mailbox(&self, id: &str) -> &Mailbox {
        self.mailboxes.get(id).expect("resolved mailbox exists")
    }

    /// The mailbox with this user id, mutable.
    pub fn mailbox_mut(&mut self, id: &str) -> &mut Mailbox {
        self.mailboxes.get_mut(id).expect("resolved mailbox exists")
    }

    /// Whether an application access policy lets `app_id` reach mailbox `user_id`.
    pub fn policy_allows(&self, tenant: &str, app_id: &str, user_id: &str) -> bool {
        self.tenants
            .get(tenant)
            .and_then(|t| t.policies.get(&app_id.to_ascii_lowercase()))
            .is_none_or(|allowed| allowed.contains(user_id))
    }

    /// Drops subscriptions whose expiration has passed: Graph deletes them (reference 1.2).
    pub fn purge_expired(&mut self, now: OffsetDateTime) {
        self.subscriptions.retain(|_, s| s.expiration > now);
    }

    /// Stores a new item in folder `folder` of mailbox `mailbox_id`.
    pub fn insert_item(
        &mut self,
        mailbox_id: &str,
        folder: u32,
        data: ItemData,
        now: OffsetDateTime,
    ) -> (u64, ChangeEvent) {
        let mb = self.mailbox_mut(mailbox_id);
        let key = mb.next_key;
        mb.next_key += 1;
        let seq = mb.bump();
        let item = Item {
            key,
            folder,
            location: 1,
            version: 1,
            changed_seq: seq,
            created: now,
            modified: now,
            data,
        };
        mb.items.insert(key, item.clone());
        let change =
            ChangeEvent { mailbox_id: mailbox_id.to_string(), before: None, after: Some(item) };
        (key, change)
    }

    /// Applies `edit` to an item (a new version and change key).
    pub fn update_item(
        &mut self,
        mailbox_id: &str,
        key: u64,
        now: OffsetDateTime,
        edit: impl FnOnce(&mut ItemData),
    ) -> Option<ChangeEvent> {
        let mb = self.mailbox_mut(mailbox_id);
        let seq = mb.bump();
        let item = mb.items.get_mut(&key)?;
        let before = item.clone();
        edit(&mut item.data);
        item.version += 1;
        item.changed_seq = seq;
        item.modified = now;
        Some(ChangeEvent {
            mailbox_id: mailbox_id.to_string(),
            before: Some(before),
            after: Some(item.clone()),
        })
    }

    /// Moves an item to another folder: a new location (so a new regular id).
    pub fn move_item(
        &mut self,
        mailbox_id: &str,
        key: u64,
        folder: u32,
        now: OffsetDateTime,
    ) -> Option<ChangeEvent> {
        let mb = self.mailbox_mut(mailbox_id);
        let seq = mb.bump();
        let item = mb.items.get_mut(&key)?;
        let before = item.clone();
        item.folder = folder;
        item.location += 1;
        item.version += 1;
        item.changed_seq = seq;
        item.modified = now;
        Some(ChangeEvent {
            mailbox_id: mailbox_id.to_string(),
            before: Some(before),
            after: Some(item.clone()),
        })
    }

    /// Deletes an item permanently.
    pub fn delete_item(&mut self, mailbox_id: &str, key: u64) -> Option<ChangeEvent> {
        let mb = self.mailbox_mut(mailbox_id);
        mb.bump();
        let before = mb.items.remove(&key)?;
        Some(ChangeEvent { mailbox_id: mailbox_id.to_string(), before: Some(before), after: None })
    }
}
