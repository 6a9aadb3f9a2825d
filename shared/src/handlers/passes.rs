//! Asking for a folder pass, coalesced: a pass that is queued and not yet started will see
//! every change up to the moment it starts, so a second one is not enqueued.

use std::time::Duration;

use crate::{
    domain::{Folder, MailboxAddress},
    jobs::{Envelope, Job, QueueName, Trigger},
    ports::{Clock, JobQueue, PassStore, QueueError, StoreError},
};

/// A queued pass not started after this long is presumed lost and queued again. Longer than a
/// busy queue's wait, shorter than an admin's patience.
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
pub async fn request_pass(
    passes: &dyn PassStore,
    queue: &dyn JobQueue,
    clock: &dyn Clock,
    mailbox: &MailboxAddress,
    folder: Folder,
    trigger: Trigger,
) -> Result<bool, PassRequestError> {
    if !passes.request_pass(mailbox, folder, clock.now(), PASS_STALE_AFTER).await? {
        return Ok(false);
    }
    let job = Job::SyncFolder { mailbox: mailbox.clone(), folder, trigger };
    if let Err(error) =
        queue.enqueue(QueueName::Changes, &[Envelope::new(job)], Duration::ZERO).await
    {
        // Without the mark the retried trigger queues the pass, instead of coalescing into a
        // pass that was never queued.
        if let Err(release) = passes.release_pass(mailbox, folder).await {
            tracing::warn!(%release, %mailbox, %folder, "could not release the pass mark");
        }
        return Err(error.into());
    }
    Ok(true)
}
