//! Throttling, outages and latency (reference B1 "Throttling of the token endpoint").

use std::time::{Duration, Instant};

use exsync_sim::{
    entra::TokenOutcome,
    faults::{Fault, FaultRule},
};

use super::*;

#[tokio::test]
async fn a_throttled_request_gets_429_with_retry_after_60_and_a_plain_body() {
    let env = Env::start().await;
    let throttle = Fault::Status { status: 429, retry_after: None };
    env.sim.faults().arm(FaultRule::next(1, throttle.clone()).on_path("/oauth2/v2.0/token"));
    let reply = env.post(TENANT, &secret_form(CLIENT, SECRET, GRAPH_SCOPE)).await;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.headers["retry-after"], "60");
    assert_eq!(reply.body, "Too Many Requests");
    env.post(TENANT, &secret_form(CLIENT, SECRET, GRAPH_SCOPE)).await.token();

    let log = env.sim.token_requests();
    assert_eq!(log[0].outcome, TokenOutcome::Faulted(throttle));
    assert_eq!(log[0].tenant, TENANT);
    assert_eq!(env.sim.tokens_issued(TENANT, CLIENT, GRAPH_RESOURCE), 1);
}

#[tokio::test]
async fn an_outage_gets_a_json_temporarily_unavailable_error() {
    let env = Env::start().await;
    let outage = Fault::Status { status: 503, retry_after: Some(5) };
    env.sim.faults().arm(FaultRule::next(1, outage));
    let reply = env.post(TENANT, &secret_form(CLIENT, SECRET, GRAPH_SCOPE)).await;
    reply.assert_error(503, "temporarily_unavailable", 90006);
    assert_eq!(reply.headers["retry-after"], "5");
}

#[tokio::test]
async fn latency_delays_the_answer() {
    let env = Env::start().await;
    env.sim.faults().arm(FaultRule::next(1, Fault::Latency(Duration::from_millis(300))));
    let started = Instant::now();
    env.post(TENANT, &secret_form(CLIENT, SECRET, GRAPH_SCOPE)).await.token();
    assert!(started.elapsed() >= Duration::from_millis(300));
}
