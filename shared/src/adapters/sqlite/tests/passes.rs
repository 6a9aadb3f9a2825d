//! Asking for a pass when the asker is cancelled half-way (a handler past its deadline, a
//! notification POST whose sender hung up): the retried trigger must still get a pass.

use std::time::Duration;

use async_trait::async_trait;

use super::queue_and_store;
use crate::{
    domain::{Folder, MailboxAddress},
    handlers::passes::request_pass,
    jobs::{Envelope, Job, QueueName, Trigger},
    ports::{JobQueue, JobSource, QueueError, SystemClock},
};

/// A queue whose enqueue never answers, as SQS does for a caller that is dropped first.
#[derive(Debug)]
struct Stalled;

#[async_trait]
impl JobQueue for Stalled {
    async fn enqueue(&self, _: QueueName, _: &[Envelope], _: Duration) -> Result<(), QueueError> {
        std::future::pending().await
    }
}

#[tokio::test]
async fn a_request_cancelled_before_its_enqueue_does_not_swallow_the_retried_trigger() {
    let (queue, store, _dir) = queue_and_store();
    let mailbox = MailboxAddress::parse("ivan@fabrikam.example").unwrap();
    let (m, f, t) = (&mailbox, Folder::Inbox, Trigger::Notification);
    // The first attempt is dropped while it enqueues: no job exists.
    let first = request_pass(&store, &Stalled, &SystemClock, m, f, t);
    assert!(tokio::time::timeout(Duration::from_millis(200), first).await.is_err());
    // Graph delivers the notification again (or the job is retried): a pass is queued.
    let queued = request_pass(&store, &queue, &SystemClock, m, f, t).await.expect("requested");
    assert!(queued, "the retried trigger queues the pass its cancelled attempt never queued");
    let jobs = queue.receive(QueueName::Changes, 10, Duration::from_secs(60)).await.unwrap();
    assert_eq!(jobs.len(), 1);
    let job = Envelope::from_body(&jobs[0].body).unwrap();
    assert!(matches!(job.job(), Job::SyncFolder { folder: Folder::Inbox, .. }), "{job:?}");
    // Later triggers join that queued pass.
    assert!(!request_pass(&store, &queue, &SystemClock, m, f, t).await.unwrap());
}
