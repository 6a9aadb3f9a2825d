//! Each handler as the runtime calls it: jobs of one queue in, one outcome per job out. The
//! embedded workers and the Lambda functions use these same types.

use async_trait::async_trait;

use super::{
    subscribe::{SubscribeDeps, ensure_subscriptions, on_lifecycle},
    sync::{SyncDeps, sync_folder},
    write::{ScreenDeps, ScreenJob, WriteDeps, screen, write_screened},
};
use crate::{
    jobs::{Envelope, Job},
    outcome::Outcome,
    runtime::{HandleOne, JobHandler},
};

/// A job that arrived on the wrong queue is a bug upstream: no retry can fix it.
fn misrouted(job: &Job, queue: &str) -> Outcome {
    Outcome::poison(format!("a {:?} job does not belong on the {queue} queue", job.queue()))
}

/// The `changes` queue: folder passes.
#[derive(Debug, Clone)]
pub struct SyncJobs(pub SyncDeps);

#[async_trait]
impl HandleOne for SyncJobs {
    async fn handle_one(&self, job: Envelope) -> Outcome {
        match job.job() {
            Job::SyncFolder { mailbox, folder, trigger, ticket } => {
                sync_folder(&self.0, mailbox, *folder, *trigger, *ticket).await
            }
            other => misrouted(other, "changes"),
        }
    }
}

/// The `subscriptions` queue: upkeep and lifecycle events.
#[derive(Debug, Clone)]
pub struct SubscribeJobs(pub SubscribeDeps);

#[async_trait]
impl HandleOne for SubscribeJobs {
    async fn handle_one(&self, job: Envelope) -> Outcome {
        match job.job() {
            Job::EnsureSubscriptions { mailbox } => ensure_subscriptions(&self.0, mailbox).await,
            Job::Lifecycle { subscription, event } => {
                on_lifecycle(&self.0, subscription, *event).await
            }
            other => misrouted(other, "subscriptions"),
        }
    }
}

/// The `writes` queue: emails into Dataverse, a batch at a time.
#[derive(Debug, Clone)]
pub struct WriteJobs(pub WriteDeps);

#[async_trait]
impl JobHandler for WriteJobs {
    async fn handle(&self, jobs: Vec<Envelope>) -> Vec<Outcome> {
        let mut outcomes: Vec<Option<Outcome>> = vec![None; jobs.len()];
        let mut emails = Vec::new();
        let mut slots = Vec::new();
        for (i, envelope) in jobs.iter().enumerate() {
            match envelope.job() {
                Job::WriteEmail { mailbox, email, track_if } => {
                    emails.push((mailbox.clone(), (**email).clone(), *track_if));
                    slots.push(i);
                }
                other => outcomes[i] = Some(misrouted(other, "writes")),
            }
        }
        for (slot, outcome) in slots.into_iter().zip(write_screened(&self.0, emails).await) {
            outcomes[slot] = Some(outcome);
        }
        outcomes.into_iter().map(|o| o.unwrap_or_else(|| Outcome::retry("no outcome"))).collect()
    }
}

/// The `writes` queue where rich notifications are screened too: `screen` jobs are decided
/// (see [`super::write::screen`]), the rest go to `write`; one batch, outcomes in order.
#[derive(Debug, Clone)]
pub struct WriteAndScreenJobs {
    /// The writes.
    pub write: WriteJobs,
    /// The screening.
    pub screen: ScreenDeps,
}

#[async_trait]
impl JobHandler for WriteAndScreenJobs {
    async fn handle(&self, jobs: Vec<Envelope>) -> Vec<Outcome> {
        let (mut screens, mut slots, mut others, mut other_slots) =
            (vec![], vec![], vec![], vec![]);
        for (i, envelope) in jobs.into_iter().enumerate() {
            match envelope.job() {
                Job::Screen { mailbox, folder, screening } => {
                    screens.push(ScreenJob {
                        mailbox: mailbox.clone(),
                        folder: *folder,
                        screening: (**screening).clone(),
                    });
                    slots.push(i);
                }
                _ => {
                    others.push(envelope);
                    other_slots.push(i);
                }
            }
        }
        let mut outcomes: Vec<Option<Outcome>> = vec![None; slots.len() + other_slots.len()];
        if !screens.is_empty() {
            for (slot, outcome) in slots.into_iter().zip(screen(&self.screen, &screens).await) {
                outcomes[slot] = Some(outcome);
            }
        }
        if !others.is_empty() {
            for (slot, outcome) in other_slots.into_iter().zip(self.write.handle(others).await) {
                outcomes[slot] = Some(outcome);
            }
        }
        outcomes.into_iter().map(|o| o.unwrap_or_else(|| Outcome::retry("no outcome"))).collect()
    }
}
