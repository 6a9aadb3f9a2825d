//! The real function binaries under cargo-lambda's runtime emulator (`cargo lambda watch
//! --only-lambda-apis`, one per function, serving the Lambda Runtime API and the Invoke and
//! Function URL endpoints): the event shapes Lambda sends (a Function URL request, an SQS
//! event) and the answers it reads (an HTTP response, a batch response) go through
//! lambda_runtime and lambda_http for real.
//!
//! `scripts/test` installs cargo-lambda into `.venv`, builds the binaries and names both in
//! [`TOOL_VARIABLE`] and [`BINARIES_VARIABLE`]. Without [`TOOL_VARIABLE`] these tests say so
//! and pass without running (a developer without the tool); with it, a missing binary fails.

use std::{
    collections::HashMap,
    net::TcpStream,
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use aws_sdk_sqs::types::MessageSystemAttributeName;
use exsync_shared::{
    adapters::aws::env,
    domain::{Folder, MailboxAddress},
    jobs::{Envelope, Job, QueueName, Trigger},
};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::{
    moto::{Moto, REGION},
    world::{ALICE, AwsApp},
};

/// The variable naming the `cargo-lambda` executable.
pub const TOOL_VARIABLE: &str = "EXSYNC_CARGO_LAMBDA";
/// The variable naming the folder of the native function binaries (`target/debug`).
pub const BINARIES_VARIABLE: &str = "EXSYNC_LAMBDA_BINARIES";

/// cargo-lambda, or `None` (and a message) when it is not installed here.
fn tool() -> Option<PathBuf> {
    match std::env::var_os(TOOL_VARIABLE) {
        Some(path) => Some(PathBuf::from(path)),
        None => {
            eprintln!(
                "SKIPPED: {TOOL_VARIABLE} is not set, so the functions are not run under \
                 cargo-lambda's emulator; scripts/test installs cargo-lambda and sets it"
            );
            None
        }
    }
}

/// The native binary of `package`.
fn binary(package: &str) -> PathBuf {
    let dir = std::env::var_os(BINARIES_VARIABLE).map(PathBuf::from).unwrap_or_else(|| {
        panic!("{TOOL_VARIABLE} is set but {BINARIES_VARIABLE} is not: scripts/test sets both")
    });
    let path = dir.join(package);
    assert!(path.is_file(), "{} is not built (scripts/test builds it)", path.display());
    path
}

/// One function under its own emulator; both processes end when this is dropped.
#[derive(Debug)]
struct Emulated {
    port: u16,
    _watch: Child,
    _function: Child,
    tool: PathBuf,
}

impl Emulated {
    /// Starts the emulator, then `package`'s binary against its Runtime API with `vars` (and
    /// moto's endpoint and credentials), in `dir`.
    async fn start(tool: &Path, package: &str, vars: &HashMap<String, String>, dir: &Path) -> Self {
        let port = free_port();
        // Run in the workspace: cargo-lambda reads its metadata even when it builds nothing.
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let log = std::fs::File::create(dir.join(format!("watch-{port}.log"))).expect("a log");
        let watch = Command::new(tool)
            .args(["lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P"])
            .arg(port.to_string())
            .current_dir(&workspace)
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("cargo lambda watch starts");
        let started = Duration::from_secs(30);
        let up = tokio::time::timeout(started, async {
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        if up.await.is_err() {
            let log = std::fs::read_to_string(dir.join(format!("watch-{port}.log")));
            panic!("cargo lambda watch did not listen within {started:?}: {log:?}");
        }
        // Its JSON logs go beside the configuration, not into the test's output.
        let logs = std::fs::File::create(dir.join(format!("{package}-{port}.log"))).expect("a log");
        let function = Command::new(binary(package))
            .envs(vars)
            .env("AWS_LAMBDA_RUNTIME_API", format!("http://127.0.0.1:{port}/.rt"))
            // The emulator serves one function, `_`, when it does not start it itself.
            .env("AWS_LAMBDA_FUNCTION_NAME", "_")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_ENDPOINT_URL", Moto::shared().endpoint())
            .env("AWS_REGION", REGION)
            .env("AWS_ACCESS_KEY_ID", "moto")
            .env("AWS_SECRET_ACCESS_KEY", "moto")
            .env("RUST_LOG", "info")
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(logs)
            .kill_on_drop(true)
            .spawn()
            .expect("the function starts");
        Self { port, _watch: watch, _function: function, tool: tool.to_path_buf() }
    }

    /// `cargo lambda invoke` with `payload`; returns the function's answer.
    async fn invoke(&self, payload: &Value, dir: &Path) -> Value {
        let file = dir.join(format!("event-{}.json", self.port));
        std::fs::write(&file, payload.to_string()).expect("write the event");
        let output = Command::new(&self.tool)
            .args(["lambda", "invoke", "_", "-A", "127.0.0.1", "-P"])
            .arg(self.port.to_string())
            .arg("--data-file")
            .arg(&file)
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
            .output()
            .await
            .expect("cargo lambda invoke runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "invoke failed: {stdout} {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
    }

    /// The function's Function URL.
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/lambda-url/_/{path}", self.port)
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("its address").port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notify_behind_its_function_url_answers_the_handshake_and_enqueues_a_notification() {
    let Some(tool) = tool() else { return };
    let app = AwsApp::builder().idle().start().await;
    // Real subscriptions, made in process: their records and clientStates are in DynamoDB.
    app.schedule("upkeep").await;
    let subscriptions = app.mapping(QueueName::Subscriptions);
    crate::mapping::poll_until(&subscriptions, Duration::from_secs(30), |_| {
        app.graph().subscriptions().len() >= 8
    })
    .await;
    // The catch-up passes new subscriptions ask for, run: a notification would coalesce into
    // a pass still queued.
    let changes = app.mapping(QueueName::Changes);
    let mut quiet = 0;
    while quiet < 3 {
        quiet = if changes.poll().await.received.is_empty() { quiet + 1 } else { 0 };
    }
    let notify = Emulated::start(&tool, "exsync-notify", &app.env, &app.dir).await;
    let http = reqwest::Client::new();

    // The handshake: the token back, decoded, as text/plain.
    let answer = wait_for_answer(
        &http,
        &notify.url("graph/notify?validationToken=Validation%3A%20abc%20123"),
    )
    .await;
    assert_eq!(answer.status(), 200);
    let kind = answer.headers()["content-type"].to_str().unwrap().to_string();
    assert!(kind.starts_with("text/plain"), "{kind}");
    assert_eq!(answer.text().await.unwrap(), "Validation: abc 123");

    // A notification of one of Alice's subscriptions: 202, and its pass is in SQS.
    let alice = app.graph().subscriptions().into_iter().find(|s| {
        s.notification_url.contains("graph/notify") && s.resource.to_lowercase().contains("inbox")
    });
    let subscription = alice.unwrap_or_else(|| app.graph().subscriptions().remove(0));
    let body = json!({"value": [{
        "subscriptionId": subscription.id,
        "subscriptionExpirationDateTime": "2099-01-01T00:00:00Z",
        "changeType": "created",
        "resource": format!("Users/{}/Messages/AAMkAD1", subscription.user_id),
        "resourceData": {
            "@odata.type": "#Microsoft.Graph.Message",
            "@odata.id": format!("Users/{}/Messages/AAMkAD1", subscription.user_id),
            "id": "AAMkAD1",
        },
        "clientState": subscription.client_state,
        "tenantId": subscription.tenant_id,
    }]});
    let answer = http.post(notify.url("graph/notify")).json(&body).send().await.unwrap();
    assert_eq!(answer.status(), 202, "{:?}", answer.text().await);
    let sqs = aws_sdk_sqs::Client::new(&app.sdk);
    let queued = sqs
        .receive_message()
        .queue_url(&app.queues[&QueueName::Changes].0)
        .wait_time_seconds(2)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert_eq!(queued.len(), 1, "one pass for the notification");
    let job = Envelope::from_body(queued[0].body().unwrap()).unwrap();
    assert!(matches!(job.job(), Job::SyncFolder { trigger: Trigger::Notification, .. }), "{job:?}");

    // A forged one (wrong clientState): 403, nothing enqueued.
    let mut forged = body.clone();
    forged["value"][0]["clientState"] = json!("not-the-secret");
    let answer = http.post(notify.url("graph/notify")).json(&forged).send().await.unwrap();
    assert_eq!(answer.status(), 403);
}

/// The first answer of a function that may still be starting.
async fn wait_for_answer(http: &reqwest::Client, url: &str) -> reqwest::Response {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match http.post(url).timeout(Duration::from_secs(20)).send().await {
            Ok(answer) => return answer,
            Err(e) if tokio::time::Instant::now() < deadline => {
                tracing::debug!(error = %e, "not yet");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("{url}: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_answers_an_sqs_event_with_the_one_message_it_could_not_settle() {
    let Some(tool) = tool() else { return };
    let app = AwsApp::builder().idle().start().await;
    // tokens under its own emulator; sync invokes it through the Lambda Invoke API.
    let tokens = Emulated::start(&tool, "exsync-tokens", &app.env, &app.dir).await;
    let mut vars = app.env.clone();
    vars.insert(env::TOKENS_FUNCTION.into(), "_".into());
    vars.insert("AWS_ENDPOINT_URL_LAMBDA".into(), format!("http://127.0.0.1:{}", tokens.port));
    // A dead-letter queue that does not exist: the poison message cannot be parked.
    let broken = format!("{}/123456789012/no-such-queue", Moto::shared().endpoint());
    vars.insert(env::dead_letter_url_variable(QueueName::Changes).into(), broken);
    let sync = Emulated::start(&tool, "exsync-sync", &vars, &app.dir).await;

    let mail = app.graph().deliver(
        ALICE,
        exsync_sim::graph::NewMessage::new("Quote request")
            .from("Maria", "maria@example.com")
            .to(ALICE),
    );
    let pass = Job::SyncFolder {
        mailbox: MailboxAddress::parse(ALICE).unwrap(),
        folder: Folder::Inbox,
        trigger: Trigger::Sweep,
        ticket: 0,
    };
    let sqs = aws_sdk_sqs::Client::new(&app.sdk);
    let url = &app.queues[&QueueName::Changes].0;
    for body in [Envelope::new(pass).to_body(), "not a job".to_string()] {
        sqs.send_message().queue_url(url).message_body(body).send().await.unwrap();
    }
    let mut received = Vec::new();
    while received.len() < 2 {
        let got = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(2)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .unwrap();
        received.extend(got.messages.unwrap_or_default());
    }
    let poison = received.iter().find(|m| m.body() == Some("not a job")).unwrap();
    let event = serde_json::to_value(app.mapping(QueueName::Changes).event(&received)).unwrap();

    let answer = sync.invoke(&event, &app.dir).await;
    assert_eq!(
        answer,
        json!({"batchItemFailures": [{"itemIdentifier": poison.message_id().unwrap()}]}),
    );
    // The good message ran: Alice's new mail is on its way to write.
    let writes = sqs
        .receive_message()
        .queue_url(&app.queues[&QueueName::Writes].0)
        .max_number_of_messages(10)
        .wait_time_seconds(2)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert!(
        writes.iter().any(|m| m.body().unwrap_or_default().contains(&mail.internet_message_id)),
        "a write job for the new mail: {writes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exsync_aws_mailbox_test_gets_its_tokens_from_the_tokens_function() {
    let Some(tool) = tool() else { return };
    let app = AwsApp::builder().idle().start().await;
    let tokens = Emulated::start(&tool, "exsync-tokens", &app.env, &app.dir).await;
    let lambda = format!("http://127.0.0.1:{}", tokens.port);
    let cli = crate::admin::Cli::of(&app)
        .with(env::TOKENS_FUNCTION, Some("_"))
        .with("AWS_ENDPOINT_URL_LAMBDA", Some(&lambda));
    cli.ok(&["mailbox", "disable", ALICE]).await;
    let said = cli.ok(&["mailbox", "test", ALICE]).await;
    assert!(said.contains("All checks passed: the mailbox is enabled and syncs."), "{said}");
    let status = app.status(ALICE).await.expect("Alice's status");
    assert!(!matches!(status.health, exsync_shared::status::Health::Disabled), "{status:?}");
}
