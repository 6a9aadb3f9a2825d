//! `exsync sync --once`: run workers until their queues are empty and nothing is in flight,
//! within a timeout.

use std::{sync::Arc, time::Duration};

use tokio::{task::JoinSet, time::Instant};
use tokio_util::sync::CancellationToken;

use super::{
    batch::{Queues, Tally},
    worker::{Activity, Worker, run},
};
use crate::{
    jobs::QueueName,
    ports::{QueueDepth, QueueDepths},
};

/// How often a drain looks at the queues.
const POLL: Duration = Duration::from_millis(20);

/// A drain that did not finish.
#[derive(Debug, thiserror::Error)]
#[error("the queues were not empty after {timeout:?}: {}", describe(.left))]
pub struct DrainError {
    /// The drain's timeout.
    pub timeout: Duration,
    /// The queues that still held jobs at the last look (empty if the depth could not be read).
    pub left: Vec<(QueueName, QueueDepth)>,
    /// What the workers did meanwhile.
    pub tally: Tally,
}

fn describe(left: &[(QueueName, QueueDepth)]) -> String {
    if left.is_empty() {
        return "their depth could not be read, or a batch was still in hand".into();
    }
    let parts: Vec<String> = left
        .iter()
        .map(|(q, d)| {
            format!(
                "{}: {} ready, {} in flight, {} delayed",
                q.as_str(),
                d.visible,
                d.in_flight,
                d.delayed
            )
        })
        .collect();
    parts.join("; ")
}

/// Runs `workers` until all their queues are empty (delayed jobs included) and no batch is in
/// hand, or `timeout` passes; then stops them, letting batches in hand finish, and returns what
/// they did.
///
/// Quiet is judged in-process: no lane holds a batch, every queue reads empty, and no lane
/// began or finished a batch while the queues were read. A handler enqueues its follow-up jobs
/// before it acks, so there is no moment at which work exists only inside a lane unseen.
pub async fn drain(
    workers: Vec<Worker>,
    queues: Queues,
    depths: Arc<dyn QueueDepths>,
    timeout: Duration,
) -> Result<Tally, DrainError> {
    let activity = Arc::new(Activity::default());
    let shutdown = CancellationToken::new();
    let names: Vec<QueueName> = workers.iter().map(|w| w.queue).collect();
    let mut running = JoinSet::new();
    for worker in workers {
        running.spawn(run(worker, queues.clone(), activity.clone(), shutdown.clone()));
    }
    let deadline = Instant::now() + timeout;
    let result = loop {
        let left = match busy(&names, depths.as_ref(), &activity).await {
            None => break Ok(()),
            Some(left) => left,
        };
        if Instant::now() >= deadline {
            break Err(left);
        }
        tokio::time::sleep(POLL).await;
    };
    shutdown.cancel();
    while running.join_next().await.is_some() {}
    let tally = activity.tally();
    result.map(|()| tally).map_err(|left| DrainError { timeout, left, tally })
}

/// `None` when quiet, else what is left.
async fn busy(
    names: &[QueueName],
    depths: &dyn QueueDepths,
    activity: &Activity,
) -> Option<Vec<(QueueName, QueueDepth)>> {
    let Some(before) = activity.idle_epoch() else {
        return Some(Vec::new());
    };
    let mut left = Vec::new();
    for &queue in names {
        match depths.depth(queue).await {
            Ok(depth) if depth.is_idle() => {}
            Ok(depth) => left.push((queue, depth)),
            Err(error) => {
                tracing::warn!(%error, "could not read a queue's depth");
                return Some(left);
            }
        }
    }
    (!left.is_empty() || activity.epoch() != before).then_some(left)
}
