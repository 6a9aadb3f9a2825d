//! Partial batch failures: one bad message never fails or repeats its batch.

use std::time::Duration;

use exsync_shared::{
    adapters::aws::env,
    domain::{Folder, MailboxAddress},
    jobs::{Envelope, Job, QueueName, Trigger},
    ports::{DeadLetters, StatusStore},
};

use crate::{
    mapping::poll_until,
    world::{ALICE, AwsApp},
};

/// A folder pass of Alice's Inbox, and a body no exsync can read, sent in one batch.
async fn send_pass_and_poison(app: &AwsApp, url: &str) {
    let pass = Job::SyncFolder {
        mailbox: MailboxAddress::parse(ALICE).unwrap(),
        folder: Folder::Inbox,
        trigger: Trigger::Sweep,
        ticket: 0,
    };
    let sqs = aws_sdk_sqs::Client::new(&app.sdk);
    for body in [Envelope::new(pass).to_body(), r#"{"v":"99","job":"from the future"}"#.into()] {
        sqs.send_message().queue_url(url).message_body(body).send().await.expect("SendMessage");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_message_is_dead_lettered_with_its_reason_and_its_batch_goes_on() {
    let app = AwsApp::builder().idle().start().await;
    let changes = app.mapping(QueueName::Changes);
    send_pass_and_poison(&app, &changes.url).await;
    let mut received = 0;
    poll_until(&changes, Duration::from_secs(20), |polled| {
        assert!(polled.failed.is_empty(), "nothing is reported failed: {polled:?}");
        received += polled.received.len();
        received == 2
    })
    .await;

    let parked = app.sync.queue().dead_letters(QueueName::Changes, 10).await.expect("listed");
    assert_eq!(parked.len(), 1, "{parked:?}");
    assert!(parked[0].body.contains("from the future"));
    assert!(parked[0].reason.starts_with("unreadable job"), "{}", parked[0].reason);
    // The good job of the same batch ran: Alice's pass is recorded.
    let alice = MailboxAddress::parse(ALICE).unwrap();
    let status = app.sync.store().status(&alice).await.unwrap().expect("Alice's status");
    assert!(status.last_success.is_some(), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_cannot_be_settled_is_a_batch_item_failure_and_sqs_redrives_it() {
    // A deployment whose dead-letter queue URL is wrong: the runtime cannot park the poison
    // message, so it reports it failed; SQS brings it back, and after maxReceiveCount
    // receives its redrive policy moves it to the real dead-letter queue.
    let broken = format!("{}/123456789012/no-such-queue", crate::moto::Moto::shared().endpoint());
    let app = AwsApp::builder()
        .idle()
        .max_receive_count(3)
        .env(env::dead_letter_url_variable(QueueName::Changes), &broken)
        .start()
        .await;
    let changes = app.mapping(QueueName::Changes);
    send_pass_and_poison(&app, &changes.url).await;

    let mut first = None;
    poll_until(&changes, Duration::from_secs(20), |polled| {
        if !polled.received.is_empty() {
            first = Some(polled.clone());
        }
        first.is_some()
    })
    .await;
    let first = first.unwrap();
    if first.received.len() == 2 {
        assert_eq!(first.failed.len(), 1, "only the poison message fails: {first:?}");
    }
    let mut failures = first.failed.len();
    poll_until(&changes, Duration::from_secs(30), |polled| {
        failures += polled.failed.len();
        failures == 3
    })
    .await;

    // Three receives, then SQS's redrive: the next receive moves the message to the
    // dead-letter queue instead of handing it out, without exsync's reason (SQS moved it).
    let sqs = aws_sdk_sqs::Client::new(&app.sdk);
    let dead_letter_url = &app.queues[&QueueName::Changes].1;
    let mut parked = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while parked.is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "SQS never redrove the poison message");
        let polled = changes.poll().await;
        assert!(polled.received.is_empty(), "received a fourth time: {polled:?}");
        parked = sqs
            .receive_message()
            .queue_url(dead_letter_url)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .send()
            .await
            .unwrap()
            .messages
            .unwrap_or_default();
    }
    assert_eq!(parked.len(), 1, "{parked:?}");
    assert!(parked[0].body().unwrap_or_default().contains("from the future"));
    assert!(parked[0].message_attributes.is_none(), "SQS moved it, not exsync: {parked:?}");
    let alice = MailboxAddress::parse(ALICE).unwrap();
    let status = app.sync.store().status(&alice).await.unwrap().expect("Alice's status");
    assert!(status.last_success.is_some(), "the good job ran once: {status:?}");
}
