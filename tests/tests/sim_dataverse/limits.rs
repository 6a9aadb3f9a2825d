//! Service protection limits (reference A7): request count, execution time and concurrency,
//! each with its code, message and Retry-After; and injected faults.

use std::time::Duration;

use exsync_sim::{
    dataverse::Limits,
    faults::{Fault, FaultRule},
};
use serde_json::json;

use crate::world::{APP, World};

fn retry_after(resp: &crate::world::Resp) -> u64 {
    resp.header("retry-after").expect("Retry-After").parse().expect("integer seconds")
}

#[tokio::test]
async fn the_request_limit_answers_429_and_retry_after_grows_while_the_client_pushes() {
    let w = World::new().await;
    w.env.set_limits(Limits { requests: 3, ..Limits::default() });
    for _ in 0..3 {
        let ok = w.get("WhoAmI").await;
        assert_eq!(ok.status, 200);
    }
    let first = w.get("WhoAmI").await;
    assert_eq!((first.status, first.code().as_str()), (429, "0x80072322"));
    assert_eq!(
        first.message(),
        "Number of requests exceeded the limit of 3 over time window of 300 seconds."
    );
    let wait = retry_after(&first);
    assert!((1..=300).contains(&wait), "{wait}");
    let pushed = w.get("WhoAmI").await;
    assert!(
        retry_after(&pushed) > wait || retry_after(&pushed) == 300,
        "the wait grows when the client keeps sending"
    );

    // A batch's operations count one by one.
    w.clock.advance(Duration::from_secs(601));
    let part = "--b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET WhoAmI HTTP/1.1\r\n\r\n";
    let batch = format!("{}--b--\r\n", part.repeat(3));
    let resp = w
        .send(
            w.request(reqwest::Method::POST, "$batch")
                .header("Content-Type", "multipart/mixed;boundary=b")
                .body(batch),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(w.get("WhoAmI").await.status, 429, "three operations used the window up");
    assert_eq!(w.env.requests(APP).throttled["0x80072322"], 3);
}

#[tokio::test]
async fn the_execution_time_limit_answers_429_with_its_code() {
    let w = World::new().await;
    w.env.set_limits(Limits { execution_ms: 150, ..Limits::default() });
    w.sim
        .faults()
        .arm(FaultRule::next(2, Fault::Latency(Duration::from_millis(100))).on_path("WhoAmI"));
    assert_eq!(w.get("WhoAmI").await.status, 200);
    assert_eq!(w.get("WhoAmI").await.status, 200);
    let resp = w.get("WhoAmI").await;
    assert_eq!((resp.status, resp.code().as_str()), (429, "0x80072321"));
    assert_eq!(
        resp.message(),
        "Combined execution time of incoming requests exceeded limit of 150  milliseconds over time window of 300 seconds. Decrease number of concurrent requests or reduce the duration of requests and try again later."
    );
    assert!(retry_after(&resp) >= 1);
    w.clock.advance(Duration::from_secs(301 + retry_after(&resp)));
    assert_eq!(w.get("WhoAmI").await.status, 200, "the window slides");
}

#[tokio::test]
async fn the_concurrency_limit_answers_429_at_once() {
    let w = World::new().await;
    w.env.set_limits(Limits { concurrent: 2, ..Limits::default() });
    w.sim
        .faults()
        .arm(FaultRule::ratio(1.0, Fault::Latency(Duration::from_millis(400))).on_path("accounts"));
    let (a, b, c) = tokio::join!(w.get("accounts"), w.get("accounts"), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        w.get("WhoAmI").await
    });
    assert_eq!((a.status, b.status), (200, 200));
    assert_eq!((c.status, c.code().as_str()), (429, "0x80072326"));
    assert_eq!(c.message(), "Number of concurrent requests exceeded the limit of 2.");
    assert!(retry_after(&c) >= 1);
    assert_eq!(w.env.peak_concurrency(APP), 3);
    assert_eq!(w.env.requests(APP).throttled["0x80072326"], 1);
}

#[tokio::test]
async fn injected_faults_answer_with_their_status_and_retry_after() {
    let w = World::new().await;
    w.sim.faults().arm(
        FaultRule::next(1, Fault::Status { status: 503, retry_after: Some(7) }).on_method("POST"),
    );
    let resp = w.post("emails", json!({"subject": "x"})).await;
    assert_eq!((resp.status, resp.header("retry-after")), (503, Some("7")));
    assert!(w.env.emails().is_empty());
    assert_eq!(w.post("emails", json!({"subject": "x"})).await.status, 204);
    w.sim.faults().arm(FaultRule::next(1, Fault::Status { status: 429, retry_after: Some(2) }));
    let throttled = w.get("WhoAmI").await;
    assert_eq!(
        (throttled.status, throttled.code().as_str(), retry_after(&throttled)),
        (429, "0x80072322", 2)
    );
}

#[tokio::test]
async fn a_hung_request_holds_its_concurrency_slot_until_the_client_gives_up() {
    let w = World::new().await;
    w.env.set_limits(Limits { concurrent: 1, ..Limits::default() });
    w.sim.faults().arm(FaultRule::next(1, Fault::Hang).on_path("accounts"));
    let hung = w
        .request(reqwest::Method::GET, "accounts")
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(hung.is_err_and(|e| e.is_timeout()));
    assert_eq!(w.sim.faults().fired()["hang"], 1);
    // Once the client dropped the request, the slot is free again (bounded wait).
    let mut status = 0;
    for _ in 0..40 {
        status = w.get("WhoAmI").await.status;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, 200);
}
