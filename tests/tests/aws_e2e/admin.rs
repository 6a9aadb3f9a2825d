//! The admin commands over an AWS deployment: the `exsync` binary with `--aws`, given the
//! stack's AdminEnvironment variables, reads and switches what the functions use (statuses in
//! DynamoDB, dead letters in the SQS dead-letter queues), and the functions obey.

use std::{collections::HashMap, path::PathBuf, time::Duration};

use exsync_shared::{
    adapters::aws::env,
    domain::{Folder, MailboxAddress},
    jobs::{Envelope, Job, QueueName, Trigger},
    ports::DeadLetters,
    status::Health,
};
use exsync_sim::graph::NewMessage;

use crate::{
    moto::{Moto, REGION},
    world::{ALICE, AwsApp},
};

/// The `exsync` binary beside this test's, with its AWS clients (`scripts/test` runs
/// `cargo test --workspace --features exsync/aws`, which builds it).
fn exsync_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    let dir = exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>/deps");
    let path = dir.join(format!("exsync{}", std::env::consts::EXE_SUFFIX));
    assert!(path.is_file(), "{} is missing: cargo build -p exsync", path.display());
    path
}

/// `exsync --aws ...` as an admin runs it: the stack's variables, moto's endpoint and
/// credentials.
pub struct Cli {
    vars: HashMap<String, String>,
    dir: PathBuf,
}

/// What a command printed and how it exited.
#[derive(Debug)]
pub struct Ran {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Cli {
    pub fn of(app: &AwsApp) -> Self {
        let mut vars = app.env.clone();
        vars.insert("AWS_ENDPOINT_URL".into(), Moto::shared().endpoint());
        vars.insert("AWS_REGION".into(), REGION.into());
        vars.insert("AWS_ACCESS_KEY_ID".into(), "moto".into());
        vars.insert("AWS_SECRET_ACCESS_KEY".into(), "moto".into());
        Self { vars, dir: app.dir.clone() }
    }

    /// With a variable set (`None`: unset).
    pub fn with(mut self, name: &str, value: Option<&str>) -> Self {
        match value {
            Some(value) => self.vars.insert(name.into(), value.into()),
            None => self.vars.remove(name),
        };
        self
    }

    pub async fn run(&self, args: &[&str]) -> Ran {
        let output = tokio::process::Command::new(exsync_binary())
            .arg("--aws")
            .args(args)
            .env_remove("EXSYNC_CONFIG")
            .env_remove("RUST_LOG")
            .envs(&self.vars)
            .current_dir(&self.dir)
            .output()
            .await
            .expect("exsync runs");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(
            !stderr.contains("built without AWS support"),
            "target/*/exsync has no AWS clients: cargo test --workspace --features exsync/aws \
             (as scripts/test does)"
        );
        Ran {
            success: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr,
        }
    }

    /// Runs a command that must succeed; its output.
    pub async fn ok(&self, args: &[&str]) -> String {
        let ran = self.run(args).await;
        assert!(ran.success, "exsync --aws {args:?} failed: {ran:?}");
        ran.stdout
    }
}

/// The row of `mailbox` in `exsync status`'s table.
fn row<'a>(table: &'a str, mailbox: &str) -> &'a str {
    let row = table.lines().find(|l| l.starts_with(&format!("{mailbox} ")));
    row.unwrap_or_else(|| panic!("no row of {mailbox} in:\n{table}"))
}

/// A pass of Alice's Inbox, as a notification's would be.
async fn pass_of_alice(app: &AwsApp) {
    let pass = Job::SyncFolder {
        mailbox: MailboxAddress::parse(ALICE).unwrap(),
        folder: Folder::Inbox,
        trigger: Trigger::Notification,
        ticket: 0,
    };
    send(app, QueueName::Changes, &Envelope::new(pass).to_body()).await;
}

async fn send(app: &AwsApp, queue: QueueName, body: &str) {
    let sqs = aws_sdk_sqs::Client::new(&app.sdk);
    let url = &app.queues[&queue].0;
    sqs.send_message().queue_url(url).message_body(body).send().await.expect("SendMessage");
}

async fn dead_letters(app: &AwsApp) -> usize {
    app.sync.queue().dead_letters(QueueName::Changes, 10).await.expect("listed").len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exsync_aws_switches_a_mailbox_the_functions_obey_and_lists_replays_and_purges_dead_letters()
 {
    let app = AwsApp::builder().start().await;
    let cli = Cli::of(&app);

    let table = cli.ok(&["status"]).await;
    assert!(row(&table, ALICE).contains(" pending "), "{table}");
    assert!(table.contains("queue changes"), "{table}");

    // Disabled: the deployment's next pass of Alice syncs nothing.
    let said = cli.ok(&["mailbox", "disable", ALICE]).await;
    assert_eq!(said, format!("{ALICE}: disabled (was pending)\n"));
    let mail = app.graph().deliver(
        ALICE,
        NewMessage::new("Renewal quote").from("Maria", "maria@example.com").to(ALICE),
    );
    pass_of_alice(&app).await;
    app.quiet().await;
    assert!(app.emails_with(&mail.internet_message_id).is_empty(), "a disabled mailbox synced");
    let table = cli.ok(&["status"]).await;
    assert!(row(&table, ALICE).contains("disabled by the admin"), "{table}");

    // A job no exsync can read: dead-lettered with its reason, listed, replayed (and parked
    // again by the function), purged.
    send(&app, QueueName::Changes, r#"{"v":"99","job":"from the future"}"#).await;
    until_dead_letters(&app, 1).await;
    let listed = cli.ok(&["dead-letters"]).await;
    let line = listed.lines().find(|l| l.contains("changes")).unwrap_or_else(|| panic!("{listed}"));
    assert!(line.contains("(unreadable job)") && line.contains("unreadable job"), "{listed}");
    let table = cli.ok(&["status"]).await;
    let changes = table.lines().find(|l| l.starts_with("queue changes")).expect("its row");
    assert!(changes.ends_with("dead letters      1"), "{table}");
    let said = cli.ok(&["dead-letters", "replay", "--all"]).await;
    assert_eq!(said, "1 dead letter(s) replayed\n");
    until_dead_letters(&app, 1).await;
    assert_eq!(cli.ok(&["dead-letters", "purge", "--all"]).await, "1 dead letter(s) purged\n");
    assert_eq!(cli.ok(&["dead-letters"]).await, "no dead letters\n");
    assert_eq!(dead_letters(&app).await, 0);

    // Enabled again: the next pass syncs what arrived meanwhile.
    let said = cli.ok(&["mailbox", "enable", ALICE]).await;
    assert_eq!(said, format!("{ALICE}: enabled (was disabled)\n"));
    pass_of_alice(&app).await;
    app.landed(&mail.internet_message_id).await;
    let status = app.status(ALICE).await.expect("Alice's status");
    assert!(!matches!(status.health, Health::Disabled), "{status:?}");
}

/// Waits until the changes queue's dead-letter queue holds `n` messages.
async fn until_dead_letters(app: &AwsApp, n: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while dead_letters(app).await != n {
        assert!(tokio::time::Instant::now() < deadline, "never {n} dead letter(s)");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exsync_aws_names_the_variable_it_misses_and_refuses_to_serve() {
    let app = AwsApp::builder().idle().start().await;
    let ran = Cli::of(&app).with(env::TABLE_NAME, None).run(&["status"]).await;
    assert!(!ran.success);
    assert!(ran.stderr.contains(env::TABLE_NAME), "{ran:?}");
    assert!(ran.stderr.contains("AdminEnvironment"), "{ran:?}");
    let ran = Cli::of(&app).run(&["serve"]).await;
    assert!(!ran.success);
    assert!(ran.stderr.contains("--aws is for status, mailbox and dead-letters"), "{ran:?}");
    // Test & Enable needs the tokens function: the token check says what to set.
    let ran = Cli::of(&app).with(env::TOKENS_FUNCTION, None).run(&["mailbox", "test", ALICE]).await;
    assert!(!ran.success, "{ran:?}");
    let token = ran.stdout.lines().find(|l| l.contains("token")).expect("the token check");
    assert!(token.contains("FAILED") && token.contains(env::TOKENS_FUNCTION), "{ran:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_and_enable_over_the_deployment_asks_tokens_and_enables_a_disabled_mailbox() {
    let app = AwsApp::builder().idle().start().await;
    // sync's instance asks the tokens function, as the admin's exsync does.
    let admin = app.sync.admin().await.expect("the configuration loads");
    let alice = MailboxAddress::parse(ALICE).unwrap();
    assert_eq!(admin.set_enabled(&alice, false).await.expect("disabled"), None);
    let report = admin.test_mailbox(&alice).await.expect("the test runs");
    assert!(report.passed() && report.enabled, "{report}");
    assert_eq!(report.before, Some(Health::Disabled));
    let statuses = admin.statuses().await.expect("statuses");
    let status = statuses.iter().find(|s| s.mailbox == alice).expect("Alice's status");
    assert!(!matches!(status.health, Health::Disabled), "{status:?}");
    let unknown = MailboxAddress::parse("nobody@fabrikam.example").unwrap();
    let error = admin.set_enabled(&unknown, true).await.unwrap_err();
    assert!(error.to_string().contains("is not in the configuration"), "{error}");
}
