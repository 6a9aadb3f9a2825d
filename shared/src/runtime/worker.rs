//! The embedded pull loop: lanes that receive a batch, handle it, settle it, and wait for the
//! next enqueue when the queue is empty. On shutdown they stop receiving, finish the batch in
//! hand and return (Ctrl-C drains in-flight work and exits cleanly).

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{
    batch::{Queues, Tally, process_batch},
    handler::JobHandler,
    settle::RetryPolicy,
};
use crate::jobs::QueueName;

/// How one queue's worker runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerSettings {
    /// Messages received at once.
    pub batch_size: usize,
    /// Batches handled at once (lanes).
    pub concurrency: usize,
    /// How long a received message stays invisible to others. Sized for the handler's worst
    /// case rather than renewed: the handler gets [`handler_deadline`](Self::handler_deadline)
    /// and its batch is settled inside the lease, so no second consumer ever runs it alongside.
    pub lease: Duration,
    /// The longest wait on an empty queue: enqueues in this process wake the lanes at once,
    /// this catches jobs enqueued by another process.
    pub idle_wait: Duration,
    /// Retries and dead-lettering.
    pub retry: RetryPolicy,
}

impl WorkerSettings {
    /// The defaults per queue. A folder pass reads delta pages (bounded, each with a timeout):
    /// one per lane and five minutes. Writes go in batches of 10 (an SQS receive's maximum, so
    /// both runtimes batch alike) with two minutes. Subscription upkeep is a few Graph calls.
    pub fn for_queue(queue: QueueName) -> Self {
        let (batch_size, concurrency, lease) = match queue {
            QueueName::Changes => (1, 4, Duration::from_secs(300)),
            QueueName::Writes => (10, 8, Duration::from_secs(120)),
            QueueName::Subscriptions => (1, 2, Duration::from_secs(120)),
        };
        Self {
            batch_size,
            concurrency,
            lease,
            idle_wait: Duration::from_secs(5),
            retry: RetryPolicy::DEFAULT,
        }
    }

    /// How long the handler may take: four fifths of the lease, leaving the rest to settle.
    pub fn handler_deadline(&self) -> Duration {
        self.lease.mul_f64(0.8)
    }
}

/// One queue's worker: which queue, what handles it, how.
#[derive(Debug, Clone)]
pub struct Worker {
    /// The queue it pulls from.
    pub queue: QueueName,
    /// What handles its jobs.
    pub handler: Arc<dyn JobHandler>,
    /// How.
    pub settings: WorkerSettings,
}

impl Worker {
    /// A worker for `queue` with the queue's default settings.
    pub fn new(queue: QueueName, handler: Arc<dyn JobHandler>) -> Self {
        Self { queue, handler, settings: WorkerSettings::for_queue(queue) }
    }

    /// The same worker with other settings.
    pub fn with_settings(self, settings: WorkerSettings) -> Self {
        Self { settings, ..self }
    }
}

/// What the workers of a process are doing: batches in hand, a counter that moves whenever one
/// starts or ends (so a drain can tell a quiet moment from a lucky one), and the tally.
#[derive(Debug, Default)]
pub struct Activity {
    in_flight: AtomicUsize,
    epoch: AtomicU64,
    tally: Mutex<Tally>,
}

impl Activity {
    /// What the workers did so far.
    pub fn tally(&self) -> Tally {
        *self.tally.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The epoch, if no batch is in hand now.
    pub(crate) fn idle_epoch(&self) -> Option<u64> {
        let epoch = self.epoch.load(Ordering::SeqCst);
        (self.in_flight.load(Ordering::SeqCst) == 0).then_some(epoch)
    }

    /// The epoch now.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    fn begin(&self) {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        self.epoch.fetch_add(1, Ordering::SeqCst);
    }

    fn end(&self, tally: &Tally) {
        self.tally.lock().unwrap_or_else(|e| e.into_inner()).add(tally);
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Runs `worker` until `shutdown`, then lets every lane finish its batch and returns.
pub async fn run(
    worker: Worker,
    queues: Queues,
    activity: Arc<Activity>,
    shutdown: CancellationToken,
) {
    let mut lanes = JoinSet::new();
    for _ in 0..worker.settings.concurrency.max(1) {
        lanes.spawn(lane(worker.clone(), queues.clone(), activity.clone(), shutdown.clone()));
    }
    while let Some(ended) = lanes.join_next().await {
        if let Err(e) = ended {
            // Handler panics are caught per batch; this is a bug in the loop itself.
            tracing::error!(queue = worker.queue.as_str(), error = %e, "a worker lane died");
        }
    }
}

async fn lane(
    worker: Worker,
    queues: Queues,
    activity: Arc<Activity>,
    shutdown: CancellationToken,
) {
    let Worker { queue, handler, settings } = worker;
    while !shutdown.is_cancelled() {
        activity.begin();
        let received = queues.source.receive(queue, settings.batch_size, settings.lease).await;
        match received {
            Ok(batch) if !batch.is_empty() => {
                let report = process_batch(
                    batch,
                    handler.as_ref(),
                    &queues,
                    &settings.retry,
                    settings.handler_deadline(),
                )
                .await;
                activity.end(&report.tally);
            }
            Ok(_) => {
                activity.end(&Tally::default());
                tokio::select! {
                    () = shutdown.cancelled() => {}
                    () = queues.source.wait_for(queue, settings.idle_wait) => {}
                }
            }
            Err(error) => {
                activity.end(&Tally::default());
                tracing::warn!(queue = queue.as_str(), %error, "could not receive; trying again");
                let pause =
                    if error.retryable { Duration::from_secs(1) } else { settings.idle_wait };
                tokio::select! {
                    () = shutdown.cancelled() => {}
                    () = tokio::time::sleep(pause) => {}
                }
            }
        }
    }
}
