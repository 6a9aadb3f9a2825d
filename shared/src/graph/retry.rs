//! How hard the client tries before handing a failure to the handler: a few attempts,
//! Retry-After honoured when it is short, exponential backoff with jitter otherwise.

use std::time::Duration;

use rand::Rng;
use time::{OffsetDateTime, format_description::well_known::Rfc2822};

/// Bounds of the client's own retries. Waits longer than `max_wait` are not slept in-client:
/// the error goes to the handler, which returns `Outcome::Throttled` so the queue waits instead
/// of a worker.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per request, the first included (a 401 refresh does not count).
    pub max_attempts: u32,
    /// The longest wait (Retry-After or backoff) slept inside the client.
    pub max_wait: Duration,
    /// First backoff step.
    pub base_delay: Duration,
    /// Largest backoff step.
    pub max_delay: Duration,
    /// Time allowed for one request, body included.
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            max_wait: Duration::from_secs(10),
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            request_timeout: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1-based): exponential, capped, with "equal
    /// jitter" (half fixed, half random) so that parallel clients spread out.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = self.base_delay.saturating_mul(1u32 << retry.saturating_sub(1).min(16));
        let step = exp.min(self.max_delay);
        let half = step / 2;
        half + half.mul_f64(rand::rng().random::<f64>())
    }
}

/// Reads `Retry-After`: delay-seconds, or an HTTP-date relative to `now` (RFC 9110 10.2.3).
pub(crate) fn parse_retry_after(value: &str, now: OffsetDateTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = OffsetDateTime::parse(value, &Rfc2822).ok()?;
    Some(Duration::try_from(at - now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = datetime!(2015-10-21 07:27:50 UTC);
        assert_eq!(parse_retry_after("10", now), Some(Duration::from_secs(10)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn backoff_grows_and_stays_within_its_cap() {
        let policy = RetryPolicy::default();
        for retry in 1..=10 {
            let wait = policy.backoff(retry);
            let step = (policy.base_delay * 2u32.pow(retry - 1)).min(policy.max_delay);
            assert!(wait >= step / 2 && wait <= step, "retry {retry}: {wait:?}");
        }
    }
}
