//! Simulated time: the wall clock plus an offset that tests can move forward.
//!
//! Token lifetimes, subscription expiry and throttling windows all read this clock, so a test
//! can jump past an expiry without sleeping.

use std::sync::{
    Arc,
    atomic::{AtomicI64, Ordering},
};

use time::{Duration, OffsetDateTime};

/// A clock shared by the simulators of one [`crate`] cloud.
#[derive(Debug, Clone, Default)]
pub struct SimClock {
    offset_ms: Arc<AtomicI64>,
}

impl SimClock {
    /// The current simulated time.
    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// The current simulated time in whole seconds since the Unix epoch (JWT `exp`, `nbf`).
    pub fn unix(&self) -> i64 {
        self.now().unix_timestamp()
    }

    /// Moves simulated time forward by `by`.
    pub fn advance(&self, by: std::time::Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }
}
