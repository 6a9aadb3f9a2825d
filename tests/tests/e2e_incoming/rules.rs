//! The mailbox rules: "process emails from" (profile) and "process email received after"
//! (mailbox, overriding it) are inclusive bounds on `receivedDateTime`; `incoming = false`
//! syncs nothing for that mailbox.

use exsync_sim::graph::NewMessage;
use time::{Duration, OffsetDateTime, format_description::well_known::Rfc3339};

use crate::{
    app::{ALICE, BOB, CAROL, DAN, TestApp, now},
    parties::RAVI,
};

fn date(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_received_at_the_date_is_synced_a_second_earlier_is_not_and_incoming_false_syncs_nothing()
 {
    let from = now() - Duration::hours(1);
    let earlier = from - Duration::hours(1);
    let profile_date = format!("process_emails_from = \"{}\"\n", date(from));
    let app = TestApp::builder()
        .profile("fabrikam", &profile_date)
        .profile("contoso", &profile_date)
        .mailbox(CAROL, &format!("process_email_received_after = \"{}\"\n", date(earlier)))
        .mailbox(BOB, "incoming = false\n")
        .start()
        .await;
    app.wait_subscribed(6).await;
    let graph = app.graph();
    let mail = |to: &str, subject: &str, at: OffsetDateTime| {
        graph
            .deliver(to, NewMessage::new(subject).from("Ravi Patel", RAVI).to(to).received_at(at))
            .internet_message_id
    };
    // Left out: a second before the bound, Carol's date on Dan's (the profile's applies),
    // anything in Bob's mailbox.
    let skipped = [
        mail(ALICE, "a second early for Alice", from - Duration::SECOND),
        mail(CAROL, "a second early for Carol", earlier - Duration::SECOND),
        mail(DAN, "Carol's date is not Dan's", earlier),
        mail(BOB, "Bob is not synced", from + Duration::minutes(5)),
    ];
    let synced = [
        mail(ALICE, "exactly at the profile's date", from),
        mail(CAROL, "exactly at Carol's own date", earlier),
        mail(DAN, "exactly at the profile's date, for Dan", from),
    ];
    for id in &synced {
        app.landed(id).await;
    }
    app.quiet().await;
    for id in &skipped {
        assert!(app.emails_with(id).is_empty(), "{id} is outside the rules");
    }
    assert_eq!(app.dataverse().emails().len(), synced.len());

    let bob = graph.user_id(BOB);
    assert!(graph.subscriptions().iter().all(|s| s.user_id != bob), "Bob is not subscribed");
    let bob_requests = graph.request_stats(&app.org.fabrikam.app_id, BOB).requests;
    assert_eq!(bob_requests, 0, "exsync never reads Bob's mailbox");
    assert!(app.status(BOB).await.is_none(), "Bob has no sync status");
}
