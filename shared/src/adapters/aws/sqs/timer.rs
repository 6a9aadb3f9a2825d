//! Delays longer than an SQS message timer allows (900 s): sent in hops.
//!
//! A delay up to the cap is an SQS message timer (`DelaySeconds`). A longer one is sent with
//! the cap as its timer and the instant it is due as the [`NOT_BEFORE`] attribute. Whoever
//! receives it early (the embedded receive here, the Lambda batch adapter on AWS) sends the
//! same body again with the [`Timer`] that is left and deletes the early copy: a new message
//! starts with a receive count of zero, so hops never push a job towards its dead-letter
//! queue, and it reaches a handler only once it is due.

use std::time::Duration;

use time::OffsetDateTime;

use super::whole_seconds;

/// The longest SQS message timer: "The maximum is 15 minutes" (SQS Developer Guide, *Amazon
/// SQS message timers*).
pub const SQS_MAX_TIMER: Duration = Duration::from_secs(900);

/// The message attribute with the instant a hopping message is due (Unix milliseconds).
pub const NOT_BEFORE: &str = "exsync.not_before";

/// How a delay is sent: an SQS timer, and the due instant when the timer cannot reach it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timer {
    /// `DelaySeconds` of this hop.
    pub delay_seconds: i32,
    /// When the message is due, if it is after this hop.
    pub not_before: Option<OffsetDateTime>,
}

impl Timer {
    /// The timer of a message enqueued at `now` with `delay`, with timers of at most `cap`.
    pub fn new(delay: Duration, cap: Duration, now: OffsetDateTime) -> Self {
        if delay <= cap {
            return Self { delay_seconds: whole_seconds(delay, cap.as_secs()), not_before: None };
        }
        Self { delay_seconds: whole_seconds(cap, cap.as_secs()), not_before: Some(now + delay) }
    }

    /// The next hop of a message due at `not_before` and received at `now`, or `None` if it
    /// is due: a handler may have it.
    pub fn next_hop(
        not_before: OffsetDateTime,
        now: OffsetDateTime,
        cap: Duration,
    ) -> Option<Self> {
        let left = Duration::try_from(not_before - now).ok().filter(|d| !d.is_zero())?;
        Some(Self::new(left, cap, now).keeping_due(not_before))
    }

    /// The same hop, always carrying the due instant (so an early hop can be recognised even
    /// when the time left fits one timer: SQS rounds timers to whole seconds).
    fn keeping_due(self, not_before: OffsetDateTime) -> Self {
        Self { not_before: Some(not_before), ..self }
    }
}

/// The attribute value of a due instant.
pub fn not_before_value(due: OffsetDateTime) -> String {
    (due.unix_timestamp_nanos() / 1_000_000).to_string()
}

/// The due instant of an attribute value; `None` if it is not one (then the message is due).
pub fn parse_not_before(value: &str) -> Option<OffsetDateTime> {
    let millis: i128 = value.trim().parse().ok()?;
    OffsetDateTime::from_unix_timestamp_nanos(millis.checked_mul(1_000_000)?).ok()
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const T0: OffsetDateTime = datetime!(2026-11-23 10:00 UTC);

    #[test]
    fn a_delay_within_the_cap_is_a_plain_timer_rounded_up() {
        let timer = Timer::new(Duration::from_millis(2_100), SQS_MAX_TIMER, T0);
        assert_eq!(timer, Timer { delay_seconds: 3, not_before: None });
        assert_eq!(Timer::new(SQS_MAX_TIMER, SQS_MAX_TIMER, T0).delay_seconds, 900);
    }

    #[test]
    fn a_longer_delay_hops_until_it_is_due() {
        let hour = Duration::from_secs(3600);
        let first = Timer::new(hour, SQS_MAX_TIMER, T0);
        let due = T0 + hour;
        assert_eq!(first, Timer { delay_seconds: 900, not_before: Some(due) });
        let received = T0 + Duration::from_secs(900);
        let second = Timer::next_hop(due, received, SQS_MAX_TIMER).unwrap();
        assert_eq!(second, Timer { delay_seconds: 900, not_before: Some(due) });
        let last = Timer::next_hop(due, due - Duration::from_millis(300), SQS_MAX_TIMER).unwrap();
        assert_eq!(
            last,
            Timer { delay_seconds: 1, not_before: Some(due) },
            "rounded up, still marked"
        );
        assert_eq!(Timer::next_hop(due, due, SQS_MAX_TIMER), None);
        assert_eq!(Timer::next_hop(due, due + Duration::from_secs(5), SQS_MAX_TIMER), None);
    }

    #[test]
    fn due_instants_survive_their_attribute_and_garbage_means_due() {
        let due = datetime!(2026-11-23 10:15:00.250 UTC);
        assert_eq!(parse_not_before(&not_before_value(due)), Some(due));
        assert_eq!(parse_not_before("soon"), None);
    }
}
