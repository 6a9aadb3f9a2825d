//! A failing mailbox is never silent, and heals (issue 5): `serve` parks a mailbox whose secret
//! expired with one ERROR alert, keeps the others syncing (also next to a mailbox whose Graph
//! requests hang), shows it in `exsync status`, probes it with backoff and resumes it once the
//! secret is rotated, without a restart; `exsync mailbox disable|enable` is obeyed by a running
//! `serve`.

use std::{
    fs::File,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use exsync_sim::{
    dataverse::EmailView,
    entra::TokenOutcome,
    faults::{Fault, FaultRule},
    graph::NewMessage,
    scenario::DemoOrg,
};
use tokio::time::{Instant, sleep};

use crate::common::{assert_no_secrets, exsync, forbidden, free_port, run, secret_file};

pub(crate) const LIMIT: Duration = Duration::from_secs(60);
pub(crate) const EXPIRED: &str = "contoso~expired-secret-value";
/// Polling every second; a parked mailbox is probed after one to two seconds, then every two.
/// The listener (unused without webhooks) on a port of its own: tests run side by side.
pub(crate) fn runtime() -> String {
    format!(
        "state = \"sqlite:exsync.db\"\npoll_interval = \"1s\"\nparked_retry_max = \"2s\"\n\
         listen = \"127.0.0.1:{}\"\n",
        free_port()
    )
}

/// `exsync serve`, killed when dropped (a failed assertion must not leave it running).
struct Serving(Option<Child>);

impl Drop for Serving {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Where a serve log goes: `dir`, or the folder `EXSYNC_E2E_LOGS` names (a failed run's
/// tempdir is removed).
fn log_path(dir: &Path, name: &str) -> PathBuf {
    std::env::var_os("EXSYNC_E2E_LOGS").map_or(dir.to_path_buf(), PathBuf::from).join(name)
}

fn serve(config: &Path, log: &Path) -> Serving {
    let log = File::create(log).expect("a log file");
    let child = exsync()
        .env("RUST_LOG", "info")
        .arg("--config")
        .arg(config)
        .arg("serve")
        .stdout(log.try_clone().expect("log handle"))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("exsync serve starts");
    Serving(Some(child))
}

fn stop(mut serving: Serving) {
    let mut child = serving.0.take().expect("running");
    let stopped = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(stopped.success());
    assert_eq!(child.wait().unwrap().code(), Some(0), "SIGTERM stops serve cleanly");
}

pub(crate) fn landed(org: &DemoOrg, message_id: &str) -> usize {
    let emails: Vec<EmailView> = org.dataverse.env.emails();
    emails.iter().filter(|e| e.messageid.as_deref() == Some(message_id)).count()
}

/// Waits up to `limit` for `done`; false if it never came.
async fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        sleep(Duration::from_millis(100)).await;
    }
    true
}

/// The line of `mailbox` in a table.
pub(crate) fn line<'a>(stdout: &'a str, mailbox: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.starts_with(mailbox))
        .unwrap_or_else(|| panic!("no line for {mailbox} in:\n{stdout}"))
}

fn token_refusals(org: &DemoOrg, client_id: &str) -> usize {
    org.cloud
        .entra
        .token_requests()
        .iter()
        .filter(|r| {
            r.client_id.as_deref() == Some(client_id)
                && matches!(r.outcome, TokenOutcome::Refused { .. })
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parked_mailbox_alerts_once_keeps_out_of_the_others_way_and_heals_without_restart() {
    let org = DemoOrg::start().await.unwrap();
    let yesterday = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    org.cloud.entra.add_secret(&org.contoso.app_id, EXPIRED, yesterday).unwrap();
    let dir = org.cloud.dir().to_path_buf();
    let config = org.config(&runtime()).secret("contoso", EXPIRED).write(&dir).unwrap();
    let (alice, bob, carol) = (&org.staff[0].address, &org.staff[1].address, &org.staff[2].address);
    let log = log_path(&dir, "parked.log");
    let child = serve(&config, &log);
    let graph = &org.cloud.graph;

    // The fabrikam mailboxes sync while contoso's are parked next to them.
    let mut healthy = Vec::new();
    for i in 0..6 {
        let to = if i % 2 == 0 { alice } else { bob };
        healthy.push(graph.deliver(to, NewMessage::new(&format!("Order {i}")).to(to)));
        sleep(Duration::from_millis(300)).await;
    }
    let to_carol = graph.deliver(carol, NewMessage::new("Contract renewal").to(carol));
    let arrived = eventually(Duration::from_secs(30), || {
        healthy.iter().all(|m| landed(&org, &m.internet_message_id) == 1)
    })
    .await;
    assert!(arrived, "the healthy mailboxes' mail arrives next to a parked one");

    // Probed with backoff: the expired secret is refused again and again...
    let first = token_refusals(&org, &org.contoso.app_id);
    assert!(
        eventually(Duration::from_secs(30), || token_refusals(&org, &org.contoso.app_id)
            >= first + 2)
        .await,
        "a parked mailbox is probed again"
    );
    let status = run(&config, &["status"], LIMIT).await;
    assert_eq!(status.code, Some(1), "a mailbox is failing:\n{}", status.stdout);
    let carol_line = line(&status.stdout, carol);
    assert!(carol_line.contains("failing") && carol_line.contains("AADSTS7000222"), "{carol_line}");
    assert!(carol_line.contains("parked (an admin must act)"), "{carol_line}");
    assert!(line(&status.stdout, alice).contains("healthy"), "{}", status.stdout);
    assert!(status.stdout.starts_with("MAILBOX"), "{}", status.stdout);
    for column in ["FAILURES", "LAST SUCCESS", "NEXT RETRY", "REASON"] {
        assert!(status.stdout.lines().next().unwrap().contains(column), "{}", status.stdout);
    }
    assert_eq!(landed(&org, &to_carol.internet_message_id), 0);

    // ...until the admin rotates it: no restart, the next probe heals the mailbox.
    std::fs::write(secret_file(&config, "contoso"), &org.contoso.secret).unwrap();
    assert!(
        eventually(Duration::from_secs(30), || landed(&org, &to_carol.internet_message_id) == 1)
            .await,
        "the parked mailbox resumed by itself"
    );
    // Dan, parked by the same secret, heals at his own next probe.
    let deadline = Instant::now() + Duration::from_secs(20);
    let healed = loop {
        let status = run(&config, &["status"], LIMIT).await;
        if status.code == Some(0) || Instant::now() >= deadline {
            break status;
        }
        sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(healed.code, Some(0), "{}", healed.stdout);
    let carol_line = line(&healed.stdout, carol);
    assert!(carol_line.contains("healthy") && !carol_line.contains("AADSTS"), "{carol_line}");
    stop(child);

    let logs = std::fs::read_to_string(&log).unwrap();
    for parked in [carol, &org.staff[3].address] {
        let alerts: Vec<&str> =
            logs.lines().filter(|l| l.contains(" ERROR ") && l.contains(parked.as_str())).collect();
        assert_eq!(
            alerts.len(),
            1,
            "one alert per transition for {parked}:\n{}",
            alerts.join("\n")
        );
        assert!(alerts[0].contains("mailbox parked"), "{}", alerts[0]);
        assert!(alerts[0].contains("AADSTS7000222"), "{}", alerts[0]);
    }
    assert!(logs.contains("mailbox resumed"), "the healing is logged");
    let secrets = forbidden(&org, &[EXPIRED]);
    assert_no_secrets("the serve log", &logs, &secrets);
    assert_no_secrets("exsync status", &status.stdout, &secrets);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_serve_obeys_disable_and_enable_without_restart() {
    let org = DemoOrg::start().await.unwrap();
    let dir = org.cloud.dir().to_path_buf();
    let config = org.config(&runtime()).write(&dir).unwrap();
    let (alice, bob) = (&org.staff[0].address, &org.staff[1].address);
    let child = serve(&config, &log_path(&dir, "switch.log"));
    let graph = &org.cloud.graph;
    let first = graph.deliver(alice, NewMessage::new("Before").to(alice));
    assert!(
        eventually(Duration::from_secs(30), || landed(&org, &first.internet_message_id) == 1).await
    );

    let off = run(&config, &["mailbox", "disable", alice], LIMIT).await;
    assert_eq!(off.code, Some(0), "{}", off.stderr);
    assert!(off.stdout.contains("disabled (was healthy)"), "{}", off.stdout);
    let to_alice = graph.deliver(alice, NewMessage::new("While disabled").to(alice));
    let to_bob = graph.deliver(bob, NewMessage::new("Meanwhile").to(bob));
    assert!(
        eventually(Duration::from_secs(30), || landed(&org, &to_bob.internet_message_id) == 1)
            .await
    );
    // Bob's mail came through several polls; Alice's mailbox was not read meanwhile.
    sleep(Duration::from_secs(3)).await;
    assert_eq!(landed(&org, &to_alice.internet_message_id), 0, "a disabled mailbox is not synced");
    let status = run(&config, &["status"], LIMIT).await;
    assert!(line(&status.stdout, alice).contains("disabled by the admin"), "{}", status.stdout);
    assert_eq!(status.code, Some(0), "disabled is not failing:\n{}", status.stdout);

    let on = run(&config, &["mailbox", "enable", alice], LIMIT).await;
    assert_eq!(on.code, Some(0), "{}", on.stderr);
    assert!(
        eventually(Duration::from_secs(30), || landed(&org, &to_alice.internet_message_id) == 1)
            .await,
        "enabled again, the mailbox catches up"
    );
    stop(child);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mailbox_whose_graph_requests_hang_does_not_stop_the_others() {
    let org = DemoOrg::start().await.unwrap();
    let dir = org.cloud.dir().to_path_buf();
    let config = org.config(&runtime()).write(&dir).unwrap();
    let carol = &org.staff[2].address;
    // Graph never answers a request for Carol's mailbox: each runs into the client's timeout.
    org.cloud.graph.faults().arm(FaultRule::ratio(1.0, Fault::Hang).on_path(carol));
    let graph = &org.cloud.graph;
    graph.deliver(carol, NewMessage::new("Never read").to(carol));
    // Killed at the end (dropped): a clean stop would wait for the hung requests.
    let _serving = serve(&config, &log_path(&dir, "hang.log"));
    let mut healthy = Vec::new();
    for i in 0..12 {
        // Polled every second, Carol's folders are asked for again and again meanwhile.
        let to = &org.staff[[0, 1, 3][i % 3]].address;
        healthy.push(graph.deliver(to, NewMessage::new(&format!("Order {i}")).to(to)));
        sleep(Duration::from_millis(500)).await;
    }
    let arrived = eventually(Duration::from_secs(30), || {
        healthy.iter().all(|m| landed(&org, &m.internet_message_id) == 1)
    })
    .await;
    let missing = healthy.iter().filter(|m| landed(&org, &m.internet_message_id) == 0).count();
    assert!(arrived, "{missing} of {} emails of the healthy mailboxes missing", healthy.len());
    assert!(org.cloud.graph.faults().fired().get("hang").is_some_and(|n| *n >= 2), "Carol hung");
}
