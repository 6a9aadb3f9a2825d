//! What the embedded twin promises beyond the contract.

use std::time::{Duration, Instant};

use super::{fresh, queue_and_store};
use crate::{
    adapters::sqlite::{Database, DbError, SCHEMA_VERSION, SqliteQueue, SqliteStore},
    domain::{Folder, InternetMessageId, MailboxAddress, RecordId, SubscriptionId},
    jobs::{Envelope, Job, QueueName, Trigger},
    ports::{
        CursorStore, DedupeStore, DeltaCursor, JobQueue, JobSource, StatusStore,
        SubscriptionRecord, SubscriptionStore,
    },
    secret::Secret,
    status::StatusEvent,
};

fn job(local: &str) -> Envelope {
    Envelope::new(Job::SyncFolder {
        mailbox: MailboxAddress::parse(format!("{local}@embedded.example")).unwrap(),
        folder: Folder::Inbox,
        trigger: Trigger::Poll,
        ticket: 0,
    })
}

#[tokio::test]
async fn a_waiting_worker_is_woken_by_an_enqueue_not_its_timeout() {
    let (queue, _store, _dir) = queue_and_store();
    let waiter = {
        let queue = queue.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            queue.wait_for(QueueName::Writes, Duration::from_secs(10)).await;
            started.elapsed()
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    queue.enqueue(QueueName::Writes, &[job("wake")], Duration::ZERO).await.unwrap();
    let waited = waiter.await.unwrap();
    assert!(waited < Duration::from_secs(1), "woken by the enqueue, after {waited:?}");
}

#[tokio::test]
async fn a_wait_ends_when_a_delayed_job_becomes_visible() {
    let (queue, _store, _dir) = queue_and_store();
    queue.enqueue(QueueName::Changes, &[job("soon")], Duration::from_millis(300)).await.unwrap();
    // The permit left by the enqueue ends the first wait at once; the second sleeps until due.
    queue.wait_for(QueueName::Changes, Duration::from_secs(10)).await;
    let started = Instant::now();
    queue.wait_for(QueueName::Changes, Duration::from_secs(10)).await;
    assert!(started.elapsed() < Duration::from_secs(2), "waited {:?}", started.elapsed());
    assert_eq!(
        queue.receive(QueueName::Changes, 10, Duration::from_secs(30)).await.unwrap().len(),
        1
    );
}

#[tokio::test]
async fn a_stale_receipt_neither_acks_nor_dead_letters_the_new_delivery() {
    let (queue, _store, _dir) = queue_and_store();
    queue.enqueue(QueueName::Changes, &[job("stale")], Duration::ZERO).await.unwrap();
    let first = queue.receive(QueueName::Changes, 1, Duration::from_millis(50)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = queue.receive(QueueName::Changes, 1, Duration::from_secs(30)).await.unwrap();
    assert_eq!(second[0].receive_count, 2);
    queue.ack(&first[0]).await.unwrap();
    queue.dead_letter(&first[0], "late").await.unwrap();
    let depth = crate::ports::QueueDepths::depth(&queue, QueueName::Changes).await.unwrap();
    assert_eq!((depth.in_flight, depth.dead_lettered), (1, 0), "the new lease stands");
    queue.ack(&second[0]).await.unwrap();
    let depth = crate::ports::QueueDepths::depth(&queue, QueueName::Changes).await.unwrap();
    assert!(depth.is_idle());
}

#[tokio::test]
async fn a_receipt_this_queue_did_not_make_is_refused() {
    let (queue, _store, _dir) = queue_and_store();
    let forged = crate::ports::Delivery {
        queue: QueueName::Writes,
        receipt: "AQEB-sqs-handle".into(),
        body: String::new(),
        receive_count: 1,
    };
    let error = queue.ack(&forged).await.unwrap_err();
    assert!(!error.retryable);
    assert!(error.to_string().contains("queue writes: receipt"), "{error}");
}

#[tokio::test]
async fn a_failed_request_rolls_back_alone_when_committed_in_a_group() {
    let (db, _dir) = fresh();
    let insert = |id: &'static str, fail: bool| {
        let db = db.clone();
        tokio::spawn(async move {
            db.call(move |conn| {
                conn.execute("INSERT INTO activities VALUES (?1, 'x', 0)", [id])?;
                if fail { Err(DbError::permanent("refused")) } else { Ok(()) }
            })
            .await
        })
    };
    let calls: Vec<_> =
        (0..50).map(|i| insert(if i == 25 { "<bad>" } else { "<ok>" }, i == 25)).collect();
    let mut failed = 0;
    for (i, call) in calls.into_iter().enumerate() {
        match call.await.unwrap() {
            Ok(()) if i != 25 => {}
            Err(_) if i == 25 => failed += 1,
            // Every "<ok>" after the first conflicts on the primary key: that one fails alone.
            Err(e) => assert!(e.message.contains("UNIQUE"), "{e}"),
            Ok(()) => panic!("the failing request committed"),
        }
    }
    assert_eq!(failed, 1);
    let count: i64 = db
        .call(|conn| Ok(conn.query_row("SELECT COUNT(*) FROM activities", [], |r| r.get(0))?))
        .await
        .unwrap();
    assert_eq!(count, 1, "one <ok>, no <bad>");
}

#[tokio::test]
async fn a_panicking_statement_fails_its_caller_and_the_writer_lives_on() {
    let (db, _dir) = fresh();
    let panicked = db
        .call(|conn| -> Result<(), DbError> {
            conn.execute("INSERT INTO activities VALUES ('<panic>', 'x', 0)", [])?;
            panic!("a bug in a statement")
        })
        .await
        .unwrap_err();
    assert!(panicked.message.contains("panicked"), "{panicked}");
    let count: i64 = db
        .call(|conn| Ok(conn.query_row("SELECT COUNT(*) FROM activities", [], |r| r.get(0))?))
        .await
        .unwrap();
    assert_eq!(count, 0, "its write was rolled back, and the writer still answers");
}

#[tokio::test]
async fn everything_written_survives_closing_and_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("durable.db");
    let mailbox = MailboxAddress::parse("durable@embedded.example").unwrap();
    let message_id = InternetMessageId::parse("<durable@embedded.example>").unwrap();
    let subscription = SubscriptionRecord {
        id: SubscriptionId::parse("sub-durable").unwrap(),
        mailbox: mailbox.clone(),
        folder: Folder::SentItems,
        expires_at: time::macros::datetime!(2026-11-26 10:00:00.5 UTC),
        shape: crate::ports::SubscriptionShape::Plain,
        client_state: Secret::new("kept-secret"),
    };
    let cursor = DeltaCursor::Delta("https://graph.example/delta?$deltatoken=x".into());
    let jobs = [job("durable-1"), job("durable-2")];
    {
        let db = Database::open(&path).unwrap();
        let (queue, store) = (SqliteQueue::new(db.clone()), SqliteStore::new(db));
        queue.enqueue(QueueName::Changes, &jobs, Duration::ZERO).await.unwrap();
        store.put_subscription(&subscription).await.unwrap();
        store.put_cursor(&mailbox, Folder::Inbox, &cursor).await.unwrap();
        store.record_activity(&message_id, RecordId::from_u128(7)).await.unwrap();
        let at = time::OffsetDateTime::now_utc();
        store.report(&mailbox, StatusEvent::PassSucceeded { emails: 4 }, at).await.unwrap();
    }
    let db = Database::open(&path).unwrap();
    assert_eq!(db.schema_version().await.unwrap(), SCHEMA_VERSION);
    let (queue, store) = (SqliteQueue::new(db.clone()), SqliteStore::new(db));
    let got = queue.receive(QueueName::Changes, 10, Duration::from_secs(30)).await.unwrap();
    let bodies: Vec<_> = got.iter().map(|d| Envelope::from_body(&d.body).unwrap()).collect();
    assert_eq!(bodies, jobs);
    assert_eq!(store.subscription(&subscription.id).await.unwrap(), Some(subscription));
    assert_eq!(store.cursor(&mailbox, Folder::Inbox).await.unwrap(), Some(cursor));
    assert_eq!(store.activity_of(&message_id).await.unwrap(), Some(RecordId::from_u128(7)));
    assert_eq!(store.status(&mailbox).await.unwrap().unwrap().emails_seen, 4);
}

#[test]
fn the_store_never_prints_a_client_state() {
    let record = SubscriptionRecord {
        id: SubscriptionId::parse("sub-1").unwrap(),
        mailbox: MailboxAddress::parse("a@embedded.example").unwrap(),
        folder: Folder::Inbox,
        expires_at: time::OffsetDateTime::UNIX_EPOCH,
        client_state: Secret::new("do-not-print-me"),
        shape: crate::ports::SubscriptionShape::Plain,
    };
    assert!(!format!("{record:?}").contains("do-not-print-me"));
}

#[test]
fn a_missing_folder_is_named_with_what_to_do() {
    let error = Database::open(std::path::Path::new("/nonexistent-dir/x/state.db")).unwrap_err();
    assert!(error.message.contains("/nonexistent-dir/x/state.db"), "{error}");
    assert!(error.message.contains("the folder /nonexistent-dir/x does not exist"), "{error}");
}
