//! `exsync serve` heals parked mailboxes by itself: when a parked mailbox's next probe is due
//! (see `handlers::failure::gate`), or when the admin enables a mailbox again (`exsync mailbox
//! enable`, a passing `exsync mailbox test`, from another process), its folders get a pass and,
//! with webhooks, its subscriptions are seen to. A probe that fails again parks it with a
//! longer wait; one that passes makes it healthy. No restart, and no job of a parked mailbox
//! runs in between.

use std::{collections::HashMap, time::Duration};

use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::Embedded;
use crate::{
    domain::MailboxAddress, handlers::schedule, ports::StatusStore, status::MailboxStatus,
};

/// How often the statuses are read (one query of the state database).
const PROBE_TICK: Duration = Duration::from_secs(2);

/// What the prober last saw of a mailbox.
#[derive(Debug, Default)]
struct Seen {
    /// Parked or disabled: not syncing.
    stopped: bool,
    /// The next probe time it last acted on (each is acted on once).
    probed: Option<OffsetDateTime>,
}

impl Embedded {
    /// Probes parked mailboxes when due, and revives mailboxes the admin enabled, until `stop`.
    pub(super) async fn probe_parked(self, stop: CancellationToken) {
        let mut seen: HashMap<MailboxAddress, Seen> = HashMap::new();
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(PROBE_TICK) => {}
            }
            let statuses = match self.store.statuses().await {
                Ok(statuses) => statuses,
                Err(error) => {
                    warn!(%error, "could not read the mailbox statuses; probing later");
                    continue;
                }
            };
            let now = self.clock.now();
            for status in statuses {
                if !self.synced_mailboxes().any(|m| m.address == status.mailbox) {
                    continue;
                }
                let entry = seen.entry(status.mailbox.clone()).or_default();
                if let Some(why) = due(entry, &status, now) {
                    info!(mailbox = %status.mailbox, why, "probing the mailbox");
                    self.revive(&status.mailbox).await;
                }
            }
        }
    }

    /// Queues a pass of each folder of `mailbox` and, with webhooks, its subscription upkeep.
    async fn revive(&self, mailbox: &MailboxAddress) {
        let (config, store, queue) = (&self.config, self.store.as_ref(), self.queue.as_ref());
        schedule::revive(config, store, queue, self.clock.as_ref(), mailbox).await;
    }
}

/// Why `status` needs a probe now, if it does; updates what was seen.
fn due(seen: &mut Seen, status: &MailboxStatus, now: OffsetDateTime) -> Option<&'static str> {
    let parked = status.health.is_parked();
    let stopped = parked || status.health == crate::status::Health::Disabled;
    let was_stopped = std::mem::replace(&mut seen.stopped, stopped);
    if was_stopped && !stopped {
        seen.probed = None;
        // Enabled by the admin, or healed by a job that ran anyway (a sweep): either way
        // its folders are worth a look, and a pass of a healthy mailbox is harmless.
        return Some("enabled again");
    }
    let next = status.next_retry.filter(|_| status.probe_due(now))?;
    if seen.probed == Some(next) {
        return None;
    }
    seen.probed = Some(next);
    Some("its next probe is due")
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::status::{Health, StatusEvent};

    #[test]
    fn a_due_probe_runs_once_and_an_enabled_mailbox_is_revived() {
        let t0 = datetime!(2026-11-23 10:00 UTC);
        let mut status =
            MailboxStatus::new(MailboxAddress::parse("alice@fabrikam.example").unwrap(), t0);
        let mut seen = Seen::default();
        assert_eq!(due(&mut seen, &status, t0), None, "pending: the startup sweep covers it");
        let probe = t0 + time::Duration::MINUTE;
        let parked = StatusEvent::Failed {
            reason: "AADSTS7000222".into(),
            retryable: false,
            retry_at: Some(probe),
        };
        status.apply(parked, t0);
        assert_eq!(due(&mut seen, &status, t0), None, "not due yet");
        assert!(due(&mut seen, &status, probe).is_some());
        assert_eq!(due(&mut seen, &status, probe), None, "once per probe time");
        status.apply(StatusEvent::Disabled, probe);
        assert_eq!(due(&mut seen, &status, probe), None);
        status.apply(StatusEvent::Enabled, probe);
        assert_eq!(status.health, Health::Pending);
        assert_eq!(due(&mut seen, &status, probe), Some("enabled again"));
        assert_eq!(due(&mut seen, &status, probe), None);
    }
}
