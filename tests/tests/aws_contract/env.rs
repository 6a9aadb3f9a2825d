//! The adapters configure themselves from the environment only (as on Lambda): the SDK from
//! `AWS_*` (with `AWS_ENDPOINT_URL` pointing at moto), the resources from `EXSYNC_*`. A test
//! process cannot safely change its own environment, so the check runs in a child: this test
//! binary again, running only [`configured_from_the_environment`].

use std::{process::Command, time::Duration};

use crate::moto::{Moto, REGION};
use exsync_shared::{
    adapters::aws::{DynamoStore, LambdaTokens, SqsQueue, env},
    domain::{Folder, MailboxAddress},
    jobs::{Envelope, Job, QueueName, Trigger},
    ports::{CursorStore, DeltaCursor, JobQueue, JobSource},
};

use crate::common::{MAX_RECEIVE_COUNT, fresh_queue_map, fresh_table};

const CHILD: &str = "env::configured_from_the_environment";

fn child(vars: &[(String, String)]) -> std::process::Output {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.args(["--ignored", "--exact", CHILD, "--nocapture", "--test-threads=1"]);
    // Only what the child is given: no credentials, region or endpoint of this machine.
    command.env_clear().env("PATH", std::env::var_os("PATH").unwrap_or_default());
    command.env("AWS_EC2_METADATA_DISABLED", "true");
    command.envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))).output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_adapters_are_configured_from_the_environment_only() {
    let moto = Moto::shared();
    let queues = fresh_queue_map(MAX_RECEIVE_COUNT).await;
    let mut vars = vec![
        ("AWS_ENDPOINT_URL".to_string(), moto.endpoint()),
        ("AWS_REGION".into(), REGION.into()),
        ("AWS_ACCESS_KEY_ID".into(), "moto".into()),
        ("AWS_SECRET_ACCESS_KEY".into(), "moto".into()),
        (env::TABLE_NAME.into(), fresh_table().await),
        (env::TOKENS_FUNCTION.into(), "exsync-tokens".into()),
    ];
    for queue in QueueName::ALL {
        let urls = queues.of(queue).unwrap();
        vars.push((env::queue_url_variable(queue).into(), urls.url.clone()));
        vars.push((env::dead_letter_url_variable(queue).into(), urls.dead_letter_url.clone()));
    }
    let ok = child(&vars);
    let stdout = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success() && stdout.contains("1 passed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    let without_table: Vec<_> =
        vars.iter().filter(|(k, _)| k != env::TABLE_NAME).cloned().collect();
    let failed = child(&without_table);
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(!failed.status.success());
    assert!(stderr.contains("the environment variable EXSYNC_TABLE_NAME is not set"), "{stderr}");
}

/// Run by the test above in a child process with only the environment it sets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run in a child process by the_adapters_are_configured_from_the_environment_only"]
async fn configured_from_the_environment() {
    let sqs = SqsQueue::from_env().await.unwrap();
    let job = Envelope::new(Job::SyncFolder {
        mailbox: MailboxAddress::parse("env@aws.example").unwrap(),
        folder: Folder::Inbox,
        trigger: Trigger::Poll,
        ticket: 0,
    });
    sqs.enqueue(QueueName::Writes, std::slice::from_ref(&job), Duration::ZERO).await.unwrap();
    let got = sqs.receive(QueueName::Writes, 1, Duration::from_secs(30)).await.unwrap();
    assert_eq!(Envelope::from_body(&got[0].body).unwrap(), job);
    LambdaTokens::from_env().await.unwrap();
    let store = DynamoStore::from_env().await.map_err(|e| e.to_string()).unwrap();
    let mailbox = MailboxAddress::parse("env@aws.example").unwrap();
    let cursor = DeltaCursor::Delta("https://graph.example/delta?token=1".into());
    store.put_cursor(&mailbox, Folder::Inbox, &cursor).await.unwrap();
    assert_eq!(store.cursor(&mailbox, Folder::Inbox).await.unwrap(), Some(cursor));
}
