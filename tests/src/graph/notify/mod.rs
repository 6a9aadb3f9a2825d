//! Delivering notifications as Graph does (reference 3.2): one delivery task per URL that
//! batches what is queued into `{"value":[...]}` POSTs, a 3 s timeout, retries with backoff
//! for up to 4 hours of simulated time, the slow-endpoint rules (after 100 notifications,
//! 10 % slow delays everything by 10 minutes, 15 % drops and signals `missed`), and the
//! faults tests inject (drop, duplicate, reorder, delay).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use rand::{Rng, seq::SliceRandom};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::sync::mpsc;

mod health;

use health::Verdict;

use super::{config::DeliveryLimits, crypto};
use crate::{clock::SimClock, jwt::SigningKey};

/// One notification waiting for delivery.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub url: String,
    /// The `changeNotification` (or lifecycle notification) object.
    pub item: Value,
    /// (app id, tenant) of a rich notification, which needs a validation token.
    pub token_for: Option<(String, String)>,
    /// Where to report `missed` if this notification is dropped, and the payload.
    pub missed: Option<(String, Value)>,
}

/// Misbehaviour injected into notification delivery.
#[derive(Debug, Clone, Default)]
pub struct NotificationFaults {
    /// Share of notifications silently dropped (0.0..=1.0).
    pub drop: f64,
    /// Share of POSTs sent twice.
    pub duplicate: f64,
    /// Hold notifications this long, then deliver them one per POST in shuffled order.
    pub reorder_window: Option<Duration>,
    /// Wait this long (real time) before each POST.
    pub delay: Option<Duration>,
}

/// What happened to notifications so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NotificationStats {
    /// Notifications handed to delivery.
    pub queued: u64,
    /// HTTP POSTs made (retries and duplicates included).
    pub posts: u64,
    /// Notifications acknowledged with 2xx.
    pub delivered: u64,
    /// POSTs that failed (non-2xx, timeout, connection error).
    pub failed_posts: u64,
    /// Notifications dropped by an injected fault.
    pub dropped_by_fault: u64,
    /// Notifications dropped because the endpoint was too slow (then `missed` is sent).
    pub dropped_slow: u64,
    /// Notifications discarded after retrying for the give-up time.
    pub dropped_expired: u64,
    /// Notifications whose POST failed, waiting for a retry now.
    pub retrying: u64,
    /// Notifications lost while a subscription waited for reauthorization.
    pub dropped_paused: u64,
    /// Batches held back because the endpoint was flagged slow.
    pub delayed_slow: u64,
    /// POSTs sent twice by an injected fault.
    pub duplicated: u64,
    /// POSTs answered later than the slow threshold.
    pub slow_responses: u64,
}

#[derive(Debug)]
struct Inner {
    client: reqwest::Client,
    clock: SimClock,
    limits: DeliveryLimits,
    signer: Arc<SigningKey>,
    queues: Mutex<HashMap<String, mpsc::UnboundedSender<Outgoing>>>,
    faults: Mutex<NotificationFaults>,
    stats: Mutex<NotificationStats>,
    health: Mutex<HashMap<String, health::Health>>,
}

/// The delivery engine.
#[derive(Debug, Clone)]
pub(crate) struct Notifier {
    inner: Arc<Inner>,
}

/// Waits until simulated time reaches `due` (so advancing the clock releases the wait).
pub(super) async fn wait_until(clock: &SimClock, due: OffsetDateTime) {
    while clock.now() < due {
        let left = (due - clock.now()).unsigned_abs().min(Duration::from_millis(20));
        tokio::time::sleep(left).await;
    }
}

impl Notifier {
    pub fn new(
        client: reqwest::Client,
        clock: SimClock,
        limits: DeliveryLimits,
        signer: Arc<SigningKey>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                client,
                clock,
                limits,
                signer,
                queues: Mutex::default(),
                faults: Mutex::default(),
                stats: Mutex::default(),
                health: Mutex::default(),
            }),
        }
    }

    fn stat(&self, f: impl FnOnce(&mut NotificationStats)) {
        f(&mut self.inner.stats.lock().expect("stats lock"));
    }

    /// Counts notifications lost to a paused subscription.
    pub fn count_paused(&self, n: u64) {
        self.stat(|s| s.dropped_paused += n);
    }

    /// Replaces the injected faults.
    pub fn set_faults(&self, faults: NotificationFaults) {
        *self.inner.faults.lock().expect("faults lock") = faults;
    }

    /// What happened to notifications so far.
    pub fn stats(&self) -> NotificationStats {
        *self.inner.stats.lock().expect("stats lock")
    }

    /// Queues notifications; each URL's delivery task picks them up in order. Must be called
    /// within a Tokio runtime.
    pub fn enqueue(&self, items: Vec<Outgoing>) {
        if items.is_empty() {
            return;
        }
        self.stat(|s| s.queued += items.len() as u64);
        let mut queues = self.inner.queues.lock().expect("queues lock");
        for item in items {
            let tx = queues.entry(item.url.clone()).or_insert_with(|| {
                let (tx, rx) = mpsc::unbounded_channel();
                tokio::spawn(self.clone().worker(item.url.clone(), rx));
                tx
            });
            let _ = tx.send(item);
        }
    }

    async fn worker(self, url: String, mut rx: mpsc::UnboundedReceiver<Outgoing>) {
        while let Some(first) = rx.recv().await {
            let faults = self.inner.faults.lock().expect("faults lock").clone();
            if let Some(window) = faults.reorder_window {
                tokio::time::sleep(window).await;
            }
            let mut batch = vec![first];
            while batch.len() < self.inner.limits.max_batch {
                match rx.try_recv() {
                    Ok(item) => batch.push(item),
                    Err(_) => break,
                }
            }
            let before = batch.len();
            batch.retain(|_| !rand::rng().random_bool(faults.drop.clamp(0.0, 1.0)));
            self.stat(|s| s.dropped_by_fault += (before - batch.len()) as u64);
            if batch.is_empty() {
                continue;
            }
            if let Some(delay) = faults.delay {
                tokio::time::sleep(delay).await;
            }
            match self.verdict(&url) {
                Verdict::Drop => {
                    self.stat(|s| s.dropped_slow += batch.len() as u64);
                    self.report_missed(&url, &batch);
                    continue;
                }
                Verdict::Delay => {
                    self.stat(|s| s.delayed_slow += 1);
                    let slow_delay =
                        time::Duration::try_from(self.inner.limits.slow_delay).expect("delay fits");
                    wait_until(&self.inner.clock, self.inner.clock.now() + slow_delay).await;
                }
                Verdict::Send => {}
            }
            let posts = if faults.reorder_window.is_some() {
                batch.shuffle(&mut rand::rng());
                batch.into_iter().map(|item| vec![item]).collect()
            } else {
                vec![batch]
            };
            for post in posts {
                let duplicate = rand::rng().random_bool(faults.duplicate.clamp(0.0, 1.0));
                self.deliver(&url, post.clone()).await;
                if duplicate {
                    self.stat(|s| s.duplicated += 1);
                    self.deliver(&url, post).await;
                }
            }
        }
    }

    /// POSTs once; on failure hands the batch to a retry task.
    async fn deliver(&self, url: &str, items: Vec<Outgoing>) {
        if !self.post(url, &items).await {
            self.stat(|s| s.retrying += items.len() as u64);
            let this = self.clone();
            let url = url.to_string();
            let first_failure = self.inner.clock.now();
            tokio::spawn(async move {
                let count = items.len() as u64;
                this.clone().retry(url, items, first_failure).await;
                this.stat(|s| s.retrying -= count);
            });
        }
    }

    async fn retry(self, url: String, items: Vec<Outgoing>, first_failure: OffsetDateTime) {
        let limits = &self.inner.limits;
        let give_up = time::Duration::try_from(limits.retry_give_up).expect("fits");
        let mut delay = limits.retry_first;
        loop {
            let step = time::Duration::try_from(delay).expect("fits");
            wait_until(&self.inner.clock, self.inner.clock.now() + step).await;
            if self.inner.clock.now() - first_failure > give_up {
                self.stat(|s| s.dropped_expired += items.len() as u64);
                return;
            }
            if self.post(&url, &items).await {
                return;
            }
            delay = (delay * 2).min(limits.retry_max);
        }
    }

    /// One POST of `{"value":[...]}` (plus `validationTokens` for rich notifications).
    async fn post(&self, url: &str, items: &[Outgoing]) -> bool {
        let now = self.inner.clock.now();
        let mut token_for: Vec<&(String, String)> =
            items.iter().filter_map(|i| i.token_for.as_ref()).collect();
        token_for.sort();
        token_for.dedup();
        let mut body = json!({"value": items.iter().map(|i| i.item.clone()).collect::<Vec<_>>()});
        if !token_for.is_empty() {
            // One token per distinct (app, tenant) in the batch (reference 5.4).
            body["validationTokens"] = token_for
                .iter()
                .map(|(app, tenant)| crypto::validation_token(&self.inner.signer, app, tenant, now))
                .collect();
        }
        let started = Instant::now();
        let result =
            self.inner.client.post(url).timeout(self.inner.limits.timeout).json(&body).send().await;
        let ok = result.is_ok_and(|r| r.status().is_success());
        let slow = started.elapsed() > self.inner.limits.slow_threshold;
        self.record(url, items.len() as u64, slow);
        self.stat(|s| {
            s.posts += 1;
            if ok {
                s.delivered += items.len() as u64;
            } else {
                s.failed_posts += 1;
            }
            if slow {
                s.slow_responses += 1;
            }
        });
        ok
    }
}
