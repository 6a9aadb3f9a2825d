use time::macros::datetime;

use super::*;

/// A received message as delta returns it with `$select` (shapes from reference graph.md 6.1, 7).
const RECEIVED: &str = r##"{
  "@odata.type": "#microsoft.graph.message",
  "@odata.etag": "W/\"CQAAABYAAAARn2vdzPFjSbaPPxzjlzOTAAASsKZz\"",
  "id": "AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0AQz7tA9ofVUuXrjGbP4GTnAAAAZpSkQAA",
  "subject": "Re: Holiday hours update",
  "body": {"contentType": "html", "content": "<html><body><p>See you then.</p></body></html>"},
  "from": {"emailAddress": {"name": "Dana Swope", "address": "danas@contoso.com"}},
  "toRecipients": [
    {"emailAddress": {"name": "Alice", "address": "alice@fabrikam.example"}},
    {"emailAddress": {"name": "Unresolved X500"}}
  ],
  "ccRecipients": [{"emailAddress": {"name": "", "address": "frannis@contoso.com"}}],
  "bccRecipients": [],
  "receivedDateTime": "2026-06-01T00:00:00Z",
  "sentDateTime": "2026-05-31T23:59:58Z",
  "internetMessageId": "<BY5PR11MB4001.namprd11.prod.outlook.com>",
  "internetMessageHeaders": [
    {"name": "Received", "value": "from BY5PR11MB4001 (2603:10b6:a03:1c0::1) by ..."},
    {"name": "in-reply-to", "value": " <CA+abc123@mail.gmail.com> <other@x.example>"},
    {"name": "References", "value": "<CA+abc123@mail.gmail.com>"}
  ],
  "conversationId": "AAQkADNkNAAAQAGhIbVgIr0dFvyJtxtG2Tq0=",
  "conversationIndex": "AQHYz8H6kVdJ+Y3sT0iAb0V7c2x8Bw==",
  "importance": "high",
  "hasAttachments": true,
  "isDraft": false
}"##;

fn message(json: &str) -> Message {
    serde_json::from_str(json).unwrap()
}

#[test]
fn a_received_message_maps_every_property() {
    let email = to_email(&message(RECEIVED), Folder::Inbox).unwrap();
    assert_eq!(
        email.graph_id.as_str(),
        "AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0AQz7tA9ofVUuXrjGbP4GTnAAAAZpSkQAA"
    );
    assert_eq!(email.folder, Folder::Inbox);
    assert_eq!(email.subject, "Re: Holiday hours update");
    assert_eq!(email.body_html, "<html><body><p>See you then.</p></body></html>");
    assert_eq!(
        email.from,
        Some(EmailAddress { address: "danas@contoso.com".into(), name: Some("Dana Swope".into()) })
    );
    assert_eq!(email.to.len(), 1, "a recipient without an address is left out");
    assert_eq!(email.cc, vec![EmailAddress { address: "frannis@contoso.com".into(), name: None }]);
    assert!(email.bcc.is_empty());
    assert_eq!(email.received_at, datetime!(2026-06-01 00:00:00 UTC));
    assert_eq!(email.sent_at, Some(datetime!(2026-05-31 23:59:58 UTC)));
    assert_eq!(
        email.internet_message_id.unwrap().as_str(),
        "<BY5PR11MB4001.namprd11.prod.outlook.com>"
    );
    assert_eq!(email.in_reply_to.unwrap().as_str(), "<CA+abc123@mail.gmail.com>");
    assert_eq!(email.conversation_id.as_deref(), Some("AAQkADNkNAAAQAGhIbVgIr0dFvyJtxtG2Tq0="));
    assert_eq!(email.conversation_index.as_deref(), Some("AQHYz8H6kVdJ+Y3sT0iAb0V7c2x8Bw=="));
    assert_eq!(email.importance, Importance::High);
    assert!(email.has_attachments);
}

#[test]
fn a_text_body_is_escaped_into_html_with_its_line_breaks() {
    let json = r#"{"id":"AAkA1","receivedDateTime":"2026-06-02T08:00:00Z",
        "body":{"contentType":"Text","content":"Price <5 & \"fair\"\r\nBye"}}"#;
    let email = to_email(&message(json), Folder::SentItems).unwrap();
    assert_eq!(email.body_html, "Price &lt;5 &amp; &quot;fair&quot;<br>\nBye");
    assert_eq!(email.importance, Importance::Normal);
    assert_eq!(email.in_reply_to, None, "no headers, no In-Reply-To");
    assert_eq!(email.internet_message_id, None);
    assert_eq!(email.sent_at, None);
}

#[test]
fn drafts_and_partial_updates_are_not_emails() {
    let draft = r#"{"id":"AAkA2","receivedDateTime":"2026-06-02T08:00:00Z","isDraft":true}"#;
    assert_eq!(
        to_email(&message(draft), Folder::SentItems),
        Err(Unmapped::Draft { id: "AAkA2".into() })
    );
    let update = r#"{"id":"AAkA3","isRead":true}"#;
    assert_eq!(
        to_email(&message(update), Folder::Inbox),
        Err(Unmapped::Partial { id: "AAkA3".into() })
    );
    let bad = r#"{"id":"AAkA4","receivedDateTime":"yesterday"}"#;
    assert!(matches!(to_email(&message(bad), Folder::Inbox), Err(Unmapped::Malformed { .. })));
}

#[test]
fn in_reply_to_without_an_id_is_nothing() {
    let json = r#"{"id":"AAkA5","receivedDateTime":"2026-06-02T08:00:00Z",
        "internetMessageHeaders":[{"name":"In-Reply-To","value":"your letter of March"}]}"#;
    assert_eq!(to_email(&message(json), Folder::Inbox).unwrap().in_reply_to, None);
    let bare = r#"{"id":"AAkA6","receivedDateTime":"2026-06-02T08:00:00Z",
        "internetMessageHeaders":[{"name":"In-Reply-To","value":"abc@host.example"}]}"#;
    assert_eq!(
        to_email(&message(bare), Folder::Inbox).unwrap().in_reply_to.unwrap().as_str(),
        "abc@host.example"
    );
}
