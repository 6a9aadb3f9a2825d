//! The pass-coalescing contract (`PassStore`): the races its protocol must survive.

use futures::future::join_all;
use time::{OffsetDateTime, macros::datetime};

use super::{StoreTwin, mailbox};
use crate::domain::Folder;

const T0: OffsetDateTime = datetime!(2026-11-23 10:00 UTC);
const STALE: std::time::Duration = std::time::Duration::from_secs(600);

fn at(seconds: i64) -> OffsetDateTime {
    T0 + time::Duration::seconds(seconds)
}

/// A burst of notifications before the pass begins costs one pass.
pub async fn a_pass_requested_twice_before_it_begins_is_queued_once(twin: StoreTwin) {
    let p = &twin.passes;
    let m = mailbox("burst");
    assert!(
        p.request_pass(&m, Folder::Inbox, at(0), STALE).await.expect("request"),
        "first queues"
    );
    for s in 1..5 {
        let queued = p.request_pass(&m, Folder::Inbox, at(s), STALE).await.expect("request");
        assert!(!queued, "a request while the pass is queued joins it");
    }
}

/// Once a pass began reading, a new change queues a new pass: the running one may have read
/// past it.
pub async fn a_request_after_a_pass_began_queues_another(twin: StoreTwin) {
    let p = &twin.passes;
    let m = mailbox("began");
    assert!(p.request_pass(&m, Folder::Inbox, at(0), STALE).await.expect("request"));
    p.begin_pass(&m, Folder::Inbox).await.expect("begin");
    assert!(
        p.request_pass(&m, Folder::Inbox, at(1), STALE).await.expect("request"),
        "queues another"
    );
    assert!(
        !p.request_pass(&m, Folder::Inbox, at(2), STALE).await.expect("request"),
        "and joins that"
    );
}

/// A mark whose job was lost stops coalescing after `stale_after`.
pub async fn a_stale_pass_mark_does_not_block_forever(twin: StoreTwin) {
    let p = &twin.passes;
    let m = mailbox("stale");
    assert!(p.request_pass(&m, Folder::Inbox, at(0), STALE).await.expect("request"));
    let just_before = at(STALE.as_secs() as i64 - 1);
    assert!(!p.request_pass(&m, Folder::Inbox, just_before, STALE).await.expect("request"));
    let stale = at(STALE.as_secs() as i64);
    assert!(p.request_pass(&m, Folder::Inbox, stale, STALE).await.expect("request"), "requeued");
    assert!(
        !p.request_pass(&m, Folder::Inbox, stale, STALE).await.expect("request"),
        "fresh again"
    );
}

/// A mark released after a failed enqueue does not swallow the retried trigger.
pub async fn a_released_mark_lets_the_next_request_queue_a_pass(twin: StoreTwin) {
    let p = &twin.passes;
    let m = mailbox("released");
    assert!(p.request_pass(&m, Folder::SentItems, at(0), STALE).await.expect("request"));
    p.release_pass(&m, Folder::SentItems).await.expect("release");
    assert!(p.request_pass(&m, Folder::SentItems, at(1), STALE).await.expect("request"));
}

/// Of many triggers racing for one folder, exactly one is told to enqueue.
pub async fn concurrent_requests_queue_exactly_one_pass(twin: StoreTwin) {
    let m = mailbox("racing");
    let requests = (0..20).map(|i| {
        let (p, m) = (twin.passes.clone(), m.clone());
        tokio::spawn(async move {
            p.request_pass(&m, Folder::Inbox, at(i), STALE).await.expect("request")
        })
    });
    let queued =
        join_all(requests).await.into_iter().filter(|r| *r.as_ref().expect("task")).count();
    assert_eq!(queued, 1);
}

/// Marks are per mailbox and folder.
pub async fn passes_of_different_folders_and_mailboxes_do_not_coalesce(twin: StoreTwin) {
    let p = &twin.passes;
    let (a, b) = (mailbox("folders-a"), mailbox("folders-b"));
    assert!(p.request_pass(&a, Folder::Inbox, at(0), STALE).await.expect("request"));
    assert!(p.request_pass(&a, Folder::SentItems, at(0), STALE).await.expect("request"));
    assert!(p.request_pass(&b, Folder::Inbox, at(0), STALE).await.expect("request"));
    p.begin_pass(&a, Folder::Inbox).await.expect("begin");
    assert!(!p.request_pass(&a, Folder::SentItems, at(1), STALE).await.expect("request"));
    assert!(!p.request_pass(&b, Folder::Inbox, at(1), STALE).await.expect("request"));
}
