//! Outlook throttling per (app, mailbox) and injected faults (reference 9.1, 9.2).

use std::time::Duration;

use exsync_sim::{
    faults::{Fault, FaultRule},
    graph::GraphLimits,
};

use crate::common::*;

#[tokio::test]
async fn the_fifth_concurrent_request_on_a_mailbox_gets_429_application_throttled() {
    let env = Env::start().await;
    let token = env.token(READER);
    env.sim.faults().arm(
        FaultRule::ratio(1.0, Fault::Latency(Duration::from_millis(400))).on_path("/messages"),
    );
    let alice = format!("/users/{ALICE}/messages");
    let bob = format!("/users/{BOB}/messages");
    let (a, b, c, d, e, other) = tokio::join!(
        env.get(&alice, &token),
        env.get(&alice, &token),
        env.get(&alice, &token),
        env.get(&alice, &token),
        env.get(&alice, &token),
        env.get(&bob, &token),
    );
    let results = [&a, &b, &c, &d, &e];
    let throttled: Vec<_> = results.iter().filter(|r| r.0 == 429).collect();
    assert_eq!(throttled.len(), 1, "{:?}", results.iter().map(|r| r.0).collect::<Vec<_>>());
    assert_error(throttled[0], 429, "ApplicationThrottled");
    assert_eq!(
        throttled[0].2["error"]["message"],
        "Application is over its MailboxConcurrency limit."
    );
    assert!(throttled[0].1.contains_key("retry-after"));
    assert_eq!(other.0, 200, "limits are per mailbox");
    let stats = env.sim.request_stats(APP, ALICE);
    assert_eq!((stats.requests, stats.throttled_concurrency, stats.peak_concurrency), (5, 1, 5));
    assert_eq!(env.sim.request_stats(APP, BOB).peak_concurrency, 1);
    // Another app has its own budget on the same mailbox.
    assert_eq!(env.sim.request_stats(OTHER_APP, ALICE).requests, 0);
}

#[tokio::test]
async fn over_the_request_rate_answers_429_with_retry_after_until_the_window_moves() {
    let limits = GraphLimits { requests_per_window: 3, ..Default::default() };
    let env = Env::with_limits(limits).await;
    let path = format!("/users/{ALICE}/messages");
    let token = env.token(READER);
    for _ in 0..3 {
        assert_eq!(env.get(&path, &token).await.0, 200);
    }
    let resp = env.get(&path, &token).await;
    assert_error(&resp, 429, "TooManyRequests");
    let retry_after: u64 = resp.1["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((590..=600).contains(&retry_after), "{retry_after}");
    let inner = &resp.2["error"]["innerError"];
    assert_eq!((inner["code"].as_str(), inner["status"].as_str()), (Some("429"), Some("429")));
    assert_eq!(resp.2["error"]["message"], "Please retry again later.");
    env.clock.advance(Duration::from_secs(601));
    let fresh = env.token(READER);
    assert_eq!(env.get(&path, &fresh).await.0, 200);
    let stats = env.sim.request_stats(APP, ALICE);
    assert_eq!((stats.requests, stats.throttled_rate), (5, 1));
}

#[tokio::test]
async fn injected_faults_answer_with_graph_errors_latency_or_not_at_all() {
    let env = Env::start().await;
    let token = env.token(READER);
    let path = format!("/users/{ALICE}/messages");
    env.sim.faults().arm(FaultRule::next(1, Fault::Status { status: 503, retry_after: Some(7) }));
    let resp = env.get(&path, &token).await;
    assert_error(&resp, 503, "ServiceUnavailable");
    assert_eq!(resp.1["retry-after"], "7");
    assert_eq!(env.get(&path, &token).await.0, 200);

    env.sim.faults().arm(FaultRule::next(1, Fault::Hang).on_method("GET"));
    let hung = env
        .client
        .get(env.url(&path))
        .bearer_auth(&token)
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(hung.unwrap_err().is_timeout());
    assert_eq!(env.sim.faults().fired()["hang"], 1);
    assert_eq!(env.get(&path, &token).await.0, 200);
}
