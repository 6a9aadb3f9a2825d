//! One mailbox as Exchange keeps it: folders, items (messages, events, contacts, tasks), a
//! change sequence for delta and notifications, and the delta state-token cache.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use super::{delta::TokenCache, ids, model::Recipient};

/// What a folder holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FolderKind {
    Mail,
    Calendar,
    Contacts,
    TaskList,
}

/// A mail folder, the primary calendar, the default contacts folder or a To Do list.
#[derive(Debug, Clone)]
pub(crate) struct Folder {
    pub index: u32,
    pub id: String,
    /// Well-known name usable in paths (`inbox`, `sentitems`, ...), lower case.
    pub well_known: Option<&'static str>,
    pub display_name: String,
    pub kind: FolderKind,
}

/// Well-known mail folders (reference 7) with their display names, then the other
/// default folders.
pub(crate) const DEFAULT_FOLDERS: &[(&str, &str, FolderKind)] = &[
    ("msgfolderroot", "Top of Information Store", FolderKind::Mail),
    ("inbox", "Inbox", FolderKind::Mail),
    ("drafts", "Drafts", FolderKind::Mail),
    ("sentitems", "Sent Items", FolderKind::Mail),
    ("deleteditems", "Deleted Items", FolderKind::Mail),
    ("junkemail", "Junk Email", FolderKind::Mail),
    ("archive", "Archive", FolderKind::Mail),
    ("outbox", "Outbox", FolderKind::Mail),
    ("calendar", "Calendar", FolderKind::Calendar),
    ("contacts", "Contacts", FolderKind::Contacts),
    ("defaultlist", "Tasks", FolderKind::TaskList),
];

/// A stored file attachment.
#[derive(Debug, Clone)]
pub(crate) struct Attachment {
    pub index: u32,
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
    pub is_inline: bool,
    pub content_id: Option<String>,
    pub modified: OffsetDateTime,
}

/// A stored message (reference 7).
#[derive(Debug, Clone)]
pub(crate) struct Message {
    pub subject: String,
    pub body: String,
    pub body_is_text: bool,
    pub from: Recipient,
    pub sender: Recipient,
    pub to: Vec<Recipient>,
    pub cc: Vec<Recipient>,
    pub bcc: Vec<Recipient>,
    pub reply_to: Vec<Recipient>,
    pub received: OffsetDateTime,
    pub sent: OffsetDateTime,
    pub internet_message_id: String,
    pub headers: Vec<(String, String)>,
    pub conversation_id: String,
    pub conversation_index: Vec<u8>,
    pub is_read: bool,
    pub is_draft: bool,
    pub importance: String,
    pub categories: Vec<String>,
    pub flag_status: String,
    pub attachments: Vec<Attachment>,
}

/// A stored calendar event.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub subject: String,
    pub body: String,
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    pub location: String,
    pub organizer: Recipient,
    pub attendees: Vec<Recipient>,
    pub is_all_day: bool,
    pub ical_uid: String,
}

/// A stored contact.
#[derive(Debug, Clone)]
pub(crate) struct Contact {
    pub given_name: String,
    pub surname: String,
    pub emails: Vec<Recipient>,
    pub company: Option<String>,
    pub job_title: Option<String>,
    pub business_phones: Vec<String>,
    pub mobile_phone: Option<String>,
}

/// A stored To Do task.
#[derive(Debug, Clone)]
pub(crate) struct Task {
    pub title: String,
    pub body: String,
    pub status: String,
    pub importance: String,
    pub due: Option<OffsetDateTime>,
}

/// The payload of an item.
#[derive(Debug, Clone)]
pub(crate) enum ItemData {
    Message(Box<Message>),
    Event(Box<Event>),
    Contact(Box<Contact>),
    Task(Box<Task>),
}

/// Anything stored in a folder.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub key: u64,
    pub folder: u32,
    /// Bumped on every move: part of the regular id.
    pub location: u32,
    /// Bumped on every change: part of the `changeKey`.
    pub version: u32,
    /// The mailbox sequence number of the last change.
    pub changed_seq: u64,
    pub created: OffsetDateTime,
    pub modified: OffsetDateTime,
    pub data: ItemData,
}

impl Item {
    pub fn message(&self) -> Option<&Message> {
        match &self.data {
            ItemData::Message(m) => Some(m),
            _ => None,
        }
    }
}

/// One user with an Exchange Online mailbox.
#[derive(Debug)]
pub(crate) struct Mailbox {
    /// The user's object id (a GUID), also `/users/{id}`.
    pub id: String,
    /// The id's bytes, embedded in every item id of this mailbox.
    pub tag: [u8; 16],
    pub tenant: String,
    /// `userPrincipalName` and primary SMTP address.
    pub address: String,
    pub display_name: String,
    /// The user has an Exchange Online mailbox (unlicensed users and users not yet
    /// provisioned do not).
    pub enabled: bool,
    pub folders: Vec<Folder>,
    pub items: BTreeMap<u64, Item>,
    pub next_key: u64,
    /// Change sequence: every created, changed, moved or deleted item takes the next number.
    pub seq: u64,
    pub tokens: TokenCache,
}

impl Mailbox {
    pub fn new(tenant: &str, address: &str, display_name: &str, token_capacity: usize) -> Self {
        let uuid = uuid::Uuid::new_v4();
        let tag = *uuid.as_bytes();
        let folders = DEFAULT_FOLDERS
            .iter()
            .enumerate()
            .map(|(i, (name, display, kind))| {
                let index = u32::try_from(i).expect("few folders");
                Folder {
                    index,
                    id: ids::folder(&tag, index),
                    well_known: Some(*name),
                    display_name: (*display).to_string(),
                    kind: *kind,
                }
            })
            .collect();
        Self {
            id: uuid.to_string(),
            tag,
            tenant: tenant.to_string(),
            address: address.to_string(),
            display_name: display_name.to_string(),
            enabled: true,
            folders,
            items: BTreeMap::new(),
            next_key: 1,
            seq: 0,
            tokens: TokenCache::new(token_capacity),
        }
    }

    /// The folder with this well-known name (case-insensitive) or id.
    pub fn folder_by_ref(&self, reference: &str) -> Result<&Folder, ids::IdError> {
        let lower = reference.to_ascii_lowercase();
        if let Some(f) = self.folders.iter().find(|f| f.well_known == Some(lower.as_str())) {
            return Ok(f);
        }
        let index = ids::parse_folder(&self.tag, reference)?;
        self.folders.get(index as usize).ok_or(ids::IdError::NotFound)
    }

    /// The folder with this well-known name.
    pub fn well_known(&self, name: &str) -> &Folder {
        self.folders.iter().find(|f| f.well_known == Some(name)).expect("default folder")
    }

    /// Adds a To Do list and returns its folder number.
    pub fn add_task_list(&mut self, name: &str) -> u32 {
        let index = u32::try_from(self.folders.len()).expect("few folders");
        self.folders.push(Folder {
            index,
            id: ids::folder(&self.tag, index),
            well_known: None,
            display_name: name.to_string(),
            kind: FolderKind::TaskList,
        });
        index
    }

    pub fn regular_id(&self, item: &Item) -> String {
        ids::regular(&self.tag, item.key, item.location)
    }

    pub fn immutable_id(&self, item: &Item) -> String {
        ids::immutable(&self.tag, item.key)
    }

    /// The id a client asked for: immutable with `Prefer: IdType="ImmutableId"`.
    pub fn item_id(&self, item: &Item, immutable: bool) -> String {
        if immutable { self.immutable_id(item) } else { self.regular_id(item) }
    }

    pub fn change_key(&self, item: &Item) -> String {
        ids::change_key(&self.tag, item.key, item.version)
    }

    /// Resolves an item id (regular or immutable) to a stored item.
    pub fn resolve(&self, id: &str) -> Result<&Item, ids::IdError> {
        match ids::parse_item(&self.tag, id)? {
            ids::ItemRef::Regular { key, location } => self
                .items
                .get(&key)
                .filter(|i| i.location == location)
                .ok_or(ids::IdError::NotFound),
            ids::ItemRef::Immutable { key } => self.items.get(&key).ok_or(ids::IdError::NotFound),
            ids::ItemRef::Attachment { .. } => Err(ids::IdError::Malformed),
        }
    }

    /// The next change sequence number.
    pub fn bump(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }
}
