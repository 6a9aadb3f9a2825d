//! Mail of two Exchange tenants lands in Dataverse (on a third) once each, recorded as
//! server-side sync records it; through webhooks and through polling.

use exsync_sim::{dataverse::EmailView, graph::NewMessage, scenario::MailStream};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::{
    app::{ALICE, BOB, CAROL, DAN, TestApp, now},
    parties::*,
};

/// Completed (statecode 1) with status Received (4) or Sent (3) (reference A2).
fn assert_closed(email: &EmailView, outgoing: bool) {
    assert_eq!(email.directioncode, outgoing, "direction of {:?}", email.subject);
    assert_eq!(email.statecode, 1, "completed: {:?}", email.subject);
    assert_eq!(email.statuscode, if outgoing { 3 } else { 4 }, "status of {:?}", email.subject);
}

fn html(text: &str) -> String {
    format!("<html><body><p>{text}</p><p>Best regards</p></body></html>")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_of_two_tenants_lands_once_each_with_parties_resolved_as_server_side_sync_does() {
    let app = TestApp::builder().start().await;
    let dv = app.dataverse();
    // Carol is a user and a contact: as a sender she is the user (first match), as a
    // recipient both.
    dv.add_contact(CAROL, "Carol", "Diaz");
    app.wait_subscribed(8).await;
    let graph = app.graph();
    let at = now() - time::Duration::minutes(2);

    let inbound = graph.deliver(
        ALICE,
        NewMessage::new("Quote request for 40 units")
            .from("Maria Garcia", MARIA)
            .to(ALICE)
            .cc(TAILSPIN)
            .cc(DIGEST)
            .html(&html("Could you confirm the numbers?"))
            .received_at(at),
    );
    let outbound = graph.send(
        CAROL,
        NewMessage::new("Contract renewal terms")
            .from("Carol Diaz", CAROL)
            .to(LITWARE)
            .cc(RAVI)
            .html(&html("Attached are the renewal terms."))
            .received_at(at),
    );
    let from_queue = graph.deliver(
        DAN,
        NewMessage::new("Support ticket: login fails after update")
            .from("Northwind Support", SUPPORT)
            .to(DAN)
            .cc(CAROL)
            .html(&html("Ticket 4711 was assigned to you."))
            .received_at(at),
    );
    let from_tailspin = graph.deliver(
        BOB,
        NewMessage::new("Delivery date for order 5521")
            .from("Tailspin Info", TAILSPIN)
            .to(BOB)
            .html(&html("Can we move the delivery?"))
            .received_at(at),
    );

    let email = app.landed(&inbound.internet_message_id).await;
    assert_closed(&email, false);
    assert_eq!(email.subject.as_deref(), Some("Quote request for 40 units"));
    assert_eq!(email.description, Some(html("Could you confirm the numbers?")));
    let expected = vec![
        resolved(dv, SENDER, "contact", MARIA),
        resolved(dv, TO, "systemuser", ALICE),
        // A recipient is every record with the address; an unknown one keeps its address.
        resolved(dv, CC, "account", TAILSPIN),
        resolved(dv, CC, "contact", TAILSPIN),
        unresolved(CC, DIGEST),
    ];
    assert_eq!(parties(&email), sorted(expected));
    let record = dv.record("emails", email.id).expect("the email record");
    let actual_end = record["actualend"].as_str().expect("actualend is set");
    assert_eq!(OffsetDateTime::parse(actual_end, &Rfc3339).unwrap(), at, "received time");

    let email = app.landed(&outbound.internet_message_id).await;
    assert_closed(&email, true);
    assert_eq!(email.subject.as_deref(), Some("Contract renewal terms"));
    assert_eq!(email.description, Some(html("Attached are the renewal terms.")));
    let expected = vec![
        resolved(dv, SENDER, "systemuser", CAROL),
        resolved(dv, TO, "account", LITWARE),
        resolved(dv, CC, "lead", RAVI),
    ];
    assert_eq!(parties(&email), sorted(expected));

    let email = app.landed(&from_queue.internet_message_id).await;
    assert_closed(&email, false);
    let expected = vec![
        resolved(dv, SENDER, "queue", SUPPORT),
        resolved(dv, TO, "systemuser", DAN),
        resolved(dv, CC, "systemuser", CAROL),
        resolved(dv, CC, "contact", CAROL),
    ];
    assert_eq!(parties(&email), sorted(expected));

    // A sender that is an account and a contact is the contact: contact comes first.
    let email = app.landed(&from_tailspin.internet_message_id).await;
    let expected =
        vec![resolved(dv, SENDER, "contact", TAILSPIN), resolved(dv, TO, "systemuser", BOB)];
    assert_eq!(parties(&email), sorted(expected));

    app.quiet().await;
    for ids in [&inbound, &outbound, &from_queue, &from_tailspin] {
        assert_eq!(app.emails_with(&ids.internet_message_id).len(), 1, "{ids:?} once");
    }
    assert_eq!(dv.emails().len(), 4, "nothing else was written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_subscribe_every_folder_with_the_handshake_and_each_notification_leads_to_a_write()
{
    let app = TestApp::builder().start().await;
    app.wait_subscribed(8).await;
    let graph = app.graph();
    let subscriptions = graph.subscriptions();
    for (address, tenant) in [
        (ALICE, &app.org.fabrikam),
        (BOB, &app.org.fabrikam),
        (CAROL, &app.org.contoso),
        (DAN, &app.org.contoso),
    ] {
        let user = graph.user_id(address);
        let mut folders: Vec<String> = subscriptions
            .iter()
            .filter(|s| s.user_id == user)
            .map(|s| {
                // Graph created it only after both URLs answered its validation request.
                assert_eq!(s.notification_url, format!("{}/graph/notify", app.url));
                assert_eq!(s.lifecycle_url, Some(format!("{}/graph/lifecycle", app.url)));
                assert_eq!(s.app_id, tenant.app_id, "each tenant's own app subscribes");
                assert!(s.client_state.as_ref().is_some_and(|c| c.len() >= 32));
                s.resource.to_lowercase()
            })
            .collect();
        folders.sort();
        assert_eq!(
            folders,
            vec![
                format!("users/{address}/mailfolders('inbox')/messages"),
                format!("users/{address}/mailfolders('sentitems')/messages"),
            ]
        );
    }
    // The catch-up at start is over; from now on only a notification can start a pass (the
    // safety-net sweep runs every 6 hours).
    app.quiet().await;
    let before = graph.notification_stats();
    let mail = graph.deliver(
        BOB,
        NewMessage::new("Site visit on Thursday")
            .from("Kenji Sato", "kenji.sato@adventure-works.example")
            .to(BOB),
    );
    let sent = graph.send(
        DAN,
        NewMessage::new("Pricing for the enterprise tier").from("Dan Novak", DAN).to(LITWARE),
    );
    app.landed(&mail.internet_message_id).await;
    assert!(app.landed(&sent.internet_message_id).await.directioncode);
    let after = graph.notification_stats();
    assert!(
        after.delivered >= before.delivered + 2,
        "the emails came through notifications: {before:?} -> {after:?}"
    );
    assert_eq!(after.failed_posts, before.failed_posts, "every notification was accepted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_public_url_every_mailbox_is_polled_and_mail_lands_without_subscriptions() {
    let app = TestApp::builder().polling().start().await;
    let graph = app.graph();
    let first = graph.deliver(
        CAROL,
        NewMessage::new("Invoice 2026-1187 overdue").from("Litware Orders", LITWARE).to(CAROL),
    );
    let sent = graph.send(
        ALICE,
        NewMessage::new("Meeting notes and next steps").from("Alice Wong", ALICE).to(RAVI),
    );
    assert!(!app.landed(&first.internet_message_id).await.directioncode);
    assert!(app.landed(&sent.internet_message_id).await.directioncode);
    // Polling goes on: mail that arrives later is picked up by a later round.
    let later = graph.deliver(
        DAN,
        NewMessage::new("Question about warranty coverage").from("Ravi Patel", RAVI).to(DAN),
    );
    app.landed(&later.internet_message_id).await;
    assert!(graph.subscriptions().is_empty(), "no subscriptions without a public URL");
    assert_eq!(graph.notification_stats().posts, 0, "nothing was notified");
    app.quiet().await;
    assert_eq!(app.dataverse().emails().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_finishes_work_in_flight_and_a_restart_resumes_from_the_stored_state() {
    let mut app = TestApp::builder().start().await;
    app.wait_subscribed(8).await;
    let mut stream = MailStream::new(11);
    let before: Vec<_> = (0..10).map(|_| stream.next(&app.org, now())).collect();
    // Stopped while those are in flight: serve returns once the work in hand is done.
    app.stop().await;
    // Mail keeps arriving; Graph's notifications find nobody listening and are retried.
    let during: Vec<_> = (0..5).map(|_| stream.next(&app.org, now())).collect();
    app.restart().await;
    let after: Vec<_> = (0..5).map(|_| stream.next(&app.org, now())).collect();
    for mail in before.iter().chain(&during).chain(&after) {
        app.landed(&mail.internet_message_id).await;
    }
    app.quiet().await;
    for mail in before.iter().chain(&during).chain(&after) {
        assert_eq!(app.emails_with(&mail.internet_message_id).len(), 1, "{mail:?} once");
    }
    assert_eq!(app.graph().subscriptions().len(), 8, "the same subscriptions, none added");
}
