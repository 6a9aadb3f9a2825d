//! JSON batching (reference 9.3).

use base64::{Engine, engine::general_purpose::STANDARD};
use exsync_sim::graph::{GraphLimits, NewMessage};
use serde_json::{Value, json};

use crate::common::*;

/// A GET of ALICE's messages, after `after` if given.
fn list(id: &str, after: Option<&str>) -> Value {
    let mut r = json!({"id": id, "method": "GET", "url": format!("/users/{ALICE}/messages")});
    if let Some(a) = after {
        r["dependsOn"] = json!([a]);
    }
    r
}

/// `n` GETs, each after the previous one.
fn chain(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| list(&i.to_string(), i.checked_sub(1).map(|p| p.to_string()).as_deref()))
        .collect()
}

fn by_id<'a>(body: &'a Value, id: &str) -> &'a Value {
    body["responses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no response {id}: {body}"))
}

#[tokio::test]
async fn a_batch_runs_each_request_on_its_own_and_answers_by_id() {
    let env = Env::start().await;
    let token = env.token(READER);
    let m = env.sim.deliver(
        ALICE,
        NewMessage::new("batched").attachment("a.bin", "application/octet-stream", &[1, 2, 3]),
    );
    let att =
        env.get(&format!("/users/{ALICE}/messages/{}/attachments", m.id), &token).await.2["value"]
            [0]["id"]
            .as_str()
            .unwrap()
            .to_string();
    let body = json!({"requests": [
        {"id": "1", "method": "GET", "url": format!("/users/{ALICE}/messages/{}?$select=subject", m.id)},
        {"id": "2", "method": "GET", "url": format!("users/{CAROL}/messages")},
        {"id": "3", "method": "POST", "url": format!("/users/{ALICE}/sendMail"), "dependsOn": ["1"],
         "headers": {"Content-Type": "application/json"},
         "body": {"message": {"subject": "from a batch", "toRecipients": [{"emailAddress": {"address": BOB}}]}}},
        {"id": "4", "method": "GET", "url": format!("/users/{ALICE}/messages/{}/attachments/{att}/$value", m.id)},
    ]});
    let (status, _, resp) = env.post("/$batch", &token, &body).await;
    assert_eq!(status, 200, "{resp}");
    let one = by_id(&resp, "1");
    assert_eq!(one["status"], 200);
    assert_eq!(one["body"]["subject"], "batched");
    assert!(one["headers"]["Content-Type"].as_str().unwrap().starts_with("application/json"));
    let two = by_id(&resp, "2");
    assert_eq!(
        (two["status"].as_u64(), two["body"]["error"]["code"].as_str()),
        (Some(404), Some("ErrorInvalidUser"))
    );
    assert_eq!(by_id(&resp, "3")["status"], 202);
    let four = by_id(&resp, "4");
    assert_eq!(STANDARD.decode(four["body"].as_str().unwrap()).unwrap(), [1, 2, 3]);
    assert_eq!(env.sim.messages(BOB, "inbox")[0].subject, "from a batch");
    // Each sub-request was counted on its own.
    assert_eq!(env.sim.request_stats(APP, ALICE).requests, 1 + 3);
}

#[tokio::test]
async fn a_failed_dependency_gives_424_to_its_dependents() {
    let env = Env::start().await;
    let token = env.token(READER);
    let body = json!({"requests": [
        {"id": "a", "method": "GET", "url": format!("/users/{ALICE}/messages/not-an-id")},
        {"id": "b", "method": "GET", "url": format!("/users/{ALICE}/messages"), "dependsOn": ["a"]},
        {"id": "c", "method": "GET", "url": format!("/users/{ALICE}/messages"), "dependsOn": ["b"]},
        {"id": "d", "method": "GET", "url": format!("/users/{ALICE}/messages")},
    ]});
    let (status, _, resp) = env.post("/$batch", &token, &body).await;
    assert_eq!(status, 200);
    assert_eq!(by_id(&resp, "a")["status"], 400);
    assert_eq!(by_id(&resp, "b")["status"], 424);
    assert_eq!(by_id(&resp, "c")["status"], 424);
    assert_eq!(by_id(&resp, "d")["status"], 200);
}

#[tokio::test]
async fn malformed_batches_are_refused_with_400() {
    let env = Env::start().await;
    let token = env.token(READER);
    let get =
        |id: &str| json!({"id": id, "method": "GET", "url": format!("/users/{ALICE}/messages")});
    let too_many: Vec<Value> = (0..21).map(|i| get(&i.to_string())).collect();
    let resp = env.post("/$batch", &token, &json!({"requests": too_many})).await;
    assert_error(&resp, 400, "BadRequest");
    assert_eq!(resp.2["error"]["message"], "Number of requests inside batch exceeds the limit.");
    let twenty = chain(20);
    assert_eq!(
        env.post("/$batch", &token, &json!({"requests": twenty})).await.0,
        200,
        "20 is allowed"
    );
    let cases = [
        json!({"requests": [get("1"), get("1")]}),
        json!({"requests": [get("x"), get("X")]}),
        json!({"requests": [{"id": "1", "method": "POST", "url": format!("/users/{ALICE}/sendMail"), "body": {}}]}),
        json!({"requests": [{"id": "1", "method": "GET", "url": "/users", "dependsOn": ["2"]}, get("2")]}),
        json!({"requests": [{"id": "1", "method": "GET"}]}),
        json!({"requests": []}),
        json!({"value": [get("1")]}),
    ];
    for body in cases {
        assert_error(&env.post("/$batch", &token, &body).await, 400, "BadRequest");
    }
    let resp = env.post("/$batch", &token, &json!({"requests": [{"id": "1", "method": "POST", "url": format!("/users/{ALICE}/sendMail"), "body": {}}]})).await;
    assert_eq!(
        resp.2["error"]["message"],
        "Write request id : 1 does not contain Content-Type header or body."
    );
    let text = env
        .client
        .post(env.url("/$batch"))
        .header("content-type", "text/plain")
        .body(json!({"requests": [get("1")]}).to_string());
    assert_error(&env.send(text, &token).await, 400, "BadRequest");
    // A bad token fails the whole batch.
    let resp = env.post("/$batch", "not-a-token", &json!({"requests": [get("1")]})).await;
    assert_error(&resp, 401, "InvalidAuthenticationToken");
}

#[tokio::test]
async fn parallel_sub_requests_count_as_concurrent_and_are_throttled_individually() {
    let env = Env::start().await;
    let token = env.token(READER);
    let gets: Vec<Value> = (0..6).map(|i| list(&i.to_string(), None)).collect();
    let (_, _, resp) = env.post("/$batch", &token, &json!({"requests": gets})).await;
    let statuses: Vec<u64> = resp["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 2, "{statuses:?}");
    let throttled =
        resp["responses"].as_array().unwrap().iter().find(|r| r["status"] == 429).unwrap();
    assert_eq!(throttled["body"]["error"]["code"], "ApplicationThrottled");
    assert!(throttled["headers"]["Retry-After"].is_string(), "{throttled}");
    // The refused ones leave at once: at most five were in flight together.
    assert_eq!(env.sim.request_stats(APP, ALICE).peak_concurrency, 5);
    // A sequential chain stays within the limit.
    let (_, _, resp) = env.post("/$batch", &token, &json!({"requests": chain(6)})).await;
    assert!(resp["responses"].as_array().unwrap().iter().all(|r| r["status"] == 200), "{resp}");
}

#[tokio::test]
async fn rate_limited_sub_requests_carry_retry_after_in_their_headers() {
    let limits = GraphLimits { requests_per_window: 2, ..Default::default() };
    let env = Env::with_limits(limits).await;
    let token = env.token(READER);
    let (_, _, resp) = env.post("/$batch", &token, &json!({"requests": chain(3)})).await;
    let third = by_id(&resp, "2");
    assert_eq!(third["status"], 429);
    assert_eq!(third["body"]["error"]["code"], "TooManyRequests");
    assert!(third["headers"]["Retry-After"].as_str().unwrap().parse::<u64>().unwrap() > 0);
}
