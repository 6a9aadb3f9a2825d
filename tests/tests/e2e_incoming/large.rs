//! A body too large for a queue message (256 KiB) travels without it, and `write` reads it
//! from Graph: the email lands complete.

use exsync_shared::{
    domain::{Folder, GraphItemId, InternetMessageId},
    model::{EmailAddress, EmailRecord, Importance},
    ports::MAX_BODY_BYTES,
};
use exsync_sim::graph::NewMessage;

use crate::{
    app::{ALICE, TestApp, now},
    parties::MARIA,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_400_kb_html_body_lands_complete() {
    let app = TestApp::builder().start().await;
    app.wait_subscribed(8).await;
    let mut html = String::from("<html><body>");
    let mut line = 0;
    while html.len() < 400 * 1024 {
        line += 1;
        html.push_str(&format!(
            "<p>Line {line}: the quarterly figures, region by region, with \"quotes\" & ampersands.</p>\n"
        ));
    }
    html.push_str("</body></html>");
    assert!(html.len() > MAX_BODY_BYTES, "too large for a queue message");
    let mail = app.graph().deliver(
        ALICE,
        NewMessage::new("Quarterly report").from("Maria Garcia", MARIA).to(ALICE).html(&html),
    );
    let email = app.landed(&mail.internet_message_id).await;
    let description = email.description.unwrap_or_default();
    assert_eq!(description.len(), html.len(), "the whole body");
    assert!(description == html, "the body, byte for byte");
    assert_eq!(email.subject.as_deref(), Some("Quarterly report"));
    app.quiet().await;
    assert_eq!(app.emails_with(&mail.internet_message_id).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_whose_body_is_gone_from_the_mailbox_is_written_marked_truncated() {
    let app = TestApp::builder().start().await;
    app.wait_subscribed(8).await;
    let at = now();
    let message = NewMessage::new("Deleted right away").from("Maria Garcia", MARIA).to(ALICE);
    let gone = app.graph().deliver(ALICE, message.received_at(at));
    assert!(app.graph().delete(ALICE, &gone.id), "deleted before any pass read it");
    // Its write job, as a pass that read it just before the delete would have queued it.
    let record = EmailRecord {
        graph_id: GraphItemId::parse(gone.immutable_id.as_str()).unwrap(),
        folder: Folder::Inbox,
        internet_message_id: Some(InternetMessageId::parse(&gone.internet_message_id).unwrap()),
        subject: "Deleted right away".into(),
        body_html: String::new(),
        body_omitted: true,
        from: Some(EmailAddress { address: MARIA.into(), name: None }),
        to: vec![EmailAddress { address: ALICE.into(), name: None }],
        cc: vec![],
        bcc: vec![],
        received_at: at,
        sent_at: None,
        in_reply_to: None,
        conversation_id: None,
        conversation_index: None,
        importance: Importance::Normal,
        has_attachments: false,
    };
    app.enqueue_write(ALICE, record).await;
    let email = app.landed(&gone.internet_message_id).await;
    assert_eq!(email.subject.as_deref(), Some("Deleted right away"));
    assert_eq!(email.description.as_deref().unwrap_or_default(), "");
    let record = app.dataverse().record("emails", email.id).unwrap();
    assert_eq!(record["notifications"], 2, "flagged: body truncated");
}
