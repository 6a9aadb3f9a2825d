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
    /// Switched off by the admin (`exsync mailbox disable`): no pass and no subscription
    /// upkeep runs until `exsync mailbox enable` or a passing `exsync mailbox test`.
    Disabled,
}

impl Health {
    /// Its name in the status table and in DynamoDB's `health_state`.
    pub fn name(&self) -> &'static str {
        match self {
            Health::Pending => "pending",
            Health::Healthy => "healthy",
            Health::CatchingUp => "catching up",
            Health::Throttled { .. } => "throttled",
            Health::Failing { .. } => "failing",
            Health::Disabled => "disabled",
        }
    }

    /// Parked: failing for a reason only an admin can fix (bad secret, no permission). Its
    /// jobs are dropped until `next_retry`, when one probe runs.
    pub fn is_parked(&self) -> bool {
        matches!(self, Health::Failing { retryable: false, .. })
    }
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
    /// A parked mailbox: when it is probed again (capped exponential backoff).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub next_retry: Option<OffsetDateTime>,
    /// Messages found by its passes (all time).
    pub emails_seen: u64,
    /// Emails it contributed to Dataverse (created by its copy).
    pub emails_written: u64,
    /// Emails it saw that another mailbox's copy had already written.
    pub emails_duplicate: u64,
    /// Emails its tracking rule left out (`track`, `track_sent_items`): never written.
    #[serde(default)]
    pub emails_skipped: u64,
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
    /// A folder pass that began while the mailbox was not parked finished, having found
    /// `emails` messages: as [`PassSucceeded`](Self::PassSucceeded), except that a park
    /// reported while it ran (by another folder's pass, or subscription upkeep) stands: only a
    /// pass that began as the park's probe heals it.
    PassEnded {
        /// Messages handed to `write`.
        emails: u64,
    },
    /// A folder pass handed `emails` messages to `write` and left the rest of a long backlog to
    /// a follow-up job (health: catching up).
    CatchingUp {
        /// Messages handed to `write` so far.
        emails: u64,
    },
    /// The tracking rule left out `emails` of this mailbox's emails (health unchanged).
    EmailsSkipped {
        /// How many.
        emails: u64,
    },
    /// A write batch's emails of this mailbox: `created` were written by its copies, and
    /// `duplicate` were already there (health unchanged). One event per mailbox and batch, so a
    /// batch of fifty emails costs one status write, not fifty.
    EmailsWritten {
        /// Emails this mailbox's copy created.
        created: u64,
        /// Emails found already written (another mailbox's copy, an earlier attempt).
        duplicate: u64,
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
        /// When to try the mailbox again (a parked mailbox's next probe).
        retry_at: Option<OffsetDateTime>,
    },
    /// The admin switched the mailbox off (`exsync mailbox disable`).
    Disabled,
    /// The admin switched it on again, or Test & Enable passed: it starts over as pending,
    /// with no failures and no park.
    Enabled,
}

impl MailboxStatus {
    /// The record of a mailbox nothing has happened to yet.
    pub fn new(mailbox: MailboxAddress, at: OffsetDateTime) -> Self {
        Self {
            mailbox,
            health: Health::Pending,
            consecutive_failures: 0,
            last_success: None,
            next_retry: None,
            emails_seen: 0,
            emails_written: 0,
            emails_duplicate: 0,
            emails_skipped: 0,
            updated_at: at,
        }
    }

    /// Whether the mailbox is parked and its next probe is due: a scheduler (the embedded
    /// `serve`, or a scheduled function on AWS) then requests a pass of each of its folders,
    /// and subscription upkeep with webhooks. A probe that fails pushes `next_retry` on.
    pub fn probe_due(&self, now: OffsetDateTime) -> bool {
        self.health.is_parked() && self.next_retry.is_some_and(|next| next <= now)
    }

    /// Applies an event that happened `at`: counters add; a successful pass makes the mailbox
    /// healthy and resets its failures; a failure makes it failing and counts; throttling makes
    /// it throttled. Every store applies events with this one function.
    ///
    /// A written email is counted but does not change health: it proves Dataverse works, not
    /// that the mailbox's Graph access does, and the next pass settles that. A disabled mailbox
    /// stays disabled (jobs in flight when the admin switched it off still count) until the
    /// admin enables it.
    pub fn apply(&mut self, event: StatusEvent, at: OffsetDateTime) {
        let disabled = self.health == Health::Disabled;
        match event {
            StatusEvent::PassSucceeded { emails } => {
                self.emails_seen = self.emails_seen.saturating_add(emails);
                self.consecutive_failures = 0;
                self.next_retry = None;
                self.last_success = Some(self.last_success.map_or(at, |last| last.max(at)));
                if !disabled {
                    self.health = Health::Healthy;
                }
            }
            StatusEvent::PassEnded { emails } if self.health.is_parked() => {
                self.emails_seen = self.emails_seen.saturating_add(emails);
                self.last_success = Some(self.last_success.map_or(at, |last| last.max(at)));
            }
            StatusEvent::PassEnded { emails } => {
                self.emails_seen = self.emails_seen.saturating_add(emails);
                self.consecutive_failures = 0;
                self.last_success = Some(self.last_success.map_or(at, |last| last.max(at)));
                if !disabled {
                    self.health = Health::Healthy;
                }
            }
            // Pages were read and handed on: progress, though the pass is not over.
            StatusEvent::CatchingUp { emails } => {
                self.emails_seen = self.emails_seen.saturating_add(emails);
                self.consecutive_failures = 0;
                self.next_retry = None;
                if !disabled {
                    self.health = Health::CatchingUp;
                }
            }
            StatusEvent::EmailsWritten { created, duplicate } => {
                self.emails_written = self.emails_written.saturating_add(created);
                self.emails_duplicate = self.emails_duplicate.saturating_add(duplicate);
            }
            StatusEvent::EmailsSkipped { emails } => {
                self.emails_skipped = self.emails_skipped.saturating_add(emails);
            }
            StatusEvent::Throttled { until } => {
                if !disabled {
                    self.health = Health::Throttled { until };
                }
            }
            StatusEvent::Failed { reason, retryable, retry_at } => {
                self.consecutive_failures = self.consecutive_failures.saturating_add(1);
                self.next_retry = retry_at;
                if !disabled {
                    self.health = Health::Failing { reason, retryable };
                }
            }
            StatusEvent::Disabled => {
                self.health = Health::Disabled;
                self.next_retry = None;
            }
            StatusEvent::Enabled => {
                self.health = Health::Pending;
                self.consecutive_failures = 0;
                self.next_retry = None;
            }
        }
        self.updated_at = self.updated_at.max(at);
    }
}

#[cfg(test)]
mod tests;
