//! Exactly once: an email seen by several synced mailboxes, a notification Graph sends twice,
//! a delta round that replays everything, and a write job delivered again each leave one
//! email activity.

use exsync_shared::{
    domain::{Folder, GraphItemId, InternetMessageId},
    model::{EmailAddress, EmailRecord, Importance},
};
use exsync_sim::graph::{NewMessage, NotificationFaults};

use crate::{
    app::{ALICE, BOB, CAROL, DAN, TestApp, now},
    parties::*,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_in_several_synced_mailboxes_is_one_activity_with_all_its_parties() {
    let app = TestApp::builder().start().await;
    app.wait_subscribed(8).await;
    let (graph, dv) = (app.graph(), app.dataverse());

    // Sender and recipients synced, across tenants: Alice's Sent Items, Carol's and Dan's Inbox.
    let across = graph.send(
        ALICE,
        NewMessage::new("Follow-up on yesterday's call")
            .from("Alice Wong", ALICE)
            .to(CAROL)
            .cc(DAN),
    );
    // Two recipients in one tenant, each with a copy in their Inbox.
    let message = NewMessage::new("Contract renewal terms")
        .from("Maria Garcia", MARIA)
        .to(ALICE)
        .cc(BOB)
        .received_at(now());
    let shared = graph.deliver(ALICE, message.clone());
    graph.deliver(BOB, message.internet_message_id(&shared.internet_message_id));

    let email = app.landed(&across.internet_message_id).await;
    let expected = vec![
        resolved(dv, SENDER, "systemuser", ALICE),
        resolved(dv, TO, "systemuser", CAROL),
        resolved(dv, CC, "systemuser", DAN),
    ];
    assert_eq!(parties(&email), sorted(expected));
    let email = app.landed(&shared.internet_message_id).await;
    let expected = vec![
        resolved(dv, SENDER, "contact", MARIA),
        resolved(dv, TO, "systemuser", ALICE),
        resolved(dv, CC, "systemuser", BOB),
    ];
    assert_eq!(parties(&email), sorted(expected));

    // Every copy was handled (seen, and either written or found written), one activity each.
    for (address, copies) in [(ALICE, 2), (BOB, 1), (CAROL, 1), (DAN, 1)] {
        app.status_where(address, "done with its copies", |s| {
            s.emails_written + s.emails_duplicate >= copies
        })
        .await;
    }
    app.quiet().await;
    assert_eq!(app.emails_with(&across.internet_message_id).len(), 1);
    assert_eq!(app.emails_with(&shared.internet_message_id).len(), 1);
    assert_eq!(dv.emails().len(), 2);
    let mut written = 0;
    for address in [ALICE, BOB, CAROL, DAN] {
        written += app.status(address).await.expect("a status").emails_written;
    }
    assert_eq!(written, 2, "each email was created by exactly one of its copies");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_notification_a_replayed_delta_round_and_a_redelivered_job_create_nothing_new()
{
    let app = TestApp::builder().start().await;
    app.wait_subscribed(8).await;
    app.quiet().await;
    let graph = app.graph();
    // Graph posts every notification twice.
    graph.notification_faults(NotificationFaults { duplicate: 1.0, ..Default::default() });
    let at = now();
    let first = graph.deliver(
        ALICE,
        NewMessage::new("Quote request for 40 units")
            .from("Kenji Sato", "kenji.sato@adventure-works.example")
            .to(ALICE)
            .received_at(at),
    );
    app.landed(&first.internet_message_id).await;
    app.quiet().await;
    assert!(graph.notification_stats().duplicated >= 1, "Graph did post twice");
    assert_eq!(app.emails_with(&first.internet_message_id).len(), 1);

    // Graph forgets the delta state: the next pass starts the folder over and meets the first
    // email again, next to the one that triggered it.
    graph.notification_faults(NotificationFaults::default());
    graph.expire_delta_tokens(ALICE);
    let before = app.status(ALICE).await.expect("a status");
    let second = graph.deliver(
        ALICE,
        NewMessage::new("Invoice 2026-1187 overdue").from("Litware Orders", LITWARE).to(ALICE),
    );
    app.landed(&second.internet_message_id).await;
    let replayed = app
        .status_where(ALICE, "past the replay", |s| s.emails_duplicate > before.emails_duplicate)
        .await;
    assert_eq!(replayed.emails_written, before.emails_written + 1, "only the new one created");

    // The first email's write job is delivered again (an SQS redelivery, a replayed dead letter).
    let record = EmailRecord {
        graph_id: GraphItemId::parse(first.immutable_id.as_str()).unwrap(),
        folder: Folder::Inbox,
        internet_message_id: Some(InternetMessageId::parse(&first.internet_message_id).unwrap()),
        subject: "Quote request for 40 units".into(),
        body_html: "<p>again</p>".into(),
        body_omitted: false,
        from: Some(EmailAddress {
            address: "kenji.sato@adventure-works.example".into(),
            name: None,
        }),
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
    app.status_where(ALICE, "done with the redelivered job", |s| {
        s.emails_duplicate > replayed.emails_duplicate
    })
    .await;
    app.quiet().await;
    assert_eq!(app.emails_with(&first.internet_message_id).len(), 1);
    assert_eq!(app.emails_with(&second.internet_message_id).len(), 1);
    assert_eq!(app.dataverse().emails().len(), 2);
}
