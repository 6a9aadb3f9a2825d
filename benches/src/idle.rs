//! Idle cost: Graph requests an hour for idle mailboxes, exsync (webhooks: subscription
//! upkeep, renewals, the safety-net sweep) against the same code polling every 5 minutes.

use std::time::Duration;

use exsync_shared::{
    domain::{Folder, MailboxAddress},
    handlers::passes::request_pass,
    jobs::{Envelope, Job, QueueName, Trigger},
    ports::{JobQueue, SystemClock},
};

use crate::world::{Spec, World};

/// What one hour of idle mailboxes costs in Graph requests.
#[derive(Debug, Clone, Copy)]
pub struct Idle {
    /// Mailboxes.
    pub mailboxes: usize,
    /// Subscriptions they hold.
    pub subscriptions: usize,
    /// Requests of one hourly upkeep run (measured).
    pub upkeep: u64,
    /// Requests of one sweep of every folder (measured).
    pub sweep: u64,
    /// Requests of one poll round of every folder (measured).
    pub poll: u64,
    /// Renewals an hour: each subscription renewed (one PATCH) at half its lifetime.
    pub renewals_per_hour: f64,
    /// Sweeps an hour (`runtime.sweep_interval`, default 12 h).
    pub sweeps_per_hour: f64,
    /// Time the subscriptions took to be created, and the rate.
    pub subscribe_seconds: f64,
}

impl Idle {
    /// exsync's Graph requests an hour.
    pub fn exsync_per_hour(&self) -> f64 {
        self.upkeep as f64 + self.sweep as f64 * self.sweeps_per_hour + self.renewals_per_hour
    }

    /// The same before upkeep kept the subscription's shape: one GET per subscription each run.
    pub fn exsync_per_hour_with_gets(&self) -> f64 {
        self.exsync_per_hour() + self.subscriptions as f64
    }

    /// A 5-minute poller's: twelve rounds an hour.
    pub fn poller_per_hour(&self) -> f64 {
        self.poll as f64 * 12.0
    }
}

/// Measures with `mailboxes` idle mailboxes (at least the demo's four).
pub async fn measure(mailboxes: usize) -> anyhow::Result<Idle> {
    let extra = mailboxes.saturating_sub(4);
    let started = std::time::Instant::now();
    let world = World::start(Spec { extra_mailboxes: extra, ..Spec::default() }).await?;
    world.ready(Duration::from_secs(240)).await?;
    let subscribe_seconds = started.elapsed().as_secs_f64();
    let result = run(&world, subscribe_seconds).await;
    world.stop().await;
    result
}

async fn run(world: &World, subscribe_seconds: f64) -> anyhow::Result<Idle> {
    let exsync = world.exsync.as_ref().expect("served");
    let addresses: Vec<MailboxAddress> = world
        .mailboxes
        .iter()
        .map(|m| MailboxAddress::parse(m.as_str()))
        .collect::<Result<_, _>>()?;

    // One hourly upkeep run, as `serve`'s schedule queues it.
    let before = world.graph_requests();
    let jobs: Vec<Envelope> = addresses
        .iter()
        .map(|m| Envelope::new(Job::EnsureSubscriptions { mailbox: m.clone() }))
        .collect();
    exsync.queue().enqueue(QueueName::Subscriptions, &jobs, Duration::ZERO).await?;
    world.settle(Duration::from_secs(120)).await;
    let upkeep = world.graph_requests() - before;

    let sweep = passes(world, &addresses, Trigger::Sweep).await?;
    let poll = passes(world, &addresses, Trigger::Poll).await?;
    let config = exsync.config();
    let lifetime = config.runtime.subscription_lifetime.as_secs_f64() / 3600.0;
    let subscriptions = world.subscriptions();
    Ok(Idle {
        mailboxes: addresses.len(),
        subscriptions,
        upkeep,
        sweep,
        poll,
        renewals_per_hour: subscriptions as f64 / (lifetime / 2.0),
        sweeps_per_hour: 3600.0 / config.runtime.sweep_interval.as_secs_f64(),
        subscribe_seconds,
    })
}

/// Requests one pass of every synced folder costs.
async fn passes(
    world: &World,
    mailboxes: &[MailboxAddress],
    trigger: Trigger,
) -> anyhow::Result<u64> {
    let exsync = world.exsync.as_ref().expect("served");
    let before = world.graph_requests();
    for mailbox in mailboxes {
        for folder in Folder::ALL {
            request_pass(
                exsync.store().as_ref(),
                exsync.queue().as_ref(),
                &SystemClock,
                mailbox,
                folder,
                trigger,
            )
            .await?;
        }
    }
    world.settle(Duration::from_secs(120)).await;
    Ok(world.graph_requests() - before)
}
