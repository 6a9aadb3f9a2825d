//! Requests per synced email: a lone message, a burst into one folder, the catch-up of a
//! backlog.

use std::time::Duration;

use exsync_sim::cloud::LatencyProfile;

use crate::world::{Spec, World};

/// Requests one scenario cost, per email written.
#[derive(Debug, Clone, Copy, Default)]
pub struct PerEmail {
    /// Emails written.
    pub emails: usize,
    /// Graph requests per email.
    pub graph: f64,
    /// Dataverse operations per email (every part of a `$batch`).
    pub dataverse_operations: f64,
    /// Dataverse HTTP requests per email.
    pub dataverse_http: f64,
}

/// The three scenarios.
#[derive(Debug, Clone, Copy)]
pub struct Scenarios {
    /// One message at a time into a quiet mailbox.
    pub lone: PerEmail,
    /// A burst into one folder.
    pub burst: PerEmail,
    /// `sync --once` over a backlog.
    pub catch_up: PerEmail,
}

/// Runs the three: `lone` messages one by one, a burst of `burst`, a backlog of `backlog`.
pub async fn scenarios(
    lone: usize,
    burst: usize,
    backlog: usize,
    latency: Option<LatencyProfile>,
) -> anyhow::Result<Scenarios> {
    let world = World::start(Spec { latency, ..Spec::default() }).await?;
    world.ready(Duration::from_secs(60)).await?;
    crate::latency::warm_parties(&world).await;

    let lone = measure(&world, |w, n| {
        Box::pin(async move {
            for i in 0..lone {
                let before = w.emails();
                w.deliver(&w.mailboxes[0], n + i as u64);
                w.wait(Duration::from_secs(30), |w| w.emails() > before).await;
                w.settle(Duration::from_secs(30)).await;
            }
        })
    })
    .await;
    let burst = measure(&world, |w, n| {
        Box::pin(async move {
            let before = w.emails();
            for i in 0..burst {
                w.deliver(&w.mailboxes[0], n + 1000 + i as u64);
            }
            w.wait(Duration::from_secs(60), |w| w.emails() >= before + burst).await;
            w.settle(Duration::from_secs(30)).await;
        })
    })
    .await;
    world.stop().await;
    let catch_up = catch_up(backlog, latency).await?;
    Ok(Scenarios { lone, burst, catch_up })
}

type Scenario<'a> = std::pin::Pin<Box<dyn Future<Output = ()> + 'a>>;

async fn measure<'a>(
    world: &'a World,
    run: impl FnOnce(&'a World, u64) -> Scenario<'a>,
) -> PerEmail {
    let (graph0, dv0, emails0) = (world.graph_requests(), world.dataverse(), world.emails());
    run(world, emails0 as u64 * 10_000).await;
    let (graph1, dv1, emails1) = (world.graph_requests(), world.dataverse(), world.emails());
    per_email(
        emails1 - emails0,
        graph1 - graph0,
        dv1.total - dv0.total,
        dv1.http_requests - dv0.http_requests,
    )
}

fn per_email(emails: usize, graph: u64, operations: u64, http: u64) -> PerEmail {
    let n = emails.max(1) as f64;
    PerEmail {
        emails,
        graph: graph as f64 / n,
        dataverse_operations: operations as f64 / n,
        dataverse_http: http as f64 / n,
    }
}

/// A mailbox that received `backlog` emails while exsync was not running, caught up by
/// `sync --once` (one delta pass of each folder, pages of Graph's largest size).
async fn catch_up(backlog: usize, latency: Option<LatencyProfile>) -> anyhow::Result<PerEmail> {
    let world =
        World::start(Spec { webhooks: false, serve: false, latency, ..Spec::default() }).await?;
    for n in 0..backlog {
        world.deliver(&world.mailboxes[0], 500_000 + n as u64);
    }
    let exsync = world.open()?;
    let (graph0, dv0) = (world.graph_requests(), world.dataverse());
    let summary = exsync.sync_once(Duration::from_secs(300)).await?;
    anyhow::ensure!(summary.success(), "sync --once failed:\n{summary}");
    let (graph1, dv1) = (world.graph_requests(), world.dataverse());
    Ok(per_email(
        world.emails(),
        graph1 - graph0,
        dv1.total - dv0.total,
        dv1.http_requests - dv0.http_requests,
    ))
}
