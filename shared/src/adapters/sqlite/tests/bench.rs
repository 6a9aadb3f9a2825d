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

/// CPU seconds this process used so far (user + system, from /proc): unlike wall time, it
/// hardly depends on what else the machine runs, and CPU is what two cores run out of.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    // utime and stime are fields 14 and 15 of stat(5), 12 and 13 after the name; in ticks.
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

/// Prints a rate and the CPU each operation cost.
fn report(what: &str, ops: usize, wall: Duration, cpu: f64) {
    let rate = ops as f64 / wall.as_secs_f64();
    println!("{what}: {rate:.0}/s, {:.1} µs CPU each", cpu * 1e6 / ops as f64);
}
const TASKS: usize = 16;

/// One small write per call from many tasks: the writer thread with group commit against
/// `spawn_blocking` over a mutexed connection with a transaction per call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run with --ignored --nocapture"]
async fn the_writer_thread_outpaces_spawn_blocking() {
    let (db, _dir) = fresh();
    let (started, cpu) = (Instant::now(), cpu_seconds());
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
    report("writes on the writer thread", OPS, started.elapsed(), cpu_seconds() - cpu);

    let dir = tempfile::tempdir().unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("blocking.db")).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
    conn.execute_batch("CREATE TABLE activities (message_id TEXT PRIMARY KEY, a TEXT, b INTEGER)")
        .unwrap();
    let conn = Arc::new(Mutex::new(conn));
    let (started, cpu) = (Instant::now(), cpu_seconds());
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
    report("writes by spawn_blocking", OPS, started.elapsed(), cpu_seconds() - cpu);
}

/// Jobs through the queue as the runtime moves them: enqueue in batches of 10, receive
/// batches of 10 from 8 lanes, ack each batch at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run with --ignored --nocapture"]
async fn queue_throughput() {
    let (queue, _store, _dir) = queue_and_store();
    let mailbox = MailboxAddress::parse("bench@bench.example").unwrap();
    let job = Envelope::new(Job::SyncFolder {
        mailbox,
        folder: Folder::Inbox,
        trigger: Trigger::Poll,
        ticket: 0,
    });
    let batch: Vec<Envelope> = (0..10).map(|_| job.clone()).collect();
    let (started, cpu) = (Instant::now(), cpu_seconds());
    join_all((0..8).map(|_| {
        let (queue, batch) = (queue.clone(), batch.clone());
        tokio::spawn(async move {
            for _ in 0..OPS / 80 {
                queue.enqueue(QueueName::Writes, &batch, Duration::ZERO).await.unwrap();
            }
        })
    }))
    .await;
    report("jobs enqueued", OPS, started.elapsed(), cpu_seconds() - cpu);
    let (started, cpu) = (Instant::now(), cpu_seconds());
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
    report("jobs received and acked", OPS, started.elapsed(), cpu_seconds() - cpu);
}

/// A write handler's pattern, a read then a write per email, from many tasks: reads on the
/// writer thread against reads on a pool of reader connections run by `spawn_blocking`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run with --ignored --nocapture"]
async fn reads_beside_the_writer() {
    for on_readers in [false, true] {
        let (db, _dir) = fresh();
        let readers: Arc<Mutex<Vec<rusqlite::Connection>>> = Arc::default();
        let (started, cpu) = (Instant::now(), cpu_seconds());
        join_all((0..TASKS).map(|t| {
            let (db, readers) = (db.clone(), readers.clone());
            tokio::spawn(async move {
                for i in 0..OPS / TASKS {
                    let id = format!("<{t}-{i}>");
                    let key = id.clone();
                    let read = move |conn: &rusqlite::Connection| {
                        let sql = "SELECT activity FROM activities WHERE message_id = ?1";
                        conn.prepare_cached(sql)?.exists([key])
                    };
                    let found = if on_readers {
                        let (readers, path) = (readers.clone(), db.path().to_path_buf());
                        tokio::task::spawn_blocking(move || {
                            let taken = readers.lock().unwrap().pop();
                            let conn =
                                taken.unwrap_or_else(|| rusqlite::Connection::open(path).unwrap());
                            let found = read(&conn).unwrap();
                            readers.lock().unwrap().push(conn);
                            found
                        })
                        .await
                        .unwrap()
                    } else {
                        db.read(move |conn| Ok(read(conn)?)).await.unwrap()
                    };
                    assert!(!found);
                    db.call(move |conn| {
                        conn.prepare_cached("INSERT INTO activities VALUES (?1, 'x', 0)")?
                            .execute([id])?;
                        Ok(())
                    })
                    .await
                    .unwrap();
                }
            })
        }))
        .await;
        let place = if on_readers { "a reader pool" } else { "the writer thread" };
        report(
            &format!("read+write pairs, reads on {place}"),
            OPS,
            started.elapsed(),
            cpu_seconds() - cpu,
        );
    }
}
