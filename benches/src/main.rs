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
        }
        return Ok(());
    }
    let markdown = exsync_bench::run(&options).await?;
    exsync_bench::report::write(&args.out, &markdown)?;
    eprintln!("[bench] wrote {}", args.out.display());
    Ok(())
}
