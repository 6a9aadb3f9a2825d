//! Exactly once: one message is one activity, whoever writes it how often, and a write cut
//! short at any point is finished, not repeated, by its retry.

use exsync_shared::{domain::Folder, handlers::write::write_emails};
use exsync_sim::faults::{Fault, FaultRule};
use serde_json::json;

use super::*;

#[tokio::test]
async fn one_email_seen_by_two_mailboxes_and_twice_by_one_is_one_activity() {
    let world = World::start().await;
    let message = email(
        Folder::Inbox,
        Some("<shared@customer.example>"),
        "pat@customer.example",
        &["alice@corp.example", "bob@corp.example"],
    );
    let mut bobs_copy = message.clone();
    bobs_copy.graph_id = GraphItemId::parse("AAMk-bobs-copy").unwrap();
    let (alice, bob) = (mailbox("alice@corp.example"), mailbox("bob@corp.example"));

    assert_done(
        &world
            .write(vec![(alice.clone(), message.clone()), (bob.clone(), bobs_copy.clone())])
            .await,
    );
    assert_eq!(world.env.emails().len(), 1);
    assert_eq!(
        (world.status.written("alice@corp.example"), world.status.written("bob@corp.example")),
        (vec![true], vec![false])
    );

    // A redelivered job, or the delta catch-up after the notification: the dedupe store
    // answers, Dataverse is not asked.
    let before = world.operations();
    assert_done(&world.write(vec![(alice.clone(), message.clone())]).await);
    assert_eq!(world.operations(), before, "no Dataverse request for a known message");

    // A restarted process without the store's answer finds it in Dataverse.
    assert_done(&write_emails(&world.restarted(), vec![(bob, bobs_copy)]).await);
    assert_eq!(world.env.emails().len(), 1);
    assert_eq!(world.status.written("alice@corp.example"), vec![true, false]);
}

#[tokio::test]
async fn a_message_server_side_sync_already_wrote_is_not_written_again() {
    let world = World::start().await;
    let theirs = world
        .env
        .insert(
            "emails",
            json!({"subject": "Hi", "directioncode": false, "messageid": "<sss@customer.example>"}),
        )
        .unwrap();
    let message = email(
        Folder::Inbox,
        Some("<sss@customer.example>"),
        "pat@customer.example",
        &["alice@corp.example"],
    );
    assert_done(&world.write(vec![(mailbox("alice@corp.example"), message.clone())]).await);
    assert_eq!(world.env.emails().len(), 1);
    assert_eq!(world.status.written("alice@corp.example"), vec![false]);
    let known =
        world.dedupe.activity_of(message.internet_message_id.as_ref().unwrap()).await.unwrap();
    assert_eq!(known, Some(theirs), "the store learns the existing activity");
}

#[tokio::test]
async fn a_batch_refused_with_5xx_creates_nothing_and_its_retry_creates_once() {
    let world = World::start().await;
    let alice = mailbox("alice@corp.example");
    let message = email(
        Folder::Inbox,
        Some("<flaky@customer.example>"),
        "pat@customer.example",
        &["alice@corp.example"],
    );
    world.sim.faults().arm(
        FaultRule::next(1, Fault::Status { status: 503, retry_after: None }).on_path("$batch"),
    );
    let outcomes = world.write(vec![(alice.clone(), message.clone())]).await;
    assert!(matches!(&outcomes[0], Outcome::Failed { retryable: true, .. }), "{outcomes:?}");
    assert!(world.env.emails().is_empty());

    assert_done(&world.write(vec![(alice.clone(), message.clone())]).await);
    assert_done(&world.write(vec![(alice, message)]).await);
    assert_eq!(world.env.emails().len(), 1);
}

#[tokio::test]
async fn a_write_cut_off_by_a_timeout_creates_one_activity_on_retry() {
    let limits =
        ClientLimits { request_timeout: Duration::from_millis(500), ..ClientLimits::default() };
    let world = World::with_limits(limits).await;
    let alice = mailbox("alice@corp.example");
    let message = email(Folder::SentItems, None, "alice@corp.example", &["pat@customer.example"]);
    // Warm the party cache so the write batch is the only request.
    let warm = email(Folder::SentItems, None, "alice@corp.example", &["pat@customer.example"]);
    assert_done(&world.write(vec![(alice.clone(), warm)]).await);
    let existing = world.env.emails().len();

    world
        .sim
        .faults()
        .arm(FaultRule::next(1, Fault::Latency(Duration::from_millis(1500))).on_path("$batch"));
    let outcomes = world.write(vec![(alice.clone(), message.clone())]).await;
    assert!(matches!(&outcomes[0], Outcome::Failed { retryable: true, .. }), "{outcomes:?}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let committed = world.env.emails().len() - existing;
    println!("the batch cut off by the timeout was committed anyway: {}", committed == 1);

    assert_done(&write_emails(&world.restarted(), vec![(alice, message)]).await);
    assert_eq!(world.env.emails().len(), existing + 1, "exactly one activity");
}

#[tokio::test]
async fn a_crash_after_the_write_and_before_the_ack_creates_nothing_new() {
    let world = World::start().await;
    let alice = mailbox("alice@corp.example");
    // With a Message-ID the retry finds it by messageid; without one, only the deterministic
    // activityid protects it: the create is answered "duplicate", which means done.
    let found = email(
        Folder::Inbox,
        Some("<crash@customer.example>"),
        "pat@customer.example",
        &["alice@corp.example"],
    );
    let keyed = email(Folder::SentItems, None, "alice@corp.example", &["pat@customer.example"]);
    assert_done(
        &world.write(vec![(alice.clone(), found.clone()), (alice.clone(), keyed.clone())]).await,
    );
    let creates = world.env.requests(APP).by_entity_set["emails"];
    // kill -9: the jobs were never acked, the dedupe store never written.
    for _ in 0..2 {
        let jobs = vec![(alice.clone(), found.clone()), (alice.clone(), keyed.clone())];
        assert_done(&write_emails(&world.restarted(), jobs).await);
    }
    assert_eq!(world.env.emails().len(), 2);
    assert_eq!(
        world.status.written("alice@corp.example"),
        vec![true, true, false, false, false, false]
    );
    let stats = world.env.requests(APP);
    assert!(
        stats.by_entity_set["emails"] > creates,
        "the keyed email was sent again and refused: {stats:?}"
    );
}

#[tokio::test]
async fn two_workers_racing_on_one_message_create_one_activity() {
    let world = World::start().await;
    let message = email(
        Folder::Inbox,
        Some("<race@customer.example>"),
        "pat@customer.example",
        &["alice@corp.example", "bob@corp.example"],
    );
    let (one, two) = (world.restarted(), world.restarted());
    let (a, b) = tokio::join!(
        write_emails(&one, vec![(mailbox("alice@corp.example"), message.clone())]),
        write_emails(&two, vec![(mailbox("bob@corp.example"), message.clone())]),
    );
    assert_done(&a);
    assert_done(&b);
    assert_eq!(world.env.emails().len(), 1);
    let created: Vec<bool> =
        [world.status.written("alice@corp.example"), world.status.written("bob@corp.example")]
            .concat();
    assert_eq!(created.iter().filter(|c| **c).count(), 1, "{created:?}");
}
