//! `exsync sync --once`: one catch-up pass of every synced mailbox, run to the end, with a
//! line per mailbox saying what happened.

use std::{fmt, time::Duration};

use super::Embedded;
use crate::{
    domain::{Folder, MailboxAddress},
    jobs::{Envelope, Job, QueueName, Trigger},
    ports::{JobQueue, StatusStore},
    runtime::{RetryPolicy, Tally, WorkerSettings, drain},
    status::{Health, MailboxStatus},
};

/// A one-shot run gives up sooner than a server: five tries over about a minute, then the job
/// is dead-lettered with its reason (replayable) and the run reports the failure.
const ONCE_RETRY: RetryPolicy = RetryPolicy {
    max_attempts: 5,
    first_backoff: Duration::from_secs(2),
    max_backoff: Duration::from_secs(30),
    max_receives: 5,
};

/// What one mailbox's pass did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxSummary {
    /// The mailbox.
    pub mailbox: MailboxAddress,
    /// `None`: finished (or disabled); `Some(reason)`: failed, with the reason (AADSTS or
    /// Graph code).
    pub failure: Option<String>,
    /// Disabled by the admin: not synced, and not a failure.
    pub disabled: bool,
    /// Messages its passes handed to `write` in this run.
    pub seen: u64,
    /// Emails its copies created in Dataverse in this run.
    pub written: u64,
    /// Emails it saw that were already in Dataverse (another mailbox's copy, or earlier).
    pub duplicate: u64,
}

/// The whole run.
#[derive(Debug, Clone)]
pub struct Summary {
    /// One per synced mailbox, in configuration order.
    pub mailboxes: Vec<MailboxSummary>,
    /// Jobs dead-lettered in this run (`exsync dead-letters` lists them).
    pub dead_lettered: u64,
    /// Set when the run stopped at its time limit with work left.
    pub unfinished: Option<String>,
}

impl Summary {
    /// Whether every mailbox finished and nothing was left or dead-lettered.
    pub fn success(&self) -> bool {
        self.mailboxes.iter().all(|m| m.failure.is_none())
            && self.dead_lettered == 0
            && self.unfinished.is_none()
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self.mailboxes.iter().map(|m| m.mailbox.as_str().len()).max().unwrap_or(7);
        for m in &self.mailboxes {
            let outcome = match (&m.failure, m.disabled) {
                (Some(_), _) => "failed",
                (None, true) => "disabled",
                (None, false) => "ok",
            };
            write!(
                f,
                "{:width$}  {outcome:8}  seen {:>5}  written {:>5}  duplicate {:>5}",
                m.mailbox.as_str(),
                m.seen,
                m.written,
                m.duplicate
            )?;
            if let Some(reason) = &m.failure {
                write!(f, "  {reason}")?;
            }
            writeln!(f)?;
        }
        if self.dead_lettered > 0 {
            writeln!(f, "{} job(s) dead-lettered: see `exsync dead-letters`", self.dead_lettered)?;
        }
        if let Some(left) = &self.unfinished {
            writeln!(f, "stopped at the time limit with work left: {left}")?;
        }
        Ok(())
    }
}

impl Embedded {
    /// Runs one pass of every synced folder and every write it leads to, within `timeout`.
    pub async fn sync_once(&self, timeout: Duration) -> Result<Summary, crate::ports::StoreError> {
        let _claim = self.claim().await?;
        let before = self.statuses().await?;
        let jobs: Vec<Envelope> = self
            .synced_mailboxes()
            .flat_map(|m| {
                Folder::ALL.map(|folder| {
                    Envelope::new(Job::SyncFolder {
                        mailbox: m.address.clone(),
                        folder,
                        trigger: Trigger::Sweep,
                        ticket: 0,
                    })
                })
            })
            .collect();
        // Enqueued directly, not coalesced: a pass mark left by an earlier run must not make
        // this run skip a folder. A second pass of a folder is harmless.
        let mut unfinished = None;
        if let Err(e) = self.queue.enqueue(QueueName::Changes, &jobs, Duration::ZERO).await {
            unfinished = Some(format!("could not queue the passes: {e}"));
        }
        let workers = [QueueName::Changes, QueueName::Writes]
            .map(|q| {
                let worker = self.worker(q);
                let settings = WorkerSettings { retry: ONCE_RETRY, ..worker.settings };
                worker.with_settings(settings)
            })
            .to_vec();
        let tally = match drain(workers, self.queues(), self.queue.clone(), timeout).await {
            Ok(tally) => tally,
            Err(e) => {
                unfinished = Some(e.to_string());
                e.tally
            }
        };
        let after = self.statuses().await?;
        Ok(self.summarise(&before, &after, &tally, unfinished))
    }

    async fn statuses(&self) -> Result<Vec<MailboxStatus>, crate::ports::StoreError> {
        self.store.statuses().await
    }

    fn summarise(
        &self,
        before: &[MailboxStatus],
        after: &[MailboxStatus],
        tally: &Tally,
        unfinished: Option<String>,
    ) -> Summary {
        let find = |all: &[MailboxStatus], m: &MailboxAddress| {
            all.iter().find(|s| &s.mailbox == m).cloned()
        };
        let mailboxes = self
            .synced_mailboxes()
            .map(|m| {
                let old = find(before, &m.address);
                let new = find(after, &m.address);
                let delta = |f: fn(&MailboxStatus) -> u64| {
                    new.as_ref().map_or(0, f).saturating_sub(old.as_ref().map_or(0, f))
                };
                let health = new.as_ref().map(|s| &s.health);
                let failure = match health {
                    Some(Health::Failing { reason, .. }) => Some(reason.clone()),
                    None | Some(Health::Pending) => Some("no pass completed".into()),
                    _ => None,
                };
                MailboxSummary {
                    mailbox: m.address.clone(),
                    failure,
                    disabled: health == Some(&Health::Disabled),
                    seen: delta(|s| s.emails_seen),
                    written: delta(|s| s.emails_written),
                    duplicate: delta(|s| s.emails_duplicate),
                }
            })
            .collect();
        Summary { mailboxes, dead_lettered: tally.dead_lettered, unfinished }
    }
}
