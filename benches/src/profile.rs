//! A callgrind profile of `exsync serve` syncing mail, for figures that miss their CPU-bound
//! targets (`perf` counters are not available on every machine; valgrind runs anywhere).

use std::{
    path::Path,
    process::{Command, Stdio},
    time::Duration,
};

use crate::{
    binaries::stop,
    world::{Spec, World},
};

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
    stop(&mut child);
    world.stop().await;
    // Inclusive costs of exsync's own functions: where its work goes, by step. (The
    // exclusive view after `--zero` charges everything to the thread start.)
    let ours = annotate(out, true, |l| l.contains("exsync_shared::"), 20)?;
    Ok(format!("Inclusive, exsync's own functions:\n{ours}"))
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
