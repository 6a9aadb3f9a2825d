//! Concurrency limits as the simulator (and the profile's own count) see them.

use std::time::Duration;

use exsync_shared::{
    domain::{Folder, GraphItemId},
    graph::MailboxAccess,
    handlers::sync::sync_folder,
    jobs::Trigger,
    outcome::Outcome,
};
use exsync_sim::{
    faults::{Fault, FaultRule},
    graph::NewMessage,
};
use futures::future::join_all;

use super::common::{ALICE, BOB, Env, Options, mailbox};

fn slow_requests(env: &Env) {
    env.sim.faults().arm(FaultRule::ratio(1.0, Fault::Latency(Duration::from_millis(40))));
}

#[tokio::test]
async fn many_concurrent_requests_never_exceed_four_per_app_and_mailbox() {
    let env = Env::start().await;
    let ids: Vec<String> = (0..8)
        .map(|i| env.sim.deliver(ALICE, NewMessage::new(&format!("m{i}"))).immutable_id)
        .collect();
    slow_requests(&env);
    let access = MailboxAccess::of(&env.config, &env.config.mailboxes[0]);
    let deps = env.sync_deps();
    let reads = ids.iter().cycle().take(24).map(|id| {
        let (env, access) = (&env, &access);
        async move {
            let id = GraphItemId::parse(id.clone()).unwrap();
            env.graph.message(access, &id).await.map(|_| ())
        }
    });
    let alice = mailbox(ALICE);
    let passes = [Folder::Inbox, Folder::SentItems, Folder::Inbox, Folder::SentItems]
        .map(|folder| sync_folder(&deps, &alice, folder, Trigger::Sweep, 0));
    let (reads, passes) = tokio::join!(join_all(reads), join_all(passes));
    assert!(reads.iter().all(Result::is_ok), "{reads:?}");
    // A second pass of a folder whose pass runs is put back on the queue (one at a time).
    let done = passes.iter().filter(|o| **o == Outcome::Done).count();
    let busy = |o: &Outcome| matches!(o, Outcome::Throttled { reason, .. } if reason.contains("is running"));
    assert!(done >= 2 && passes.iter().all(|o| *o == Outcome::Done || busy(o)), "{passes:?}");
    let stats = env.requests(ALICE);
    assert_eq!(stats.peak_concurrency, 4, "the limit is used, never exceeded: {stats:?}");
    assert_eq!(stats.throttled_concurrency, 0);
}

#[tokio::test]
async fn the_profile_limit_spans_all_its_mailboxes() {
    let mailboxes = vec![ALICE, BOB, "carol@contoso.example", "dave@contoso.example"];
    let env = Env::with(Options {
        mailboxes: mailboxes.clone(),
        profile_connections: 3,
        ..Options::default()
    })
    .await;
    let mut reads = Vec::new();
    for (i, address) in mailboxes.iter().enumerate() {
        let id = env.sim.deliver(address, NewMessage::new("hello")).immutable_id;
        let access = MailboxAccess::of(&env.config, &env.config.mailboxes[i]);
        for _ in 0..6 {
            reads.push((access.clone(), GraphItemId::parse(id.clone()).unwrap()));
        }
    }
    slow_requests(&env);
    let results = join_all(reads.iter().map(|(access, id)| env.graph.message(access, id))).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(env.limiter.peak("contoso"), 3, "three at once across four mailboxes");
    for address in mailboxes {
        assert!(env.requests(address).peak_concurrency <= 3);
    }
}
