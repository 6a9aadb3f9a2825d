//! The harness runs end to end with trivial sizes and writes its sections (no timing is
//! asserted: the figures of a run this small mean nothing).

use std::path::PathBuf;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_harness_runs_end_to_end_and_keeps_other_sections() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let markdown = exsync_bench::run(&exsync_bench::Options::quick(root)).await.expect("runs");
    for section in [
        "## Latency",
        "## Sustained throughput",
        "## Requests per synced email",
        "## Idle cost",
        "## Binaries",
        "## AWS cost",
    ] {
        assert!(markdown.contains(section), "{section} missing:\n{markdown}");
    }

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("BENCHMARKS.md");
    std::fs::write(&path, "# Benchmarks\n\nold\n\n## Latency (issue 6)\n\nold figures\n\n## Chaos test (issue 5)\n\nkept\n").unwrap();
    exsync_bench::report::write(&path, &markdown).unwrap();
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(written.contains("## Chaos test (issue 5)\n\nkept"), "{written}");
    assert!(!written.contains("old figures"));
    assert_eq!(written.matches("# Benchmarks").count(), 1);
}
