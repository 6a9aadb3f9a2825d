//! Each binary: size (stripped by the release profile, and zipped as Lambda takes it),
//! start-up time to ready, peak RSS. `exsync` is ready when its listener answers Graph's
//! validation handshake; a Lambda function when it asks the Runtime API for its first event.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

/// A binary of the workspace.
#[derive(Debug, Clone)]
pub struct Binary {
    /// Its name.
    pub name: String,
    /// The package that builds it.
    pub package: String,
    /// Where the release build puts it.
    pub path: PathBuf,
}

/// What was measured of one binary.
#[derive(Debug, Clone, Default)]
pub struct Measured {
    /// Bytes on disk.
    pub size: u64,
    /// Bytes zipped (`zip -9`, the Lambda deployment package).
    pub zipped: Option<u64>,
    /// Start-up times to ready, sorted.
    pub startups: Vec<Duration>,
    /// Peak RSS in kB, and what it was measured under.
    pub peak_rss_kb: Option<(u64, String)>,
    /// Why a measurement could not be made.
    pub problem: Option<String>,
}

/// `exsync` and every binary under `functions/` (a `[[bin]]` name, else the package name).
pub fn discover(root: &Path) -> Vec<Binary> {
    let release = target_dir(root).join("release");
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(root.join("functions")) else { return found };
    let mut dirs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    dirs.sort();
    for dir in dirs {
        let Ok(manifest) = std::fs::read_to_string(dir.join("Cargo.toml")) else { continue };
        let (package, bins) = names(&manifest);
        let Some(package) = package else { continue };
        let bins = if bins.is_empty() { vec![package.clone()] } else { bins };
        for name in bins {
            found.push(Binary { path: release.join(&name), name, package: package.clone() });
        }
    }
    found
}

/// The package name and the `[[bin]]` names of a manifest.
fn names(manifest: &str) -> (Option<String>, Vec<String>) {
    let (mut section, mut package, mut bins) = (String::new(), None, Vec::new());
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.to_string();
            continue;
        }
        let Some(value) =
            line.strip_prefix("name").map(str::trim).and_then(|l| l.strip_prefix('='))
        else {
            continue;
        };
        let value = value.trim().trim_matches('"').to_string();
        match section.as_str() {
            "[package]" => package = Some(value),
            "[[bin]]" => bins.push(value),
            _ => {}
        }
    }
    (package, bins)
}

/// `CARGO_TARGET_DIR`, else `<root>/target`.
pub fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"))
}

/// Size on disk and zipped.
pub fn sizes(binary: &Path) -> anyhow::Result<(u64, Option<u64>)> {
    let size = std::fs::metadata(binary)?.len();
    let dir = tempfile_dir()?;
    let zip = dir.join("bootstrap.zip");
    let zipped = Command::new("zip")
        .arg("-q")
        .arg("-9")
        .arg("-j")
        .arg(&zip)
        .arg(binary)
        .status()
        .ok()
        .filter(|s| s.success())
        .and_then(|_| std::fs::metadata(&zip).ok())
        .map(|m| m.len());
    let _ = std::fs::remove_dir_all(&dir);
    Ok((size, zipped))
}

fn tempfile_dir() -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("exsync-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Stops a child this harness started: SIGTERM (exsync drains and exits), then a kill after
/// two seconds. (`profile` has its own, longer and async, for a child under valgrind.)
pub fn stop(child: &mut Child) {
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Starts a Lambda function binary against a Runtime API that never hands out an event, and
/// times it to its first `GET /runtime/invocation/next`; its RSS then.
pub async fn lambda_startup(
    binary: &Binary,
    env: &[(String, String)],
) -> Result<(Duration, u64), String> {
    let api = TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let address = api.local_addr().map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut child = Command::new(&binary.path)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", &binary.name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_REGION", "eu-west-1")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    let waited = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let (mut conn, _) = api.accept().await?;
            let mut buffer = vec![0u8; 4096];
            let n = conn.read(&mut buffer).await?;
            let request = String::from_utf8_lossy(&buffer[..n]).to_string();
            if request.contains("/runtime/invocation/next") {
                // Held open: the function waits for an event that never comes.
                return Ok::<_, std::io::Error>((started.elapsed(), conn));
            }
            let _ = conn.write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n").await;
        }
    })
    .await;
    let result = match waited {
        Ok(Ok((elapsed, _conn))) => {
            let rss = crate::stats::status_kb(child.id(), "VmHWM:").unwrap_or(0);
            Ok((elapsed, rss))
        }
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => {
            let exited = child.try_wait().ok().flatten();
            Err(match exited {
                Some(status) => format!("exited ({status}) before asking for an event"),
                None => "not ready within 5 s".to_string(),
            })
        }
    };
    stop(&mut child);
    match result {
        Ok(ok) => Ok(ok),
        Err(why) => {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                use std::io::Read;
                let _ = pipe.read_to_string(&mut stderr);
            }
            let last =
                stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").to_string();
            Err(if last.is_empty() { why } else { format!("{why}: {}", truncate(&last, 160)) })
        }
    }
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    format!("{}…", text.chars().take(max).collect::<String>())
}
