//! What travels between the functions: an email as exsync carries it from Graph to Dataverse.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::domain::{Folder, GraphItemId, InternetMessageId};

/// An address as the message shows it (not validated: mail carries odd ones).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailAddress {
    /// The SMTP address, as written.
    pub address: String,
    /// The display name, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Importance of a message (Graph `importance`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Importance {
    /// Low.
    Low,
    /// Normal (the default).
    #[default]
    Normal,
    /// High.
    High,
}

/// One message of a synced folder, mapped from Graph, ready to be written to Dataverse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailRecord {
    /// Graph's immutable id of the message in this mailbox.
    pub graph_id: GraphItemId,
    /// The folder it was found in: Inbox means received, Sent Items means sent.
    pub folder: Folder,
    /// RFC 5322 Message-ID (absent on some drafts and system messages).
    pub internet_message_id: Option<InternetMessageId>,
    /// Subject (may be empty).
    pub subject: String,
    /// The body as HTML (a text body is escaped into HTML).
    pub body_html: String,
    /// The body did not fit in a queue message and was left out (`body_html` is empty):
    /// `write` reads it from Graph by `graph_id` (`GraphClient::message`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub body_omitted: bool,
    /// The sender (`from`).
    pub from: Option<EmailAddress>,
    /// To recipients.
    pub to: Vec<EmailAddress>,
    /// Cc recipients.
    pub cc: Vec<EmailAddress>,
    /// Bcc recipients (only the sender's copy has them).
    pub bcc: Vec<EmailAddress>,
    /// `receivedDateTime`: the date "process emails from" compares with.
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// `sentDateTime`.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub sent_at: Option<OffsetDateTime>,
    /// The Message-ID this one replies to (`In-Reply-To`), for threading.
    #[serde(default)]
    pub in_reply_to: Option<InternetMessageId>,
    /// Graph `conversationId`.
    #[serde(default)]
    pub conversation_id: Option<String>,
    /// Graph `conversationIndex` (base64 thread index).
    #[serde(default)]
    pub conversation_index: Option<String>,
    /// Importance.
    #[serde(default)]
    pub importance: Importance,
    /// Whether it has (non-inline) attachments.
    #[serde(default)]
    pub has_attachments: bool,
}
