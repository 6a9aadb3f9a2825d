//! Running the `exsync` binary against the simulators, and what its output must never show.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

use exsync_sim::scenario::DemoOrg;

/// The binary under test.
pub fn exsync() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_exsync"));
    // Debug logs: the most a run can print, so the most a secret could leak into.
    command.env("RUST_LOG", "debug").env_remove("EXSYNC_CONFIG").stdin(Stdio::null());
    command
}

/// How a finished run went.
#[derive(Debug)]
pub struct Run {
    /// The exit code (`None`: killed by a signal).
    pub code: Option<i32>,
    /// What it printed.
    pub stdout: String,
    /// Its logs.
    pub stderr: String,
}

/// Runs `exsync --config <config> <args>` to the end (bounded by `limit`).
pub async fn run(config: &Path, args: &[&str], limit: Duration) -> Run {
    let mut command = exsync();
    command.arg("--config").arg(config).args(args);
    run_command(command, limit).await
}

/// Runs a prepared command to the end, within `limit`.
pub async fn run_command(mut command: Command, limit: Duration) -> Run {
    let shown = format!("{command:?}");
    let running = tokio::task::spawn_blocking(move || command.output());
    let output = tokio::time::timeout(limit, running)
        .await
        .unwrap_or_else(|_| panic!("{shown} did not finish within {limit:?}"))
        .expect("the blocking task ran")
        .expect("exsync starts");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// What no output or log may contain: every secret the configuration references (and any
/// wrong one the test wrote), every clientState Graph holds, bearer tokens and JWTs.
pub fn forbidden(org: &DemoOrg, extra: &[&str]) -> Vec<String> {
    let mut words = vec![
        org.fabrikam.secret.clone(),
        org.contoso.secret.clone(),
        org.dataverse.secret.clone(),
        "Bearer ".to_string(),
        "client_secret=".to_string(),
        // Every JWT starts with the base64 of `{"`.
        "eyJ".to_string(),
    ];
    words.extend(org.cloud.graph.subscriptions().into_iter().filter_map(|s| s.client_state));
    words.extend(extra.iter().map(|s| s.to_string()));
    words
}

/// Fails unless the logs are at debug level and show token requests: a search for secrets in
/// logs that say little proves little.
pub fn assert_debug_logs(what: &str, logs: &str) {
    assert!(
        logs.contains(" DEBUG ") && logs.contains("token issued"),
        "{what}: expected debug logs with token requests"
    );
}

/// Fails if `text` contains any forbidden word (the word itself is not printed).
pub fn assert_no_secrets(what: &str, text: &str, forbidden: &[String]) {
    for (i, word) in forbidden.iter().enumerate() {
        if let Some(at) = text.find(word.as_str()) {
            let line_no = text[..at].lines().count();
            panic!("{what} shows forbidden item #{i} (of {}) on line {line_no}", forbidden.len());
        }
    }
}

/// A free port on 127.0.0.1 (bound and released; a restart binds it again).
pub fn free_port() -> u16 {
    let socket = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    socket.local_addr().expect("bound").port()
}

/// The runtime section for webhooks on `port` (certificate written into `dir`).
pub fn webhook_runtime(org: &DemoOrg, dir: &Path, port: u16) -> String {
    org.cloud
        .ca
        .write_server_pem(&dir.join("listener.pem"), &dir.join("listener.key"))
        .expect("listener certificate");
    format!(
        "state = \"sqlite:exsync.db\"\nlisten = \"127.0.0.1:{port}\"\n\
         public_url = \"https://127.0.0.1:{port}\"\ntls_cert = \"listener.pem\"\n\
         tls_key = \"listener.key\"\n"
    )
}

/// The secret file of `name` beside the configuration at `config`.
pub fn secret_file(config: &Path, name: &str) -> PathBuf {
    config.parent().expect("a folder").join("secrets").join(name)
}
