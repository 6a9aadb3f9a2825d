//! Mail flow: storing a delivered message with the headers and threading Exchange gives it,
//! and sending (a Sent Items copy plus delivery to every recipient that is a mailbox here, in
//! any tenant, all with one `internetMessageId`).

use time::{OffsetDateTime, format_description::well_known::Rfc2822};

use super::{
    ids,
    model::{MessageIds, NewMessage, Recipient},
    state::{ChangeEvent, State},
    store::{Attachment, ItemData, Message},
};

/// A fresh `internetMessageId` in Exchange Online's form
/// (`<{id}@{server}.{region}.prod.outlook.com>`).
pub(crate) fn new_internet_message_id() -> String {
    let server = format!("AM{}PR07MB{}", rand::random_range(0..10), rand::random_range(1000..9999));
    let id: String = ids::random_token(24)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    format!("<{server}{id}@{server}.eurprd07.prod.outlook.com>")
}

fn header_list(list: &[Recipient]) -> String {
    list.iter().map(|r| format!("{} <{}>", r.name, r.address)).collect::<Vec<_>>().join(", ")
}

/// A conversation index: a 22-byte header for a new thread, the parent's plus five bytes for
/// a reply (the Outlook thread-index layout).
fn conversation_index(parent: Option<&[u8]>, at: OffsetDateTime) -> Vec<u8> {
    let ticks = (at.unix_timestamp_nanos() / 100) as u64;
    match parent {
        Some(p) => {
            let mut idx = p.to_vec();
            idx.extend_from_slice(&(ticks as u32).to_be_bytes());
            idx.push(rand::random());
            idx
        }
        None => {
            let mut idx = vec![0x01];
            idx.extend_from_slice(&ticks.to_be_bytes()[..5]);
            idx.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
            idx
        }
    }
}

/// Builds the stored form of `new` for mailbox `mailbox_id`, threading it under its parent
/// when that mailbox holds the parent.
fn stored(
    state: &State,
    mailbox_id: &str,
    new: &NewMessage,
    imid: &str,
    received: OffsetDateTime,
    sender_copy: bool,
) -> Message {
    let mb = state.mailbox(mailbox_id);
    let parent = new.in_reply_to.as_ref().and_then(|p| {
        mb.items.values().filter_map(|i| i.message()).find(|m| &m.internet_message_id == p)
    });
    let sent = new.sent.unwrap_or(received - time::Duration::minutes(1));
    let conversation_id =
        parent.map_or_else(|| ids::conversation(&mb.tag), |p| p.conversation_id.clone());
    let index = conversation_index(parent.map(|p| p.conversation_index.as_slice()), sent);
    let mut headers = vec![
        (
            "Received".to_string(),
            format!(
                "from AM0PR07MB1234.eurprd07.prod.outlook.com (2603:10a6:208:13::11) by \
                 AM9PR07MB5678.eurprd07.prod.outlook.com with HTTPS; {}",
                received.format(&Rfc2822).expect("date")
            ),
        ),
        ("From".into(), header_list(std::slice::from_ref(&new.from))),
        ("To".into(), header_list(&new.to)),
    ];
    if !new.cc.is_empty() {
        headers.push(("CC".into(), header_list(&new.cc)));
    }
    headers.extend([
        ("Subject".into(), new.subject.clone()),
        ("Thread-Topic".into(), new.subject.clone()),
        (
            "Thread-Index".into(),
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &index),
        ),
        ("Date".into(), sent.format(&Rfc2822).expect("date")),
        ("Message-ID".into(), imid.to_string()),
    ]);
    if let Some(parent_id) = &new.in_reply_to {
        let references = parent
            .and_then(|p| p.headers.iter().find(|(n, _)| n == "References"))
            .map_or_else(|| parent_id.clone(), |(_, r)| format!("{r} {parent_id}"));
        headers.push(("In-Reply-To".into(), parent_id.clone()));
        headers.push(("References".into(), references));
    }
    let content_type = if new.body_is_text { "text/plain" } else { "text/html" };
    headers.extend([
        ("Content-Language".into(), "en-US".into()),
        ("MIME-Version".into(), "1.0".into()),
        ("Content-Type".into(), format!("{content_type}; charset=\"utf-8\"")),
    ]);
    headers.extend(new.headers.iter().cloned());
    let to = if new.to.is_empty() && !sender_copy {
        vec![Recipient::new(&mb.display_name, &mb.address)]
    } else {
        new.to.clone()
    };
    Message {
        subject: new.subject.clone(),
        body: new.body.clone(),
        body_is_text: new.body_is_text,
        from: new.from.clone(),
        sender: new.from.clone(),
        to,
        cc: new.cc.clone(),
        // Bcc recipients are visible only in the sender's copy (reference 7).
        bcc: if sender_copy { new.bcc.clone() } else { Vec::new() },
        reply_to: new.reply_to.clone(),
        received,
        sent,
        internet_message_id: imid.to_string(),
        headers,
        conversation_id,
        conversation_index: index,
        is_read: new.is_read || sender_copy,
        is_draft: false,
        importance: new.importance.clone(),
        categories: new.categories.clone(),
        flag_status: "notFlagged".into(),
        attachments: new
            .attachments
            .iter()
            .zip(1..)
            .map(|(a, index)| Attachment {
                index,
                name: a.name.clone(),
                content_type: a.content_type.clone(),
                bytes: a.bytes.clone(),
                is_inline: a.is_inline,
                content_id: a.content_id.clone(),
                modified: received,
            })
            .collect(),
    }
}

/// Stores `new` in folder `folder` (a well-known name) of a mailbox.
pub(crate) fn store(
    state: &mut State,
    mailbox_id: &str,
    folder: &str,
    new: &NewMessage,
    imid: &str,
    now: OffsetDateTime,
    sender_copy: bool,
) -> (MessageIds, ChangeEvent) {
    let received = new.received.unwrap_or(now);
    let message = stored(state, mailbox_id, new, imid, received, sender_copy);
    let folder = state.mailbox(mailbox_id).well_known(folder).index;
    let (key, change) =
        state.insert_item(mailbox_id, folder, ItemData::Message(Box::new(message)), now);
    let mb = state.mailbox(mailbox_id);
    let item = &mb.items[&key];
    let ids = MessageIds {
        user_id: mb.id.clone(),
        id: mb.regular_id(item),
        immutable_id: mb.immutable_id(item),
        internet_message_id: imid.to_string(),
    };
    (ids, change)
}

/// Sends `new` from mailbox `sender_id`: the Sent Items copy (if `save`) and one delivery
/// to the Inbox of every recipient mailbox. Returns the sender's copy's ids (if saved) and
/// the changes.
pub(crate) fn send(
    state: &mut State,
    sender_id: &str,
    mut new: NewMessage,
    save: bool,
    now: OffsetDateTime,
) -> (Option<MessageIds>, Vec<ChangeEvent>) {
    let imid = new.internet_message_id.clone().unwrap_or_else(new_internet_message_id);
    let mb = state.mailbox(sender_id);
    new.from = Recipient::new(&mb.display_name, &mb.address);
    new.sent = Some(now);
    new.received = Some(now);
    let mut changes = Vec::new();
    let mut sent_ids = None;
    if save {
        let (ids, change) = store(state, sender_id, "sentitems", &new, &imid, now, true);
        sent_ids = Some(ids);
        changes.push(change);
    }
    let mut seen = std::collections::HashSet::new();
    let recipients: Vec<String> = new
        .to
        .iter()
        .chain(&new.cc)
        .chain(&new.bcc)
        .map(|r| r.address.to_ascii_lowercase())
        .collect();
    for address in recipients {
        if !seen.insert(address.clone()) {
            continue;
        }
        let target = state.mailbox_by_address(&address).filter(|m| m.enabled);
        let Some(target) = target.map(|m| m.id.clone()) else {
            continue;
        };
        let (_, change) = store(state, &target, "inbox", &new, &imid, now, false);
        changes.push(change);
    }
    (sent_ids, changes)
}
