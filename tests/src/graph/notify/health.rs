//! The slow-endpoint rules of reference 3.2: per URL, after enough notifications, a share of
//! slow answers delays everything (10 %) or drops it and reports `missed` (15 %); counters
//! are flushed every window.

use std::collections::{HashMap, HashSet};

use time::OffsetDateTime;

use super::{Notifier, Outgoing};

#[derive(Debug)]
pub(super) struct Health {
    window_start: OffsetDateTime,
    sent: u64,
    slow: u64,
    missed_reported: HashSet<String>,
}

pub(super) enum Verdict {
    Send,
    Delay,
    Drop,
}

impl Notifier {
    pub(super) fn record(&self, url: &str, n: u64, slow: bool) {
        let mut health = self.inner.health.lock().expect("health lock");
        let h = self.health_entry(&mut health, url);
        h.sent += n;
        if slow {
            h.slow += n;
        }
    }

    fn health_entry<'a>(&self, map: &'a mut HashMap<String, Health>, url: &str) -> &'a mut Health {
        let now = self.inner.clock.now();
        let window = time::Duration::try_from(self.inner.limits.slow_window).expect("fits");
        let h = map.entry(url.to_string()).or_insert_with(|| Health {
            window_start: now,
            sent: 0,
            slow: 0,
            missed_reported: HashSet::new(),
        });
        // Counters are flushed every window (reference 3.2).
        if now - h.window_start >= window {
            *h = Health { window_start: now, sent: 0, slow: 0, missed_reported: HashSet::new() };
        }
        h
    }

    pub(super) fn verdict(&self, url: &str) -> Verdict {
        let limits = &self.inner.limits;
        let mut health = self.inner.health.lock().expect("health lock");
        let h = self.health_entry(&mut health, url);
        if h.sent < limits.slow_min_notifications || h.sent == 0 {
            return Verdict::Send;
        }
        let ratio = h.slow as f64 / h.sent as f64;
        if ratio >= limits.slow_drop_ratio {
            Verdict::Drop
        } else if ratio >= limits.slow_delay_ratio {
            Verdict::Delay
        } else {
            Verdict::Send
        }
    }

    /// Sends `missed` once per subscription and counter window for dropped notifications.
    pub(super) fn report_missed(&self, url: &str, dropped: &[Outgoing]) {
        let mut lifecycle = Vec::new();
        {
            let mut health = self.inner.health.lock().expect("health lock");
            let h = self.health_entry(&mut health, url);
            for item in dropped {
                let Some((lifecycle_url, payload)) = &item.missed else { continue };
                let sub = payload["subscriptionId"].as_str().unwrap_or_default().to_string();
                if h.missed_reported.insert(sub) {
                    lifecycle.push(Outgoing {
                        url: lifecycle_url.clone(),
                        item: payload.clone(),
                        token_for: None,
                        missed: None,
                    });
                }
            }
        }
        self.enqueue(lifecycle);
    }
}
