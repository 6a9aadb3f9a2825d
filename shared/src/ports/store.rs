//! State: subscriptions, delta cursors, pass coalescing, de-duplication, mailbox status.

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::{
    domain::{Folder, InternetMessageId, MailboxAddress, RecordId, SubscriptionId},
    secret::Secret,
    status::{Health, MailboxStatus, StatusEvent},
};

/// A store operation that failed.
#[derive(Debug, thiserror::Error)]
#[error("store: {message}")]
pub struct StoreError {
    /// What failed.
    pub message: String,
    /// Whether trying again can help.
    pub retryable: bool,
}

/// A Graph subscription exsync made, and the clientState that proves its notifications.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionRecord {
    /// Graph's id.
    pub id: SubscriptionId,
    /// The mailbox.
    pub mailbox: MailboxAddress,
    /// The folder its resource covers.
    pub folder: Folder,
    /// When Graph will delete it unless renewed.
    pub expires_at: OffsetDateTime,
    /// The shared secret Graph echoes in every notification.
    pub client_state: Secret,
    /// Whether its notifications carry resource data, and encrypted for which certificate.
    pub shape: SubscriptionShape,
}

/// What exsync asked Graph for when it created (or last changed) a subscription: kept so that
/// upkeep can renew from the stored record and needs no GET of the subscription (1,000 idle
/// mailboxes would otherwise cost 2,000 GETs each hourly upkeep).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriptionShape {
    /// A record stored before exsync kept the shape: upkeep reads it from Graph once.
    Unknown,
    /// Plain change notifications.
    Plain,
    /// Rich notifications, encrypted with this certificate (its `encryptionCertificateId`).
    Rich {
        /// The certificate id.
        certificate_id: String,
    },
}

impl SubscriptionShape {
    const PLAIN: &str = "plain";
    const RICH: &str = "rich:";

    /// As a store keeps it: `None` for [`Unknown`](Self::Unknown).
    pub fn to_stored(&self) -> Option<String> {
        match self {
            Self::Unknown => None,
            Self::Plain => Some(Self::PLAIN.to_string()),
            Self::Rich { certificate_id } => Some(format!("{}{certificate_id}", Self::RICH)),
        }
    }

    /// Back from [`to_stored`](Self::to_stored); anything unrecognised is `Unknown`, which
    /// only costs one GET.
    pub fn from_stored(stored: Option<&str>) -> Self {
        match stored {
            Some(Self::PLAIN) => Self::Plain,
            Some(s) => match s.strip_prefix(Self::RICH) {
                Some(id) => Self::Rich { certificate_id: id.to_string() },
                None => Self::Unknown,
            },
            None => Self::Unknown,
        }
    }
}

/// Subscriptions by id and by mailbox.
#[async_trait]
pub trait SubscriptionStore: Send + Sync + std::fmt::Debug {
    /// Inserts or replaces.
    async fn put_subscription(&self, record: &SubscriptionRecord) -> Result<(), StoreError>;
    /// By Graph id.
    async fn subscription(
        &self,
        id: &SubscriptionId,
    ) -> Result<Option<SubscriptionRecord>, StoreError>;
    /// All of a mailbox's.
    async fn subscriptions_of(
        &self,
        mailbox: &MailboxAddress,
    ) -> Result<Vec<SubscriptionRecord>, StoreError>;
    /// Forgets one (idempotent).
    async fn delete_subscription(&self, id: &SubscriptionId) -> Result<(), StoreError>;
}

/// Where a folder's delta query resumes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeltaCursor {
    /// Mid-pass: the `@odata.nextLink` of the next page.
    Next(String),
    /// Caught up: the `@odata.deltaLink` for the next round.
    Delta(String),
}

/// Delta cursors per mailbox and folder.
#[async_trait]
pub trait CursorStore: Send + Sync + std::fmt::Debug {
    /// The stored cursor, if any.
    async fn cursor(
        &self,
        mailbox: &MailboxAddress,
        folder: Folder,
    ) -> Result<Option<DeltaCursor>, StoreError>;
    /// Stores a cursor.
    async fn put_cursor(
        &self,
        mailbox: &MailboxAddress,
        folder: Folder,
        cursor: &DeltaCursor,
    ) -> Result<(), StoreError>;
    /// Forgets the cursor (the next pass starts over).
    async fn clear_cursor(
        &self,
        mailbox: &MailboxAddress,
        folder: Folder,
    ) -> Result<(), StoreError>;
}

/// Coalesces triggers of one folder into one queued pass (DESIGN: notifications that arrive
/// while a pass is queued join it).
///
/// The protocol, and why it loses no change:
/// - a trigger calls [`request_pass`](Self::request_pass); on `true` it enqueues a pass, on
///   `false` a queued pass that has not begun reading will see the change anyway, since a pass
///   reads the folder's delta from its cursor, not the notification;
/// - the pass calls [`begin_pass`](Self::begin_pass) *before* it reads, so a change that lands
///   while it reads requests (and queues) another pass: a pass that already began never
///   swallows a later change;
/// - if the enqueue after a `true` fails, the trigger calls
///   [`release_pass`](Self::release_pass), so the retried trigger (Graph redelivers a
///   notification we did not answer with 202) queues a pass instead of coalescing into none;
/// - a mark whose job was lost all the same (the process died between mark and enqueue) stops
///   coalescing once it is older than `stale_after`; the next trigger queues a pass;
/// - a late or duplicate pass clearing a newer mark only costs an extra pass, never a change.
#[async_trait]
pub trait PassStore: Send + Sync + std::fmt::Debug {
    /// Marks a pass as queued. `true`: the caller must enqueue one (none is queued, or the
    /// mark is older than `stale_after` and its job is presumed lost); `false`: a queued pass
    /// that has not started yet will see this change.
    async fn request_pass(
        &self,
        mailbox: &MailboxAddress,
        folder: Folder,
        now: OffsetDateTime,
        stale_after: std::time::Duration,
    ) -> Result<bool, StoreError>;
    /// Clears the mark as a pass starts reading, so later changes queue a new pass.
    async fn begin_pass(&self, mailbox: &MailboxAddress, folder: Folder) -> Result<(), StoreError>;
    /// Clears the mark of a pass whose enqueue failed, so the next trigger queues one.
    async fn release_pass(
        &self,
        mailbox: &MailboxAddress,
        folder: Folder,
    ) -> Result<(), StoreError> {
        self.begin_pass(mailbox, folder).await
    }
}

/// Internet Message-ID to Dataverse activity, across all mailboxes (DESIGN invariant 3).
#[async_trait]
pub trait DedupeStore: Send + Sync + std::fmt::Debug {
    /// The activity an Internet Message-ID became, if known.
    async fn activity_of(
        &self,
        message_id: &InternetMessageId,
    ) -> Result<Option<RecordId>, StoreError>;
    /// Records the activity of a Message-ID (idempotent; the first record wins).
    async fn record_activity(
        &self,
        message_id: &InternetMessageId,
        activity: RecordId,
    ) -> Result<(), StoreError>;
}

/// Mailbox status records.
#[async_trait]
pub trait StatusStore: Send + Sync + std::fmt::Debug {
    /// Applies an event atomically (counters add up under concurrent workers); answers the
    /// health the record had just before (`None`: no record yet), so that exactly one of the
    /// workers that report the same transition sees it (the parking alert is logged once).
    async fn report(
        &self,
        mailbox: &MailboxAddress,
        event: StatusEvent,
        at: OffsetDateTime,
    ) -> Result<Option<Health>, StoreError>;
    /// One mailbox's status.
    async fn status(&self, mailbox: &MailboxAddress) -> Result<Option<MailboxStatus>, StoreError>;
    /// Every mailbox's status.
    async fn statuses(&self) -> Result<Vec<MailboxStatus>, StoreError>;
}
