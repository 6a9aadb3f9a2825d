//! Outlook's per (app, mailbox) limits (reference 9.1): 4 concurrent requests and 10,000
//! requests per 10 minutes, with the counts tests use to check that a client kept to them.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::Duration,
};

use time::OffsetDateTime;

use super::errors::GraphError;
use crate::{
    clock::SimClock,
    faults::{Gauge, GaugeGuard},
};

/// Request accounting for one (app, mailbox).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestStats {
    /// Every request seen, throttled ones included.
    pub requests: u64,
    /// Requests refused with 429 `ApplicationThrottled` (more than 4 in flight).
    pub throttled_concurrency: u64,
    /// Requests refused with 429 `TooManyRequests` (over the rate).
    pub throttled_rate: u64,
    /// Highest number of requests in flight at once (the refused ones included).
    pub peak_concurrency: u32,
}

#[derive(Debug, Default)]
struct Window {
    stamps: VecDeque<OffsetDateTime>,
    stats: RequestStats,
}

/// The limiter, shared by HTTP requests and `$batch` sub-requests.
#[derive(Debug, Clone)]
pub(crate) struct Throttle {
    clock: SimClock,
    concurrent: u32,
    per_window: u32,
    window: time::Duration,
    gauge: Gauge,
    /// In-flight requests per app across its mailboxes (a profile's
    /// `max_concurrent_connections` is checked against it).
    apps: Gauge,
    windows: Arc<Mutex<HashMap<String, Window>>>,
}

/// Keeps a request counted as in flight until dropped.
#[derive(Debug)]
pub(crate) struct Permit {
    _guard: GaugeGuard,
    _app: GaugeGuard,
}

fn key(app_id: &str, mailbox_id: &str) -> String {
    format!("{}|{}", app_id.to_ascii_lowercase(), mailbox_id)
}

impl Throttle {
    pub fn new(clock: SimClock, concurrent: u32, per_window: u32, window: Duration) -> Self {
        Self {
            clock,
            concurrent,
            per_window,
            window: time::Duration::try_from(window).expect("window fits"),
            gauge: Gauge::default(),
            apps: Gauge::default(),
            windows: Arc::default(),
        }
    }

    /// Admits a request of `app_id` on mailbox `mailbox_id`, or refuses it with 429.
    /// Throttled requests count toward the rate too (reference 9.2, client rule).
    pub fn admit(&self, app_id: &str, mailbox_id: &str) -> Result<Permit, GraphError> {
        let key = key(app_id, mailbox_id);
        let (guard, in_flight) = self.gauge.enter(&key);
        let (app, _) = self.apps.enter(&app_id.to_ascii_lowercase());
        let now = self.clock.now();
        let mut windows = self.windows.lock().expect("throttle lock");
        let w = windows.entry(key.clone()).or_default();
        w.stats.requests += 1;
        w.stats.peak_concurrency = self.gauge.peak(&key);
        while w.stamps.front().is_some_and(|t| *t + self.window <= now) {
            w.stamps.pop_front();
        }
        w.stamps.push_back(now);
        if in_flight > self.concurrent {
            w.stats.throttled_concurrency += 1;
            // Exchange does not document a wait for this one; one second lets the other
            // requests finish (UNCONFIRMED).
            return Err(GraphError::mailbox_concurrency(1));
        }
        if w.stamps.len() > self.per_window as usize {
            w.stats.throttled_rate += 1;
            let oldest = w.stamps[w.stamps.len() - 1 - self.per_window as usize];
            let wait =
                ((oldest + self.window - now).whole_milliseconds() + 999).div_euclid(1000).max(1);
            return Err(GraphError::too_many_requests(u64::try_from(wait).unwrap_or(1)));
        }
        Ok(Permit { _guard: guard, _app: app })
    }

    /// Accounting for one (app, mailbox).
    pub fn stats(&self, app_id: &str, mailbox_id: &str) -> RequestStats {
        self.windows
            .lock()
            .expect("throttle lock")
            .get(&key(app_id, mailbox_id))
            .map(|w| w.stats)
            .unwrap_or_default()
    }

    /// The highest number of requests `app_id` had in flight at once across all mailboxes
    /// (the refused ones included).
    pub fn app_peak(&self, app_id: &str) -> u32 {
        self.apps.peak(&app_id.to_ascii_lowercase())
    }

    /// Accounting for every (app id, mailbox id) seen.
    pub fn all_stats(&self) -> Vec<(String, String, RequestStats)> {
        self.windows
            .lock()
            .expect("throttle lock")
            .iter()
            .map(|(k, w)| {
                let (app, mbx) = k.split_once('|').expect("key has a separator");
                (app.to_string(), mbx.to_string(), w.stats)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fifth_concurrent_request_is_refused_and_counted() {
        let t = Throttle::new(SimClock::default(), 4, 100, Duration::from_secs(600));
        let permits: Vec<_> = (0..4).map(|_| t.admit("app", "mbx").unwrap()).collect();
        let err = t.admit("app", "mbx").unwrap_err();
        assert_eq!(err.code, "ApplicationThrottled");
        assert!(t.admit("app", "other").is_ok(), "limits are per mailbox");
        assert_eq!(t.app_peak("APP"), 5, "the app's requests across its mailboxes");
        drop(permits);
        assert!(t.admit("app", "mbx").is_ok());
        let stats = t.stats("APP", "mbx");
        assert_eq!(
            (stats.requests, stats.throttled_concurrency, stats.peak_concurrency),
            (6, 1, 5)
        );
    }

    #[test]
    fn the_rate_window_refuses_with_the_wait_until_a_slot_frees() {
        let clock = SimClock::default();
        let t = Throttle::new(clock.clone(), 4, 3, Duration::from_secs(600));
        for _ in 0..3 {
            drop(t.admit("app", "mbx").unwrap());
        }
        clock.advance(Duration::from_secs(100));
        let err = t.admit("app", "mbx").unwrap_err();
        assert_eq!((err.status.as_u16(), err.retry_after), (429, Some(500)));
        clock.advance(Duration::from_secs(501));
        assert!(t.admit("app", "mbx").is_ok());
    }
}
