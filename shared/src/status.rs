//! A mailbox's health as an admin sees it (`exsync status`, the `sync --once` summary).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::domain::MailboxAddress;

/// What state a mailbox is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Health {
    /// Never synced yet.
    Pending,
    /// Its last pass succeeded.
    Healthy,
    /// A backlog is being worked through.
    CatchingUp,
    /// Graph or Dataverse asked to slow down; resumes by itself.
    Throttled {
        /// When the service said to come back.
        #[serde(with = "time::serde::rfc3339")]
        until: OffsetDateTime,
    },
    /// Failing, with the reason an admin can act on.
    Failing {
        /// E.g. "AADSTS7000222: the client secret of profile fabrikam expired".
        reason: String,
        /// Whether it heals by itself (outage) or needs an admin (bad secret, no permission).
        retryable: bool,
    },
    /// Switched off by the admin.
    Disabled,
}

/// A mailbox's status record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxStatus {
    /// The mailbox.
    pub mailbox: MailboxAddress,
    /// Its health.
    pub health: Health,
    /// Failures in a row since the last success.
    pub consecutive_failures: u32,
    /// When a pass last succeeded.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_success: Option<OffsetDateTime>,
    /// Messages found by its passes (all time).
    pub emails_seen: u64,
    /// Emails it contributed to Dataverse (created by its copy).
    pub emails_written: u64,
    /// Emails it saw that another mailbox's copy had already written.
    pub emails_duplicate: u64,
    /// When this record last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A change to a mailbox's status, applied atomically by the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusEvent {
    /// A folder pass finished and found `emails` messages to write.
    PassSucceeded {
        /// Messages handed to `write`.
        emails: u64,
    },
    /// A folder pass handed `emails` messages to `write` and left the rest of a long backlog to
    /// a follow-up job (health: catching up).
    CatchingUp {
        /// Messages handed to `write` so far.
        emails: u64,
    },
    /// An email of this mailbox was written (`created`) or was already there (`!created`).
    EmailWritten {
        /// Whether this copy created the activity.
        created: bool,
    },
    /// Throttled until a time.
    Throttled {
        /// When to come back.
        until: OffsetDateTime,
    },
    /// A failure with its reason.
    Failed {
        /// What failed and what to do.
        reason: String,
        /// Whether it heals by itself.
        retryable: bool,
    },
}
