//! What the SQS twin adds to the queue contract: redrive of a crashing consumer's job, reasons
//! kept as message attributes, long delays in hops, long polling that costs no receive count,
//! and resending what `SendMessageBatch` failed.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use aws_sdk_sqs::types::MessageSystemAttributeName;
use axum::{Json, Router, http::HeaderMap, routing::post};
use exsync_shared::{
    adapters::aws::{
        SqsQueue,
        env::{QueueMap, QueueUrls},
        sqs::timer::NOT_BEFORE,
    },
    domain::{Folder, MailboxAddress},
    jobs::{Envelope, Job, QueueName, Trigger},
    ports::{DeadLetters, JobQueue, JobSource, QueueDepths},
};
use exsync_sim::server::RunningServer;

use crate::moto::Moto;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::common::{fresh_queue, fresh_queue_map, queue_on};

const Q: QueueName = QueueName::Changes;

fn job(local: &str) -> Envelope {
    Envelope::new(Job::SyncFolder {
        mailbox: MailboxAddress::parse(format!("{local}@aws.example")).unwrap(),
        folder: Folder::Inbox,
        trigger: Trigger::Sweep,
        ticket: 0,
    })
}

fn dead_letter_url(queues: &QueueMap) -> String {
    queues.of(Q).unwrap().dead_letter_url.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_consumer_crashes_every_time_is_redriven_and_explained() {
    let queues = fresh_queue_map(2).await;
    let sqs = queue_on(queues.clone()).await;
    let crashing = job("crashing");
    sqs.enqueue(Q, std::slice::from_ref(&crashing), Duration::ZERO).await.unwrap();
    for attempt in 1..=2 {
        // The consumer receives and dies: no ack, the lease runs out.
        let got = sqs.receive(Q, 10, Duration::from_secs(1)).await.unwrap();
        assert_eq!(got.len(), 1, "receive {attempt}");
        assert_eq!(got[0].receive_count, attempt);
        tokio::time::sleep(Duration::from_millis(1_300)).await;
    }
    assert!(sqs.receive(Q, 10, Duration::from_secs(1)).await.unwrap().is_empty(), "SQS moved it");
    let parked = sqs.dead_letters(Q, 10).await.unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(Envelope::from_body(&parked[0].body).unwrap(), crashing);
    assert_eq!(parked[0].receive_count, 2);
    assert!(
        parked[0].reason.starts_with("SQS moved it here after 2 receives without an ack"),
        "{}",
        parked[0].reason
    );
    assert!(sqs.replay(Q, &parked[0].id).await.unwrap());
    let back = sqs.receive(Q, 10, Duration::from_secs(30)).await.unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(
        (back[0].receive_count, Envelope::from_body(&back[0].body).unwrap().id()),
        (1, crashing.id())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_carries_its_reason_as_a_message_attribute() {
    let queues = fresh_queue_map(5).await;
    let sqs = queue_on(queues.clone()).await;
    sqs.enqueue(Q, &[job("poison")], Duration::ZERO).await.unwrap();
    let got = sqs.receive(Q, 1, Duration::from_secs(30)).await.unwrap();
    let reason = format!("unreadable job: {}", "x".repeat(10_000));
    sqs.dead_letter(&got[0], &reason).await.unwrap();
    let raw = aws_sdk_sqs::Client::new(&Moto::shared().sdk_config().await)
        .receive_message()
        .queue_url(dead_letter_url(&queues))
        .message_attribute_names("All")
        .visibility_timeout(0)
        .send()
        .await
        .unwrap();
    let message = &raw.messages.unwrap()[0];
    let attributes = message.message_attributes().unwrap();
    let kept = attributes["exsync.reason"].string_value().unwrap();
    assert!(kept.starts_with("unreadable job: xxx") && kept.ends_with("...") && kept.len() <= 4096);
    assert_eq!(attributes["exsync.receive_count"].string_value(), Some("1"));
    assert_eq!(message.body(), Some(got[0].body.as_str()), "the body as it was received");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delay_longer_than_one_timer_hops_and_arrives_on_time_uncounted() {
    // A one-second timer cap stands in for SQS's 900 s: three hops instead of a 45-minute wait.
    let queues = fresh_queue_map(5).await;
    let sqs = queue_on(queues.clone()).await.with_timer_cap(Duration::from_secs(1));
    let delay = Duration::from_secs(3);
    let enqueued_at = Instant::now();
    sqs.enqueue(Q, &[job("later")], delay).await.unwrap();
    let mut got = Vec::new();
    while got.is_empty() && enqueued_at.elapsed() < Duration::from_secs(15) {
        got = sqs.receive(Q, 10, Duration::from_secs(30)).await.unwrap();
        if got.is_empty() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    assert_eq!(got.len(), 1, "it arrives");
    assert!(enqueued_at.elapsed() >= delay, "not before its delay: {:?}", enqueued_at.elapsed());
    assert_eq!(
        got[0].receive_count, 1,
        "early receipts are new messages, not receives of this one"
    );
    assert!(sqs.dead_letters(Q, 10).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_longest_delay_is_one_sqs_timer_without_hops() {
    let queues = fresh_queue_map(5).await;
    let sqs = queue_on(queues.clone()).await;
    sqs.enqueue(Q, &[job("fifteen-minutes")], Duration::from_secs(900)).await.unwrap();
    let depth = sqs.depth(Q).await.unwrap();
    assert_eq!((depth.visible, depth.delayed), (0, 1));
    let error = sqs.enqueue(Q, &[job("too-late")], Duration::from_secs(901)).await.unwrap_err();
    assert!(!error.retryable && error.message.contains("over the 900s"), "{error}");
    // Nothing carries a due instant: the hop machinery stays out of the way.
    let raw = aws_sdk_sqs::Client::new(&Moto::shared().sdk_config().await)
        .receive_message()
        .queue_url(&queues.of(Q).unwrap().url)
        .message_attribute_names(NOT_BEFORE)
        .send()
        .await
        .unwrap();
    assert!(raw.messages.unwrap_or_default().is_empty(), "still delayed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_long_polls_and_hands_over_what_it_met_without_an_extra_receive() {
    let sqs = Arc::new(fresh_queue().await);
    let waiting = {
        let sqs = sqs.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            sqs.wait_for(Q, Duration::from_secs(10)).await;
            started.elapsed()
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sent = job("awaited");
    sqs.enqueue(Q, std::slice::from_ref(&sent), Duration::ZERO).await.unwrap();
    let waited = waiting.await.unwrap();
    assert!(waited < Duration::from_secs(5), "woken by the message, not the timeout: {waited:?}");
    let got = sqs.receive(Q, 10, Duration::from_secs(1)).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(
        (Envelope::from_body(&got[0].body).unwrap().id(), got[0].receive_count),
        (sent.id(), 1)
    );
    // The lease asked for holds, not the long poll's: it is back after a second.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let again = sqs.receive(Q, 10, Duration::from_secs(30)).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].receive_count, 2);
    sqs.ack(&again[0]).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_returns_after_its_timeout_on_an_empty_queue() {
    let sqs = fresh_queue().await;
    let started = Instant::now();
    sqs.wait_for(Q, Duration::from_secs(1)).await;
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(900) && waited < Duration::from_secs(4), "{waited:?}");
}

/// An SQS endpoint that fails the odd entries of `SendMessageBatch` for a passing reason in
/// its first `failing_rounds` answers (moto fails batch entries only for an invalid
/// `DelaySeconds`, a sender fault, which the adapter never sends). It records each call's ids.
async fn flaky_sqs(failing_rounds: usize) -> (RunningServer, Arc<Mutex<Vec<Vec<String>>>>) {
    let calls: Arc<Mutex<Vec<Vec<String>>>> = Arc::default();
    let recorded = calls.clone();
    let app = Router::new().route(
        "/",
        post(move |headers: HeaderMap, body: String| {
            let calls = recorded.clone();
            async move {
                let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or("");
                assert_eq!(target, "AmazonSQS.SendMessageBatch");
                let request: Value = serde_json::from_str(&body).unwrap();
                let ids: Vec<String> = request["Entries"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e["Id"].as_str().unwrap().to_string())
                    .collect();
                let round = {
                    let mut calls = calls.lock().unwrap();
                    calls.push(ids.clone());
                    calls.len()
                };
                let fails = |id: &str| round <= failing_rounds && id.parse::<usize>().unwrap() % 2 == 1;
                let successful: Vec<Value> = ids
                    .iter()
                    .filter(|id| !fails(id))
                    .map(|id| json!({"Id": id, "MessageId": format!("m-{round}-{id}"), "MD5OfMessageBody": "0"}))
                    .collect();
                let failed: Vec<Value> = ids
                    .iter()
                    .filter(|id| fails(id))
                    .map(|id| json!({"Id": id, "SenderFault": false, "Code": "InternalError", "Message": "try again"}))
                    .collect();
                let mut headers = HeaderMap::new();
                headers.insert("content-type", "application/x-amz-json-1.0".parse().unwrap());
                (headers, Json(json!({"Successful": successful, "Failed": failed})))
            }
        }),
    );
    let server = RunningServer::start(app, "127.0.0.1:0".parse().unwrap(), None).await.unwrap();
    (server, calls)
}

async fn queue_at(server: &RunningServer) -> SqsQueue {
    let endpoint = server.base_url().to_string();
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint.trim_end_matches('/'))
        .region(aws_sdk_sqs::config::Region::new("eu-west-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new("t", "t", None, None, "test"))
        .load()
        .await;
    let url = format!("{endpoint}123456789012/flaky");
    let urls =
        QueueName::ALL.map(|q| (q, QueueUrls { url: url.clone(), dead_letter_url: url.clone() }));
    SqsQueue::new(aws_sdk_sqs::Client::new(&config), QueueMap::new(urls))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_a_batch_failed_for_a_passing_reason_are_sent_again_and_only_they() {
    let (server, calls) = flaky_sqs(2).await;
    let sqs = queue_at(&server).await;
    let jobs: Vec<Envelope> = (0..4).map(|i| job(&format!("flaky-{i}"))).collect();
    sqs.enqueue(Q, &jobs, Duration::ZERO).await.unwrap();
    let calls = calls.lock().unwrap().clone();
    assert_eq!(calls, [vec!["0", "1", "2", "3"], vec!["1", "3"], vec!["1", "3"]]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_sqs_keeps_failing_is_a_retryable_error_naming_the_jobs_left() {
    let (server, calls) = flaky_sqs(usize::MAX).await;
    let sqs = queue_at(&server).await;
    let jobs: Vec<Envelope> = (0..3).map(|i| job(&format!("stuck-{i}"))).collect();
    let error = sqs.enqueue(Q, &jobs, Duration::ZERO).await.unwrap_err();
    assert!(error.retryable);
    assert!(
        error
            .message
            .contains("did not accept 1 of 3 messages after 4 attempts (InternalError: try again)"),
        "{error}"
    );
    assert!(error.message.contains(&jobs[1].id().to_string()), "{error}");
    assert_eq!(calls.lock().unwrap().len(), 4, "bounded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raw_redriven_message_lists_with_the_redrive_count_of_its_queue() {
    // Counts read from the redrive policy, as moto writes it (a number) and SQS (a string).
    let queues = fresh_queue_map(3).await;
    let sqs = queue_on(queues.clone()).await;
    let raw = aws_sdk_sqs::Client::new(&Moto::shared().sdk_config().await);
    raw.send_message()
        .queue_url(dead_letter_url(&queues))
        .message_body("{not a job")
        .send()
        .await
        .unwrap();
    let parked = sqs.dead_letters(Q, 10).await.unwrap();
    assert_eq!((parked.len(), parked[0].receive_count), (1, 3));
    assert_eq!(parked[0].body, "{not a job");
    let again = raw
        .receive_message()
        .queue_url(dead_letter_url(&queues))
        .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
        .send()
        .await
        .unwrap();
    assert_eq!(again.messages.unwrap_or_default().len(), 1, "listing released it");
    assert_eq!(sqs.purge(Q).await.unwrap(), 0, "it is leased by the raw receive above");
}
