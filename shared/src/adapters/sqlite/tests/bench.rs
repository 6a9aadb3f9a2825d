//! Measurements behind the choices in `writer.rs` (run with `--ignored --nocapture`, in
//! release mode for numbers that mean anything).

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures::future::join_all;

use super::{fresh, queue_and_store};
use crate::{
    domain::{Folder, MailboxAddress},
    jobs::{Envelope, Job, QueueName, Trigger},
    ports::{JobQueue, JobSource},
};

const OPS: usize = 20_000;
const TASKS: usize = 16;

/// One small write per call from many tasks: the writer thread with group commit against
/// `spawn_blocking` over a mutexed connection with a transaction per call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run with --ignored --nocapture"]
async fn the_writer_thread_outpaces_spawn_blocking() {
    let (db, _dir) = fresh();
    let started = Instant::now();
    join_all((0..TASKS).map(|t| {
        let db = db.clone();
        tokio::spawn(async move {
            for i in 0..OPS / TASKS {
                db.call(move |conn| {
                    conn.prepare_cached("INSERT INTO activities VALUES (?1, 'x', 0)")?
                        .execute([format!("<{t}-{i}>")])?;
                    Ok(())
                })
                .await
                .unwrap();
            }
        })
    }))
    .await;
    let writer = OPS as f64 / started.elapsed().as_secs_f64();

    let dir = tempfile::tempdir().unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("blocking.db")).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
    conn.execute_batch("CREATE TABLE activities (message_id TEXT PRIMARY KEY, a TEXT, b INTEGER)")
        .unwrap();
    let conn = Arc::new(Mutex::new(conn));
    let started = Instant::now();
    join_all((0..TASKS).map(|t| {
        let conn = conn.clone();
        tokio::spawn(async move {
            for i in 0..OPS / TASKS {
                let conn = conn.clone();
                tokio::task::spawn_blocking(move || {
                    let mut conn = conn.lock().unwrap();
                    let tx = conn.transaction().unwrap();
                    tx.prepare_cached("INSERT INTO activities VALUES (?1, 'x', 0)")
                        .unwrap()
                        .execute([format!("<{t}-{i}>")])
                        .unwrap();
                    tx.commit().unwrap();
                })
                .await
                .unwrap();
            }
        })
    }))
    .await;
    let blocking = OPS as f64 / started.elapsed().as_secs_f64();
    println!("writes/s: writer thread {writer:.0}, spawn_blocking {blocking:.0}");
}

/// Jobs through the queue as the runtime moves them: enqueue in batches of 10, receive
/// batches of 10 from 8 lanes, ack each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run with --ignored --nocapture"]
async fn queue_throughput() {
    let (queue, _store, _dir) = queue_and_store();
    let mailbox = MailboxAddress::parse("bench@bench.example").unwrap();
    let job =
        Envelope::new(Job::SyncFolder { mailbox, folder: Folder::Inbox, trigger: Trigger::Poll });
    let batch: Vec<Envelope> = (0..10).map(|_| job.clone()).collect();
    let started = Instant::now();
    join_all((0..8).map(|_| {
        let (queue, batch) = (queue.clone(), batch.clone());
        tokio::spawn(async move {
            for _ in 0..OPS / 80 {
                queue.enqueue(QueueName::Writes, &batch, Duration::ZERO).await.unwrap();
            }
        })
    }))
    .await;
    let enqueued = started.elapsed();
    let started = Instant::now();
    join_all((0..8).map(|_| {
        let queue = queue.clone();
        tokio::spawn(async move {
            loop {
                let got =
                    queue.receive(QueueName::Writes, 10, Duration::from_secs(60)).await.unwrap();
                if got.is_empty() {
                    break;
                }
                join_all(got.iter().map(|d| queue.ack(d)))
                    .await
                    .into_iter()
                    .for_each(|r| r.unwrap());
            }
        })
    }))
    .await;
    let drained = started.elapsed();
    println!(
        "jobs/s: enqueue {:.0}, receive+ack {:.0}",
        OPS as f64 / enqueued.as_secs_f64(),
        OPS as f64 / drained.as_secs_f64()
    );
}
