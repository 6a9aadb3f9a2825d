//! An email as Dataverse stores it: the body that creates its email activity and the update
//! that closes it, filled in the way server-side sync fills them (reference A2, A9, A10, E).
//!
//! # Why a plain create, not the `DeliverIncomingEmail` action
//!
//! Dataverse offers the action server-side sync uses (reference E); it resolves parties,
//! correlates and de-duplicates on the server. exsync instead creates the email itself (POST
//! `emails` with `email_activity_parties` deep-inserted) and closes it with a state update, both
//! in one atomic `$batch` changeset, because:
//! - exactly once: the create carries a deterministic `activityid` ([`activity_id`]), so a
//!   retry after a crash at any point either creates the email or is told it exists. The
//!   action takes no id, and its duplicate check (`messageiddupcheck`) is undocumented (A10).
//! - the rules are ours to test: party resolution order, In-Reply-To correlation and the
//!   inherited Regarding are documented (A10), but what the action does is only partly so (E).
//! - the action only takes address strings and a body: a sent email (direction outgoing,
//!   status Sent) and the parent link have no parameter.
//!
//! The price is doing resolution, correlation and de-duplication here, which
//! [`crate::dataverse::parties`] and `handlers::write` do.

use serde_json::{Map, Value, json};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use uuid::Uuid;

use crate::{
    dataverse::{
        model::{EMAIL_STATE_COMPLETED, EmailStatus, ParticipationType, RecordRef},
        parties::PartyMatches,
    },
    domain::{Folder, MailboxAddress, RecordId},
    model::{EmailAddress, EmailRecord, Importance},
};

/// Longest `subject` (PAD-ref `email.md` today: 800; the 2017 CE reference said 200).
pub const SUBJECT_MAX: usize = 800;
/// Longest `messageid` (A2).
pub const MESSAGE_ID_MAX: usize = 320;
/// Longest `activityparty.addressused` (A2).
pub const ADDRESS_USED_MAX: usize = 320;
/// Longest `sender` (A2).
pub const SENDER_MAX: usize = 250;
/// Longest `torecipients` (A2).
pub const TO_RECIPIENTS_MAX: usize = 500;
/// `email.notifications`: the body was truncated (A2).
const NOTIFICATION_TRUNCATED_BODY: i64 = 2;

/// exsync's UUIDv5 namespace for email activity ids. Never change it: ids already written
/// would no longer be recognised and their emails would be written again.
const ACTIVITY_NAMESPACE: Uuid = Uuid::from_u128(0xfbb98311_9ca3_45f0_a834_7ea1238232bd);

/// The `activityid` an email gets whichever mailbox, job or attempt writes it: from its
/// Internet Message-ID (one message seen by several mailboxes is one activity), or for a
/// message without one, from the mailbox and Graph's immutable id.
pub fn activity_id(mailbox: &MailboxAddress, email: &EmailRecord) -> RecordId {
    let name = match &email.internet_message_id {
        Some(id) => format!("message-id:{}", id.as_str()),
        None => format!("graph:{}:{}", mailbox.as_str(), email.graph_id.as_str()),
    };
    Uuid::new_v5(&ACTIVITY_NAMESPACE, name.as_bytes())
}

/// The email a reply answers, as found in Dataverse (In-Reply-To correlation, A10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parent {
    /// Its activity id.
    pub activity_id: RecordId,
    /// What it is Regarding, which the reply inherits.
    pub regarding: Option<RecordRef>,
}

/// An email activity ready to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct EmailActivity {
    /// Its id.
    pub activity_id: RecordId,
    /// The POST `emails` body (parties deep-inserted).
    pub create: Value,
    /// The update that closes it (Completed / Received or Sent).
    pub close: Value,
    /// What it is Regarding (inherited from its parent), for its own replies.
    pub regarding: Option<RecordRef>,
}

/// Maps `email` to an email activity with id `activity_id`, its addresses resolved by
/// `parties`, linked to `parent` when it answers one.
pub fn email_activity(
    email: &EmailRecord,
    activity_id: RecordId,
    parties: &PartyMatches,
    parent: Option<&Parent>,
) -> EmailActivity {
    let received = email.folder == Folder::Inbox;
    // A message without a sent date can come as 0001-01-01. Dataverse date columns have a
    // MinSupportedValue (DateTimeAttributeMetadata); that it is SQL Server `datetime`'s
    // 1753-01-01 (learn.microsoft.com, SqlDateTime.MinValue) is UNCONFIRMED for Dataverse, so
    // anything earlier is replaced by the received date.
    let sent_at = email.sent_at.filter(|at| at.year() >= 1753).unwrap_or(email.received_at);
    let mut body = Map::new();
    body.insert("activityid".into(), json!(activity_id));
    body.insert("subject".into(), json!(truncate(&email.subject, SUBJECT_MAX)));
    body.insert("description".into(), json!(email.body_html));
    if email.body_omitted {
        // The body could not be read (the message left the mailbox first): `notifications`
        // 2 is Dataverse's own "Truncated body" flag (A2).
        body.insert("notifications".into(), json!(NOTIFICATION_TRUNCATED_BODY));
    }
    // directioncode: true = outgoing, false = incoming (A2).
    body.insert("directioncode".into(), json!(!received));
    body.insert("actualstart".into(), json!(timestamp(sent_at)));
    body.insert(
        "actualend".into(),
        json!(timestamp(if received { email.received_at } else { sent_at })),
    );
    body.insert("prioritycode".into(), json!(priority(email.importance)));
    if let Some(id) = &email.internet_message_id
        && utf16_len(id.as_str()) <= MESSAGE_ID_MAX
    {
        // Verbatim, angle brackets included, as server-side sync stores it; an overlong one is
        // left out rather than cut (a cut id would correlate with nothing).
        body.insert("messageid".into(), json!(id.as_str()));
    }
    if let Some(from) = &email.from {
        body.insert("sender".into(), json!(truncate(&from.address, SENDER_MAX)));
    }
    if !email.to.is_empty() {
        body.insert("torecipients".into(), json!(recipients_text(&email.to)));
    }
    body.insert("email_activity_parties".into(), Value::Array(activity_parties(email, parties)));
    let regarding = parent.and_then(|p| p.regarding.clone());
    if let Some(parent) = parent {
        body.insert(
            "parentactivityid@odata.bind".into(),
            json!(format!("/emails({})", parent.activity_id)),
        );
    }
    if let Some(regarding) = &regarding {
        body.insert(regarding.regarding_bind_property(), json!(regarding.bind_value()));
    }
    let status = if received { EmailStatus::Received } else { EmailStatus::Sent };
    EmailActivity {
        activity_id,
        create: Value::Object(body),
        close: json!({"statecode": EMAIL_STATE_COMPLETED, "statuscode": status as i64}),
        regarding,
    }
}

/// Every activity party: the sender resolved to its first match, each recipient to all of
/// its matches, an unmatched address kept as `addressused` only (A2, A10).
fn activity_parties(email: &EmailRecord, parties: &PartyMatches) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(from) = &email.from {
        let sender = parties.sender(&from.address);
        out.push(party(ParticipationType::Sender, &from.address, sender.as_slice()));
    }
    let lists = [
        (ParticipationType::To, &email.to),
        (ParticipationType::Cc, &email.cc),
        (ParticipationType::Bcc, &email.bcc),
    ];
    for (kind, addresses) in lists {
        let mut seen = std::collections::HashSet::new();
        for address in addresses.iter().filter(|a| seen.insert(a.address.to_lowercase())) {
            let matches = parties.all(&address.address);
            if matches.is_empty() {
                out.push(party(kind, &address.address, &[]));
            }
            for matched in matches {
                out.push(party(kind, &address.address, std::slice::from_ref(matched)));
            }
        }
    }
    out
}

fn party(
    kind: ParticipationType,
    address: &str,
    matched: &[crate::dataverse::model::PartyRef],
) -> Value {
    let mut party = Map::new();
    party.insert("participationtypemask".into(), json!(kind as i64));
    party.insert("addressused".into(), json!(truncate(address, ADDRESS_USED_MAX)));
    if let Some(record) = matched.first() {
        party.insert(record.bind_property(), json!(record.bind_value()));
    }
    Value::Object(party)
}

/// `torecipients`: the To addresses, `;`-separated, cut at an address boundary.
fn recipients_text(to: &[EmailAddress]) -> String {
    let mut text = String::new();
    for address in to {
        let next = format!("{}{};", text, address.address);
        if utf16_len(&next) > TO_RECIPIENTS_MAX {
            break;
        }
        text = next;
    }
    text
}

fn priority(importance: Importance) -> i64 {
    match importance {
        Importance::Low => 0,
        Importance::Normal => 1,
        Importance::High => 2,
    }
}

fn timestamp(at: OffsetDateTime) -> String {
    let utc = at.to_offset(time::UtcOffset::UTC).replace_nanosecond(0).expect("0 ns is valid");
    utc.format(&Rfc3339).expect("a UTC time formats as RFC 3339")
}

/// Dataverse string lengths count UTF-16 code units.
fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// The longest prefix of `text` within `max` UTF-16 code units.
fn truncate(text: &str, max: usize) -> &str {
    let mut units = 0;
    for (at, c) in text.char_indices() {
        units += c.len_utf16();
        if units > max {
            return &text[..at];
        }
    }
    text
}

#[cfg(test)]
mod tests;
