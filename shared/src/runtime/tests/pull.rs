//! The pull loop and drains.

use std::{sync::Arc, time::Duration};

use tokio_util::sync::CancellationToken;

use super::{Q, Scripted, job, settings, setup};
use crate::{
    jobs::QueueName,
    ports::{JobQueue, QueueDepths},
    runtime::*,
};

#[tokio::test]
async fn shutdown_finishes_the_batch_in_hand_and_returns() {
    let s = setup();
    let handler = Arc::new(EachJob::new(Q, Scripted::default()));
    let worker = Worker::new(Q, handler.clone()).with_settings(settings());
    let shutdown = CancellationToken::new();
    let activity = Arc::new(Activity::default());
    let running = tokio::spawn(run(worker, s.queues.clone(), activity.clone(), shutdown.clone()));
    s.queue.enqueue(Q, &[job("slow-2")], Duration::ZERO).await.unwrap();
    handler.inner().started.notified().await;
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), running).await.expect("returns").unwrap();
    assert_eq!(activity.tally().done, 1, "the slow job finished");
    assert!(s.queue.depth(Q).await.unwrap().is_idle(), "and was acked");
    s.queue.enqueue(Q, &[job("done-late")], Duration::ZERO).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(s.queue.depth(Q).await.unwrap().visible, 1, "nothing received after shutdown");
}

#[tokio::test]
async fn drain_runs_until_every_queue_is_empty() {
    let s = setup();
    let fanouts: Vec<_> = (0..5).map(|i| job(&format!("fanout-{i}"))).collect();
    s.queue.enqueue(Q, &fanouts, Duration::ZERO).await.unwrap();
    let sink: Arc<dyn JobQueue> = s.queue.clone();
    let changes = Arc::new(EachJob::new(Q, Scripted { sink: Some(sink), ..Default::default() }));
    let subscriptions = Arc::new(EachJob::new(QueueName::Subscriptions, Scripted::default()));
    let workers = vec![
        Worker::new(Q, changes).with_settings(settings()),
        Worker::new(QueueName::Subscriptions, subscriptions.clone()).with_settings(settings()),
    ];
    let tally =
        drain(workers, s.queues.clone(), s.queue.clone(), Duration::from_secs(10)).await.unwrap();
    assert_eq!(tally.done, 5 + 15);
    assert_eq!(subscriptions.inner().seen().len(), 15);
    for queue in [Q, QueueName::Subscriptions] {
        assert!(s.queue.depth(queue).await.unwrap().is_idle());
    }
}

#[tokio::test]
async fn drain_gives_up_at_its_timeout_and_says_what_is_left() {
    let s = setup();
    s.queue.enqueue(Q, &[job("done-later")], Duration::from_secs(60)).await.unwrap();
    let worker =
        Worker::new(Q, Arc::new(EachJob::new(Q, Scripted::default()))).with_settings(settings());
    let error = drain(vec![worker], s.queues.clone(), s.queue.clone(), Duration::from_millis(300))
        .await
        .unwrap_err();
    assert_eq!(error.left.len(), 1);
    assert_eq!(error.left[0].0, Q);
    assert!(error.to_string().contains("changes: 0 ready, 0 in flight, 1 delayed"), "{error}");
}
