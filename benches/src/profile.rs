//! A callgrind profile of `exsync serve` syncing mail, for figures that miss their CPU-bound
//! targets (`perf` counters are not available on every machine; valgrind runs anywhere).

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use crate::world::{Spec, World};

/// The binary to profile, and whether it has symbols: `EXSYNC_BENCH_PROFILE_BIN`, else the
/// `profiling` build, else the stripped `release` one (a table of addresses).
pub fn binary(root: &Path) -> (PathBuf, bool) {
    let target = crate::binaries::target_dir(root);
    let symbols = std::env::var_os("EXSYNC_BENCH_PROFILE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| target.join("profiling").join("exsync"));
    if symbols.exists() { (symbols, true) } else { (target.join("release").join("exsync"), false) }
}

/// The Markdown of a callgrind profile of `exsync serve` syncing `emails`, or why there is none.
pub async fn section(root: &Path, emails: usize) -> String {
    let (profiled, symbols) = binary(root);
    let mut out = String::new();
    if !symbols {
        out.push_str(
            "(The release binary is stripped: build `cargo build --profile profiling -p exsync` \
             for a profile with function names; `scripts/bench` does.)\n\n",
        );
    }
    let out_file =
        std::env::temp_dir().join(format!("exsync-bench-{}.callgrind", std::process::id()));
    match callgrind(&profiled, emails, &out_file).await {
        Ok(top) => out.push_str(&format!(
            "Callgrind profile of `exsync serve` syncing {emails} emails (inclusive instructions, \
             top functions; `callgrind_annotate --inclusive=yes`):\n\n```\n{top}\n```\n"
        )),
        Err(e) => out.push_str(&format!("No callgrind profile: {e}.\n")),
    }
    eprintln!("[bench] the whole callgrind profile: {}", out_file.display());
    out
}

/// Runs `exsync serve` under callgrind while `emails` are synced; the top functions by
/// inclusive cost (callgrind_annotate), or why there is no profile.
pub async fn callgrind(binary: &Path, emails: usize, out: &Path) -> Result<String, String> {
    if Command::new("valgrind").arg("--version").output().is_err() {
        return Err("valgrind is not installed".into());
    }
    let mut world =
        World::start(Spec { serve: false, ..Spec::default() }).await.map_err(|e| e.to_string())?;
    world.release_port();
    let mut child = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(binary)
        .arg("--config")
        .arg(&world.config_path)
        .arg("serve")
        .env("RUST_LOG", "warn")
        .current_dir(world.config_path.parent().unwrap_or(Path::new(".")))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let wanted = world.mailboxes.len() * 2;
    // Under valgrind everything is ~50 times slower: generous waits.
    world.wait(Duration::from_secs(60), |w| w.subscriptions() >= wanted).await;
    // Start-up left out: the first TLS connection seeds aws-lc's random generator from CPU
    // jitter, which alone outweighs syncing dozens of emails (see the notes).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let _ = Command::new("callgrind_control").arg("--zero").arg(child.id().to_string()).output();
    let before = world.emails();
    for n in 0..emails {
        world.deliver(&world.mailboxes[n % world.mailboxes.len()], 3_000_000 + n as u64);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    world.wait(Duration::from_secs(60), |w| w.emails() >= before + emails).await;
    // callgrind writes its profile when the program exits: SIGTERM lets `exsync serve` drain
    // and exit, and valgrind then dumps. A kill (what a short grace ends in) dumps nothing.
    let exited = stop(&mut child, Duration::from_secs(180)).await;
    world.stop().await;
    if !exited {
        return Err("exsync did not exit within 180 s of SIGTERM under valgrind".into());
    }
    // Inclusive costs of exsync's own functions: where its work goes, by step. (The
    // exclusive view after `--zero` charges everything to the thread start.)
    let ours = annotate(out, true, |l| l.contains("exsync_shared::"), 20)?;
    Ok(format!("Inclusive, exsync's own functions:\n{ours}"))
}

/// SIGTERM, then waits (without blocking the simulators' runtime) up to `grace` for the
/// child to exit; a kill after that. Whether it exited by itself.
async fn stop(child: &mut Child, grace: Duration) -> bool {
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let deadline = std::time::Instant::now() + grace;
    while std::time::Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    false
}

/// The first `take` lines of `callgrind_annotate` (exclusive or inclusive) that `keep` keeps.
fn annotate(
    out: &Path,
    inclusive: bool,
    keep: impl Fn(&str) -> bool,
    take: usize,
) -> Result<String, String> {
    let annotate = Command::new("callgrind_annotate")
        .arg(format!("--inclusive={}", if inclusive { "yes" } else { "no" }))
        .arg(out)
        .output()
        .map_err(|e| format!("callgrind_annotate: {e}"))?;
    let text = String::from_utf8_lossy(&annotate.stdout);
    let top: Vec<String> = text
        .lines()
        .skip_while(|l| !l.contains("file:function"))
        .skip(2)
        .filter(|l| !l.trim().is_empty() && keep(l))
        .take(take)
        .map(|l| shorten(l, 170))
        .collect();
    if top.is_empty() {
        return Err("callgrind wrote no profile (exsync was stopped before it flushed?)".into());
    }
    Ok(top.join("\n"))
}

fn shorten(line: &str, max: usize) -> String {
    if line.chars().count() <= max {
        line.to_string()
    } else {
        format!("{}…", line.chars().take(max).collect::<String>())
    }
}
