//! A profile whose token Entra refuses fails its own mailboxes, with the AADSTS code, while
//! the other profile's mail keeps landing; fixing the secret heals them on the next pass.

use std::time::Duration;

use exsync_shared::status::Health;
use exsync_sim::graph::NewMessage;

use crate::{
    app::{ALICE, CAROL, DAN, TestApp},
    parties::LITWARE,
};

const WRONG: &str = "contoso~this-is-not-the-secret";

fn failing_with(health: &Health, code: &str) -> bool {
    matches!(health, Health::Failing { reason, retryable: false } if reason.contains(code))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_fails_only_its_mailboxes_with_the_aadsts_code_and_a_fixed_secret_heals_them()
 {
    let app = TestApp::builder().polling().secret("contoso", WRONG).start().await;
    for mailbox in [CAROL, DAN] {
        let status = app
            .status_where(mailbox, "failing with AADSTS7000215", |s| {
                failing_with(&s.health, "AADSTS7000215")
            })
            .await;
        let Health::Failing { reason, .. } = &status.health else { unreachable!() };
        assert!(reason.contains("contoso"), "the reason names the profile: {reason}");
        assert!(!reason.contains(WRONG), "the reason never shows the secret: {reason}");
    }

    let graph = app.graph();
    let to_alice = graph.deliver(
        ALICE,
        NewMessage::new("Invoice 2026-1187 overdue").from("Litware Orders", LITWARE).to(ALICE),
    );
    let to_carol = graph.deliver(
        CAROL,
        NewMessage::new("Pricing for the enterprise tier")
            .from("Litware Orders", LITWARE)
            .to(CAROL),
    );
    app.landed(&to_alice.internet_message_id).await;
    // Two more polling rounds: Carol's mail still waits in Exchange, her status still says why.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(app.emails_with(&to_carol.internet_message_id).is_empty());
    let carol = app.status(CAROL).await.expect("a status");
    assert!(failing_with(&carol.health, "AADSTS7000215"), "{carol:?}");
    assert!(carol.consecutive_failures >= 2, "each pass tried again: {carol:?}");
    assert_eq!(app.status(ALICE).await.expect("a status").health, Health::Healthy);

    // The admin puts the right secret in the file; no restart.
    let secret_file = app.config_path.parent().unwrap().join("secrets").join("contoso");
    std::fs::write(&secret_file, &app.org.contoso.secret).unwrap();
    app.landed(&to_carol.internet_message_id).await;
    for mailbox in [CAROL, DAN] {
        app.status_where(mailbox, "healthy again", |s| s.health == Health::Healthy).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_webhooks_a_profile_whose_token_was_refused_is_subscribed_once_its_secret_is_fixed() {
    let app = TestApp::builder().secret("contoso", WRONG).start().await;
    app.wait_subscribed(4).await;
    app.status_where(CAROL, "failing with AADSTS7000215", |s| {
        failing_with(&s.health, "AADSTS7000215")
    })
    .await;
    let graph = app.graph();
    let to_carol = graph.deliver(
        CAROL,
        NewMessage::new("Contract renewal terms").from("Litware Orders", LITWARE).to(CAROL),
    );
    let to_alice = graph.deliver(
        ALICE,
        NewMessage::new("Site visit on Thursday").from("Litware Orders", LITWARE).to(ALICE),
    );
    app.landed(&to_alice.internet_message_id).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(graph.subscriptions().len(), 4, "only Fabrikam's mailboxes are subscribed");
    assert!(app.emails_with(&to_carol.internet_message_id).is_empty());

    let secret_file = app.config_path.parent().unwrap().join("secrets").join("contoso");
    std::fs::write(&secret_file, &app.org.contoso.secret).unwrap();
    // Within a tick (poll_interval, here 1 s) of the fix: subscribed, and caught up.
    app.wait_subscribed(8).await;
    app.landed(&to_carol.internet_message_id).await;
    app.status_where(CAROL, "healthy again", |s| s.health == Health::Healthy).await;
}
