//! Sustained throughput: offered rates step up until the backlog grows without bound; the
//! rate at which the last backlog drains is the pipeline's capacity.

use std::time::{Duration, Instant};

use exsync_sim::cloud::LatencyProfile;

use crate::world::{Spec, World};

/// One offered rate.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    /// Emails a second offered.
    pub offered: u32,
    /// Emails a second committed during the step.
    pub committed: f64,
    /// Emails sent and not yet committed at the end of the step.
    pub backlog: usize,
    /// Whether it kept up: committed at least 90 % of the offered rate, and the backlog
    /// at the end is under one second's worth.
    pub kept_up: bool,
}

/// The whole ramp.
#[derive(Debug, Clone)]
pub struct Ramp {
    /// Each step.
    pub steps: Vec<Step>,
    /// Emails a second while the final backlog drained (nothing more offered).
    pub drain_rate: f64,
    /// Emails the final backlog held.
    pub drained: usize,
}

impl Ramp {
    /// The highest offered rate the pipeline kept up with.
    pub fn sustained(&self) -> u32 {
        self.steps.iter().filter(|s| s.kept_up).map(|s| s.offered).max().unwrap_or(0)
    }
}

/// Offers each rate of `rates` for `seconds`, into the demo's four mailboxes plus
/// `extra_mailboxes` (Graph allows 4 concurrent requests per mailbox, so more mailboxes
/// spread the load as a real organisation does), stopping after the first step it fell
/// behind in.
pub async fn ramp(
    rates: &[u32],
    seconds: f64,
    extra_mailboxes: usize,
    latency: Option<LatencyProfile>,
) -> anyhow::Result<Ramp> {
    let world = World::start(Spec { extra_mailboxes, latency, ..Spec::default() }).await?;
    world.ready(Duration::from_secs(120)).await?;
    crate::latency::warm_parties(&world).await;
    let result = run(&world, rates, seconds).await;
    world.stop().await;
    result
}

async fn run(world: &World, rates: &[u32], seconds: f64) -> anyhow::Result<Ramp> {
    let base = world.emails();
    let mut sent = 0usize;
    let mut steps = Vec::new();
    let tick = Duration::from_millis(10);
    for &rate in rates {
        let total = (f64::from(rate) * seconds).round() as usize;
        let (started, committed0) = (Instant::now(), world.emails());
        let mut step_sent = 0usize;
        while step_sent < total {
            // Send what is due by now, in 10 ms slices.
            let due = ((started.elapsed().as_secs_f64() * f64::from(rate)) as usize + 1).min(total);
            while step_sent < due {
                let to = &world.mailboxes[(sent + step_sent) % world.mailboxes.len()];
                world.deliver(to, (sent + step_sent) as u64 + 1_000_000);
                step_sent += 1;
            }
            tokio::time::sleep(tick).await;
        }
        sent += step_sent;
        let elapsed = started.elapsed().as_secs_f64();
        let committed = (world.emails() - committed0) as f64 / elapsed;
        let backlog = (base + sent).saturating_sub(world.emails());
        let kept_up = committed >= 0.9 * f64::from(rate) && backlog < rate as usize;
        steps.push(Step { offered: rate, committed, backlog, kept_up });
        if !kept_up {
            break;
        }
    }
    let (drain_start, drain_from) = (Instant::now(), world.emails());
    let drained = (base + sent).saturating_sub(drain_from);
    world.wait(Duration::from_secs(60), |w| w.emails() >= base + sent).await;
    let drain_rate = (world.emails() - drain_from) as f64 / drain_start.elapsed().as_secs_f64();
    Ok(Ramp { steps, drain_rate, drained })
}
