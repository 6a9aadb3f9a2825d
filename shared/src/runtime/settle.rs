//! What a handler's outcome means for its message: ack, requeue later, or dead-letter. Pure,
//! so the embedded runtime and the Lambda adapter decide alike.

use std::time::Duration;

use crate::{jobs::Envelope, outcome::Outcome, ports::MAX_DELAY};

/// When to retry and when to give up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Failed attempts after which a retryable failure is dead-lettered.
    pub max_attempts: u32,
    /// The backoff after the first failure; each further one doubles it.
    pub first_backoff: Duration,
    /// The longest backoff (and throttling delay): a queue delays at most [`MAX_DELAY`].
    pub max_backoff: Duration,
    /// Receives after which a message that was never settled (its worker crashed or overran its
    /// lease every time) is dead-lettered; the SQS redrive policy's `maxReceiveCount`.
    pub max_receives: u32,
}

impl RetryPolicy {
    /// The production policy. Backoffs before jitter: 2, 4, 8, ... 512 s, then 900 s twice:
    /// twelve attempts spread over about 47 minutes, enough to ride out a Graph or Dataverse
    /// outage or a token endpoint hiccup before an admin has to replay anything. Five
    /// unsettled receives mean the job itself kills or stalls its worker.
    pub const DEFAULT: Self = Self {
        max_attempts: 12,
        first_backoff: Duration::from_secs(2),
        max_backoff: MAX_DELAY,
        max_receives: 5,
    };

    /// The delay before retry number `attempt` (1 after the first failure). `jitter` in
    /// `[0, 1)` picks a point in the upper half of the exponential step ("equal jitter"), so
    /// jobs that failed together do not retry together, yet none retries much sooner than the
    /// step.
    pub fn backoff(&self, attempt: u32, jitter: f64) -> Duration {
        let doublings = attempt.saturating_sub(1).min(30);
        let step = self.first_backoff.saturating_mul(1 << doublings).min(self.max_backoff);
        step.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0)).min(self.max_backoff)
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What to do with a received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// Its effect is durable (or it is parked in the mailbox status): remove it.
    Ack,
    /// Enqueue `envelope` on the same queue after `delay`, then remove this message.
    Requeue {
        /// The job again (one attempt later after a failure; the same after throttling).
        envelope: Envelope,
        /// When it may run again.
        delay: Duration,
    },
    /// Move it to the dead-letter store with `reason`.
    DeadLetter {
        /// What failed and why it will not be retried.
        reason: String,
    },
}

/// The settlement of `envelope` given the handler's `outcome`; `jitter` in `[0, 1)`.
pub fn settle(
    envelope: &Envelope,
    outcome: Outcome,
    policy: &RetryPolicy,
    jitter: f64,
) -> Settlement {
    match outcome {
        Outcome::Done | Outcome::Parked { .. } => Settlement::Ack,
        // A new message rather than a longer lease: throttling must not count as a receive.
        Outcome::Throttled { after, .. } => {
            Settlement::Requeue { envelope: envelope.clone(), delay: after.min(policy.max_backoff) }
        }
        Outcome::Failed { reason, retryable: true } => {
            let next = envelope.retried();
            if next.attempt() >= policy.max_attempts {
                Settlement::DeadLetter {
                    reason: format!("gave up after {} attempts: {reason}", next.attempt()),
                }
            } else {
                let delay = policy.backoff(next.attempt(), jitter);
                Settlement::Requeue { envelope: next, delay }
            }
        }
        Outcome::Failed { reason, retryable: false } => Settlement::DeadLetter { reason },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{domain::MailboxAddress, jobs::Job};

    fn envelope() -> Envelope {
        let mailbox = MailboxAddress::parse("alice@fabrikam.example").unwrap();
        Envelope::new(Job::EnsureSubscriptions { mailbox })
    }

    #[test]
    fn backoff_doubles_within_its_jitter_band_and_stops_at_the_cap() {
        let p = RetryPolicy::DEFAULT;
        assert_eq!(p.backoff(1, 0.0), Duration::from_secs(1));
        let high = p.backoff(1, 0.999_999);
        assert!(high > Duration::from_millis(1999) && high < Duration::from_secs(2), "{high:?}");
        assert_eq!(p.backoff(4, 0.0), Duration::from_secs(8));
        assert_eq!(p.backoff(11, 0.999), MAX_DELAY.mul_f64(0.9995));
        assert_eq!(p.backoff(u32::MAX, 1.0), MAX_DELAY);
        let total: Duration = (1..p.max_attempts).map(|a| p.backoff(a, 1.0)).sum();
        assert!(total > Duration::from_secs(45 * 60) && total < Duration::from_secs(50 * 60));
    }

    #[test]
    fn each_outcome_settles_as_documented() {
        let p = RetryPolicy::DEFAULT;
        let job = envelope();
        assert_eq!(settle(&job, Outcome::Done, &p, 0.5), Settlement::Ack);
        assert_eq!(
            settle(&job, Outcome::Parked { reason: "no access".into() }, &p, 0.5),
            Settlement::Ack
        );
        let throttled =
            Outcome::Throttled { after: Duration::from_secs(3600), reason: "429".into() };
        assert_eq!(
            settle(&job, throttled, &p, 0.5),
            Settlement::Requeue { envelope: job.clone(), delay: MAX_DELAY }
        );
        assert_eq!(
            settle(&job, Outcome::retry("503"), &p, 0.0),
            Settlement::Requeue { envelope: job.retried(), delay: Duration::from_secs(1) }
        );
        assert_eq!(
            settle(&job, Outcome::poison("bad"), &p, 0.0),
            Settlement::DeadLetter { reason: "bad".into() }
        );
        let mut tired = job.clone();
        for _ in 0..p.max_attempts - 1 {
            tired = tired.retried();
        }
        assert_eq!(
            settle(&tired, Outcome::retry("503"), &p, 0.0),
            Settlement::DeadLetter { reason: "gave up after 12 attempts: 503".into() }
        );
    }
}
