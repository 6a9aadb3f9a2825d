//! Runs the measurements in order and writes their tables.

use std::{fmt::Write, time::Instant};

use exsync_sim::cloud::LatencyProfile;

use crate::{
    Options, binaries, cost, idle, latency, machine, process, profile, requests,
    stats::{ms, percentile},
    throughput,
};

/// Why figures miss, as far as the maintainers know (kept by hand, next to the code).
const NOTES: &str = include_str!("../notes.md");

/// The command that produces this file.
pub const COMMAND: &str = "`scripts/bench`";

struct Table<'a> {
    out: &'a mut String,
    machine: &'a str,
    date: &'a str,
}

impl Table<'_> {
    fn head(&mut self, columns: &[&str]) {
        let _ = writeln!(self.out, "| {} | command | machine | date |", columns.join(" | "));
        let _ = writeln!(self.out, "|{}", "---|".repeat(columns.len() + 3));
    }

    fn row(&mut self, cells: &[String]) {
        let _ = writeln!(
            self.out,
            "| {} | {COMMAND} | {} | {} |",
            cells.join(" | "),
            self.machine,
            self.date
        );
    }
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "**missed**" }
}

/// Measures everything; the Markdown.
pub async fn measure(options: &Options) -> anyhow::Result<String> {
    let started = Instant::now();
    let machine_text = machine::short();
    let machine = machine_text.as_str();
    let date = machine::now();
    let load_before = machine::load();
    let realistic = LatencyProfile::REALISTIC;
    let mut out = String::new();
    let mut misses: Vec<String> = Vec::new();
    let exsync_bin = binaries::target_dir(&options.root).join("release").join("exsync");

    eprintln!("[bench] latency at a steady rate");
    let bare = latency::steady(options.steady_rate, options.steady_seconds, None).await?;
    let slow =
        latency::steady(options.steady_rate, options.steady_seconds, Some(realistic)).await?;
    eprintln!("[bench] throughput ramp");
    let ramp_bare =
        throughput::ramp(&options.ramp.0, options.ramp.1, options.ramp_mailboxes, None).await?;
    let ramp_slow =
        throughput::ramp(&options.ramp.0, options.ramp.1, options.ramp_mailboxes, Some(realistic))
            .await?;
    eprintln!("[bench] requests per email");
    let (lone, burst, backlog) = options.requests;
    let req_bare = requests::scenarios(lone, burst, backlog, None).await?;
    let req_slow = requests::scenarios(lone, burst, backlog, Some(realistic)).await?;
    eprintln!("[bench] idle cost");
    let idle = idle::measure(options.idle_mailboxes).await?;

    let day = date.get(..10).unwrap_or(&date).to_string();
    let mut t = Table { out: &mut out, machine, date: &day };
    // ---- latency
    let _ = writeln!(t.out, "## Latency: notification to committed create (issue 6)\n");
    let _ = writeln!(
        t.out,
        "{} emails at {}/s into the demo's four mailboxes (webhooks over TLS, one notification each); \
         from delivery in the Graph simulator (which posts the notification at once) to the \
         commit of the email row in the Dataverse simulator. \"Own time\" subtracts what the \
         latency profile injects on the shortest path of one email: one delta GET and two \
         Dataverse `$batch`es (reads, then the create-and-close changeset) = {}. Bare numbers \
         include the simulators' own work on the same two cores.\n",
        bare.sent,
        options.steady_rate,
        ms(slow.injected)
    );
    t.head(&[
        "figure",
        "target",
        "bare simulators",
        "realistic latency: total",
        "realistic latency: own time",
        "result",
    ]);
    for (name, p, target) in
        [("p50", 0.5, Some(20.0)), ("p95", 0.95, None), ("p99", 0.99, Some(100.0))]
    {
        let own = slow.own(p).as_secs_f64() * 1000.0;
        let bare_p = percentile(&bare.latencies, p).as_secs_f64() * 1000.0;
        let ok = target.map(|t| own <= t && bare_p <= t);
        if ok == Some(false) {
            misses.push(format!("latency {name}"));
        }
        t.row(&[
            name.into(),
            target.map_or("-".into(), |t| format!("≤ {t:.0} ms")),
            format!("{bare_p:.1} ms"),
            ms(percentile(&slow.latencies, p)),
            format!("{own:.1} ms"),
            ok.map_or("-".into(), |ok| met(ok).into()),
        ]);
    }
    t.row(&[
        "committed / sent".into(),
        "all".into(),
        format!("{} / {}", bare.committed, bare.sent),
        format!("{} / {}", slow.committed, slow.sent),
        "".into(),
        met(bare.committed == bare.sent && slow.committed == slow.sent).into(),
    ]);

    // ---- throughput
    let _ = writeln!(t.out, "\n## Sustained throughput (issue 6)\n");
    let _ = writeln!(
        t.out,
        "Offered rates step up ({} s each) into {} mailboxes; a step is kept up with when at \
         least 90 % of the offered rate was committed and less than a second's worth is left \
         behind at its end. The ramp stops at the first step it fell behind in, and the backlog \
         left then drains with nothing more offered (the drain rate is the pipeline's capacity). \
         The simulators run on the same two cores.\n",
        options.ramp.1,
        options.ramp_mailboxes + 4
    );
    t.head(&["figure", "target", "bare simulators", "realistic latency", "result"]);
    let sustained = ramp_bare.sustained().max(ramp_slow.sustained());
    let ok = ramp_bare.sustained() >= 2000 && ramp_slow.sustained() >= 2000;
    if !ok {
        misses.push("throughput".into());
    }
    t.row(&[
        "highest rate kept up with".into(),
        "≥ 2,000 emails/s".into(),
        format!("{} emails/s", ramp_bare.sustained()),
        format!("{} emails/s", ramp_slow.sustained()),
        met(ok).into(),
    ]);
    t.row(&[
        "drain rate of the backlog".into(),
        "-".into(),
        format!("{:.0} emails/s ({} emails)", ramp_bare.drain_rate, ramp_bare.drained),
        format!("{:.0} emails/s ({} emails)", ramp_slow.drain_rate, ramp_slow.drained),
        "-".into(),
    ]);
    let steps = |r: &throughput::Ramp| {
        r.steps
            .iter()
            .map(|s| format!("{}→{:.0} (backlog {})", s.offered, s.committed, s.backlog))
            .collect::<Vec<_>>()
            .join(", ")
    };
    t.row(&[
        "steps offered→committed/s".into(),
        "-".into(),
        steps(&ramp_bare),
        steps(&ramp_slow),
        "-".into(),
    ]);
    t.row(&[
        "CPU per email (exsync + simulators)".into(),
        "-".into(),
        format!("{:.0} µs", bare.cpu_per_email * 1e6),
        format!("{:.0} µs", slow.cpu_per_email * 1e6),
        "-".into(),
    ]);
    let _ = sustained;

    // ---- requests
    let _ = writeln!(t.out, "\n## Requests per synced email (issue 6)\n");
    let _ = writeln!(
        t.out,
        "Graph requests as the Graph simulator counts them (each `$batch` part counts); Dataverse \
         operations as Dataverse counts them for its limits (every part of a `$batch`, A7) and, \
         in brackets, HTTP requests. Party look-ups are warm (one email from each sender \
         first). Lone: {lone} messages one at a time; burst: {burst} messages into one Inbox at \
         once; catch-up: `sync --once` over {backlog} messages that arrived while exsync was \
         not running; steady: the {}/s run above.\n",
        options.steady_rate
    );
    t.head(&["figure", "target", "bare simulators", "realistic latency", "result"]);
    let graph_rows = [
        ("Graph, lone message", 1.0, req_bare.lone.graph, req_slow.lone.graph),
        ("Graph, burst of 50 into one folder", 0.1, req_bare.burst.graph, req_slow.burst.graph),
        ("Graph, catch-up of a backlog", 0.05, req_bare.catch_up.graph, req_slow.catch_up.graph),
    ];
    for (name, target, b, s) in graph_rows {
        let ok = b <= target && s <= target;
        if !ok {
            misses.push(name.to_string());
        }
        t.row(&[
            name.into(),
            format!("≤ {target}"),
            format!("{b:.3}"),
            format!("{s:.3}"),
            met(ok).into(),
        ]);
    }
    let steady_dv = |r: &latency::Steady| r.dataverse_operations as f64 / r.committed.max(1) as f64;
    let steady_http = |r: &latency::Steady| r.dataverse_http as f64 / r.committed.max(1) as f64;
    let ok = steady_dv(&bare) <= 2.0 && steady_dv(&slow) <= 2.0;
    if !ok {
        misses.push("Dataverse requests per email".into());
    }
    t.row(&[
        "Dataverse, steady state (incl. the state change)".into(),
        "≤ 2.0".into(),
        format!("{:.3} ({:.3} HTTP)", steady_dv(&bare), steady_http(&bare)),
        format!("{:.3} ({:.3} HTTP)", steady_dv(&slow), steady_http(&slow)),
        met(ok).into(),
    ]);
    for (name, b, s) in [
        ("Dataverse, lone message", req_bare.lone, req_slow.lone),
        ("Dataverse, burst of 50", req_bare.burst, req_slow.burst),
        ("Dataverse, catch-up", req_bare.catch_up, req_slow.catch_up),
    ] {
        t.row(&[
            name.into(),
            "-".into(),
            format!("{:.3} ({:.3} HTTP)", b.dataverse_operations, b.dataverse_http),
            format!("{:.3} ({:.3} HTTP)", s.dataverse_operations, s.dataverse_http),
            "-".into(),
        ]);
    }
    t.row(&[
        "Graph, steady state".into(),
        "-".into(),
        format!("{:.3}", bare.graph_requests as f64 / bare.committed.max(1) as f64),
        format!("{:.3}", slow.graph_requests as f64 / slow.committed.max(1) as f64),
        "-".into(),
    ]);

    // ---- idle
    let _ = writeln!(t.out, "\n## Idle cost: Graph requests an hour (issue 6)\n");
    let _ = writeln!(
        t.out,
        "{} idle mailboxes ({} subscriptions, created in {:.0} s at start-up). Measured: one \
         hourly upkeep run ({} requests), one sweep of every folder ({} requests), one poll round \
         of every folder ({} requests). An hour of exsync = upkeep + sweeps ({:.2} an hour, \
         `sweep_interval` {:.0} h) + renewals (each subscription one PATCH per half-life: {:.0} an \
         hour); an hour of the 5-minute poller (the same code with `poll_interval = \"5m\"` and \
         no `public_url`) = 12 poll rounds.\n",
        idle.mailboxes,
        idle.subscriptions,
        idle.subscribe_seconds,
        idle.upkeep,
        idle.sweep,
        idle.poll,
        idle.sweeps_per_hour,
        1.0 / idle.sweeps_per_hour,
        idle.renewals_per_hour
    );
    t.head(&["figure", "target", "measured", "result"]);
    let ratio = idle.poller_per_hour() / idle.exsync_per_hour().max(1.0);
    let ok = ratio >= 100.0;
    if !ok {
        misses.push("idle cost ratio".into());
    }
    t.row(&[
        "exsync, requests an hour".into(),
        "-".into(),
        format!("{:.0}", idle.exsync_per_hour()),
        "-".into(),
    ]);
    t.row(&[
        "5-minute poller, requests an hour".into(),
        "-".into(),
        format!("{:.0}", idle.poller_per_hour()),
        "-".into(),
    ]);
    t.row(&[
        "ratio poller / exsync".into(),
        "≥ 100×".into(),
        format!("{ratio:.0}×"),
        met(ok).into(),
    ]);
    let daily = idle.upkeep as f64 + idle.sweep as f64 / 24.0 + idle.renewals_per_hour;
    t.row(&[
        "ratio with `sweep_interval = \"24h\"` (computed from the measured sweep)".into(),
        "-".into(),
        format!("{:.0}×", idle.poller_per_hour() / daily.max(1.0)),
        "-".into(),
    ]);
    t.row(&[
        "ratio before upkeep kept subscription shapes (a GET per subscription each hour)".into(),
        "-".into(),
        format!("{:.0}×", idle.poller_per_hour() / idle.exsync_per_hour_with_gets().max(1.0)),
        "-".into(),
    ]);

    // ---- binaries
    eprintln!("[bench] binaries");
    let _ = writeln!(t.out, "\n## Binaries (issue 6)\n");
    let _ = writeln!(
        t.out,
        "Release builds (`strip = true`, thin LTO). Zipped = `zip -9` of the binary alone (a Lambda \
         deployment package). `exsync` is ready when its listener answers Graph's validation \
         handshake (median of {} starts with the demo configuration); its peak RSS is VmHWM \
         after syncing {} emails at 200/s. A Lambda function is ready when it asks the Runtime \
         API (a local stand-in) for its first event; its RSS is VmHWM then (not under load).\n",
        options.binary_runs.0, options.binary_runs.1
    );
    t.head(&[
        "binary",
        "size (target ≤ 10 MB zipped)",
        "start-up to ready (target ≤ 50 ms)",
        "peak RSS (target ≤ 64 MB)",
        "result",
    ]);
    let mut all = vec![binaries::Binary {
        name: "exsync".into(),
        package: "exsync".into(),
        path: exsync_bin.clone(),
    }];
    all.extend(binaries::discover(&options.root).into_iter().filter(|b| b.name != "exsync"));
    let mut exsync_cpu = None;
    for binary in &all {
        let Ok((size, zipped)) = binaries::sizes(&binary.path) else {
            t.row(&[
                format!("`{}`", binary.name),
                "not built".into(),
                "-".into(),
                "-".into(),
                "-".into(),
            ]);
            continue;
        };
        let mb = |b: u64| format!("{:.1} MB", b as f64 / 1e6);
        let size_text = format!("{} ({} zipped)", mb(size), zipped.map_or("?".into(), mb));
        let size_ok = zipped.unwrap_or(size) <= 10_000_000;
        let (startup, rss) = if binary.name == "exsync" {
            match process::startup_and_load(
                &binary.path,
                options.binary_runs.0,
                options.binary_runs.1,
            )
            .await
            {
                Ok(loaded) => {
                    exsync_cpu = Some(loaded.cpu_per_email);
                    (Ok(percentile(&loaded.startups, 0.5)), Ok(loaded.peak_rss_kb))
                }
                Err(e) => (Err(e.to_string()), Err(String::new())),
            }
        } else {
            match binaries::lambda_startup(binary, &lambda_env()).await {
                Ok((d, rss)) => (Ok(d), Ok(rss)),
                Err(e) => (Err(e), Err(String::new())),
            }
        };
        let start_ok = startup.as_ref().is_ok_and(|d| d.as_millis() <= 50);
        let rss_ok = rss.as_ref().is_ok_and(|kb| *kb <= 64 * 1024);
        let ok = size_ok && start_ok && rss_ok;
        if !ok {
            misses.push(format!("binary {}", binary.name));
        }
        t.row(&[
            format!("`{}`", binary.name),
            size_text,
            match &startup {
                Ok(d) => ms(*d),
                Err(e) => format!("not measured: {e}"),
            },
            match &rss {
                Ok(kb) => format!("{:.1} MB", *kb as f64 / 1024.0),
                Err(_) => "-".into(),
            },
            met(ok).into(),
        ]);
    }

    if let Some(cpu) = exsync_cpu {
        let _ = writeln!(
            t.out,
            "\n`exsync`'s own CPU per email under that load (the simulators run in the harness's \
             process): {:.0} µs, so two idle cores could sync at most {:.0} emails/s through it \
             (simulators excluded).",
            cpu * 1e6,
            2.0 / cpu.max(1e-9)
        );
    }

    // ---- scale
    eprintln!("[bench] the runner with many mailboxes");
    let _ =
        writeln!(t.out, "\n## The embedded runner with {} mailboxes (issue 6)\n", options.scale.0);
    let _ = writeln!(
        t.out,
        "`exsync serve` (release binary) with {} configured mailboxes on one profile, watched for \
         at most {} s from ready: its first upkeep run creates two subscriptions per mailbox, each \
         validated by Graph calling the listener, while the start-up sweep queues a delta pass \
         of every folder. No target in the issue.\n",
        options.scale.0,
        options.scale.1.as_secs()
    );
    t.head(&["figure", "measured"]);
    match process::scale(&exsync_bin, options.scale.0, options.scale.1).await {
        Ok(s) => {
            t.row(&["start-up to ready".into(), ms(s.ready_after)]);
            t.row(&[
                "subscriptions created".into(),
                format!(
                    "{} of {} in {:.0} s",
                    s.subscriptions.0,
                    s.mailboxes * 2,
                    s.subscriptions.1.as_secs_f64()
                ),
            ]);
            t.row(&[
                "subscription upkeep rate".into(),
                format!("{:.0} subscriptions/s", s.upkeep_rate()),
            ]);
            t.row(&[
                "peak RSS / RSS at the end".into(),
                format!(
                    "{:.1} MB / {:.1} MB",
                    s.rss_kb.0 as f64 / 1024.0,
                    s.rss_kb.1 as f64 / 1024.0
                ),
            ]);
            t.row(&["CPU used".into(), format!("{:.1} s", s.cpu_seconds)]);
            t.row(&[
                "Graph requests of an hourly upkeep run once all exist".into(),
                format!(
                    "0 per not-yet-due subscription (renewals: {:.0} PATCHes an hour)",
                    (s.mailboxes * 2) as f64 / (4230.0 / 60.0 / 2.0)
                ),
            ]);
        }
        Err(e) => t.row(&["(failed)".into(), e.to_string()]),
    }

    // ---- cost
    let _ = writeln!(t.out, "\n## AWS cost per million synced emails (issue 6)\n");
    let steps = cost::Steps::of(
        &slow,
        realistic.graph.as_secs_f64() * 1000.0,
        realistic.dataverse.as_secs_f64() * 1000.0,
    );
    let per = cost::per_email(steps);
    let _ = writeln!(
        t.out,
        "How often each step of the AWS pipeline ran per email is measured in the steady {}/s run \
         with the realistic profile, with SQLite triggers counting the embedded twins' jobs and \
         state writes (`benches/src/counting.rs`): {:.3} notification POSTs (notify \
         invocations), {:.3} notifications, {:.3} folder passes (sync jobs), {:.3} write jobs, \
         {:.3} state writes (DynamoDB writes on AWS; by table: {:?}). The AWS calls of each \
         step are read from `shared/src/adapters/aws` and `infra/template.yaml` (see \
         `benches/src/cost.rs`: reads, one per notification, pass and write job, are derived, \
         not counted); Lambda duration = the step's Graph \
         and Dataverse round trips of the profile plus 5 ms per DynamoDB and 10 ms per SQS call, \
         at 256 MB (notify) and 512 MB (sync, write), arm64. Prices: us-east-1 on-demand list \
         prices, checked 2026-12-02 (aws.amazon.com/sqs/pricing: $0.40 per million requests; \
         /dynamodb/pricing/on-demand: $0.625 per million write and $0.125 per million read \
         request units; /lambda/pricing: $0.20 per million requests, $0.0000133334 per GB-s \
         arm64; /secrets-manager/pricing: $0.05 per 10,000 calls). Free tiers left out.\n",
        options.steady_rate,
        steps.posts,
        steps.notifications,
        steps.passes,
        steps.write_jobs,
        steps.state_writes,
        slow.counts.iter().filter(|(k, _)| k.starts_with("write:")).collect::<Vec<_>>()
    );
    t.head(&["figure", "target", "per email", "$ per 1M emails", "result"]);
    let per_service = per.dollars_per_million();
    let counts = [
        format!("{:.3} requests", per.sqs),
        format!("{:.3} WRU + {:.3} RRU", per.dynamo_writes, per.dynamo_reads),
        format!("{:.3} invocations, {:.5} GB-s", per.lambda_invocations, per.lambda_gb_seconds),
        format!("{:.5} calls (cached tokens)", per.secrets),
    ];
    for ((service, dollars), count) in per_service.iter().zip(counts) {
        t.row(&[service.to_string(), "-".into(), count, format!("${dollars:.2}"), "-".into()]);
    }
    let total = per.total_per_million();
    if total > 5.0 {
        misses.push("AWS cost".into());
    }
    t.row(&[
        "total".into(),
        "≤ $5".into(),
        "-".into(),
        format!("${total:.2}"),
        met(total <= 5.0).into(),
    ]);

    // ---- misses
    let _ = writeln!(t.out, "\n## Figures that missed, and why (issue 6)\n");
    if misses.is_empty() {
        let _ = writeln!(t.out, "None.");
    } else {
        let _ = writeln!(t.out, "Missed: {}.\n", misses.join(", "));
        let _ = writeln!(
            t.out,
            "Dataverse operations of the steady bare run, by method and entity set: {:?}.\n",
            bare.dataverse_by
        );
    }
    let _ = writeln!(t.out, "{}", NOTES.trim());
    let cpu_miss = misses.iter().any(|m| m.starts_with("latency") || m == "throughput");
    if cpu_miss && options.profile_emails > 0 {
        eprintln!("[bench] callgrind profile");
        let _ =
            writeln!(t.out, "{}", profile::section(&options.root, options.profile_emails).await);
    }

    let header = format!(
        "# Benchmarks\n\nMeasured by `{}` (`cargo run --release -p exsync-bench`), in embedded mode \
         against the simulators, once with no added latency (\"bare\") and once with a realistic \
         latency profile (Graph {} ms, Dataverse {} ms, Entra {} ms per request: \
         `LatencyProfile::REALISTIC`). No benchmark is a timed test.\n\n\
         - machine: {}\n- load average (1 min) at start and end: {} and {} (other work on \
         the machine takes CPU from exsync and the simulators)\n- date: {}\n- commit: {}\n\
         - harness run time: {:.0} s\n\n",
        "scripts/bench",
        realistic.graph.as_millis(),
        realistic.dataverse.as_millis(),
        realistic.entra.as_millis(),
        machine::describe(),
        load_before,
        machine::load(),
        date,
        machine::commit(&options.root),
        started.elapsed().as_secs_f64()
    );
    Ok(header + &out)
}

/// What a Lambda function finds in its environment (names from the SAM template; the values
/// point nowhere, so a function that needs AWS at start-up says so).
fn lambda_env() -> Vec<(String, String)> {
    let mut env = vec![
        ("EXSYNC_TABLE_NAME".to_string(), "exsync-bench".to_string()),
        ("EXSYNC_TOKENS_FUNCTION".to_string(), "exsync-tokens".to_string()),
        ("EXSYNC_CONFIG_URI".to_string(), "s3://exsync-bench/exsync.toml".to_string()),
        ("AWS_ENDPOINT_URL".to_string(), "http://127.0.0.1:9".to_string()),
        ("AWS_ACCESS_KEY_ID".to_string(), "bench".to_string()),
        ("AWS_SECRET_ACCESS_KEY".to_string(), "bench".to_string()),
    ];
    for queue in ["CHANGES", "WRITES", "SUBSCRIPTIONS"] {
        let url = format!("http://127.0.0.1:9/000000000000/{queue}");
        env.push((format!("EXSYNC_{queue}_QUEUE_URL"), url.clone()));
        env.push((format!("EXSYNC_{queue}_DLQ_URL"), url));
    }
    env
}

/// Writes `markdown` to `path`, keeping the sections of other issues the file already has
/// (a `## ` heading without "(issue 6)"), after this run's.
pub fn write(path: &std::path::Path, markdown: &str) -> std::io::Result<()> {
    let existing = std::fs::read_to_string(path).unwrap_or_default();
    let mut kept = String::new();
    let mut keep = false;
    for line in existing.lines() {
        if line.starts_with("## ") {
            keep = !line.contains("(issue 6)");
        } else if line.starts_with("# ") {
            keep = false;
        }
        if keep {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    let mut text = markdown.trim_end().to_string();
    if !kept.trim().is_empty() {
        text.push_str("\n\n");
        text.push_str(kept.trim_end());
    }
    text.push('\n');
    std::fs::write(path, text)
}
