//! Asking for a folder pass, coalesced: a pass that is queued and not yet started will see
//! every change up to the moment it starts, so a second one is not enqueued.

use std::time::Duration;

use crate::{
    domain::{Folder, MailboxAddress},
    jobs::{Envelope, Job, QueueName, Trigger},
    ports::{Clock, JobQueue, PassStore, QueueError, StoreError},
};

/// A queued pass not started this long after its job was enqueued is presumed lost (its job
/// was dead-lettered before it began) and queued again. Longer than a busy queue's wait,
/// shorter than an admin's patience.
pub const PASS_STALE_AFTER: Duration = Duration::from_secs(10 * 60);

/// Why a pass could not be requested.
#[derive(Debug, thiserror::Error)]
pub enum PassRequestError {
    /// The pass mark could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The job could not be enqueued.
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// Makes sure a pass of `folder` is queued; returns whether this call enqueued it.
///
/// Safe to cancel or to fail at any point (see [`PassStore`]): the mark that makes later
/// triggers join this pass is written only once its job is enqueued.
pub async fn request_pass(
    passes: &dyn PassStore,
    queue: &dyn JobQueue,
    clock: &dyn Clock,
    mailbox: &MailboxAddress,
    folder: Folder,
    trigger: Trigger,
) -> Result<bool, PassRequestError> {
    let Some(ticket) = passes.request_pass(mailbox, folder, clock.now(), PASS_STALE_AFTER).await?
    else {
        return Ok(false);
    };
    let job = Job::SyncFolder { mailbox: mailbox.clone(), folder, trigger, ticket };
    queue.enqueue(QueueName::Changes, &[Envelope::new(job)], Duration::ZERO).await?;
    if let Err(error) = passes.pass_queued(mailbox, folder, ticket, clock.now()).await {
        // The pass is queued all the same; until a mark holds, triggers queue their own.
        tracing::warn!(%error, %mailbox, %folder, "could not mark the queued pass");
    }
    Ok(true)
}
