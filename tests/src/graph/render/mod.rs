//! JSON representations of stored items, as Graph v1.0 returns them (reference 7).

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Map, Value, json};

mod pim;

pub(crate) use pim::{CONTACT_PROPS, contact, event, task};

use super::{
    dates,
    model::Recipient,
    store::{Attachment, Item, ItemData, Mailbox},
};

/// Message properties, in Graph's order. The last two are returned only when selected.
pub(crate) const MESSAGE_PROPS: &[&str] = &[
    "createdDateTime",
    "lastModifiedDateTime",
    "changeKey",
    "categories",
    "receivedDateTime",
    "sentDateTime",
    "hasAttachments",
    "internetMessageId",
    "subject",
    "bodyPreview",
    "importance",
    "parentFolderId",
    "conversationId",
    "conversationIndex",
    "isDeliveryReceiptRequested",
    "isReadReceiptRequested",
    "isRead",
    "isDraft",
    "webLink",
    "inferenceClassification",
    "body",
    "sender",
    "from",
    "toRecipients",
    "ccRecipients",
    "bccRecipients",
    "replyTo",
    "flag",
    "id",
    "internetMessageHeaders",
    "uniqueBody",
];

/// Properties an app with only `Mail.ReadBasic(.All)` may not read (reference 11.1:
/// "ReadBasic gives no body/preview").
pub(crate) const FULL_READ_PROPS: &[&str] =
    &["body", "bodyPreview", "uniqueBody", "internetMessageHeaders"];

/// How to render an item.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct View<'a> {
    /// `$select`ed properties; `None` = the default set.
    pub select: Option<&'a [String]>,
    /// `Prefer: IdType="ImmutableId"`.
    pub immutable: bool,
    /// `Prefer: outlook.body-content-type="text"`.
    pub text_body: bool,
}

pub(super) fn recipient(r: &Recipient) -> Value {
    json!({"emailAddress": {"name": r.name, "address": r.address}})
}

fn recipients(list: &[Recipient]) -> Value {
    Value::Array(list.iter().map(recipient).collect())
}

/// Plain text of an HTML body: tags dropped, entities for the common characters, whitespace
/// collapsed.
pub(crate) fn html_to_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    let lower = html.to_ascii_lowercase();
    let start = lower.find("<body").unwrap_or(0);
    for c in html[start..].chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn keep(view: &View, name: &str) -> bool {
    match view.select {
        Some(select) => name == "id" || select.iter().any(|s| s == name),
        None => name != "internetMessageHeaders" && name != "uniqueBody",
    }
}

/// The etag Graph puts on an item: `W/"{changeKey}"`.
pub(crate) fn etag(mb: &Mailbox, item: &Item) -> String {
    format!("W/\"{}\"", mb.change_key(item))
}

/// A message (without `@odata.context`).
pub(crate) fn message(mb: &Mailbox, item: &Item, view: &View) -> Map<String, Value> {
    let ItemData::Message(m) = &item.data else { return Map::new() };
    let id = mb.item_id(item, view.immutable);
    let (content_type, content) = match (m.body_is_text, view.text_body) {
        (true, _) => ("text", m.body.clone()),
        (false, true) => ("text", html_to_text(&m.body)),
        (false, false) => ("html", m.body.clone()),
    };
    let body = json!({"contentType": content_type, "content": content});
    let preview: String = if m.body_is_text { m.body.clone() } else { html_to_text(&m.body) }
        .chars()
        .take(255)
        .collect();
    let folder_id = mb.folders[item.folder as usize].id.clone();
    let web_link = format!(
        "https://outlook.office365.com/owa/?ItemID={}&exvsurl=1&viewmodel=ReadMessageItem",
        super::request::encode_component(&id)
    );
    let headers: Vec<Value> =
        m.headers.iter().map(|(n, v)| json!({"name": n, "value": v})).collect();
    let mut out = Map::new();
    out.insert("@odata.etag".into(), etag(mb, item).into());
    for name in MESSAGE_PROPS {
        if !keep(view, name) {
            continue;
        }
        let value = match *name {
            "id" => id.clone().into(),
            "createdDateTime" => dates::item(item.created).into(),
            "lastModifiedDateTime" => dates::item(item.modified).into(),
            "changeKey" => mb.change_key(item).into(),
            "categories" => json!(m.categories),
            "receivedDateTime" => dates::item(m.received).into(),
            "sentDateTime" => dates::item(m.sent).into(),
            "hasAttachments" => m.attachments.iter().any(|a| !a.is_inline).into(),
            "internetMessageId" => m.internet_message_id.clone().into(),
            "subject" => m.subject.clone().into(),
            "bodyPreview" => preview.clone().into(),
            "importance" => m.importance.clone().into(),
            "parentFolderId" => folder_id.clone().into(),
            "conversationId" => m.conversation_id.clone().into(),
            "conversationIndex" => STANDARD.encode(&m.conversation_index).into(),
            "isDeliveryReceiptRequested" | "isReadReceiptRequested" => false.into(),
            "isRead" => m.is_read.into(),
            "isDraft" => m.is_draft.into(),
            "webLink" => web_link.clone().into(),
            "inferenceClassification" => "focused".into(),
            "body" | "uniqueBody" => body.clone(),
            "sender" => recipient(&m.sender),
            "from" => recipient(&m.from),
            "toRecipients" => recipients(&m.to),
            "ccRecipients" => recipients(&m.cc),
            "bccRecipients" => recipients(&m.bcc),
            "replyTo" => recipients(&m.reply_to),
            "flag" => json!({"flagStatus": m.flag_status}),
            _ => Value::Array(headers.clone()),
        };
        out.insert((*name).to_string(), value);
    }
    out
}

/// A file attachment, with its `contentBytes`.
pub(crate) fn attachment(mb: &Mailbox, key: u64, a: &Attachment) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.fileAttachment",
        "@odata.mediaContentType": a.content_type,
        "id": super::ids::attachment(&mb.tag, key, a.index),
        "lastModifiedDateTime": dates::item(a.modified),
        "name": a.name,
        "contentType": a.content_type,
        "size": a.bytes.len() + 200,
        "isInline": a.is_inline,
        "contentId": a.content_id,
        "contentLocation": null,
        "contentBytes": STANDARD.encode(&a.bytes),
    })
}

/// A mail folder.
pub(crate) fn mail_folder(mb: &Mailbox, index: u32) -> Value {
    let f = &mb.folders[index as usize];
    let in_folder = || mb.items.values().filter(move |i| i.folder == index);
    let unread = in_folder().filter(|i| i.message().is_some_and(|m| !m.is_read)).count();
    let parent = if index == 0 { String::new() } else { mb.folders[0].id.clone() };
    json!({
        "id": f.id,
        "displayName": f.display_name,
        "parentFolderId": parent,
        "childFolderCount": 0,
        "unreadItemCount": unread,
        "totalItemCount": in_folder().count(),
        "isHidden": false,
    })
}
