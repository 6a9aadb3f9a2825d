//! The runtime over the SQLite queue with scripted handlers: every outcome path, poison
//! bodies, panics, overruns (here), shutdown mid-batch and drains (`pull`).

mod pull;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;

use super::*;
use crate::{
    adapters::sqlite::{Database, SqliteQueue},
    domain::{Folder, MailboxAddress},
    jobs::{Envelope, Job, QueueName, Trigger},
    outcome::Outcome,
    ports::{DeadLetters, JobQueue, JobSource, QueueDepths},
};

const Q: QueueName = QueueName::Changes;

const FAST: RetryPolicy = RetryPolicy {
    max_attempts: 3,
    first_backoff: Duration::from_millis(20),
    max_backoff: Duration::from_millis(100),
    max_receives: 2,
};

fn settings() -> WorkerSettings {
    WorkerSettings {
        batch_size: 10,
        concurrency: 2,
        lease: Duration::from_secs(5),
        idle_wait: Duration::from_millis(200),
        retry: FAST,
    }
}

fn job(local: &str) -> Envelope {
    Envelope::new(Job::SyncFolder {
        mailbox: MailboxAddress::parse(format!("{local}@runtime.example")).unwrap(),
        folder: Folder::Inbox,
        trigger: Trigger::Notification,
        ticket: 0,
    })
}

fn local(job: &Envelope) -> String {
    job.job()
        .mailbox()
        .map(|m| m.as_str().split('@').next().unwrap().to_string())
        .unwrap_or_default()
}

struct Setup {
    queue: Arc<SqliteQueue>,
    queues: Queues,
    _dir: tempfile::TempDir,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let queue = Arc::new(SqliteQueue::new(Database::open(&dir.path().join("rt.db")).unwrap()));
    let queues = Queues { source: queue.clone(), sink: queue.clone() };
    Setup { queue, queues, _dir: dir }
}

/// Acts on the mailbox's local part: `done-*`, `park-*`, `throttle-*`, `retry-*`, `poison-*`,
/// `panic-*`, `slow-*` (300 ms, then done), `fanout-*` (enqueues three jobs on Subscriptions).
#[derive(Debug, Default)]
struct Scripted {
    seen: Mutex<Vec<Envelope>>,
    sink: Option<Arc<dyn JobQueue>>,
    started: tokio::sync::Notify,
}

#[async_trait]
impl HandleOne for Scripted {
    async fn handle_one(&self, job: Envelope) -> Outcome {
        self.seen.lock().unwrap().push(job.clone());
        self.started.notify_one();
        let name = local(&job);
        match name.split('-').next().unwrap() {
            "done" => Outcome::Done,
            "park" => Outcome::Parked { reason: "AADSTS7000215: invalid client secret".into() },
            "throttle" => {
                Outcome::Throttled { after: Duration::from_millis(200), reason: "Graph 429".into() }
            }
            "retry" => Outcome::retry("Dataverse 503"),
            "poison" => Outcome::poison("Dataverse 400: bad attribute"),
            "panic" => panic!("boom in {name}"),
            "slow" => {
                tokio::time::sleep(Duration::from_millis(300)).await;
                Outcome::Done
            }
            "fanout" => {
                let jobs: Vec<_> = (0..3).map(|i| job_named(&format!("done-{name}-{i}"))).collect();
                let sink = self.sink.as_ref().unwrap();
                match sink.enqueue(QueueName::Subscriptions, &jobs, Duration::ZERO).await {
                    Ok(()) => Outcome::Done,
                    Err(e) => Outcome::retry(e.to_string()),
                }
            }
            other => panic!("unscripted {other}"),
        }
    }
}

fn job_named(local: &str) -> Envelope {
    job(local)
}

impl Scripted {
    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().iter().map(|j| format!("{}#{}", local(j), j.attempt())).collect()
    }
}

async fn receive_all(s: &Setup, count: usize) -> Vec<crate::ports::Delivery> {
    let got = s.queue.receive(Q, count, Duration::from_secs(5)).await.unwrap();
    assert_eq!(got.len(), count);
    got
}

#[tokio::test]
async fn each_outcome_becomes_its_queue_operation() {
    let s = setup();
    let names = ["done-1", "park-1", "throttle-1", "retry-1", "poison-1"];
    let jobs: Vec<_> = names.iter().map(|n| job(n)).collect();
    s.queue.enqueue(Q, &jobs, Duration::ZERO).await.unwrap();
    let handler = EachJob::new(Q, Scripted::default());
    let batch = receive_all(&s, 5).await;
    // Backoffs of 0.5-1 s, so that both requeued jobs are surely still delayed when counted.
    let second = Duration::from_secs(1);
    let policy = RetryPolicy { first_backoff: second, max_backoff: second, ..FAST };
    let report = process_batch(batch, &handler, &s.queues, &policy, Duration::from_secs(5)).await;
    let expected =
        Tally { done: 1, parked: 1, throttled: 1, retried: 1, dead_lettered: 1, unsettled: 0 };
    assert_eq!(report.tally, expected);
    let depth = s.queue.depth(Q).await.unwrap();
    assert_eq!((depth.visible, depth.in_flight, depth.delayed, depth.dead_lettered), (0, 0, 2, 1));
    let parked = s.queue.dead_letters(Q, 10).await.unwrap();
    assert_eq!(parked[0].reason, "Dataverse 400: bad attribute");
    let mut back = Vec::new();
    for _ in 0..30 {
        back.extend(s.queue.receive(Q, 10, Duration::from_secs(5)).await.unwrap());
        if back.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut again: Vec<_> = back
        .iter()
        .map(|d| Envelope::from_body(&d.body).unwrap())
        .map(|j| (local(&j), j.attempt()))
        .collect();
    again.sort();
    // Throttling keeps the attempt; a failure adds one; both are new messages (receive 1).
    assert_eq!(again, [("retry-1".to_string(), 1), ("throttle-1".to_string(), 0)]);
    assert!(back.iter().all(|d| d.receive_count == 1));
}

#[tokio::test]
async fn a_retryable_failure_is_dead_lettered_after_the_last_attempt() {
    let s = setup();
    s.queue.enqueue(Q, &[job("retry-2")], Duration::ZERO).await.unwrap();
    let handler = Arc::new(EachJob::new(Q, Scripted::default()));
    let worker = Worker::new(Q, handler.clone()).with_settings(settings());
    let tally = drain(vec![worker], s.queues.clone(), s.queue.clone(), Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!((tally.retried, tally.dead_lettered), (2, 1));
    assert_eq!(handler.inner().seen(), ["retry-2#0", "retry-2#1", "retry-2#2"]);
    let parked = s.queue.dead_letters(Q, 10).await.unwrap();
    assert_eq!(parked[0].reason, "gave up after 3 attempts: Dataverse 503");
}

#[tokio::test]
async fn an_unreadable_job_is_dead_lettered_with_the_parse_error() {
    let s = setup();
    s.queue.enqueue_raw(Q, r#"{"v":"1","id":"nope"}"#).await.unwrap();
    let handler = EachJob::new(Q, Scripted::default());
    let batch = receive_all(&s, 1).await;
    let report = process_batch(batch, &handler, &s.queues, &FAST, Duration::from_secs(5)).await;
    assert_eq!(report.tally.dead_lettered, 1);
    assert!(handler.inner().seen().is_empty(), "the handler never saw it");
    let parked = s.queue.dead_letters(Q, 10).await.unwrap();
    assert!(parked[0].reason.starts_with("unreadable job: "), "{}", parked[0].reason);
    assert!(parked[0].reason.contains("UUID"), "says what is wrong: {}", parked[0].reason);
    assert_eq!(parked[0].body, r#"{"v":"1","id":"nope"}"#, "kept verbatim for a later replay");
}

#[tokio::test]
async fn a_panic_fails_only_its_job_and_the_worker_lives_on() {
    let s = setup();
    s.queue.enqueue(Q, &[job("panic-1"), job("done-2")], Duration::ZERO).await.unwrap();
    let handler = EachJob::new(Q, Scripted::default());
    let batch = receive_all(&s, 2).await;
    let report = process_batch(batch, &handler, &s.queues, &FAST, Duration::from_secs(5)).await;
    assert_eq!((report.tally.done, report.tally.retried), (1, 1));

    // A batch handler that panics fails its whole batch, retryably; the pull loop goes on.
    #[derive(Debug)]
    struct PanicsOnce(Mutex<bool>);
    #[async_trait]
    impl JobHandler for PanicsOnce {
        async fn handle(&self, jobs: Vec<Envelope>) -> Vec<Outcome> {
            let first = std::mem::replace(&mut *self.0.lock().unwrap(), false);
            assert!(!first, "a batch handler bug");
            vec![Outcome::Done; jobs.len()]
        }
    }
    let s = setup();
    s.queue.enqueue(Q, &[job("done-3"), job("done-4")], Duration::ZERO).await.unwrap();
    let worker = Worker::new(Q, Arc::new(PanicsOnce(Mutex::new(true)))).with_settings(settings());
    let tally = drain(vec![worker], s.queues.clone(), s.queue.clone(), Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!((tally.retried, tally.done), (2, 2));
}

#[tokio::test]
async fn a_job_received_too_often_without_settling_is_dead_lettered() {
    let s = setup();
    s.queue.enqueue(Q, &[job("done-crashy")], Duration::ZERO).await.unwrap();
    // Two consumers that died holding it (max_receives is 2); the third receive parks it.
    for _ in 0..2 {
        assert_eq!(s.queue.receive(Q, 1, Duration::from_millis(20)).await.unwrap().len(), 1);
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    let handler = EachJob::new(Q, Scripted::default());
    let batch = receive_all(&s, 1).await;
    let report = process_batch(batch, &handler, &s.queues, &FAST, Duration::from_secs(5)).await;
    assert_eq!(report.tally.dead_lettered, 1);
    let parked = s.queue.dead_letters(Q, 10).await.unwrap();
    assert!(
        parked[0].reason.starts_with("received 3 times without being settled"),
        "{}",
        parked[0].reason
    );
}

#[tokio::test]
async fn a_handler_that_overruns_its_deadline_fails_retryably() {
    let s = setup();
    s.queue.enqueue(Q, &[job("slow-1")], Duration::ZERO).await.unwrap();
    let handler = EachJob::new(Q, Scripted::default());
    let batch = receive_all(&s, 1).await;
    let ten = Duration::from_secs(10);
    let policy = RetryPolicy { first_backoff: ten, max_backoff: ten, ..FAST };
    let report =
        process_batch(batch, &handler, &s.queues, &policy, Duration::from_millis(50)).await;
    assert_eq!(report.tally.retried, 1);
    let depth = s.queue.depth(Q).await.unwrap();
    assert_eq!((depth.visible, depth.delayed), (0, 1), "requeued with a backoff, not at once");
}

#[tokio::test]
async fn a_missing_outcome_is_a_retryable_failure() {
    #[derive(Debug)]
    struct ForgetsOne;
    #[async_trait]
    impl JobHandler for ForgetsOne {
        async fn handle(&self, jobs: Vec<Envelope>) -> Vec<Outcome> {
            vec![Outcome::Done; jobs.len() - 1]
        }
    }
    let s = setup();
    s.queue.enqueue(Q, &[job("done-a"), job("done-b")], Duration::ZERO).await.unwrap();
    let batch = receive_all(&s, 2).await;
    let report = process_batch(batch, &ForgetsOne, &s.queues, &FAST, Duration::from_secs(5)).await;
    assert_eq!((report.tally.done, report.tally.retried), (1, 1));
}
