//! The control API tests use to seed tenants, mailboxes and items, and to change items
//! (which feeds delta and notifications).
//!
//! Methods taking an address panic when no mailbox has it: that is a broken test.

use time::OffsetDateTime;

use super::{
    GraphSim, mailflow,
    model::{MessageIds, MessageUpdate, NewContact, NewEvent, NewMessage, NewTask},
    state::{ChangeEvent, State},
    store::{Contact, Event, ItemData, Mailbox, Task},
};

pub(super) fn mailbox_id(state: &State, address: &str) -> String {
    state
        .mailbox_by_address(address)
        .map(|m| m.id.clone())
        .unwrap_or_else(|| panic!("no mailbox has the address {address}"))
}

fn key_of(mb: &Mailbox, id: &str) -> Option<u64> {
    mb.resolve(id).ok().map(|i| i.key)
}

impl GraphSim {
    fn with_state<T>(&self, f: impl FnOnce(&mut State) -> (T, Vec<ChangeEvent>)) -> T {
        let mut state = self.inner.state.lock().expect("state lock");
        let (out, changes) = f(&mut state);
        self.inner.publish(&state, &changes);
        out
    }

    pub(super) fn now(&self) -> OffsetDateTime {
        self.inner.config.clock.now()
    }

    /// Adds a tenant (mailboxes add theirs implicitly).
    pub fn add_tenant(&self, tenant_id: &str) {
        let mut state = self.inner.state.lock().expect("state lock");
        state.tenants.entry(tenant_id.to_string()).or_default();
    }

    /// Adds a user with a mailbox; returns the user id (a GUID). Addresses are unique across
    /// tenants (they route mail).
    pub fn add_mailbox(&self, tenant_id: &str, address: &str, display_name: &str) -> String {
        let mut state = self.inner.state.lock().expect("state lock");
        assert!(state.mailbox_by_address(address).is_none(), "{address} already exists");
        state.tenants.entry(tenant_id.to_string()).or_default();
        let capacity = self.inner.config.limits.delta_token_capacity;
        let mb = Mailbox::new(tenant_id, address, display_name, capacity);
        let id = mb.id.clone();
        state.mailboxes.insert(id.clone(), mb);
        id
    }

    /// Adds a user without an Exchange Online mailbox (unlicensed, not yet provisioned):
    /// mail, calendar and contact calls answer 404 `MailboxNotEnabledForRESTAPI`.
    pub fn add_user_without_mailbox(
        &self,
        tenant_id: &str,
        address: &str,
        display_name: &str,
    ) -> String {
        let id = self.add_mailbox(tenant_id, address, display_name);
        let mut state = self.inner.state.lock().expect("state lock");
        state.mailbox_mut(&id).enabled = false;
        id
    }

    /// Restricts `app_id` in `tenant_id` to the mailboxes at `allowed` (an application access
    /// policy or RBAC scope, reference 11.2); others answer 403 "Access to OData is disabled.".
    pub fn restrict_app(&self, tenant_id: &str, app_id: &str, allowed: &[&str]) {
        let mut state = self.inner.state.lock().expect("state lock");
        let ids = allowed.iter().map(|a| mailbox_id(&state, a)).collect();
        state
            .tenants
            .entry(tenant_id.to_string())
            .or_default()
            .policies
            .insert(app_id.to_ascii_lowercase(), ids);
    }

    /// Lifts a restriction set by [`GraphSim::restrict_app`].
    pub fn unrestrict_app(&self, tenant_id: &str, app_id: &str) {
        let mut state = self.inner.state.lock().expect("state lock");
        if let Some(t) = state.tenants.get_mut(tenant_id) {
            t.policies.remove(&app_id.to_ascii_lowercase());
        }
    }

    /// The user id of the mailbox at `address`.
    pub fn user_id(&self, address: &str) -> String {
        mailbox_id(&self.inner.state.lock().expect("state lock"), address)
    }

    /// The id of a well-known folder (`inbox`, `sentitems`, `calendar`, `contacts`, ...).
    pub fn folder_id(&self, address: &str, well_known: &str) -> String {
        let state = self.inner.state.lock().expect("state lock");
        state.mailbox(&mailbox_id(&state, address)).well_known(well_known).id.clone()
    }

    /// Delivers a message into the Inbox of the mailbox at `address`.
    pub fn deliver(&self, address: &str, message: NewMessage) -> MessageIds {
        self.deliver_to(address, "inbox", message)
    }

    /// Delivers a message into a well-known folder (e.g. `junkemail`).
    pub fn deliver_to(&self, address: &str, folder: &str, message: NewMessage) -> MessageIds {
        let now = self.now();
        self.with_state(|state| {
            let id = mailbox_id(state, address);
            let imid = message
                .internet_message_id
                .clone()
                .unwrap_or_else(mailflow::new_internet_message_id);
            let (ids, change) = mailflow::store(state, &id, folder, &message, &imid, now, false);
            (ids, vec![change])
        })
    }

    /// Sends a message from the mailbox at `from_address` as sendMail does: a Sent Items copy
    /// and the recipients' Inbox copies, one `internetMessageId`. Returns the sent copy's ids.
    pub fn send(&self, from_address: &str, message: NewMessage) -> MessageIds {
        let now = self.now();
        self.with_state(|state| {
            let id = mailbox_id(state, from_address);
            let (ids, changes) = mailflow::send(state, &id, message, true, now);
            (ids.expect("saved to Sent Items"), changes)
        })
    }

    /// Changes a message; `false` if the id does not resolve.
    pub fn update(&self, address: &str, id: &str, update: MessageUpdate) -> bool {
        let now = self.now();
        self.with_state(|state| {
            let mbx = mailbox_id(state, address);
            let Some(key) = key_of(state.mailbox(&mbx), id) else { return (false, vec![]) };
            let change = state.update_item(&mbx, key, now, |data| {
                if let ItemData::Message(m) = data {
                    let u = update;
                    m.is_read = u.is_read.unwrap_or(m.is_read);
                    m.subject = u.subject.unwrap_or_else(|| m.subject.clone());
                    m.categories = u.categories.unwrap_or_else(|| m.categories.clone());
                    m.importance = u.importance.unwrap_or_else(|| m.importance.clone());
                    m.flag_status = u.flag_status.unwrap_or_else(|| m.flag_status.clone());
                }
            });
            (change.is_some(), change.into_iter().collect())
        })
    }

    /// Records a change to any item without altering it (a new change key): an `updated`
    /// notification and delta entry.
    pub fn touch(&self, address: &str, id: &str) -> bool {
        let now = self.now();
        self.with_state(|state| {
            let mbx = mailbox_id(state, address);
            let Some(key) = key_of(state.mailbox(&mbx), id) else { return (false, vec![]) };
            let change = state.update_item(&mbx, key, now, |_| {});
            (change.is_some(), change.into_iter().collect())
        })
    }

    /// Moves a message to a well-known folder; returns its new ids (the regular id changes).
    pub fn move_to(&self, address: &str, id: &str, folder: &str) -> Option<MessageIds> {
        let now = self.now();
        self.with_state(|state| {
            let mbx = mailbox_id(state, address);
            let mb = state.mailbox(&mbx);
            let (Some(key), index) = (key_of(mb, id), mb.well_known(folder).index) else {
                return (None, vec![]);
            };
            let change = state.move_item(&mbx, key, index, now);
            let mb = state.mailbox(&mbx);
            let ids = mb.items.get(&key).map(|item| MessageIds {
                user_id: mb.id.clone(),
                id: mb.regular_id(item),
                immutable_id: mb.immutable_id(item),
                internet_message_id: item
                    .message()
                    .map(|m| m.internet_message_id.clone())
                    .unwrap_or_default(),
            });
            (ids, change.into_iter().collect())
        })
    }

    /// Deletes any item permanently; `false` if the id does not resolve.
    pub fn delete(&self, address: &str, id: &str) -> bool {
        self.with_state(|state| {
            let mbx = mailbox_id(state, address);
            let Some(key) = key_of(state.mailbox(&mbx), id) else { return (false, vec![]) };
            let change = state.delete_item(&mbx, key);
            (change.is_some(), change.into_iter().collect())
        })
    }

    fn add_item(&self, address: &str, folder: &str, data: ItemData) -> String {
        let now = self.now();
        self.with_state(|state| {
            let mbx = mailbox_id(state, address);
            let index = state.mailbox(&mbx).folder_by_ref(folder).expect("folder exists").index;
            let (key, change) = state.insert_item(&mbx, index, data, now);
            let mb = state.mailbox(&mbx);
            (mb.regular_id(&mb.items[&key]), vec![change])
        })
    }

    /// Adds an event to the primary calendar; returns its id.
    pub fn add_event(&self, address: &str, e: NewEvent) -> String {
        let ical_uid = format!(
            "040000008200E00074C5B7101A82E00800000000{}",
            uuid::Uuid::new_v4().simple().to_string().to_uppercase()
        );
        let event = Event {
            subject: e.subject,
            body: e.body,
            start: e.start,
            end: e.end,
            location: e.location,
            organizer: e.organizer,
            attendees: e.attendees,
            is_all_day: e.is_all_day,
            ical_uid,
        };
        self.add_item(address, "calendar", ItemData::Event(Box::new(event)))
    }

    /// Adds a contact to the default contacts folder; returns its id.
    pub fn add_contact(&self, address: &str, c: NewContact) -> String {
        let contact = Contact {
            given_name: c.given_name,
            surname: c.surname,
            emails: c.emails,
            company: c.company,
            job_title: c.job_title,
            business_phones: c.business_phones,
            mobile_phone: c.mobile_phone,
        };
        self.add_item(address, "contacts", ItemData::Contact(Box::new(contact)))
    }

    /// Adds a To Do list; returns its id.
    pub fn add_task_list(&self, address: &str, name: &str) -> String {
        let mut state = self.inner.state.lock().expect("state lock");
        let mbx = mailbox_id(&state, address);
        let mb = state.mailbox_mut(&mbx);
        let index = mb.add_task_list(name);
        mb.folders[index as usize].id.clone()
    }

    /// The id of the default To Do list ("Tasks").
    pub fn default_task_list(&self, address: &str) -> String {
        self.folder_id(address, "defaultlist")
    }

    /// Adds a task to a To Do list (by id); returns the task id.
    pub fn add_task(&self, address: &str, list_id: &str, t: NewTask) -> String {
        let task = Task {
            title: t.title,
            body: t.body,
            status: t.status,
            importance: t.importance,
            due: t.due,
        };
        self.add_item(address, list_id, ItemData::Task(Box::new(task)))
    }
}
