//! `exsync-bench`: runs every benchmark of issue 6 and writes `BENCHMARKS.md`.

use std::path::PathBuf;

use clap::Parser;

/// Measures exsync against the simulators and writes the figures to a Markdown file.
#[derive(Debug, Parser)]
struct Args {
    /// Trivial sizes: checks the harness end to end in seconds (the figures mean nothing).
    #[arg(long)]
    quick: bool,
    /// Only the steady-rate latency run at this many emails a second (prints its figures;
    /// writes nothing): for looking into one figure.
    #[arg(long)]
    latency_only: Option<u32>,
    /// Only exsync's own CPU and state writes per email: `exsync serve` (the release binary,
    /// or `EXSYNC_BENCH_BIN`) syncing this many emails at 200 a second (prints; writes nothing).
    #[arg(long)]
    cpu_only: Option<usize>,
    /// Only the callgrind profile of `exsync serve` syncing this many emails (prints the
    /// table; writes nothing): checks the profile works, valgrind and all.
    #[arg(long)]
    profile_only: Option<usize>,
    /// Where to write the results (sections of other issues already there are kept).
    #[arg(long, default_value = "BENCHMARKS.md")]
    out: PathBuf,
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize()?;
    let options = if args.quick {
        exsync_bench::Options::quick(root)
    } else {
        exsync_bench::Options::full(root)
    };
    if let Some(emails) = args.cpu_only {
        let binary = std::env::var_os("EXSYNC_BENCH_BIN").map(PathBuf::from).unwrap_or_else(|| {
            exsync_bench::binaries::target_dir(&options.root).join("release").join("exsync")
        });
        let load = exsync_bench::process::cpu_per_email(&binary, emails).await?;
        let per_email = |n: u64| n as f64 / load.synced.max(1) as f64;
        eprintln!(
            "{}: {} emails, own CPU {:.2} ms per email, peak RSS {} kB",
            binary.display(),
            load.synced,
            load.cpu_per_email * 1000.0,
            load.peak_rss_kb
        );
        for (name, n) in &load.counts {
            eprintln!("  {name}: {n} ({:.2} per email)", per_email(*n));
        }
        return Ok(());
    }
    if let Some(emails) = args.profile_only {
        println!("{}", exsync_bench::profile::section(&options.root, emails).await);
        return Ok(());
    }
    if let Some(rate) = args.latency_only {
        for latency in [None, Some(exsync_sim::cloud::LatencyProfile::REALISTIC)] {
            let run = exsync_bench::latency::steady(rate, options.steady_seconds, latency).await?;
            let p = |q| exsync_bench::stats::percentile(&run.latencies, q);
            eprintln!(
                "latency {latency:?}: p50 {:?} p95 {:?} p99 {:?}, own p50 {:?} p99 {:?}, {} of {}",
                p(0.5),
                p(0.95),
                p(0.99),
                run.own(0.5),
                run.own(0.99),
                run.committed,
                run.sent
            );
            eprintln!(
                "  CPU {:.2} ms per email (exsync and the simulators)",
                run.cpu_per_email * 1000.0
            );
            for (name, n) in &run.counts {
                eprintln!("  {name}: {n} ({:.2} per email)", *n as f64 / run.sent.max(1) as f64);
            }
        }
        return Ok(());
    }
    let markdown = exsync_bench::run(&options).await?;
    exsync_bench::report::write(&args.out, &markdown)?;
    eprintln!("[bench] wrote {}", args.out.display());
    Ok(())
}
