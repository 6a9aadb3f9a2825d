//! Notification-to-committed latency at a steady rate, and what the run cost in requests.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use exsync_sim::cloud::LatencyProfile;

use crate::{
    stats::percentile,
    world::{Spec, World},
};

/// One steady-rate run.
#[derive(Debug, Clone)]
pub struct Steady {
    /// Emails sent (one notification each).
    pub sent: usize,
    /// Emails committed in Dataverse within the wait.
    pub committed: usize,
    /// Delivery-to-commit latency, sorted.
    pub latencies: Vec<Duration>,
    /// Simulator-injected time on the shortest path of one email (one delta GET, the
    /// Dataverse read `$batch` and the write `$batch`), subtracted to get exsync's own time.
    pub injected: Duration,
    /// Graph requests during the run.
    pub graph_requests: u64,
    /// Dataverse operations (every part of a `$batch` counts, as the service counts them).
    pub dataverse_operations: u64,
    /// Dataverse HTTP requests.
    pub dataverse_http: u64,
    /// Dataverse operations by method and by entity set.
    pub dataverse_by: std::collections::BTreeMap<String, u64>,
    /// Notifications Graph delivered, and in how many POSTs.
    pub notifications: (u64, u64),
    /// CPU seconds this process (exsync and the simulators) used per email.
    pub cpu_per_email: f64,
    /// Jobs and state writes during the run ([`crate::counting`]; empty when not counted).
    pub counts: std::collections::BTreeMap<String, u64>,
}

impl Steady {
    /// The `p` quantile of exsync's own time (latency minus injected).
    pub fn own(&self, p: f64) -> Duration {
        percentile(&self.latencies, p).saturating_sub(self.injected)
    }
}

/// Sends `rate` emails a second for `seconds` into the demo mailboxes (round robin), then
/// waits for them; latency runs from delivery (Graph's notification goes out at once) to the
/// Dataverse row's commit.
pub async fn steady(
    rate: u32,
    seconds: f64,
    latency: Option<LatencyProfile>,
) -> anyhow::Result<Steady> {
    // The run with latency also counts state operations, for the AWS cost (a trigger costs
    // microseconds against the profile's tens of milliseconds).
    let world = World::start(Spec { latency, count: latency.is_some(), ..Spec::default() }).await?;
    let t = Instant::now();
    world.ready(Duration::from_secs(60)).await?;
    eprintln!("[bench]   ready after {:.1} s", t.elapsed().as_secs_f64());
    warm_parties(&world).await;
    eprintln!("[bench]   parties warm after {:.1} s", t.elapsed().as_secs_f64());
    let result = run(&world, rate, seconds, latency).await;
    eprintln!("[bench]   steady run done after {:.1} s", t.elapsed().as_secs_f64());
    world.stop().await;
    result
}

/// Steady state has its party look-ups cached: one email from each sender to each mailbox
/// first.
pub async fn warm_parties(world: &World) {
    let before = world.emails();
    let senders = crate::world::known_senders().len();
    let mut n = 0;
    for mailbox in world.mailboxes.iter().take(4) {
        for _ in 0..senders {
            world.deliver(mailbox, 800_000 + n);
            n += 1;
        }
    }
    world.wait(Duration::from_secs(60), |w| w.emails() >= before + n as usize).await;
    world.settle(Duration::from_secs(30)).await;
}

async fn run(
    world: &World,
    rate: u32,
    seconds: f64,
    latency: Option<LatencyProfile>,
) -> anyhow::Result<Steady> {
    let total = (f64::from(rate) * seconds).round() as usize;
    let (graph0, dv0) = (world.graph_requests(), world.dataverse());
    let notes0 = world.org.cloud.graph.notification_stats();
    let emails0 = world.emails();
    let cpu0 = crate::stats::cpu_seconds("self");
    let counts0 = world.counts();
    let mut sent: HashMap<String, Instant> = HashMap::with_capacity(total);
    let started = Instant::now();
    let gap = Duration::from_secs_f64(1.0 / f64::from(rate));
    for n in 0..total {
        // Paced against the start, so a late tick is made up and the rate holds on average.
        let due = started + gap * n as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            tokio::time::sleep(wait).await;
        }
        let to = &world.mailboxes[n % world.mailboxes.len()];
        let at = Instant::now();
        sent.insert(world.deliver(to, n as u64), at);
    }
    eprintln!("[bench]   sent {total} in {:.1} s", started.elapsed().as_secs_f64());
    world.wait(Duration::from_secs(120), |w| w.emails() >= emails0 + total).await;
    eprintln!(
        "[bench]   {} of {total} committed after {:.1} s; Dataverse throttled {:?}",
        world.emails() - emails0,
        started.elapsed().as_secs_f64(),
        world.dataverse().throttled
    );
    world.settle(Duration::from_secs(30)).await;
    let cpu = crate::stats::cpu_seconds("self") - cpu0;
    let mut latencies: Vec<Duration> = world
        .org
        .dataverse
        .env
        .email_commits()
        .into_iter()
        .filter_map(|(id, committed)| {
            let at = sent.get(id.as_deref()?)?;
            Some(committed.saturating_duration_since(*at))
        })
        .collect();
    latencies.sort();
    let (graph1, dv1) = (world.graph_requests(), world.dataverse());
    let notes1 = world.org.cloud.graph.notification_stats();
    let injected = latency.map_or(Duration::ZERO, |l| l.graph + l.dataverse * 2);
    Ok(Steady {
        sent: total,
        committed: latencies.len(),
        latencies,
        injected,
        graph_requests: graph1 - graph0,
        dataverse_operations: dv1.total - dv0.total,
        dataverse_http: dv1.http_requests - dv0.http_requests,
        dataverse_by: dv1
            .by_method
            .iter()
            .chain(&dv1.by_entity_set)
            .map(|(k, v)| {
                let before =
                    dv0.by_method.get(k).or(dv0.by_entity_set.get(k)).copied().unwrap_or(0);
                (k.clone(), v - before)
            })
            .collect(),
        notifications: (notes1.delivered - notes0.delivered, notes1.posts - notes0.posts),
        cpu_per_email: cpu / total.max(1) as f64,
        counts: crate::counting::diff(&counts0, &world.counts()),
    })
}
