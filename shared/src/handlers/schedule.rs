//! What a schedule asks for, the same in one process (`serve`'s timer) and on AWS (the
//! EventBridge schedules of `subscribe`): a pass of every synced folder, and subscription
//! upkeep for every synced mailbox.

use std::time::Duration;

use crate::{
    config::Config,
    domain::Folder,
    handlers::passes::request_pass,
    jobs::{Envelope, Job, QueueName, Trigger},
    ports::{Clock, JobQueue, PassStore, QueueError},
};

/// What [`request_passes`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassesRequested {
    /// Passes enqueued.
    pub queued: usize,
    /// Passes already queued (coalesced).
    pub coalesced: usize,
    /// `mailbox folder: why` of each pass that could not be requested.
    pub failed: Vec<String>,
}

/// Requests a pass of every synced folder (coalesced with passes already queued). A failure
/// is left for the next run to ask again; it is reported, not fatal for the other folders.
pub async fn request_passes(
    config: &Config,
    passes: &dyn PassStore,
    queue: &dyn JobQueue,
    clock: &dyn Clock,
    trigger: Trigger,
) -> PassesRequested {
    let mut done = PassesRequested::default();
    for mailbox in config.mailboxes.iter().filter(|m| m.incoming) {
        for folder in Folder::ALL {
            match request_pass(passes, queue, clock, &mailbox.address, folder, trigger).await {
                Ok(true) => done.queued += 1,
                Ok(false) => done.coalesced += 1,
                Err(error) => {
                    tracing::warn!(%error, mailbox = %mailbox.address, %folder, "could not request a pass");
                    done.failed.push(format!("{} {folder}: {error}", mailbox.address));
                }
            }
        }
    }
    done
}

/// Queues subscription upkeep (`EnsureSubscriptions`) for every synced mailbox; returns how
/// many jobs were queued.
pub async fn queue_upkeep(config: &Config, queue: &dyn JobQueue) -> Result<usize, QueueError> {
    let jobs: Vec<Envelope> = config
        .mailboxes
        .iter()
        .filter(|m| m.incoming)
        .map(|m| Envelope::new(Job::EnsureSubscriptions { mailbox: m.address.clone() }))
        .collect();
    if !jobs.is_empty() {
        queue.enqueue(QueueName::Subscriptions, &jobs, Duration::ZERO).await?;
    }
    Ok(jobs.len())
}
