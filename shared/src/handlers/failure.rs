//! What a failure means for the job ([`Outcome`]) and for the mailbox's status
//! ([`StatusEvent`]), decided once for every handler; and whether a mailbox's jobs run at all
//! ([`gate`]: disabled, or parked until its next probe).

use std::time::Duration;

use time::OffsetDateTime;

use crate::{
    domain::MailboxAddress,
    graph::{DEFAULT_THROTTLE, ErrorClass, ErrorKind, GraphError, Missing},
    outcome::Outcome,
    ports::{QueueError, StatusStore, StoreError},
    status::{Health, StatusEvent},
};

/// A failure on its way to becoming an outcome.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Graph (or the token behind it) failed.
    Graph(GraphError),
    /// Our own state store failed.
    Store(StoreError),
    /// The queue failed.
    Queue(QueueError),
    /// The configuration does not allow it; an admin must change it.
    Config(String),
    /// A profile's encryption certificates for rich notifications cannot be read.
    Keys(crate::graph::rich::KeyError),
}

impl From<GraphError> for Failure {
    fn from(e: GraphError) -> Self {
        Failure::Graph(e)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

impl From<QueueError> for Failure {
    fn from(e: QueueError) -> Self {
        Failure::Queue(e)
    }
}

impl From<super::passes::PassRequestError> for Failure {
    fn from(e: super::passes::PassRequestError) -> Self {
        match e {
            super::passes::PassRequestError::Store(e) => Failure::Store(e),
            super::passes::PassRequestError::Queue(e) => Failure::Queue(e),
        }
    }
}

impl Failure {
    /// The job's outcome and the status event, with `context` ("inbox pass") in the reason.
    pub(crate) fn verdict(&self, context: &str, now: OffsetDateTime) -> (Outcome, StatusEvent) {
        let (reason, class) = match self {
            Failure::Graph(e) => (format!("{context}: {}", reason(e)), e.class()),
            Failure::Store(e) => {
                let retryable = e.retryable;
                return failed(format!("{context}: {e}"), retryable);
            }
            Failure::Queue(e) => return failed(format!("{context}: {e}"), e.retryable),
            Failure::Config(why) => {
                let reason = format!("{context}: {why}");
                return parked(reason);
            }
            Failure::Keys(e) if e.is_retryable() => return failed(format!("{context}: {e}"), true),
            Failure::Keys(e) => {
                let reason = format!("{context}: {e}");
                return parked(reason);
            }
        };
        match class {
            ErrorClass::Throttled { retry_after } => {
                let after = retry_after.unwrap_or(DEFAULT_THROTTLE).max(Duration::from_secs(1));
                let until = now + after;
                (Outcome::Throttled { after, reason }, StatusEvent::Throttled { until })
            }
            ErrorClass::Transient
            | ErrorClass::DeltaExpired
            | ErrorClass::Credential { retryable: true } => failed(reason, true),
            // Only an admin can fix these; the job goes, the status says why, and the next
            // sweep tries again.
            ErrorClass::AccessDenied(_)
            | ErrorClass::Unauthorized
            | ErrorClass::MailboxNotEnabled
            | ErrorClass::NotFound(Missing::User)
            | ErrorClass::Credential { retryable: false } => parked(reason),
            ErrorClass::NotFound(_) | ErrorClass::Rejected => failed(reason, false),
        }
    }
}

fn failed(reason: String, retryable: bool) -> (Outcome, StatusEvent) {
    let event = StatusEvent::Failed { reason: reason.clone(), retryable, retry_at: None };
    (Outcome::Failed { reason, retryable }, event)
}

/// The job goes and the mailbox parks; [`report_failure`] sets when it is probed again.
fn parked(reason: String) -> (Outcome, StatusEvent) {
    let event = StatusEvent::Failed { reason: reason.clone(), retryable: false, retry_at: None };
    (Outcome::Parked { reason }, event)
}

/// The text an admin reads: Graph's error with its advice, or the token service's verdict with
/// the Entra (AADSTS) code in front.
fn reason(e: &GraphError) -> String {
    match &e.kind {
        ErrorKind::Token(token) => match &token.code {
            Some(code) if !token.message.contains(code.as_str()) => {
                format!("{code}: {token}")
            }
            _ => token.to_string(),
        },
        _ => e.to_string(),
    }
}

/// Applies a status event; a status store that fails must not change the job's outcome.
///
/// The one place a mailbox's transitions are announced, each once (the store answers the
/// health before, atomically): parking is an ERROR, since only an admin can fix it; healing
/// from a park is an INFO.
pub(crate) async fn report(
    status: &dyn StatusStore,
    mailbox: &MailboxAddress,
    event: StatusEvent,
    now: OffsetDateTime,
) {
    let parks = match &event {
        StatusEvent::Failed { reason, retryable: false, retry_at } => {
            Some((reason.clone(), *retry_at))
        }
        _ => None,
    };
    let heals = matches!(event, StatusEvent::PassSucceeded { .. });
    match status.report(mailbox, event, now).await {
        Err(error) => tracing::warn!(%error, %mailbox, "could not update the mailbox status"),
        Ok(before) => {
            let was_parked = before.as_ref().is_some_and(Health::is_parked);
            let disabled = before == Some(Health::Disabled);
            if let Some((reason, retry_at)) = parks.filter(|_| !was_parked && !disabled) {
                let next_probe = retry_at.map(|t| t.to_string()).unwrap_or_default();
                tracing::error!(
                    %mailbox, %reason, %next_probe,
                    "mailbox parked: it does not sync until the cause is fixed; it is probed \
                     again with backoff, and `exsync mailbox test` checks it at once"
                );
            } else if heals && was_parked {
                tracing::info!(%mailbox, "mailbox resumed: the cause of its park is fixed");
            }
        }
    }
}

/// The first probe of a parked mailbox comes this long after the park; each failed probe
/// doubles the wait up to `runtime.parked_retry_max`.
pub(crate) const FIRST_PARKED_RETRY: Duration = Duration::from_secs(60);

/// When a mailbox parked after `failures` failures in a row is probed again: exponential from
/// [`FIRST_PARKED_RETRY`], capped at `max`, with equal jitter (`jitter` in `[0, 1)`) so that
/// the mailboxes of one expired secret do not all ask Entra at the same second.
pub(crate) fn parked_retry(failures: u32, max: Duration, jitter: f64) -> Duration {
    let doublings = failures.saturating_sub(1).min(20);
    let step = FIRST_PARKED_RETRY.saturating_mul(1 << doublings).min(max);
    step.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

/// Reports a failure; a park gets its next probe time from the failures before it.
pub(crate) async fn report_failure(
    status: &dyn StatusStore,
    mailbox: &MailboxAddress,
    mut event: StatusEvent,
    prior_failures: u32,
    max: Duration,
    now: OffsetDateTime,
) {
    if let StatusEvent::Failed { retryable: false, retry_at, .. } = &mut event {
        let wait = parked_retry(prior_failures + 1, max, rand::random::<f64>());
        *retry_at = Some(now + wait);
    }
    report(status, mailbox, event, now).await;
}

/// What [`gate`] found when it let a job run.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Admitted {
    /// Failures in a row so far.
    pub failures: u32,
    /// The mailbox is parked: this job is its probe, and its success heals the park.
    pub probe: bool,
}

/// Whether a job of a mailbox runs now: not when the admin disabled the mailbox, nor while
/// it is parked and its next probe is not due (unless `probe` says this job is one: a sweep,
/// `sync --once`). Answers what it found, or why the job is skipped. A status store that
/// cannot be read lets the job run: the job finds out for itself.
pub(crate) async fn gate(
    status: &dyn StatusStore,
    mailbox: &MailboxAddress,
    now: OffsetDateTime,
    probe: bool,
) -> Result<Admitted, String> {
    let current = match status.status(mailbox).await {
        Ok(current) => current,
        Err(error) => {
            tracing::warn!(%error, %mailbox, "could not read the mailbox status; running the job");
            return Ok(Admitted::default());
        }
    };
    let Some(current) = current else { return Ok(Admitted::default()) };
    match (&current.health, current.next_retry) {
        (Health::Disabled, _) => Err("the mailbox is disabled by the admin".into()),
        (health, Some(next)) if health.is_parked() && next > now && !probe => {
            Err(format!("the mailbox is parked until {next}"))
        }
        (health, _) => {
            Ok(Admitted { failures: current.consecutive_failures, probe: health.is_parked() })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parked_mailbox_waits_a_minute_then_twice_as_long_up_to_the_cap_with_jitter() {
        let cap = Duration::from_secs(30 * 60);
        assert_eq!(parked_retry(1, cap, 0.999_999).as_secs(), 59);
        assert_eq!(parked_retry(1, cap, 0.0), Duration::from_secs(30));
        assert_eq!(parked_retry(3, cap, 0.0), Duration::from_secs(120));
        assert_eq!(parked_retry(10, cap, 0.0), cap / 2);
        assert_eq!(parked_retry(u32::MAX, cap, 1.0), cap);
        // A cap below the first step is the step (tests probe within seconds).
        assert_eq!(parked_retry(1, Duration::from_secs(2), 1.0), Duration::from_secs(2));
    }
}
