//! The queue contract: `JobQueue`, `JobSource`, `DeadLetters`, `QueueDepths`.

use std::time::Duration;

use tokio::time::Instant;

use super::{LEASE, PATIENCE, QueueTwin, envelope_of, mailbox, receive_n, sync_job};
use crate::{
    domain::{Folder, GraphItemId},
    jobs::{Envelope, Job, QueueName},
    model::{EmailRecord, Importance},
    ports::{MAX_BODY_BYTES, MAX_DELAY},
};

const Q: QueueName = QueueName::Changes;

/// A received job is the job enqueued; once acked it never comes back.
pub async fn a_job_is_delivered_until_acked(twin: QueueTwin) {
    let job = sync_job("delivered");
    twin.queue.enqueue(Q, std::slice::from_ref(&job), Duration::ZERO).await.expect("enqueue");
    let got = receive_n(&twin, Q, 1, LEASE).await;
    assert_eq!(got.len(), 1, "the enqueued job is received");
    assert_eq!(envelope_of(&got[0]), job);
    assert_eq!(got[0].receive_count, 1);
    assert_eq!(got[0].queue, Q);
    twin.source.ack(&got[0]).await.expect("ack");
    tokio::time::sleep(LEASE + Duration::from_millis(500)).await;
    let again = twin.source.receive(Q, 10, LEASE).await.expect("receive");
    assert!(again.is_empty(), "an acked job is gone, even after its lease: {again:?}");
}

/// While a job is leased, no other receive gets it.
pub async fn jobs_are_invisible_while_leased(twin: QueueTwin) {
    let jobs = [sync_job("leased-1"), sync_job("leased-2")];
    twin.queue.enqueue(Q, &jobs, Duration::ZERO).await.expect("enqueue");
    let got = receive_n(&twin, Q, 2, Duration::from_secs(30)).await;
    assert_eq!(got.len(), 2);
    let again = twin.source.receive(Q, 10, Duration::from_secs(30)).await.expect("receive");
    assert!(again.is_empty(), "leased jobs are invisible: {again:?}");
}

/// A consumer that dies without acking loses nothing: after the lease the job comes back, its
/// receive count up by one.
pub async fn an_expired_lease_makes_a_job_visible_again(twin: QueueTwin) {
    let job = sync_job("expired");
    twin.queue.enqueue(Q, std::slice::from_ref(&job), Duration::ZERO).await.expect("enqueue");
    let first = receive_n(&twin, Q, 1, LEASE).await;
    assert_eq!(first.len(), 1);
    let leased_at = Instant::now();
    let second = receive_n(&twin, Q, 1, Duration::from_secs(30)).await;
    assert_eq!(second.len(), 1, "the job came back after its lease");
    assert!(
        leased_at.elapsed() >= LEASE - Duration::from_millis(100),
        "not before the lease ended"
    );
    assert_eq!(envelope_of(&second[0]), job);
    assert_eq!(second[0].receive_count, 2);
    twin.source.ack(&second[0]).await.expect("ack of the new receipt");
}

/// A job enqueued with a delay is not received before it.
pub async fn a_delayed_job_is_invisible_until_its_delay(twin: QueueTwin) {
    let delay = Duration::from_secs(2);
    let enqueued_at = Instant::now();
    twin.queue.enqueue(Q, &[sync_job("delayed")], delay).await.expect("enqueue");
    let early = twin.source.receive(Q, 10, LEASE).await.expect("receive");
    assert!(early.is_empty(), "a delayed job is invisible: {early:?}");
    let got = receive_n(&twin, Q, 1, LEASE).await;
    assert_eq!(got.len(), 1, "the delayed job arrives");
    assert!(enqueued_at.elapsed() >= delay - Duration::from_millis(100), "not before its delay");
}

/// A dead letter keeps the body and the reason, leaves the queue, and a replay puts it back
/// with a fresh set of attempts, once.
pub async fn a_dead_lettered_job_keeps_its_reason_and_can_be_replayed(twin: QueueTwin) {
    let job = sync_job("dead").retried().retried();
    twin.queue.enqueue(Q, std::slice::from_ref(&job), Duration::ZERO).await.expect("enqueue");
    let got = receive_n(&twin, Q, 1, LEASE).await;
    assert_eq!(got.len(), 1);
    let reason = "Dataverse refused the email: 0x80040237 duplicate key on job 7";
    twin.source.dead_letter(&got[0], reason).await.expect("dead-letter");
    tokio::time::sleep(LEASE + Duration::from_millis(500)).await;
    assert!(
        twin.source.receive(Q, 10, LEASE).await.expect("receive").is_empty(),
        "it left the queue"
    );
    let parked = twin.dead_letters.dead_letters(Q, 10).await.expect("list");
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].reason, reason);
    assert_eq!(parked[0].queue, Q);
    assert_eq!(parked[0].receive_count, 1);
    assert_eq!(Envelope::from_body(&parked[0].body).expect("body kept"), job);
    assert!(twin.dead_letters.replay(Q, &parked[0].id).await.expect("replay"), "replayed");
    let back = receive_n(&twin, Q, 1, LEASE).await;
    assert_eq!(back.len(), 1, "the replayed job is on its queue again");
    let replayed = envelope_of(&back[0]);
    assert_eq!((replayed.id(), replayed.job(), replayed.attempt()), (job.id(), job.job(), 0));
    assert!(twin.dead_letters.dead_letters(Q, 10).await.expect("list").is_empty());
    assert!(!twin.dead_letters.replay(Q, &parked[0].id).await.expect("replay"), "only once");
}

/// `replay_all` and `purge` act on every dead letter of the queue.
pub async fn replay_all_and_purge_empty_the_dead_letters(twin: QueueTwin) {
    async fn park(twin: &QueueTwin, count: usize) {
        let jobs: Vec<_> = (0..count).map(|i| sync_job(&format!("parked-{i}"))).collect();
        twin.queue.enqueue(Q, &jobs, Duration::ZERO).await.expect("enqueue");
        for delivery in receive_n(twin, Q, count, LEASE).await {
            twin.source.dead_letter(&delivery, "poison").await.expect("dead-letter");
        }
    }
    park(&twin, 2).await;
    assert_eq!(twin.dead_letters.replay_all(Q).await.expect("replay all"), 2);
    let back = receive_n(&twin, Q, 2, Duration::from_secs(30)).await;
    assert_eq!(back.len(), 2);
    for delivery in &back {
        twin.source.ack(delivery).await.expect("ack");
    }
    park(&twin, 3).await;
    assert_eq!(twin.dead_letters.purge(Q).await.expect("purge"), 3);
    assert!(twin.dead_letters.dead_letters(Q, 10).await.expect("list").is_empty());
}

/// A batch with one job the queue cannot take enqueues none of it.
pub async fn enqueue_is_all_or_nothing(twin: QueueTwin) {
    let email = EmailRecord {
        graph_id: GraphItemId::parse("AAMk-huge").expect("id"),
        folder: Folder::Inbox,
        internet_message_id: None,
        subject: "huge".into(),
        body_html: "x".repeat(MAX_BODY_BYTES + 1),
        body_omitted: false,
        from: None,
        to: vec![],
        cc: vec![],
        bcc: vec![],
        received_at: time::OffsetDateTime::UNIX_EPOCH,
        sent_at: None,
        in_reply_to: None,
        conversation_id: None,
        conversation_index: None,
        importance: Importance::Normal,
        has_attachments: false,
    };
    let huge = Envelope::new(Job::WriteEmail {
        mailbox: mailbox("huge"),
        email: Box::new(email),
        track_if: None,
    });
    let batch = [sync_job("before"), huge.clone(), sync_job("after")];
    let error = twin.queue.enqueue(Q, &batch, Duration::ZERO).await.expect_err("refused");
    assert!(!error.retryable, "an oversized job will not fit later either");
    assert!(error.to_string().contains(&huge.id().to_string()), "names the job: {error}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        twin.source.receive(Q, 10, LEASE).await.expect("receive").is_empty(),
        "nothing enqueued"
    );
}

/// SQS delays at most 15 minutes; both twins refuse more rather than shorten it.
pub async fn a_delay_beyond_the_queue_maximum_is_refused(twin: QueueTwin) {
    let too_long = MAX_DELAY + Duration::from_secs(1);
    let error = twin.queue.enqueue(Q, &[sync_job("late")], too_long).await.expect_err("refused");
    assert!(!error.retryable);
}

/// A job enqueued on one queue is received only from that queue.
pub async fn queues_are_separate(twin: QueueTwin) {
    twin.queue
        .enqueue(QueueName::Writes, &[sync_job("separate")], Duration::ZERO)
        .await
        .expect("enqueue");
    assert!(twin.source.receive(Q, 10, LEASE).await.expect("receive").is_empty());
    assert!(
        twin.source.receive(QueueName::Subscriptions, 10, LEASE).await.expect("receive").is_empty()
    );
    assert_eq!(receive_n(&twin, QueueName::Writes, 1, LEASE).await.len(), 1);
}

/// Every job of a large batch is received exactly once while leases run, `max` at most a time.
pub async fn every_job_enqueued_is_received(twin: QueueTwin) {
    let jobs: Vec<_> = (0..25).map(|i| sync_job(&format!("many-{i}"))).collect();
    twin.queue.enqueue(Q, &jobs, Duration::ZERO).await.expect("enqueue");
    let deadline = Instant::now() + PATIENCE;
    let mut ids = Vec::new();
    while ids.len() < jobs.len() && Instant::now() < deadline {
        let batch = twin.source.receive(Q, 10, Duration::from_secs(60)).await.expect("receive");
        assert!(batch.len() <= 10, "at most max per receive");
        ids.extend(batch.iter().map(|d| envelope_of(d).id()));
    }
    ids.sort();
    let mut expected: Vec<_> = jobs.iter().map(Envelope::id).collect();
    expected.sort();
    assert_eq!(ids, expected, "each job once");
}

/// Acking a message twice (a retried ack) is not an error.
pub async fn acking_twice_is_harmless(twin: QueueTwin) {
    twin.queue.enqueue(Q, &[sync_job("twice")], Duration::ZERO).await.expect("enqueue");
    let got = receive_n(&twin, Q, 1, LEASE).await;
    twin.source.ack(&got[0]).await.expect("ack");
    twin.source.ack(&got[0]).await.expect("ack again");
}

/// `ack_all` removes every message it names, in one call.
pub async fn ack_all_removes_every_message_it_names(twin: QueueTwin) {
    let jobs: Vec<_> = (0..10).map(|i| sync_job(&format!("all-{i}"))).collect();
    twin.queue.enqueue(Q, &jobs, Duration::ZERO).await.expect("enqueue");
    let got = receive_n(&twin, Q, 10, LEASE).await;
    assert_eq!(got.len(), 10);
    twin.source.ack_all(&got).await.expect("ack all");
    twin.source.ack_all(&[]).await.expect("nothing to ack");
    tokio::time::sleep(LEASE + Duration::from_millis(500)).await;
    assert!(twin.source.receive(Q, 10, LEASE).await.expect("receive").is_empty(), "all gone");
}

/// The depth tells ready, leased, delayed and dead-lettered jobs apart.
pub async fn depth_counts_ready_in_flight_delayed_and_dead_jobs(twin: QueueTwin) {
    let now = [sync_job("depth-1"), sync_job("depth-2"), sync_job("depth-3")];
    twin.queue.enqueue(Q, &now, Duration::ZERO).await.expect("enqueue");
    twin.queue
        .enqueue(Q, &[sync_job("depth-later")], Duration::from_secs(60))
        .await
        .expect("enqueue");
    let got = receive_n(&twin, Q, 2, Duration::from_secs(60)).await;
    assert_eq!(got.len(), 2);
    twin.source.dead_letter(&got[1], "poison").await.expect("dead-letter");
    let deadline = Instant::now() + PATIENCE;
    let mut depth = twin.depths.depth(Q).await.expect("depth");
    // SQS's counts are approximate and catch up within seconds.
    while (depth.visible, depth.in_flight, depth.delayed, depth.dead_lettered) != (1, 1, 1, 1)
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
        depth = twin.depths.depth(Q).await.expect("depth");
    }
    assert_eq!((depth.visible, depth.in_flight, depth.delayed, depth.dead_lettered), (1, 1, 1, 1));
    assert!(!depth.is_idle());
    assert!(twin.depths.depth(QueueName::Writes).await.expect("depth").is_idle());
}
