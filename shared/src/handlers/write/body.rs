//! The rare path: an email whose body was too large for its queue message
//! ([`EmailRecord::body_omitted`], see `handlers::sync`) gets it from Graph just before it is
//! written, with one `GET /users/{mailbox}/messages/{id}` as the mailbox that saw it.

use tracing::{info, warn};

use super::WriteDeps;
use crate::{
    domain::MailboxAddress,
    graph::{DEFAULT_THROTTLE, ErrorClass, GraphError, MailboxAccess, Missing},
    mapping::message::body_html,
    model::EmailRecord,
    outcome::Outcome,
};

/// `email` with its body read from Graph. A message that is gone from the mailbox (deleted,
/// or the mailbox left the configuration) is written without it: it still happened, and the
/// mapping marks the body as truncated. Any other failure keeps the job for a retry.
pub(super) async fn complete(
    deps: &WriteDeps,
    mailbox: &MailboxAddress,
    email: &EmailRecord,
) -> Result<EmailRecord, Outcome> {
    let Some(configured) = deps.config.mailbox(mailbox) else {
        warn!(%mailbox, id = %email.graph_id, "the mailbox left the configuration: written without its body");
        return Ok(email.clone());
    };
    let access = MailboxAccess::of(&deps.config, configured);
    match deps.graph.message(&access, &email.graph_id).await {
        Ok(message) => {
            let body_html = body_html(&message);
            info!(%mailbox, id = %email.graph_id, bytes = body_html.len(), "body read from Graph");
            Ok(EmailRecord { body_html, body_omitted: false, ..email.clone() })
        }
        Err(e) if e.class() == ErrorClass::NotFound(Missing::Item) => {
            warn!(%mailbox, id = %email.graph_id, "the message left the mailbox before its body was read: written without it");
            Ok(email.clone())
        }
        Err(e) => Err(outcome(&e, mailbox, email)),
    }
}

/// What a failed read means for the write job. Never parked: a parked job is removed, and
/// no later pass would hand this email to `write` again.
fn outcome(error: &GraphError, mailbox: &MailboxAddress, email: &EmailRecord) -> Outcome {
    let reason = format!(
        "reading the body of message {} of mailbox {mailbox} from Graph: {error}",
        email.graph_id
    );
    match error.class() {
        ErrorClass::Throttled { retry_after } => {
            Outcome::Throttled { after: retry_after.unwrap_or(DEFAULT_THROTTLE), reason }
        }
        ErrorClass::Rejected => Outcome::poison(reason),
        _ => Outcome::retry(reason),
    }
}
