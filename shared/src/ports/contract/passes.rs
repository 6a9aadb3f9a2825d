//! The pass-coalescing contract (`PassStore`): the races and interruptions its protocol must
//! survive. The rule under test: a request joins a mark only while the mark's job was enqueued
//! and has not begun; anything else gets a ticket (and enqueues a pass).

use futures::future::join_all;
use time::{OffsetDateTime, macros::datetime};

use super::{StoreTwin, mailbox};
use crate::{domain::Folder, domain::MailboxAddress, ports::PassStore};

const T0: OffsetDateTime = datetime!(2026-11-23 10:00 UTC);
const STALE: std::time::Duration = std::time::Duration::from_secs(600);

fn at(seconds: i64) -> OffsetDateTime {
    T0 + time::Duration::seconds(seconds)
}

/// A request that gets a ticket, as `handlers::passes::request_pass` does: the job is
/// enqueued (here: assumed), then reported queued. Returns the ticket.
async fn queue_pass(p: &dyn PassStore, m: &MailboxAddress, folder: Folder, now: i64) -> u64 {
    let ticket = p.request_pass(m, folder, at(now), STALE).await.expect("request");
    let ticket = ticket.expect("no pass is queued: a ticket");
    assert!(ticket > 0, "tickets start at 1");
    p.pass_queued(m, folder, ticket, at(now)).await.expect("queued");
    ticket
}

async fn joins(p: &dyn PassStore, m: &MailboxAddress, folder: Folder, now: i64) -> bool {
    p.request_pass(m, folder, at(now), STALE).await.expect("request").is_none()
}

/// A burst of notifications before the pass begins costs one pass.
pub async fn a_pass_requested_twice_before_it_begins_is_queued_once(twin: StoreTwin) {
    let p = &*twin.passes;
    let m = mailbox("burst");
    queue_pass(p, &m, Folder::Inbox, 0).await;
    for s in 1..5 {
        assert!(
            joins(p, &m, Folder::Inbox, s).await,
            "a request while the pass is queued joins it"
        );
    }
}

/// Once a pass began reading, a new change queues a new pass: the running one may have read
/// past it.
pub async fn a_request_after_a_pass_began_queues_another(twin: StoreTwin) {
    let p = &*twin.passes;
    let m = mailbox("began");
    let first = queue_pass(p, &m, Folder::Inbox, 0).await;
    p.begin_pass(&m, Folder::Inbox, first).await.expect("begin");
    let second = queue_pass(p, &m, Folder::Inbox, 1).await;
    assert!(second > first, "tickets grow");
    assert!(joins(p, &m, Folder::Inbox, 2).await, "and joins that");
}

/// A mark whose job was lost after all (dead-lettered before it began) stops coalescing
/// `stale_after` after its job was enqueued.
pub async fn a_stale_pass_mark_does_not_block_forever(twin: StoreTwin) {
    let p = &*twin.passes;
    let m = mailbox("stale");
    let ticket = p.request_pass(&m, Folder::Inbox, at(0), STALE).await.expect("request");
    // The enqueue took a while: the clock starts when the job is queued.
    p.pass_queued(&m, Folder::Inbox, ticket.expect("a ticket"), at(30)).await.expect("queued");
    let just_before = STALE.as_secs() as i64 + 29;
    assert!(joins(p, &m, Folder::Inbox, just_before).await);
    queue_pass(p, &m, Folder::Inbox, just_before + 1).await;
    assert!(joins(p, &m, Folder::Inbox, just_before + 1).await, "fresh again");
}

/// The lost wakeup of issue 5: a trigger got its ticket and was cancelled (a handler past its
/// deadline, a notification POST whose sender hung up) before its job was enqueued. No mark
/// may be left that the retried trigger would join.
pub async fn a_request_that_never_enqueued_leaves_no_mark(twin: StoreTwin) {
    let p = &*twin.passes;
    let m = mailbox("cancelled");
    let abandoned = p.request_pass(&m, Folder::Inbox, at(0), STALE).await.expect("request");
    assert!(abandoned.is_some());
    let retried = queue_pass(p, &m, Folder::Inbox, 1).await;
    assert!(Some(retried) > abandoned, "the retry gets a ticket of its own");
    assert!(joins(p, &m, Folder::Inbox, 2).await);
}

/// A job runs as soon as it is enqueued, possibly before its trigger reports it queued (or
/// the report is delayed, or retried by the SDK): a mark written for a pass that already
/// began would swallow every later change.
pub async fn a_mark_for_a_pass_that_already_began_is_refused(twin: StoreTwin) {
    let p = &*twin.passes;
    let m = mailbox("late-mark");
    let ticket = p.request_pass(&m, Folder::Inbox, at(0), STALE).await.expect("request");
    let ticket = ticket.expect("a ticket");
    p.begin_pass(&m, Folder::Inbox, ticket).await.expect("begin");
    p.pass_queued(&m, Folder::Inbox, ticket, at(1)).await.expect("late report");
    queue_pass(p, &m, Folder::Inbox, 2).await;

    // Nor for an earlier ticket, once a later pass began (its reads cover both triggers).
    let m = mailbox("overtaken");
    let early = p.request_pass(&m, Folder::Inbox, at(0), STALE).await.expect("request");
    let late = p.request_pass(&m, Folder::Inbox, at(0), STALE).await.expect("request");
    let (early, late) = (early.expect("a ticket"), late.expect("a ticket"));
    assert!(late > early);
    p.pass_queued(&m, Folder::Inbox, late, at(0)).await.expect("queued");
    p.begin_pass(&m, Folder::Inbox, late).await.expect("begin");
    p.pass_queued(&m, Folder::Inbox, early, at(1)).await.expect("late report");
    queue_pass(p, &m, Folder::Inbox, 2).await;
}

/// A duplicate of an older pass (SQS delivered its job again) beginning late leaves the mark
/// of a newer queued pass alone; a pass of no ticket clears any mark.
pub async fn an_older_pass_beginning_late_leaves_a_newer_mark(twin: StoreTwin) {
    let p = &*twin.passes;
    let m = mailbox("duplicate");
    let old = queue_pass(p, &m, Folder::Inbox, 0).await;
    p.begin_pass(&m, Folder::Inbox, old).await.expect("begin");
    let newer = queue_pass(p, &m, Folder::Inbox, 1).await;
    let newest = {
        p.begin_pass(&m, Folder::Inbox, newer).await.expect("begin");
        queue_pass(p, &m, Folder::Inbox, 2).await
    };
    assert!(newest > newer);
    p.begin_pass(&m, Folder::Inbox, old).await.expect("the duplicate begins");
    assert!(joins(p, &m, Folder::Inbox, 3).await, "the newest pass is still queued");
    p.begin_pass(&m, Folder::Inbox, 0).await.expect("a pass of no ticket");
    queue_pass(p, &m, Folder::Inbox, 4).await;
}

/// Of triggers racing for one folder, each told to enqueue has a ticket of its own; once one
/// of them reports its pass queued, the rest join it.
pub async fn concurrent_requests_get_distinct_tickets_and_then_join(twin: StoreTwin) {
    let m = mailbox("racing");
    let requests = (0..20).map(|i| {
        let (p, m) = (twin.passes.clone(), m.clone());
        tokio::spawn(async move {
            p.request_pass(&m, Folder::Inbox, at(i), STALE).await.expect("request")
        })
    });
    let mut tickets: Vec<u64> =
        join_all(requests).await.into_iter().filter_map(|r| r.expect("task")).collect();
    let issued = tickets.len();
    tickets.sort_unstable();
    tickets.dedup();
    assert_eq!(tickets.len(), issued, "no ticket twice");
    let p = &*twin.passes;
    p.pass_queued(&m, Folder::Inbox, tickets[0], at(20)).await.expect("queued");
    assert!(joins(p, &m, Folder::Inbox, 21).await);
}

/// Marks are per mailbox and folder.
pub async fn passes_of_different_folders_and_mailboxes_do_not_coalesce(twin: StoreTwin) {
    let p = &*twin.passes;
    let (a, b) = (mailbox("folders-a"), mailbox("folders-b"));
    let inbox = queue_pass(p, &a, Folder::Inbox, 0).await;
    queue_pass(p, &a, Folder::SentItems, 0).await;
    queue_pass(p, &b, Folder::Inbox, 0).await;
    p.begin_pass(&a, Folder::Inbox, inbox).await.expect("begin");
    assert!(joins(p, &a, Folder::SentItems, 1).await);
    assert!(joins(p, &b, Folder::Inbox, 1).await);
    queue_pass(p, &a, Folder::Inbox, 1).await;
}
