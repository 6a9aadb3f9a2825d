//! Subscription upkeep and lifecycle events against the simulator, with the validation
//! handshake answered by a tiny HTTPS endpoint.

use std::{sync::atomic::Ordering, time::Duration};

use exsync_shared::{
    domain::{Folder, SubscriptionId},
    graph::MailboxAccess,
    handlers::subscribe::{
        ensure_subscriptions, on_lifecycle, pending_id, record_for_notification,
    },
    jobs::{LifecycleEvent, Trigger},
    outcome::Outcome,
    ports::{SubscriptionRecord, SubscriptionShape, SubscriptionStore},
    secret::Secret,
};
use exsync_sim::graph::{
    GraphLimits, LifecycleEvent as SimLifecycle, NewMessage, SubscriptionInfo,
};

use super::{
    common::{ALICE, Env, Options, mailbox},
    receiver::{Receiver, bind, eventually},
};

async fn env_with(options: Options) -> (Env, Receiver) {
    let (listener, url) = bind().await;
    let env = Env::with(Options { public_url: Some(url), ..options }).await;
    let receiver = Receiver::serve(listener, &env);
    (env, receiver)
}

async fn env() -> (Env, Receiver) {
    env_with(Options { mailboxes: vec![ALICE], ..Options::default() }).await
}

fn subscriptions(env: &Env) -> Vec<SubscriptionInfo> {
    env.sim.subscriptions()
}

async fn records(env: &Env) -> Vec<SubscriptionRecord> {
    env.subscription_records(ALICE).await
}

async fn record_of(env: &Env, folder: Folder) -> SubscriptionRecord {
    records(env).await.into_iter().find(|r| r.folder == folder).unwrap()
}

async fn ensure(env: &Env) -> Outcome {
    ensure_subscriptions(&env.subscribe_deps(), &mailbox(ALICE)).await
}

#[tokio::test]
async fn ensure_subscribes_each_folder_for_new_mail_with_both_urls_validated() {
    let (env, receiver) = env().await;
    assert_eq!(ensure(&env).await, Outcome::Done);

    let subs = subscriptions(&env);
    assert_eq!(subs.len(), 2);
    let public = env.config.runtime.public_url.clone().unwrap();
    for folder in Folder::ALL {
        let resource =
            format!("users/{ALICE}/mailFolders('{}')/messages", folder.well_known_name());
        let sub = subs.iter().find(|s| s.resource == resource).expect("one per folder");
        assert_eq!(sub.change_type, "created");
        assert_eq!(sub.notification_url, format!("{public}graph/notify"));
        assert_eq!(sub.lifecycle_url.as_deref(), Some(format!("{public}graph/lifecycle").as_str()));
        let record = record_of(&env, folder).await;
        assert_eq!(record.id.as_str(), sub.id);
        assert_eq!(Some(record.client_state.expose()), sub.client_state.as_deref());
        assert!(record.client_state.expose().len() <= 128);
        assert_eq!(record.expires_at, sub.expiration);
    }
    assert_eq!(records(&env).await.len(), 2, "no placeholder is left behind");
    assert_eq!(receiver.seen.handshakes.load(Ordering::SeqCst), 4, "two URLs per subscription");
    assert_eq!(
        receiver.seen.handshakes_with_placeholder.load(Ordering::SeqCst),
        4,
        "the record is stored before Graph can notify"
    );
    let passes = env.take_passes().await;
    assert_eq!(passes.len(), 2, "a new subscription starts with a catch-up pass");

    assert_eq!(ensure(&env).await, Outcome::Done);
    assert_eq!(subscriptions(&env).len(), 2, "ensure is idempotent");
}

#[tokio::test]
async fn notifications_are_verified_by_client_state_and_queue_one_pass() {
    let (env, receiver) = env().await;
    assert_eq!(ensure(&env).await, Outcome::Done);
    env.take_passes().await;

    env.sim.deliver(ALICE, NewMessage::new("ping"));
    eventually("a verified notification", || receiver.seen.verified.load(Ordering::SeqCst) >= 1)
        .await;
    assert_eq!(
        env.take_passes().await,
        vec![(mailbox(ALICE), Folder::Inbox, Trigger::Notification)]
    );

    let store = &*env.store;
    let id = record_of(&env, Folder::Inbox).await.id;
    let forged = record_for_notification(store, &id, &Secret::new("guess")).await.unwrap();
    assert!(forged.is_none(), "a wrong clientState proves nothing");
}

#[tokio::test]
async fn a_notification_that_overtakes_the_create_answer_is_recognised() {
    let (env, _receiver) = env().await;
    let state = Secret::new("a-client-state-of-a-create-in-flight");
    let placeholder = SubscriptionRecord {
        id: pending_id(&state),
        mailbox: mailbox(ALICE),
        folder: Folder::Inbox,
        expires_at: env.clock.now() + Duration::from_secs(3600),
        client_state: state.clone(),
        shape: SubscriptionShape::Plain,
    };
    env.store.put_subscription(&placeholder).await.unwrap();
    let unknown = SubscriptionId::parse("7f1f4c7a-0000-4000-8000-000000000001").unwrap();
    let found = record_for_notification(&*env.store, &unknown, &state).await.unwrap();
    assert_eq!(found.map(|r| r.folder), Some(Folder::Inbox));
    let other = Secret::new("another");
    assert!(record_for_notification(&*env.store, &unknown, &other).await.unwrap().is_none());
}

#[tokio::test]
async fn a_subscription_past_half_its_life_is_renewed() {
    let (env, _receiver) = env().await;
    assert_eq!(ensure(&env).await, Outcome::Done);
    let first = record_of(&env, Folder::Inbox).await;

    env.clock.advance(Duration::from_secs(36 * 3600));
    assert_eq!(ensure(&env).await, Outcome::Done);
    let renewed = record_of(&env, Folder::Inbox).await;
    assert_eq!(renewed.id, first.id);
    assert!(renewed.expires_at > first.expires_at + Duration::from_secs(30 * 3600));
    let remote = subscriptions(&env).into_iter().find(|s| s.id == first.id.as_str()).unwrap();
    assert_eq!(remote.expiration, renewed.expires_at);
}

#[tokio::test]
async fn upkeep_of_a_subscription_not_yet_due_makes_no_graph_request() {
    let (env, _receiver) = env().await;
    assert_eq!(ensure(&env).await, Outcome::Done);
    let before = env.requests(ALICE).requests;
    env.clock.advance(Duration::from_secs(3600));
    assert_eq!(ensure(&env).await, Outcome::Done);
    assert_eq!(env.requests(ALICE).requests, before, "renewal works from the stored expiry");
    assert_eq!(records(&env).await.len(), 2);
}

#[tokio::test]
async fn a_record_stored_before_shapes_were_kept_is_read_from_graph_once() {
    let (env, _receiver) = env().await;
    assert_eq!(ensure(&env).await, Outcome::Done);
    let inbox = record_of(&env, Folder::Inbox).await;
    let old = SubscriptionRecord { shape: SubscriptionShape::Unknown, ..inbox.clone() };
    env.store.put_subscription(&old).await.unwrap();

    let before = env.requests(ALICE).requests;
    assert_eq!(ensure(&env).await, Outcome::Done);
    assert_eq!(env.requests(ALICE).requests, before + 1, "one GET");
    assert_eq!(record_of(&env, Folder::Inbox).await, inbox);
    assert_eq!(ensure(&env).await, Outcome::Done);
    assert_eq!(env.requests(ALICE).requests, before + 1, "and no more");
}

#[tokio::test]
async fn a_subscription_graph_lost_is_recreated_at_its_renewal_and_caught_up() {
    let (env, _receiver) = env().await;
    assert_eq!(ensure(&env).await, Outcome::Done);
    env.take_passes().await;
    let lost = record_of(&env, Folder::SentItems).await;
    let access = MailboxAccess::of(&env.config, &env.config.mailboxes[0]);
    env.graph.delete_subscription(&access, &lost.id).await.unwrap();

    // Silently lost (no lifecycle event): the renewal's 404 finds it.
    env.clock.advance(Duration::from_secs(36 * 3600));
    assert_eq!(ensure(&env).await, Outcome::Done);
    let successor = record_of(&env, Folder::SentItems).await;
    assert_ne!(successor.id, lost.id);
    assert_eq!(records(&env).await.len(), 2, "the lost record is gone");
    assert_eq!(subscriptions(&env).len(), 2);
    assert_eq!(
        env.take_passes().await,
        vec![(mailbox(ALICE), Folder::SentItems, Trigger::Lifecycle)]
    );
}

#[tokio::test]
async fn a_lifetime_graph_refuses_falls_back_to_the_safe_maximum() {
    let limits = GraphLimits { subscription_max_minutes: 4_230, ..GraphLimits::default() };
    let options = Options {
        mailboxes: vec![ALICE],
        limits,
        subscription_lifetime: "10080m",
        ..Options::default()
    };
    let (env, _receiver) = env_with(options).await;
    assert_eq!(ensure(&env).await, Outcome::Done);
    let now = env.clock.now();
    for sub in subscriptions(&env) {
        let minutes = (sub.expiration - now).whole_minutes();
        assert!((4_220..=4_230).contains(&minutes), "{minutes}");
    }
}

#[tokio::test]
async fn a_failed_handshake_fails_with_the_endpoints_named_and_leaves_no_record() {
    let (env, receiver) = env().await;
    receiver.seen.fail_handshakes.store(true, Ordering::SeqCst);
    let outcome = ensure(&env).await;
    let Outcome::Failed { reason, retryable: false } = outcome else { panic!("{outcome:?}") };
    assert!(reason.contains("graph/notify"), "{reason}");
    assert!(reason.contains("validationToken"), "{reason}");
    assert!(records(&env).await.is_empty(), "placeholders are removed");
}

#[tokio::test]
async fn lifecycle_events_reauthorize_recreate_and_catch_up() {
    let (env, receiver) = env().await;
    assert_eq!(ensure(&env).await, Outcome::Done);
    env.take_passes().await;
    let deps = env.subscribe_deps();
    let inbox = record_of(&env, Folder::Inbox).await;

    // reauthorizationRequired: reauthorized, so delivery does not pause after the grace.
    assert!(env.sim.lifecycle(inbox.id.as_str(), SimLifecycle::ReauthorizationRequired));
    eventually("the lifecycle notification", || {
        !receiver.seen.lifecycle.lock().unwrap().is_empty()
    })
    .await;
    let (id, event) = receiver.seen.lifecycle.lock().unwrap().remove(0);
    assert_eq!((id.clone(), event), (inbox.id.clone(), LifecycleEvent::ReauthorizationRequired));
    assert_eq!(on_lifecycle(&deps, &id, event).await, Outcome::Done);
    assert_eq!(env.take_passes().await, vec![(mailbox(ALICE), Folder::Inbox, Trigger::Lifecycle)]);
    env.clock.advance(Duration::from_secs(700));
    let verified = receiver.seen.verified.load(Ordering::SeqCst);
    env.sim.deliver(ALICE, NewMessage::new("after reauthorization"));
    eventually("delivery to go on", || receiver.seen.verified.load(Ordering::SeqCst) > verified)
        .await;
    env.take_passes().await;

    // subscriptionRemoved: a successor, and a catch-up pass.
    assert!(env.sim.lifecycle(inbox.id.as_str(), SimLifecycle::SubscriptionRemoved));
    eventually("the removal", || !receiver.seen.lifecycle.lock().unwrap().is_empty()).await;
    let (id, event) = receiver.seen.lifecycle.lock().unwrap().remove(0);
    assert_eq!(event, LifecycleEvent::SubscriptionRemoved);
    assert_eq!(on_lifecycle(&deps, &id, event).await, Outcome::Done);
    let successor = record_of(&env, Folder::Inbox).await;
    assert_ne!(successor.id, inbox.id);
    assert!(subscriptions(&env).iter().any(|s| s.id == successor.id.as_str()));
    assert_eq!(env.take_passes().await, vec![(mailbox(ALICE), Folder::Inbox, Trigger::Lifecycle)]);
    assert_eq!(
        on_lifecycle(&deps, &id, event).await,
        Outcome::Done,
        "a redelivered event is harmless"
    );
    assert_eq!(subscriptions(&env).len(), 2);

    // missed: a catch-up pass.
    assert_eq!(on_lifecycle(&deps, &successor.id, LifecycleEvent::Missed).await, Outcome::Done);
    assert_eq!(env.take_passes().await, vec![(mailbox(ALICE), Folder::Inbox, Trigger::Lifecycle)]);
}
