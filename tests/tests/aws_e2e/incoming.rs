//! The incoming-email scenario of `e2e_incoming`, on SQS, DynamoDB, Secrets Manager and S3.

use std::time::Duration;

use exsync_shared::{
    domain::{Folder, MailboxAddress},
    jobs::{Envelope, Job, QueueName, Trigger},
    lambda::{config::ConfigSource, s3::S3Reader},
    ports::JobQueue,
};
use exsync_sim::{
    faults::{Fault, FaultRule},
    graph::NewMessage,
};
use time::OffsetDateTime;

use crate::world::{ALICE, AwsApp, BOB, CAROL};

const MARIA: &str = "maria.garcia@adventure-works.example";

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc().replace_nanosecond(0).expect("0 ns is valid")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_of_two_tenants_lands_once_each_through_sqs_dynamodb_and_secrets_manager() {
    let app = AwsApp::builder().start().await;
    // The hourly schedule: upkeep jobs through the subscriptions queue; subscribe creates the
    // subscriptions, Graph validates the Function URL.
    let upkeep = app.schedule("upkeep").await;
    assert_eq!(upkeep["queued"], 4, "{upkeep}");
    app.wait_subscribed(8).await;
    let graph = app.graph();

    let to_carol = graph.deliver(
        CAROL,
        NewMessage::new("Quote request for 40 units").from("Maria Garcia", MARIA).to(CAROL),
    );
    // One email in two synced mailboxes of one tenant: one activity.
    let message = NewMessage::new("Contract renewal terms")
        .from("Maria Garcia", MARIA)
        .to(ALICE)
        .cc(BOB)
        .received_at(now());
    let shared = graph.deliver(ALICE, message.clone());
    graph.deliver(BOB, message.internet_message_id(&shared.internet_message_id));

    let email = app.landed(&to_carol.internet_message_id).await;
    assert_eq!(email.subject.as_deref(), Some("Quote request for 40 units"));
    app.landed(&shared.internet_message_id).await;
    app.quiet().await;
    assert_eq!(app.emails_with(&shared.internet_message_id).len(), 1);
    assert_eq!(app.emails_with(&to_carol.internet_message_id).len(), 1);

    // The statuses are in DynamoDB, as `exsync status` would show them.
    let carol = app.status(CAROL).await.expect("Carol's status");
    assert!(carol.emails_written >= 1, "{carol:?}");
    let (alice, bob) = (app.status(ALICE).await.unwrap(), app.status(BOB).await.unwrap());
    assert_eq!(alice.emails_written + bob.emails_written, 1, "{alice:?} {bob:?}");
    assert_eq!(alice.emails_duplicate + bob.emails_duplicate, 1, "{alice:?} {bob:?}");

    // The sweep schedule asks a pass of every synced folder; nothing new lands twice.
    let sweep = app.schedule("sweep").await;
    assert_eq!(sweep["queued"].as_u64().unwrap() + sweep["coalesced"].as_u64().unwrap(), 8);
    app.quiet().await;
    assert_eq!(app.emails_with(&shared.internet_message_id).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dataverse_outage_is_retried_and_a_redelivered_batch_creates_nothing_twice() {
    let app = AwsApp::builder().idle().start().await;
    let mail = app.graph().deliver(
        CAROL,
        NewMessage::new("Delivery date for order 5521").from("Maria Garcia", MARIA).to(CAROL),
    );
    let carol = MailboxAddress::parse(CAROL).unwrap();
    let pass = Job::SyncFolder {
        mailbox: carol,
        folder: Folder::Inbox,
        trigger: Trigger::Sweep,
        ticket: 0,
    };
    app.sync
        .queue()
        .enqueue(QueueName::Changes, &[Envelope::new(pass)], Duration::ZERO)
        .await
        .unwrap();
    let (changes, writes) = (app.mapping(QueueName::Changes), app.mapping(QueueName::Writes));
    crate::mapping::poll_until(&changes, Duration::from_secs(20), |p| !p.received.is_empty()).await;

    // The write batch, received as the mapping receives it, invoked twice: once while
    // Dataverse answers 503 (the job goes back as a new message with a delay, its attempt
    // counted in the envelope, so no receive is used up), once more as a redelivery after a
    // crash would bring it. Neither reports a failure, and the email lands once.
    let sqs = aws_sdk_sqs::Client::new(&app.sdk);
    let received = sqs
        .receive_message()
        .queue_url(&writes.url)
        .max_number_of_messages(10)
        .visibility_timeout(crate::mapping::LEASE_SECONDS)
        .wait_time_seconds(2)
        .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert!(!received.is_empty(), "the pass emitted a write job");
    let event = writes.event(&received);
    app.org.cloud.dataverse.faults().arm(
        FaultRule::next(50, Fault::Status { status: 503, retry_after: Some(1) }).on_method("POST"),
    );
    let response = (app.function(QueueName::Writes))(event.clone()).await.expect("invoked");
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert!(app.emails_with(&mail.internet_message_id).is_empty(), "Dataverse was down");
    app.org.cloud.dataverse.faults().clear();
    let response = (app.function(QueueName::Writes))(event).await.expect("invoked");
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert_eq!(app.emails_with(&mail.internet_message_id).len(), 1);

    // The retry, and the first delivery coming back when its lease ends: no-ops.
    let mut empty = 0;
    while empty < 6 {
        let polled = writes.poll().await;
        empty = if polled.received.is_empty() { empty + 1 } else { 0 };
        assert!(polled.failed.is_empty(), "{polled:?}");
    }
    assert_eq!(app.emails_with(&mail.internet_message_id).len(), 1);
    let status = app.status(CAROL).await.expect("Carol's status");
    assert_eq!(status.emails_written, 1, "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_configuration_is_read_again_only_when_its_object_changes() {
    let app = AwsApp::builder().idle().start().await;
    let uri = app.env[exsync_shared::adapters::aws::env::CONFIG_URI].parse().unwrap();
    let source =
        ConfigSource::new(uri, S3Reader::new(app.sdk.clone()).unwrap(), app.dir.clone(), None)
            .with_check_every(Duration::ZERO);
    let first = source.current().await.expect("the configuration");
    let again = source.current().await.expect("the configuration");
    assert!(std::sync::Arc::ptr_eq(&first.config, &again.config), "unchanged: not parsed again");
    assert_eq!(first.etag, again.etag);

    let deployed = source_text(&app).await;
    let changed_deployed = deployed.replace(
        &format!("address = \"{CAROL}\"\nprofile = \"contoso\"\n"),
        &format!("address = \"{CAROL}\"\nprofile = \"contoso\"\nincoming = false\n"),
    );
    assert_ne!(changed_deployed, deployed);
    app.s3.put("exsync.toml", &changed_deployed).await;
    let read = source.current().await.expect("the new configuration");
    assert_ne!(read.etag, first.etag);
    let carol = MailboxAddress::parse(CAROL).unwrap();
    assert!(!read.config.mailbox(&carol).unwrap().incoming);

    // A wrong object keeps its key in the error.
    app.s3.put("exsync.toml", "[cloud]\ngraph_urll = \"x\"\n").await;
    let error = source.current().await.unwrap_err();
    assert!(error.to_string().contains("graph_urll"), "{error}");
}

/// The configuration object's text.
async fn source_text(app: &AwsApp) -> String {
    let uri = app.env[exsync_shared::adapters::aws::env::CONFIG_URI].parse().unwrap();
    match S3Reader::new(app.sdk.clone()).unwrap().get(&uri, None).await.unwrap() {
        exsync_shared::lambda::s3::Fetched::Changed { body, .. } => body,
        other => panic!("{other:?}"),
    }
}
