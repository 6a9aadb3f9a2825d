//! Graph's JSON as exsync reads and writes it: messages, delta pages, subscriptions.
//! Change-notification payloads are in [`super::notification`].

use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::domain::SubscriptionId;

pub use super::notification::{
    ChangeNotification, ChangeType, LifecycleNotice, NotificationCollection, ResourceData,
};

/// The message properties the mapping needs, requested with `$select` (`id` always comes).
/// `internetMessageHeaders` is returned only when selected (reference graph.md 7).
pub const MESSAGE_SELECT: &str = "id,subject,body,from,toRecipients,ccRecipients,bccRecipients,\
receivedDateTime,sentDateTime,internetMessageId,internetMessageHeaders,conversationId,\
conversationIndex,importance,hasAttachments,isDraft";

/// A message (reference graph.md 7). Every field but `id` may be absent: delta returns
/// updated items with "at least the changed properties" (reference 6.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// The (immutable) id.
    pub id: String,
    /// Subject.
    #[serde(default)]
    pub subject: Option<String>,
    /// Body, HTML or text.
    #[serde(default)]
    pub body: Option<ItemBody>,
    /// The mailbox it was sent from.
    #[serde(default)]
    pub from: Option<Recipient>,
    /// To.
    #[serde(default)]
    pub to_recipients: Option<Vec<Recipient>>,
    /// Cc.
    #[serde(default)]
    pub cc_recipients: Option<Vec<Recipient>>,
    /// Bcc (the sender's copy only).
    #[serde(default)]
    pub bcc_recipients: Option<Vec<Recipient>>,
    /// ISO 8601 UTC, e.g. `2014-01-01T00:00:00Z`.
    #[serde(default)]
    pub received_date_time: Option<String>,
    /// ISO 8601 UTC.
    #[serde(default)]
    pub sent_date_time: Option<String>,
    /// RFC 5322 Message-ID, angle brackets included.
    #[serde(default)]
    pub internet_message_id: Option<String>,
    /// Headers (only when selected).
    #[serde(default)]
    pub internet_message_headers: Option<Vec<MessageHeader>>,
    /// Conversation (thread) id.
    #[serde(default)]
    pub conversation_id: Option<String>,
    /// Thread index, base64.
    #[serde(default)]
    pub conversation_index: Option<String>,
    /// `low`, `normal` or `high`.
    #[serde(default)]
    pub importance: Option<String>,
    /// False when the only attachments are inline.
    #[serde(default)]
    pub has_attachments: Option<bool>,
    /// An unsent draft.
    #[serde(default)]
    pub is_draft: Option<bool>,
}

/// A body (`itemBody`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemBody {
    /// `html` or `text` (any case).
    #[serde(default)]
    pub content_type: Option<String>,
    /// The content.
    #[serde(default)]
    pub content: Option<String>,
}

/// A recipient (`{"emailAddress":{"name","address"}}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Recipient {
    /// The address; Exchange can leave `address` out (e.g. unresolved X.500 senders).
    #[serde(default)]
    pub email_address: Option<WireAddress>,
}

/// `emailAddress`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WireAddress {
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// SMTP address.
    #[serde(default)]
    pub address: Option<String>,
}

/// One of `internetMessageHeaders`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MessageHeader {
    /// Header name, e.g. `In-Reply-To`.
    pub name: String,
    /// Its value.
    #[serde(default)]
    pub value: String,
}

/// One page of a delta round, as Graph sends it.
#[derive(Debug, Deserialize)]
pub(crate) struct DeltaResponse {
    #[serde(default)]
    pub value: Vec<Value>,
    #[serde(rename = "@odata.nextLink")]
    pub next_link: Option<String>,
    #[serde(rename = "@odata.deltaLink")]
    pub delta_link: Option<String>,
}

/// An entry of a delta page.
#[derive(Debug, Clone, PartialEq)]
pub enum DeltaItem {
    /// A message new to the folder, or changed (possibly with only some properties).
    Message(Box<Message>),
    /// `@removed`: deleted, or moved out of the folder.
    Removed {
        /// Its id.
        id: String,
    },
    /// An entry that is not a readable message; kept so the caller can say which.
    Unreadable {
        /// Its id, when it has one.
        id: Option<String>,
        /// Why it could not be read.
        error: String,
    },
}

impl DeltaItem {
    /// Reads one entry of `value`.
    pub(crate) fn from_json(value: Value) -> Self {
        let id = value.get("id").and_then(Value::as_str).map(str::to_string);
        if value.get("@removed").is_some() {
            return match id {
                Some(id) => DeltaItem::Removed { id },
                None => DeltaItem::Unreadable { id, error: "@removed without an id".into() },
            };
        }
        match serde_json::from_value::<Message>(value) {
            Ok(message) => DeltaItem::Message(Box::new(message)),
            Err(e) => DeltaItem::Unreadable { id, error: e.to_string() },
        }
    }
}

/// An attachment, as listed (reference graph.md 7, fileAttachment).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    /// `#microsoft.graph.fileAttachment`, `itemAttachment` or `referenceAttachment`.
    #[serde(rename = "@odata.type", default)]
    pub odata_type: Option<String>,
    /// Its id.
    pub id: String,
    /// File name.
    #[serde(default)]
    pub name: Option<String>,
    /// MIME type.
    #[serde(default)]
    pub content_type: Option<String>,
    /// Size in bytes.
    #[serde(default)]
    pub size: Option<i64>,
    /// Shown inline (referenced by `cid:`).
    #[serde(default)]
    pub is_inline: bool,
    /// The `cid:` id of an inline attachment.
    #[serde(default)]
    pub content_id: Option<String>,
    /// Base64 content (file attachments).
    #[serde(default)]
    pub content_bytes: Option<String>,
}

/// A subscription as Graph returns it (the `clientState` it echoes is not kept here).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// Graph's id.
    pub id: SubscriptionId,
    /// The resource it watches.
    #[serde(default)]
    pub resource: String,
    /// The change types.
    #[serde(default)]
    pub change_type: String,
    /// When Graph deletes it unless renewed.
    #[serde(with = "time::serde::rfc3339")]
    pub expiration_date_time: OffsetDateTime,
    /// Where notifications go.
    #[serde(default)]
    pub notification_url: String,
    /// Where lifecycle notifications go.
    #[serde(default)]
    pub lifecycle_notification_url: Option<String>,
    /// Whether notifications carry the resource data (rich notifications).
    #[serde(default)]
    pub include_resource_data: Option<bool>,
    /// The id of the certificate rich notifications are encrypted for.
    #[serde(default)]
    pub encryption_certificate_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn delta_entries_are_messages_removals_or_named_as_unreadable() {
        let removed = json!({"@odata.type":"#microsoft.graph.message","id":"AAMk1=",
            "@removed":{"reason":"deleted"}});
        assert_eq!(DeltaItem::from_json(removed), DeltaItem::Removed { id: "AAMk1=".into() });
        let message = json!({"@odata.type":"#microsoft.graph.message",
            "@odata.etag":"W/\"CQAAABYAAAARn2vdzPFjSbaPPxzjlzOTAAASsKZz\"",
            "subject":"Holiday hours update","isRead":false,
            "sender":{"emailAddress":{"name":"Dana Swope","address":"danas@contoso.com"}},
            "id":"AAMkADNkNAAASq35xAAA="});
        let DeltaItem::Message(m) = DeltaItem::from_json(message) else { panic!() };
        assert_eq!(m.subject.as_deref(), Some("Holiday hours update"));
        let odd = json!({"id":"AAMk2=","toRecipients":"nobody"});
        assert!(matches!(
            DeltaItem::from_json(odd),
            DeltaItem::Unreadable { id: Some(id), .. } if id == "AAMk2="
        ));
    }

    #[test]
    fn a_subscription_reads_from_the_create_response() {
        let body = r#"{
          "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#subscriptions/$entity",
          "id": "5522bd62-7c96-4530-85b0-00b916f6151a",
          "resource": "users/622eaaff-0683-4862-9de4-f2ec83c2bd98/messages",
          "applicationId": "507c3b9a-0000-0000-0000-000000000000",
          "changeType": "created",
          "clientState": "secretClientState",
          "notificationUrl": "https://webhook.azurewebsites.net/api/send/myNotifyClient",
          "lifecycleNotificationUrl": null,
          "expirationDateTime": "2022-01-01T21:42:18.2257768Z",
          "latestSupportedTlsVersion": "v1_2"
        }"#;
        let s: Subscription = serde_json::from_str(body).unwrap();
        assert_eq!(s.id.as_str(), "5522bd62-7c96-4530-85b0-00b916f6151a");
        assert_eq!(s.expiration_date_time.unix_timestamp(), 1_641_073_338);
    }
}
