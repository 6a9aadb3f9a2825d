//! exsync's benchmark harness: the figures of issue 6, measured side by side in one run in
//! embedded mode against the simulators (bare, and with a realistic latency profile), written
//! to `BENCHMARKS.md`. Not a test: nothing here asserts a timing.
//!
//! # Layout
//!
//! - [`world`]: the simulators, a configuration and `Embedded` serving it, and the counters.
//! - [`latency`], [`throughput`], [`requests`], [`idle`]: the pipeline's figures.
//! - [`binaries`], [`process`]: each binary's size, start-up and memory; the runner at scale.
//! - [`cost`]: AWS cost per million emails from the calls each step makes.
//! - [`profile`]: a callgrind profile for figures that miss.
//! - [`report`]: the Markdown.

pub mod binaries;
pub mod cost;
pub mod counting;
pub mod idle;
pub mod latency;
pub mod machine;
pub mod process;
pub mod profile;
pub mod report;
pub mod requests;
pub mod stats;
pub mod throughput;
pub mod world;

use std::path::PathBuf;

/// Sizes of one run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The workspace root (binaries, git).
    pub root: PathBuf,
    /// Seconds of the steady 200/s run.
    pub steady_seconds: f64,
    /// Notifications a second of the steady run.
    pub steady_rate: u32,
    /// Offered rates of the throughput ramp, and seconds per step.
    pub ramp: (Vec<u32>, f64),
    /// Extra mailboxes of the throughput ramp.
    pub ramp_mailboxes: usize,
    /// Lone messages, burst size, backlog size.
    pub requests: (usize, usize, usize),
    /// Idle mailboxes.
    pub idle_mailboxes: usize,
    /// Mailboxes of the scale run, and how long to watch it.
    pub scale: (usize, std::time::Duration),
    /// Start-ups per binary, emails of the load run.
    pub binary_runs: (usize, usize),
    /// Emails synced under callgrind (0: no profile).
    pub profile_emails: usize,
}

impl Options {
    /// The full run (about 8 minutes on 2 cores).
    pub fn full(root: PathBuf) -> Self {
        Self {
            root,
            steady_seconds: 15.0,
            steady_rate: 200,
            ramp: (vec![100, 200, 400, 800, 1600, 2400], 5.0),
            ramp_mailboxes: 16,
            requests: (5, 50, 2000),
            idle_mailboxes: 1000,
            scale: (10_000, std::time::Duration::from_secs(90)),
            binary_runs: (5, 1000),
            profile_emails: 30,
        }
    }

    /// Trivial sizes: checks the harness runs end to end, in seconds.
    pub fn quick(root: PathBuf) -> Self {
        Self {
            root,
            steady_seconds: 0.5,
            steady_rate: 20,
            ramp: (vec![20], 0.5),
            ramp_mailboxes: 0,
            requests: (1, 3, 10),
            idle_mailboxes: 6,
            scale: (8, std::time::Duration::from_secs(10)),
            binary_runs: (1, 5),
            profile_emails: 0,
        }
    }
}

/// Runs every measurement; the Markdown of the results.
pub async fn run(options: &Options) -> anyhow::Result<String> {
    report::measure(options).await
}
