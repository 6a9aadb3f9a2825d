//! `exsync demo`, the README's first command: it finishes with its summary and exit 0, and
//! shows no secret even at debug level.

use std::time::Duration;

use exsync_shared::{config::Config, embedded::Embedded, ports::SubscriptionStore};

use crate::common::{assert_debug_logs, assert_no_secrets, exsync, run_command};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_syncs_its_mail_and_ends_with_the_summary_and_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = exsync();
    command.args(["demo", "--emails", "12", "--rate", "40", "--dir"]).arg(dir.path());
    let demo = run_command(command, Duration::from_secs(120)).await;
    assert_eq!(demo.code, Some(0), "stdout:\n{}\nstderr:\n{}", demo.stdout, demo.stderr);
    for expected in [
        "8 of 8 Graph subscriptions validated",
        "What landed in Dataverse",
        "  emails sent           12",
        "  duplicates            0",
        "  missing               0",
        "Every email is in Dataverse exactly once.",
    ] {
        assert!(demo.stdout.contains(expected), "{expected:?} in:\n{}", demo.stdout);
    }

    // The secrets it generated are in files beside its configuration, the clientStates in
    // its state: none of them may show.
    let mut secrets: Vec<String> = ["Bearer ", "client_secret=", "eyJ"].map(String::from).to_vec();
    for file in std::fs::read_dir(dir.path().join("secrets")).unwrap() {
        secrets.push(std::fs::read_to_string(file.unwrap().path()).unwrap().trim().to_string());
    }
    let config = Config::load(&dir.path().join("exsync.toml")).unwrap();
    let exsync = Embedded::open(config.clone()).unwrap();
    for mailbox in &config.mailboxes {
        for record in exsync.store().subscriptions_of(&mailbox.address).await.unwrap() {
            secrets.push(record.client_state.expose().to_string());
        }
    }
    assert!(secrets.len() >= 3 + 3 + 8, "three secrets and eight clientStates: {}", secrets.len());
    assert_debug_logs("the demo", &demo.stderr);
    assert_no_secrets("the demo's output", &demo.stdout, &secrets);
    assert_no_secrets("the demo's logs", &demo.stderr, &secrets);
}
