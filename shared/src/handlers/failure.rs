//! What a failure means for the job ([`Outcome`]) and for the mailbox's status
//! ([`StatusEvent`]), decided once for every handler.

use std::time::Duration;

use time::OffsetDateTime;

use crate::{
    domain::MailboxAddress,
    graph::{DEFAULT_THROTTLE, ErrorClass, ErrorKind, GraphError, Missing},
    outcome::Outcome,
    ports::{QueueError, StatusStore, StoreError},
    status::StatusEvent,
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
                let event = StatusEvent::Failed { reason: reason.clone(), retryable: false };
                return (Outcome::Parked { reason }, event);
            }
            Failure::Keys(e) if e.is_retryable() => return failed(format!("{context}: {e}"), true),
            Failure::Keys(e) => {
                let reason = format!("{context}: {e}");
                let event = StatusEvent::Failed { reason: reason.clone(), retryable: false };
                return (Outcome::Parked { reason }, event);
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
            | ErrorClass::Credential { retryable: false } => {
                let event = StatusEvent::Failed { reason: reason.clone(), retryable: false };
                (Outcome::Parked { reason }, event)
            }
            ErrorClass::NotFound(_) | ErrorClass::Rejected => failed(reason, false),
        }
    }
}

fn failed(reason: String, retryable: bool) -> (Outcome, StatusEvent) {
    let event = StatusEvent::Failed { reason: reason.clone(), retryable };
    (Outcome::Failed { reason, retryable }, event)
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
pub(crate) async fn report(
    status: &dyn StatusStore,
    mailbox: &MailboxAddress,
    event: StatusEvent,
    now: OffsetDateTime,
) {
    if let Err(error) = status.report(mailbox, event, now).await {
        tracing::warn!(%error, %mailbox, "could not update the mailbox status");
    }
}
