//! Service protection limits, per user per environment over a sliding window
//! (`PAD:api-limits.md`, reference A7).
//!
//! The concurrency limit trips at once; the request-count and execution-time limits trip once
//! the window total is reached. A client that keeps sending while told to wait is told to wait
//! longer: each request inside the announced `Retry-After` doubles it (capped at the window).

use std::collections::VecDeque;

use axum::http::StatusCode;

use super::errors::ApiError;

/// The thresholds. Defaults are the documented ones; tests lower them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Requests per window (6000).
    pub requests: u64,
    /// Combined execution time per window, in milliseconds (1,200,000).
    pub execution_ms: u64,
    /// Concurrent requests (52).
    pub concurrent: u32,
    /// Window length in seconds (300).
    pub window_secs: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self { requests: 6000, execution_ms: 1_200_000, concurrent: 52, window_secs: 300 }
    }
}

/// Which limit a request hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Violation {
    /// Number of requests.
    Requests,
    /// Combined execution time.
    ExecutionTime,
    /// Concurrent requests.
    Concurrency,
}

impl Violation {
    /// The error code (reference A7).
    pub fn code(self) -> &'static str {
        match self {
            Violation::Requests => "0x80072322",
            Violation::ExecutionTime => "0x80072321",
            Violation::Concurrency => "0x80072326",
        }
    }

    /// The message, with the configured numbers (reference A7; note the two spaces before
    /// "milliseconds", as in the source).
    pub fn message(self, limits: &Limits) -> String {
        match self {
            Violation::Requests => format!(
                "Number of requests exceeded the limit of {} over time window of {} seconds.",
                limits.requests, limits.window_secs
            ),
            Violation::ExecutionTime => format!(
                "Combined execution time of incoming requests exceeded limit of {}  milliseconds over \
                 time window of {} seconds. Decrease number of concurrent requests or reduce the \
                 duration of requests and try again later.",
                thousands(limits.execution_ms),
                limits.window_secs
            ),
            Violation::Concurrency => {
                format!(
                    "Number of concurrent requests exceeded the limit of {}.",
                    limits.concurrent
                )
            }
        }
    }

    /// The 429 response.
    pub fn error(self, limits: &Limits, retry_after_secs: u64) -> ApiError {
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, self.code(), self.message(limits))
            .with_header("retry-after", retry_after_secs.to_string())
    }
}

/// `1200000` -> `1,200,000`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[derive(Debug, Clone, Copy)]
struct Event {
    at_ms: i64,
    requests: u64,
    execution_ms: u64,
}

#[derive(Debug, Clone, Copy)]
struct Block {
    until_ms: i64,
    retry_secs: u64,
    violation: Violation,
}

/// One user's usage in one environment.
#[derive(Debug, Default)]
pub struct Usage {
    in_flight: u32,
    events: VecDeque<Event>,
    block: Option<Block>,
}

impl Usage {
    /// Starts a request: refused at once when `concurrent` requests are already running.
    /// Retry-After for this limit is not documented; 1 second is our choice (UNCONFIRMED).
    pub fn enter(&mut self, limits: &Limits) -> Result<(), ApiError> {
        if self.in_flight >= limits.concurrent {
            return Err(Violation::Concurrency.error(limits, 1));
        }
        self.in_flight += 1;
        Ok(())
    }

    /// Ends a request started with [`Usage::enter`], adding its execution time.
    pub fn leave(&mut self, now_ms: i64, execution_ms: u64) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if execution_ms > 0 {
            self.events.push_back(Event { at_ms: now_ms, requests: 0, execution_ms });
        }
    }

    /// Admits `requests` operations at `now_ms`, or refuses them with the window limit hit.
    pub fn admit(
        &mut self,
        limits: &Limits,
        now_ms: i64,
        requests: u64,
    ) -> Result<(), (Violation, ApiError)> {
        let window_ms = i64::try_from(limits.window_secs * 1000).unwrap_or(i64::MAX);
        while self.events.front().is_some_and(|e| e.at_ms + window_ms <= now_ms) {
            self.events.pop_front();
        }
        if let Some(block) = self.block {
            if now_ms < block.until_ms {
                // Still pushing inside the announced wait: the wait grows.
                let retry_secs = (block.retry_secs * 2).min(limits.window_secs).max(1);
                self.block =
                    Some(Block { until_ms: now_ms + secs_ms(retry_secs), retry_secs, ..block });
                return Err((block.violation, block.violation.error(limits, retry_secs)));
            }
            self.block = None;
        }
        let total_requests: u64 = self.events.iter().map(|e| e.requests).sum();
        let total_ms: u64 = self.events.iter().map(|e| e.execution_ms).sum();
        let violation = if total_requests >= limits.requests {
            Some((
                Violation::Requests,
                self.expiry(window_ms, |e| e.requests, total_requests, limits.requests),
            ))
        } else if total_ms >= limits.execution_ms {
            Some((
                Violation::ExecutionTime,
                self.expiry(window_ms, |e| e.execution_ms, total_ms, limits.execution_ms),
            ))
        } else {
            None
        };
        if let Some((violation, free_at_ms)) = violation {
            let retry_secs = u64::try_from((free_at_ms - now_ms + 999) / 1000).unwrap_or(1).max(1);
            self.block =
                Some(Block { until_ms: now_ms + secs_ms(retry_secs), retry_secs, violation });
            return Err((violation, violation.error(limits, retry_secs)));
        }
        self.events.push_back(Event { at_ms: now_ms, requests, execution_ms: 0 });
        Ok(())
    }

    /// When enough events leave the window for `total` to drop below `limit`.
    fn expiry(
        &self,
        window_ms: i64,
        amount: impl Fn(&Event) -> u64,
        total: u64,
        limit: u64,
    ) -> i64 {
        let mut remaining = total;
        for event in &self.events {
            remaining -= amount(event);
            if remaining < limit {
                return event.at_ms + window_ms;
            }
        }
        self.events.back().map_or(0, |e| e.at_ms + window_ms)
    }

    /// Requests left in the window (diagnostic `x-ms-ratelimit-burst-remaining-xrm-requests`).
    pub fn remaining(&self, limits: &Limits) -> (u64, u64) {
        let requests: u64 = self.events.iter().map(|e| e.requests).sum();
        let ms: u64 = self.events.iter().map(|e| e.execution_ms).sum();
        (limits.requests.saturating_sub(requests), limits.execution_ms.saturating_sub(ms))
    }
}

fn secs_ms(secs: u64) -> i64 {
    i64::try_from(secs * 1000).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits { requests: 3, execution_ms: 1000, concurrent: 2, window_secs: 300 }
    }

    #[test]
    fn the_request_limit_trips_after_the_window_total_and_retry_after_grows_when_pushed() {
        let (l, mut u) = (limits(), Usage::default());
        for i in 0..3 {
            u.admit(&l, i * 1000, 1).unwrap();
        }
        let (v, err) = u.admit(&l, 10_000, 1).unwrap_err();
        assert_eq!(v, Violation::Requests);
        assert_eq!(err.code, "0x80072322");
        assert_eq!(
            err.message,
            "Number of requests exceeded the limit of 3 over time window of 300 seconds."
        );
        // The first event (t=0) leaves the window at t=300 s: 290 s from now.
        assert_eq!(err.headers, vec![("retry-after", "290".to_string())]);
        let (_, again) = u.admit(&l, 11_000, 1).unwrap_err();
        assert_eq!(again.headers, vec![("retry-after", "300".to_string())]);
        // Honouring the wait works once the window has room again.
        u.admit(&l, 11_000 + 300_000, 1).unwrap();
    }

    #[test]
    fn execution_time_and_concurrency_limits_have_their_codes_and_messages() {
        let (l, mut u) = (limits(), Usage::default());
        u.enter(&l).unwrap();
        u.enter(&l).unwrap();
        let err = u.enter(&l).unwrap_err();
        assert_eq!((err.code.as_str(), err.status.as_u16()), ("0x80072326", 429));
        assert_eq!(err.message, "Number of concurrent requests exceeded the limit of 2.");
        u.leave(0, 600);
        u.leave(1, 600);
        let (v, err) = u.admit(&l, 2, 1).unwrap_err();
        assert_eq!((v, err.code.as_str()), (Violation::ExecutionTime, "0x80072321"));
        assert!(err.message.starts_with(
            "Combined execution time of incoming requests exceeded limit of 1,000  milliseconds"
        ));
        assert_eq!(thousands(1_200_000), "1,200,000");
    }
}
