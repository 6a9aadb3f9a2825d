//! Waiting for exsync's queues to go quiet, for end-to-end tests on either queue twin.

use std::time::Duration;

use exsync_shared::{jobs::QueueName, ports::QueueDepths};

/// Waits until the changes and writes queues hold nothing (ready, in flight or delayed) for
/// `settle`, looking every tenth of it; panics after `limit`.
pub async fn until_quiet(queues: &dyn QueueDepths, settle: Duration, limit: Duration) {
    let deadline = tokio::time::Instant::now() + limit;
    let mut quiet_since = None;
    loop {
        let mut idle = true;
        for queue in [QueueName::Changes, QueueName::Writes] {
            idle &= queues.depth(queue).await.expect("depth").is_idle();
        }
        let now = tokio::time::Instant::now();
        match (idle, quiet_since) {
            (true, Some(since)) if now - since >= settle => return,
            (true, None) => quiet_since = Some(now),
            (true, Some(_)) => {}
            (false, _) => quiet_since = None,
        }
        assert!(now < deadline, "the queues did not settle within {} s", limit.as_secs());
        tokio::time::sleep(settle / 10).await;
    }
}
