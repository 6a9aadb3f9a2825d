//! kill -9 in the middle of enqueue and ack loops leaves a consistent queue: no half batch, no
//! acked job whose effect is missing, no job lost or stuck.
//!
//! The test re-runs its own binary as the child (the environment variable names the database):
//! the child enqueues batches of ten jobs and, for each job it receives, records its effect
//! (a dedupe record) and then acks it, printing each ack. The parent kills it with SIGKILL at
//! arbitrary points, several times, then checks the file.

use std::{
    collections::{BTreeMap, BTreeSet},
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::Duration,
};

use crate::{
    adapters::sqlite::{Database, SqliteQueue, SqliteStore},
    domain::{Folder, InternetMessageId, MailboxAddress, RecordId},
    jobs::{Envelope, Job, QueueName, Trigger},
    ports::{DedupeStore, JobQueue, JobSource},
};

const CHILD: &str = "EXSYNC_CRASH_CHILD_DB";
const BATCH: usize = 10;
const TEST: &str = "adapters::sqlite::tests::crash::a_killed_process_leaves_a_consistent_queue";

#[test]
fn a_killed_process_leaves_a_consistent_queue() {
    if let Ok(path) = std::env::var(CHILD) {
        return child(path.into());
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    drop(Database::open(&path).unwrap());
    let mut acked = BTreeSet::new();
    for round in 0..5 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
            .env(CHILD, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let kill_after = 40 + round * 23;
        let mut seen = 0;
        for line in lines {
            if let Some(job) = line.unwrap().strip_prefix("acked ") {
                acked.insert(job.to_string());
                seen += 1;
                if seen == kill_after {
                    break;
                }
            }
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        assert_eq!(seen, kill_after, "round {round}: the child stopped early");
    }
    check(&path, &acked);
}

/// The child: enqueue, receive, record, ack, forever (until killed).
fn child(path: std::path::PathBuf) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let db = Database::open(&path).unwrap();
        let (queue, store) = (SqliteQueue::new(db.clone()), SqliteStore::new(db));
        loop {
            let batch = uuid::Uuid::new_v4().simple().to_string();
            let jobs: Vec<_> = (0..BATCH).map(|i| job(&format!("{batch}-{i}"))).collect();
            queue.enqueue(QueueName::Changes, &jobs, Duration::ZERO).await.unwrap();
            let got = queue.receive(QueueName::Changes, 7, Duration::from_secs(1)).await.unwrap();
            for delivery in got {
                let name = local_part(&Envelope::from_body(&delivery.body).unwrap());
                let message_id = InternetMessageId::parse(name.clone()).unwrap();
                store.record_activity(&message_id, RecordId::new_v4()).await.unwrap();
                queue.ack(&delivery).await.unwrap();
                println!("acked {name}");
            }
        }
    })
}

fn job(name: &str) -> Envelope {
    Envelope::new(Job::SyncFolder {
        mailbox: MailboxAddress::parse(format!("{name}@crash.example")).unwrap(),
        folder: Folder::Inbox,
        trigger: Trigger::Poll,
        ticket: 0,
    })
}

fn local_part(envelope: &Envelope) -> String {
    let mailbox = envelope.job().mailbox().unwrap().as_str();
    mailbox.split('@').next().unwrap().to_string()
}

fn check(path: &std::path::Path, acked: &BTreeSet<String>) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(integrity, "ok");
    let column = |sql: &str| -> Vec<String> {
        let mut stmt = conn.prepare(sql).unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
    };
    let queued: BTreeSet<String> = column("SELECT body FROM jobs")
        .iter()
        .map(|body| local_part(&Envelope::from_body(body).unwrap()))
        .collect();
    let effected: BTreeSet<String> =
        column("SELECT message_id FROM activities").into_iter().collect();
    for name in acked {
        assert!(effected.contains(name), "acked {name} has its effect");
        assert!(!queued.contains(name), "acked {name} left the queue");
    }
    let mut batches: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for name in queued.iter().chain(&effected) {
        let (batch, index) = name.rsplit_once('-').unwrap();
        batches.entry(batch).or_default().insert(index);
    }
    assert!(batches.len() >= 5, "the child got through several batches");
    for (batch, jobs) in &batches {
        assert_eq!(jobs.len(), BATCH, "batch {batch} is whole (queued or done), not {jobs:?}");
    }
    drop(conn);
    // What a killed child held on lease comes back to the next consumer.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let queue = SqliteQueue::new(Database::open(path).unwrap());
        let mut left = BTreeSet::new();
        loop {
            let got =
                queue.receive(QueueName::Changes, 1000, Duration::from_secs(60)).await.unwrap();
            if got.is_empty() {
                break;
            }
            left.extend(got.iter().map(|d| local_part(&Envelope::from_body(&d.body).unwrap())));
        }
        assert_eq!(left, queued, "every queued job can be received");
    });
}
