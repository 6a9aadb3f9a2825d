//! The folder pass against the simulator: history, increments, bursts, moves, expired
//! tokens, throttling, refusals.

use std::{collections::HashSet, time::Duration};

use exsync_shared::{
    domain::{Folder, GraphItemId},
    graph::MailboxAccess,
    handlers::{passes::request_pass, sync::sync_folder},
    jobs::Trigger,
    outcome::Outcome,
    ports::DeltaCursor,
    status::Health,
};
use exsync_sim::{
    faults::{Fault, FaultRule},
    graph::{MessageUpdate, NewMessage},
};
use time::macros::datetime;

use super::common::{ALICE, BOB, Env, Options, SimTime, mailbox};

async fn pass(env: &Env, address: &str, folder: Folder) -> Outcome {
    sync_folder(&env.sync_deps(), &mailbox(address), folder, Trigger::Sweep, 0).await
}

fn deliver_many(env: &Env, address: &str, n: usize, prefix: &str) -> Vec<String> {
    (0..n)
        .map(|i| env.sim.deliver(address, NewMessage::new(&format!("{prefix} {i}"))).immutable_id)
        .collect()
}

fn ids(emails: &[exsync_shared::model::EmailRecord]) -> HashSet<String> {
    emails.iter().map(|e| e.graph_id.to_string()).collect()
}

#[tokio::test]
async fn an_initial_pass_writes_the_history_received_on_or_after_the_sync_date() {
    let env = Env::start().await;
    let from = datetime!(2026-01-01 00:00:00 UTC);
    for at in [from - time::Duration::days(30), from - time::Duration::seconds(1)] {
        env.sim.deliver(ALICE, NewMessage::new("too old").received_at(at));
    }
    let mut expected = HashSet::new();
    for i in 0..120 {
        let at = from + time::Duration::minutes(i);
        let message = NewMessage::new(&format!("history {i}")).received_at(at);
        expected.insert(env.sim.deliver(ALICE, message).immutable_id);
    }

    assert_eq!(pass(&env, ALICE, Folder::Inbox).await, Outcome::Done);

    let writes = env.queue.drain_writes();
    assert_eq!(writes.len(), 120, "each kept message is written once");
    assert_eq!(ids(&writes), expected);
    assert!(writes.iter().any(|w| w.received_at == from), "the date is an inclusive bound");
    assert!(writes.iter().all(|w| w.folder == Folder::Inbox && w.internet_message_id.is_some()));
    // 122 messages at 50 per page: 3 delta requests, 0.025 per email written.
    let requests = env.requests(ALICE).requests;
    assert_eq!(requests, 3);
    assert!(requests as f64 / 120.0 <= 0.05);
    assert_eq!(
        env.queue.calls.load(std::sync::atomic::Ordering::SeqCst),
        3,
        "one enqueue per page"
    );
    assert!(matches!(env.cursor(ALICE, Folder::Inbox).await, Some(DeltaCursor::Delta(_))));
    let status = env.status(ALICE).await;
    assert_eq!((status.health, status.emails_seen), (Health::Healthy, 120));
}

#[tokio::test]
async fn an_incremental_pass_writes_only_new_mail_and_sent_items_map_as_sent() {
    let env = Env::start().await;
    let old = deliver_many(&env, ALICE, 3, "old");
    assert_eq!(pass(&env, ALICE, Folder::Inbox).await, Outcome::Done);
    assert_eq!(env.queue.drain_writes().len(), 3);

    let new = deliver_many(&env, ALICE, 2, "new");
    let read = MessageUpdate { is_read: Some(true), ..MessageUpdate::default() };
    assert!(env.sim.update(ALICE, &old[0], read), "a read flag is not new mail");
    env.sim.send(ALICE, NewMessage::new("quote").from("Alice", ALICE).to("buyer@fabrikam.example"));
    let before = env.requests(ALICE).requests;

    assert_eq!(pass(&env, ALICE, Folder::Inbox).await, Outcome::Done);
    assert_eq!(ids(&env.queue.drain_writes()), new.into_iter().collect());
    assert_eq!(env.requests(ALICE).requests - before, 1);

    assert_eq!(pass(&env, ALICE, Folder::SentItems).await, Outcome::Done);
    let sent = env.queue.drain_writes();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].folder, Folder::SentItems);
    assert_eq!(sent[0].to[0].address, "buyer@fabrikam.example");
}

#[tokio::test]
async fn a_burst_of_fifty_costs_few_delta_requests() {
    let env = Env::start().await;
    assert_eq!(pass(&env, ALICE, Folder::Inbox).await, Outcome::Done);
    let before = env.requests(ALICE).requests;
    let deps = env.sync_deps();
    let clock = SimTime(env.clock.clone());
    let alice = mailbox(ALICE);
    // 50 arrivals, each announced as notify does; a pass runs while the second half arrives.
    let notify = |n: usize| {
        let (env, deps, clock, alice) = (&env, &deps, &clock, &alice);
        async move {
            for id in deliver_many(env, ALICE, n, "burst") {
                let _ = id;
                request_pass(
                    &*deps.passes,
                    &*deps.queue,
                    clock,
                    alice,
                    Folder::Inbox,
                    Trigger::Notification,
                )
                .await
                .unwrap();
                tokio::task::yield_now().await;
            }
        }
    };
    notify(25).await;
    let queued = env.queue.drain_passes();
    assert_eq!(queued.len(), 1, "25 notifications coalesce into one pass");
    let (outcome, ()) = tokio::join!(pass(&env, ALICE, Folder::Inbox), notify(25));
    assert_eq!(outcome, Outcome::Done);
    for _ in 0..3 {
        if env.queue.drain_passes().is_empty() {
            break;
        }
        assert_eq!(pass(&env, ALICE, Folder::Inbox).await, Outcome::Done);
    }
    assert_eq!(env.queue.drain_writes().len(), 50);
    let requests = env.requests(ALICE).requests - before;
    assert!(requests <= 5, "{requests} delta requests for 50 messages");
}

#[tokio::test]
async fn a_moved_message_keeps_its_immutable_id() {
    let env = Env::start().await;
    let access = MailboxAccess::of(&env.config, &env.config.mailboxes[0]);
    let synced = env.sim.deliver(ALICE, NewMessage::new("filed away later"));
    assert_eq!(pass(&env, ALICE, Folder::Inbox).await, Outcome::Done);
    assert_eq!(env.queue.drain_writes()[0].graph_id.as_str(), synced.immutable_id);

    // The id exsync wrote still reads the message after the user files it elsewhere.
    let archived = env.sim.move_to(ALICE, &synced.id, "archive").unwrap();
    assert_ne!(archived.id, synced.id, "the regular id changes with the folder");
    let id = GraphItemId::parse(synced.immutable_id.clone()).unwrap();
    let read = env.graph.message(&access, &id).await.unwrap();
    assert_eq!(read.subject.as_deref(), Some("filed away later"));

    // A message rescued from Junk arrives in the Inbox with the id it had in Junk.
    let junk = env.sim.deliver_to(ALICE, "junkemail", NewMessage::new("not spam"));
    let rescued = env.sim.move_to(ALICE, &junk.id, "inbox").unwrap();
    assert_ne!(rescued.id, junk.id);
    assert_eq!(pass(&env, ALICE, Folder::Inbox).await, Outcome::Done);
    let writes = env.queue.drain_writes();
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].graph_id.as_str(), junk.immutable_id);
}

#[tokio::test]
async fn an_expired_or_reset_delta_token_starts_the_folder_over() {
    let env = Env::start().await;
    let old = deliver_many(&env, ALICE, 2, "old");
    assert_eq!(pass(&env, ALICE, Folder::Inbox).await, Outcome::Done);
    env.queue.drain_writes();

    env.sim.expire_delta_tokens(ALICE);
    let new = deliver_many(&env, ALICE, 1, "new");
    assert_eq!(pass(&env, ALICE, Folder::Inbox).await, Outcome::Done);
    let all: HashSet<String> = old.iter().chain(&new).cloned().collect();
    assert_eq!(ids(&env.queue.drain_writes()), all, "replayed; write de-duplicates");

    env.sim.reset_sync(ALICE);
    assert_eq!(pass(&env, ALICE, Folder::Inbox).await, Outcome::Done);
    assert_eq!(ids(&env.queue.drain_writes()), all);
    assert!(matches!(env.cursor(ALICE, Folder::Inbox).await, Some(DeltaCursor::Delta(_))));
}

#[tokio::test]
async fn a_short_retry_after_is_waited_out_and_a_long_one_throttles_the_job() {
    let env = Env::start().await;
    deliver_many(&env, ALICE, 1, "x");
    let faults = env.sim.faults();
    let throttled = |secs| Fault::Status { status: 429, retry_after: Some(secs) };
    faults.arm(FaultRule::next(1, throttled(1)).on_path("/messages/delta"));
    assert_eq!(pass(&env, ALICE, Folder::Inbox).await, Outcome::Done);
    assert_eq!(faults.fired()["429"], 1);
    assert_eq!(env.queue.drain_writes().len(), 1);

    let cursor = env.cursor(ALICE, Folder::Inbox).await;
    faults.arm(FaultRule::next(1, throttled(120)).on_path("/messages/delta"));
    let outcome = pass(&env, ALICE, Folder::Inbox).await;
    let Outcome::Throttled { after, reason } = outcome else { panic!("{outcome:?}") };
    assert_eq!(after, Duration::from_secs(120));
    assert!(reason.contains("429"), "{reason}");
    assert_eq!(env.cursor(ALICE, Folder::Inbox).await, cursor, "nothing read, nothing moved");
    assert!(matches!(env.status(ALICE).await.health, Health::Throttled { .. }));
}

#[tokio::test]
async fn server_errors_are_retried_within_bounds_then_fail_retryably() {
    let env = Env::start().await;
    deliver_many(&env, ALICE, 1, "x");
    let faults = env.sim.faults();
    let error = Fault::Status { status: 500, retry_after: None };
    faults.arm(FaultRule::next(2, error.clone()).on_path("/messages/delta"));
    assert_eq!(pass(&env, ALICE, Folder::Inbox).await, Outcome::Done);

    faults.arm(FaultRule::next(10, error).on_path("/messages/delta"));
    let outcome = pass(&env, ALICE, Folder::Inbox).await;
    assert!(matches!(outcome, Outcome::Failed { retryable: true, .. }), "{outcome:?}");
    assert_eq!(faults.fired()["500"], 2 + 4, "4 attempts, then the job's retry takes over");
}

#[tokio::test]
async fn an_application_access_policy_parks_the_mailbox_and_names_the_policy() {
    let env = Env::start().await;
    env.sim.restrict_app(super::common::TENANT, super::common::APP, &[BOB]);
    let outcome = pass(&env, ALICE, Folder::Inbox).await;
    let Outcome::Parked { reason } = outcome else { panic!("{outcome:?}") };
    assert!(reason.contains("ErrorAccessDenied"), "{reason}");
    assert!(reason.contains("application access policy"), "{reason}");
    assert!(reason.contains("Test-ApplicationAccessPolicy -Identity alice@contoso.example"));
    let health = env.status(ALICE).await.health;
    assert!(matches!(health, Health::Failing { retryable: false, .. }), "{health:?}");
    assert_eq!(pass(&env, BOB, Folder::Inbox).await, Outcome::Done, "bob is in scope");
}

#[tokio::test]
async fn a_token_without_mail_read_parks_the_mailbox_and_names_the_permission() {
    let env = Env::start().await;
    *env.tokens.roles.lock().unwrap() = vec!["Mail.ReadBasic".into()];
    let outcome = pass(&env, ALICE, Folder::Inbox).await;
    let Outcome::Parked { reason } = outcome else { panic!("{outcome:?}") };
    assert!(reason.contains("no Mail.Read application permission"), "{reason}");
}

#[tokio::test]
async fn a_rejected_token_is_refreshed_once_and_the_pass_goes_on() {
    let env = Env::start().await;
    deliver_many(&env, ALICE, 1, "x");
    env.tokens.bad_audiences.lock().unwrap().push("https://wrong.example".into());
    assert_eq!(pass(&env, ALICE, Folder::Inbox).await, Outcome::Done);
    assert_eq!(env.tokens.rejections.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(env.queue.drain_writes().len(), 1);
}

#[tokio::test]
async fn a_token_rejected_twice_parks_the_mailbox() {
    let env = Env::start().await;
    let wrong = "https://wrong.example".to_string();
    env.tokens.bad_audiences.lock().unwrap().extend([wrong.clone(), wrong]);
    let outcome = pass(&env, ALICE, Folder::Inbox).await;
    let Outcome::Parked { reason } = outcome else { panic!("{outcome:?}") };
    assert!(reason.contains("InvalidAuthenticationToken"), "{reason}");
    assert!(reason.contains("rejected a freshly issued token"), "{reason}");
    assert_eq!(env.tokens.rejections.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_long_backlog_continues_in_a_follow_up_job() {
    let mut env = Env::start().await;
    env.pages_per_job = 2;
    let all: HashSet<String> = deliver_many(&env, ALICE, 130, "backlog").into_iter().collect();
    assert_eq!(pass(&env, ALICE, Folder::Inbox).await, Outcome::Done);
    assert_eq!(env.queue.drain_writes().len(), 100);
    let status = env.status(ALICE).await;
    assert_eq!((status.health, status.emails_seen), (Health::CatchingUp, 100));
    let follow_up = env.queue.drain_passes();
    let follow_up: Vec<_> = follow_up.into_iter().map(|(m, f, t, _)| (m, f, t)).collect();
    assert_eq!(follow_up, vec![(mailbox(ALICE), Folder::Inbox, Trigger::Sweep)]);

    assert_eq!(pass(&env, ALICE, Folder::Inbox).await, Outcome::Done);
    let rest = env.queue.drain_writes();
    assert_eq!(rest.len(), 30);
    assert!(env.queue.drain_passes().is_empty());
    assert!(ids(&rest).is_subset(&all));
}

#[tokio::test]
async fn with_incoming_off_nothing_is_written_but_the_folder_is_followed() {
    let env = Env::with(Options { incoming: false, ..Options::default() }).await;
    deliver_many(&env, ALICE, 3, "ignored");
    assert_eq!(pass(&env, ALICE, Folder::Inbox).await, Outcome::Done);
    assert!(env.queue.drain_writes().is_empty());
    assert!(matches!(env.cursor(ALICE, Folder::Inbox).await, Some(DeltaCursor::Delta(_))));
}

#[tokio::test]
async fn a_body_too_large_for_a_queue_message_is_left_in_graph_and_the_folder_moves_on() {
    let env = Env::start().await;
    let huge = format!("<html><body>{}</body></html>", "<p>quarterly figures</p>".repeat(15_000));
    let big = env.sim.deliver(ALICE, NewMessage::new("newsletter").html(&huge));
    deliver_many(&env, ALICE, 2, "small");
    assert_eq!(pass(&env, ALICE, Folder::Inbox).await, Outcome::Done);
    let writes = env.queue.drain_writes();
    assert_eq!(writes.len(), 3);
    let newsletter = writes.iter().find(|w| w.graph_id.as_str() == big.immutable_id).unwrap();
    assert!(newsletter.body_omitted && newsletter.body_html.is_empty());
    assert!(writes.iter().filter(|w| !w.body_omitted).all(|w| !w.body_html.is_empty()));
    // What `write` does with it: read the body from Graph.
    let access = MailboxAccess::of(&env.config, &env.config.mailboxes[0]);
    let message = env.graph.message(&access, &newsletter.graph_id).await.unwrap();
    assert_eq!(message.body.unwrap().content.unwrap().len(), huge.len());
}
