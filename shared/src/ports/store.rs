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
/// The rule the protocol keeps: a folder's mark says "queued" only while a job that will run
/// the pass exists and has not begun reading. A trigger that joins a mark therefore always
/// has a pass that will see its change, whatever fails, is cancelled or dies in between:
/// - a trigger calls [`request_pass`](Self::request_pass): `None` joins the queued pass;
///   `Some(ticket)` means none is queued, and the trigger enqueues a job carrying the ticket,
///   *then* calls [`pass_queued`](Self::pass_queued), which sets the mark unless that job (or
///   a later one) already began. Tickets grow per folder, in the order the store issued them;
/// - the pass calls [`begin_pass`](Self::begin_pass) with its ticket *before* it reads: that
///   clears the mark and records the ticket as begun, so a change that lands while it reads
///   requests (and queues) another pass, and a mark written late for a job that already
///   began is refused;
/// - a trigger cancelled or dead after `request_pass` leaves no mark, only an unused ticket;
///   one stopped after its enqueue leaves a job without a mark: one pass too many at worst;
/// - a mark whose job is gone all the same (dead-lettered before it began) stops coalescing
///   once it is older than `stale_after`, counted from when its job was enqueued;
/// - racing triggers that all find no mark each enqueue a pass (until one of them marks):
///   extra passes cost a delta read each, never a change.
#[async_trait]
pub trait PassStore: Send + Sync + std::fmt::Debug {
    /// `None`: a pass is queued and has not begun, it will see this change (its mark is
    /// younger than `stale_after`). `Some(ticket)`: the caller enqueues a pass carrying
    /// `ticket`, then reports it with [`pass_queued`](Self::pass_queued).
    async fn request_pass(
        &self,
        mailbox: &MailboxAddress,
        folder: Folder,
        now: OffsetDateTime,
        stale_after: std::time::Duration,
    ) -> Result<Option<u64>, StoreError>;
    /// The job of `ticket` is enqueued (at `now`): later requests join it, unless it (or a
    /// job with a later ticket) began already.
    async fn pass_queued(
        &self,
        mailbox: &MailboxAddress,
        folder: Folder,
        ticket: u64,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// The pass of `ticket` starts reading: clears the mark, so later changes queue a new pass,
    /// and refuses later marks of this ticket or an earlier one. Ticket 0 (a job of an earlier
    /// version, or a pass no trigger waits for) only clears the mark.
    async fn begin_pass(
        &self,
        mailbox: &MailboxAddress,
        folder: Folder,
        ticket: u64,
    ) -> Result<(), StoreError>;
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

    /// [`activity_of`](Self::activity_of) each Message-ID, answers in order: a write batch's
    /// look-ups in one round trip where the store can (SQLite: one call to its thread).
    async fn activities_of(
        &self,
        message_ids: &[InternetMessageId],
    ) -> Result<Vec<Option<RecordId>>, StoreError> {
        let mut found = Vec::with_capacity(message_ids.len());
        for message_id in message_ids {
            found.push(self.activity_of(message_id).await?);
        }
        Ok(found)
    }

    /// [`record_activity`](Self::record_activity) each pair, in one round trip where the store
    /// can. `Ok`: every one is recorded; on `Err` any may be.
    async fn record_activities(
        &self,
        records: &[(InternetMessageId, RecordId)],
    ) -> Result<(), StoreError> {
        for (message_id, activity) in records {
            self.record_activity(message_id, *activity).await?;
        }
        Ok(())
    }
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
