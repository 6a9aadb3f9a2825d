//! The standalone `exsync-sim` binary: starts the cloud on the ports asked for, prints where
//! everything is, writes a configuration exsync can use, delivers mail, stops on Ctrl-C.

use std::{
    io::{BufRead, BufReader, Lines},
    process::{ChildStdout, Command, Stdio},
    sync::Arc,
};

use exsync_shared::{
    config::Config,
    entra::{CachingTokens, TokenService},
    http,
    ports::{CredentialKey, Resource, SystemClock, Tokens},
    secret::LocalSecrets,
};

/// The lines printed until one starts with `until` (bounded: the binary prints few lines).
fn read_until(lines: &mut Lines<BufReader<ChildStdout>>, until: &str) -> Vec<String> {
    let mut seen = Vec::new();
    for line in lines.take(100) {
        let line = line.expect("stdout of exsync-sim");
        let done = line.starts_with(until);
        seen.push(line);
        if done {
            return seen;
        }
    }
    panic!("exsync-sim never printed {until:?}; it printed:\n{}", seen.join("\n"));
}

fn field<'a>(lines: &'a [String], name: &str) -> &'a str {
    lines
        .iter()
        .find_map(|l| l.strip_prefix(name))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no {name} line in:\n{}", lines.join("\n")))
}

#[tokio::test]
async fn it_serves_the_cloud_on_the_chosen_port_with_a_working_config_and_stops_on_ctrl_c() {
    let graph_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_exsync-sim"))
        .args(["--graph-port", &graph_port.port().to_string(), "--mail", "3", "--every", "20ms"])
        .arg("--dir")
        .arg(dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let head = read_until(&mut lines, "ready");
    assert_eq!(field(&head, "graph"), format!("https://127.0.0.1:{}", graph_port.port()));
    assert!(field(&head, "entra").starts_with("https://127.0.0.1:"), "{head:?}");
    let config_path = field(&head, "config").to_string();
    assert_eq!(config_path, dir.path().join("exsync.toml").display().to_string());
    let mailboxes: Vec<_> =
        head.iter().filter_map(|l| l.strip_prefix("mailbox")).map(str::trim).collect();
    assert_eq!(mailboxes.len(), 4, "{head:?}");

    let sent = read_until(&mut lines, "sent       ").len();
    let sent = sent + read_until(&mut lines, "sent       ").len();
    assert!(sent >= 2);
    read_until(&mut lines, "sent       ");

    // The configuration it wrote gets real tokens that Graph accepts, and the mail is there.
    let config = Config::load(config_path.as_ref()).unwrap();
    let client = http::client(&config.cloud).unwrap();
    let clock = Arc::new(SystemClock);
    let service = TokenService::new(&config, Arc::new(LocalSecrets), client.clone(), clock.clone());
    let tokens = CachingTokens::new(Arc::new(service), clock);
    let mut messages = 0;
    for mailbox in &config.mailboxes {
        let key = CredentialKey::Profile(mailbox.profile.clone());
        let token = tokens.token(&key, Resource::Graph).await.unwrap();
        for folder in ["inbox", "sentitems"] {
            let url = format!(
                "https://127.0.0.1:{}/v1.0/users/{}/mailFolders/{folder}/messages",
                graph_port.port(),
                mailbox.address
            );
            let response = client.get(url).bearer_auth(token.token.expose()).send().await.unwrap();
            assert_eq!(response.status(), 200);
            let body: serde_json::Value = response.json().await.unwrap();
            messages += body["value"].as_array().unwrap().len();
        }
    }
    assert!(messages >= 3, "3 emails were delivered, the mailboxes hold {messages} copies");

    let interrupted = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
    assert!(interrupted.unwrap().success());
    let tail = read_until(&mut lines, "stopped");
    assert!(tail.last().unwrap().starts_with("stopped: 3 emails sent"), "{tail:?}");
    assert!(child.wait().unwrap().success());
}
