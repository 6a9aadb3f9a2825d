//! A Graph message becomes an [`EmailRecord`]: what `write` puts in Dataverse.

use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::{
    domain::{Folder, GraphItemId, InternetMessageId},
    graph::model::{Message, Recipient},
    model::{EmailAddress, EmailRecord, Importance},
};

/// Why a message was not mapped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unmapped {
    /// An unsent draft: not an email yet (server-side sync skips them too).
    #[error("message {id} is a draft")]
    Draft {
        /// Graph id.
        id: String,
    },
    /// A delta entry with only some properties: a change to a message already seen
    /// (reference graph.md 6.1: updated items carry "at least the changed properties").
    #[error("message {id} is a partial update (no receivedDateTime)")]
    Partial {
        /// Graph id.
        id: String,
    },
    /// A property Graph should never send this way.
    #[error("message {id}: {problem}")]
    Malformed {
        /// Graph id.
        id: String,
        /// Which property and what is wrong.
        problem: String,
    },
}

/// Maps a message of `folder`.
pub fn to_email(message: &Message, folder: Folder) -> Result<EmailRecord, Unmapped> {
    let id = &message.id;
    let malformed = |problem: String| Unmapped::Malformed { id: id.clone(), problem };
    if message.is_draft == Some(true) {
        return Err(Unmapped::Draft { id: id.clone() });
    }
    let Some(received) = &message.received_date_time else {
        return Err(Unmapped::Partial { id: id.clone() });
    };
    let graph_id = GraphItemId::parse(id.as_str()).map_err(|e| malformed(e.to_string()))?;
    let received_at = date(received).map_err(|e| malformed(format!("receivedDateTime: {e}")))?;
    let sent_at = match &message.sent_date_time {
        Some(sent) => Some(date(sent).map_err(|e| malformed(format!("sentDateTime: {e}")))?),
        None => None,
    };
    Ok(EmailRecord {
        graph_id,
        folder,
        internet_message_id: message
            .internet_message_id
            .as_deref()
            .and_then(|v| InternetMessageId::parse(v).ok()),
        subject: message.subject.clone().unwrap_or_default(),
        body_html: body_html(message),
        body_omitted: false,
        from: message.from.as_ref().and_then(address),
        to: addresses(&message.to_recipients),
        cc: addresses(&message.cc_recipients),
        bcc: addresses(&message.bcc_recipients),
        received_at,
        sent_at,
        in_reply_to: in_reply_to(message),
        conversation_id: message.conversation_id.clone().filter(|v| !v.is_empty()),
        conversation_index: message.conversation_index.clone().filter(|v| !v.is_empty()),
        importance: importance(message.importance.as_deref()),
        has_attachments: message.has_attachments.unwrap_or(false),
    })
}

fn date(text: &str) -> Result<OffsetDateTime, time::error::Parse> {
    OffsetDateTime::parse(text, &Rfc3339)
}

/// The body of `message` as HTML (a text body escaped, empty when there is none).
pub fn body_html(message: &Message) -> String {
    let Some(body) = &message.body else { return String::new() };
    let content = body.content.as_deref().unwrap_or_default();
    match body.content_type.as_deref() {
        Some(t) if t.eq_ignore_ascii_case("text") => text_to_html(content),
        _ => content.to_string(),
    }
}

/// Escapes a text body into HTML that shows the same text, line breaks kept.
pub fn text_to_html(text: &str) -> String {
    let mut html = String::with_capacity(text.len() + text.len() / 8);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            html.push_str("<br>\n");
        }
        for c in line.trim_end_matches('\r').chars() {
            match c {
                '&' => html.push_str("&amp;"),
                '<' => html.push_str("&lt;"),
                '>' => html.push_str("&gt;"),
                '"' => html.push_str("&quot;"),
                '\'' => html.push_str("&#39;"),
                c => html.push(c),
            }
        }
    }
    html
}

fn address(recipient: &Recipient) -> Option<EmailAddress> {
    let wire = recipient.email_address.as_ref()?;
    let address = wire.address.as_deref().map(str::trim).filter(|a| !a.is_empty())?;
    Some(EmailAddress {
        address: address.to_string(),
        name: wire.name.clone().filter(|n| !n.trim().is_empty()),
    })
}

fn addresses(recipients: &Option<Vec<Recipient>>) -> Vec<EmailAddress> {
    recipients.iter().flatten().filter_map(address).collect()
}

fn importance(value: Option<&str>) -> Importance {
    match value.map(str::to_ascii_lowercase).as_deref() {
        Some("low") => Importance::Low,
        Some("high") => Importance::High,
        _ => Importance::Normal,
    }
}

/// The first Message-ID of the `In-Reply-To` header (RFC 5322 3.6.4), if there is one.
fn in_reply_to(message: &Message) -> Option<InternetMessageId> {
    let header = message
        .internet_message_headers
        .iter()
        .flatten()
        .find(|h| h.name.eq_ignore_ascii_case("In-Reply-To"))?;
    let value = header.value.trim();
    let id = match (value.find('<'), value.find('>')) {
        (Some(start), Some(end)) if start < end => &value[start..=end],
        // Some mailers leave out the angle brackets; a lone id is still an id.
        _ if value.contains('@') && !value.contains(char::is_whitespace) => value,
        _ => return None,
    };
    InternetMessageId::parse(id).ok()
}

#[cfg(test)]
mod tests;
