//! `exsync-bench`: runs every benchmark of issue 6 and writes `BENCHMARKS.md`.

use std::path::PathBuf;

use clap::Parser;

/// Measures exsync against the simulators and writes the figures to a Markdown file.
#[derive(Debug, Parser)]
struct Args {
    /// Trivial sizes: checks the harness end to end in seconds (the figures mean nothing).
    #[arg(long)]
    quick: bool,
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
    let markdown = exsync_bench::run(&options).await?;
    exsync_bench::report::write(&args.out, &markdown)?;
    eprintln!("[bench] wrote {}", args.out.display());
    Ok(())
}
