//! A claim makes one process the state's consumer and puts back to work what a dead one left.

use std::time::Duration;

use time::OffsetDateTime;

use super::fresh;
use crate::{
    adapters::sqlite::{Recovered, SqliteQueue, SqliteStore},
    domain::{Folder, MailboxAddress},
    jobs::{Envelope, Job, QueueName},
    ports::{JobQueue, JobSource, PassStore},
};

#[tokio::test]
async fn a_claim_releases_what_a_dead_process_left_in_flight_and_refuses_a_second_claimant() {
    let (db, _dir) = fresh();
    let queue = SqliteQueue::new(db.clone());
    let store = SqliteStore::new(db.clone());
    let mailbox = MailboxAddress::parse("alice@fabrikam.example").unwrap();
    let jobs: Vec<Envelope> = (0..3)
        .map(|_| Envelope::new(Job::EnsureSubscriptions { mailbox: mailbox.clone() }))
        .collect();
    queue.enqueue(QueueName::Subscriptions, &jobs, Duration::ZERO).await.unwrap();
    // A process leased two of them and marked a pass, then died.
    let leased = queue.receive(QueueName::Subscriptions, 2, Duration::from_secs(300)).await;
    assert_eq!(leased.unwrap().len(), 2);
    let now = OffsetDateTime::now_utc();
    let stale = Duration::from_secs(600);
    let ticket = store.request_pass(&mailbox, Folder::Inbox, now, stale).await.unwrap();
    store.pass_queued(&mailbox, Folder::Inbox, ticket.unwrap(), now).await.unwrap();

    let (claim, recovered) = db.claim().await.unwrap();
    assert_eq!(recovered, Recovered { jobs: 2, pass_marks: 1 });
    let again = queue.receive(QueueName::Subscriptions, 10, Duration::from_secs(300)).await;
    assert_eq!(again.unwrap().len(), 3, "the two in flight are visible again, with the third");
    let ticket = store.request_pass(&mailbox, Folder::Inbox, now, stale).await.unwrap();
    store
        .pass_queued(&mailbox, Folder::Inbox, ticket.expect("the mark was cleared"), now)
        .await
        .unwrap();

    let refused = db.claim().await.unwrap_err();
    assert!(refused.message.contains("another exsync"), "{}", refused.message);
    drop(claim);
    let (_claim, recovered) = db.claim().await.unwrap();
    assert_eq!(recovered, Recovered { jobs: 3, pass_marks: 1 }, "the lock went with the claim");
}
