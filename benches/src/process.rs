//! The `exsync` binary as a child process against the simulators of this one: start-up time
//! to ready, peak RSS under load, and the runner with thousands of mailboxes.

use std::{
    collections::BTreeMap,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::{
    binaries::stop,
    stats::{cpu_seconds, status_kb},
    world::{Spec, World},
};

/// A started `exsync serve`.
#[derive(Debug)]
struct Serve {
    child: Child,
    ready_after: Duration,
}

/// Starts `exsync serve` on the world's configuration and waits until its listener answers
/// Graph's validation handshake (the moment Graph could create a subscription).
async fn serve(binary: &Path, world: &World) -> anyhow::Result<Serve> {
    let client = world.org.cloud.ca.client();
    let url = format!("https://127.0.0.1:{}/graph/notify?validationToken=ready", world.port);
    let started = Instant::now();
    let mut child = Command::new(binary)
        .arg("--config")
        .arg(&world.config_path)
        .arg("serve")
        .env("RUST_LOG", "warn")
        .current_dir(world.config_path.parent().unwrap_or(Path::new(".")))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    loop {
        let answered = client.post(&url).timeout(Duration::from_millis(500)).send().await;
        if answered.is_ok_and(|r| r.status().is_success()) {
            return Ok(Serve { child, ready_after: started.elapsed() });
        }
        if started.elapsed() > Duration::from_secs(30) || matches!(child.try_wait(), Ok(Some(_))) {
            stop(&mut child);
            anyhow::bail!("exsync serve was not ready within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// What the `exsync` binary was measured at.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Start-up times to ready, sorted.
    pub startups: Vec<Duration>,
    /// Peak RSS (kB) after the load.
    pub peak_rss_kb: u64,
    /// exsync's own CPU seconds per email synced under the load (the simulators run in the
    /// harness's process, so this is exsync alone).
    pub cpu_per_email: f64,
}

/// Start-up times of `runs` starts, and the peak RSS and CPU of a last run that syncs `load`
/// emails at 200 a second.
pub async fn startup_and_load(binary: &Path, runs: usize, load: usize) -> anyhow::Result<Loaded> {
    let mut world = World::start(Spec { serve: false, ..Spec::default() }).await?;
    world.release_port();
    let mut startups = Vec::new();
    for _ in 0..runs {
        let mut serve = serve(binary, &world).await?;
        startups.push(serve.ready_after);
        stop(&mut serve.child);
    }
    startups.sort();
    let mut serve = serve(binary, &world).await?;
    let load = under_load(&world, &mut serve, load, false).await;
    stop(&mut serve.child);
    world.stop().await;
    let load = load?;
    Ok(Loaded { startups, peak_rss_kb: load.peak_rss_kb, cpu_per_email: load.cpu_per_email })
}

/// One `exsync serve` syncing emails at 200 a second.
#[derive(Debug, Clone)]
pub struct Load {
    /// Emails synced.
    pub synced: usize,
    /// exsync's own CPU seconds per email synced.
    pub cpu_per_email: f64,
    /// Peak RSS (kB) after the load.
    pub peak_rss_kb: u64,
    /// Jobs and state writes during the load ([`crate::counting`]; empty when not counted).
    pub counts: BTreeMap<String, u64>,
}

/// exsync's own CPU and (counted) state writes while `emails` are synced: for looking into
/// the CPU per email alone (`exsync-bench --cpu-only`). The counting triggers run inside
/// exsync's SQLite, so they add a little to its CPU.
pub async fn cpu_per_email(binary: &Path, emails: usize) -> anyhow::Result<Load> {
    let mut world = World::start(Spec { serve: false, ..Spec::default() }).await?;
    world.release_port();
    let mut serve = serve(binary, &world).await?;
    let load = under_load(&world, &mut serve, emails, true).await;
    stop(&mut serve.child);
    world.stop().await;
    load
}

async fn under_load(
    world: &World,
    serve: &mut Serve,
    load: usize,
    count: bool,
) -> anyhow::Result<Load> {
    let wanted = world.mailboxes.len() * 2;
    world.wait(Duration::from_secs(60), |w| w.subscriptions() >= wanted).await;
    // The start-up sweep and upkeep settle first.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let state = world.config_path.parent().unwrap_or(Path::new(".")).join("exsync.db");
    if count {
        crate::counting::install(&state)?;
    }
    let counts0 = if count { crate::counting::read(&state)? } else { BTreeMap::new() };
    let (before, pid) = (world.emails(), serve.child.id().to_string());
    let cpu0 = cpu_seconds(&pid);
    for n in 0..load {
        world.deliver(&world.mailboxes[n % world.mailboxes.len()], 2_000_000 + n as u64);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    world.wait(Duration::from_secs(120), |w| w.emails() >= before + load).await;
    let synced = world.emails() - before;
    // The last passes' status reports and acks land just after the last commit.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let cpu = cpu_seconds(&pid) - cpu0;
    let peak_rss_kb = status_kb(serve.child.id(), "VmHWM:").unwrap_or(0);
    let counts = if count {
        crate::counting::diff(&counts0, &crate::counting::read(&state)?)
    } else {
        BTreeMap::new()
    };
    Ok(Load { synced, cpu_per_email: cpu / synced.max(1) as f64, peak_rss_kb, counts })
}

/// The runner with many mailboxes.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    /// Mailboxes configured.
    pub mailboxes: usize,
    /// Start-up time to ready.
    pub ready_after: Duration,
    /// Subscriptions Graph had when the measurement ended, and after how long.
    pub subscriptions: (usize, Duration),
    /// Peak RSS (kB) and RSS at the end.
    pub rss_kb: (u64, u64),
    /// CPU seconds the runner used.
    pub cpu_seconds: f64,
}

impl Scale {
    /// Subscriptions created a second (the start-up upkeep run, every one new).
    pub fn upkeep_rate(&self) -> f64 {
        self.subscriptions.0 as f64 / self.subscriptions.1.as_secs_f64().max(0.001)
    }
}

/// Starts `exsync serve` with `mailboxes` mailboxes and watches its first upkeep run (two
/// subscriptions per mailbox, each validated by Graph) for at most `limit`.
pub async fn scale(binary: &Path, mailboxes: usize, limit: Duration) -> anyhow::Result<Scale> {
    let extra_mailboxes = mailboxes.saturating_sub(4);
    let mut world = World::start(Spec { serve: false, extra_mailboxes, ..Spec::default() }).await?;
    world.release_port();
    let mut serve = serve(binary, &world).await?;
    let started = Instant::now();
    let wanted = world.mailboxes.len() * 2;
    let pid = serve.child.id();
    let mut peak = 0;
    while started.elapsed() < limit && world.subscriptions() < wanted {
        peak = peak.max(status_kb(pid, "VmHWM:").unwrap_or(0));
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let took = started.elapsed();
    let subscriptions = world.subscriptions();
    let rss = status_kb(pid, "VmRSS:").unwrap_or(0);
    peak = peak.max(status_kb(pid, "VmHWM:").unwrap_or(0));
    let cpu = cpu_seconds(&pid.to_string());
    let ready_after = serve.ready_after;
    stop(&mut serve.child);
    world.stop().await;
    Ok(Scale {
        mailboxes: world_len(mailboxes),
        ready_after,
        subscriptions: (subscriptions, took),
        rss_kb: (peak, rss),
        cpu_seconds: cpu,
    })
}

fn world_len(asked: usize) -> usize {
    asked.max(4)
}
