//! The store contract: subscriptions, cursors, de-duplication, status.

use std::sync::Arc;

use futures::future::join_all;
use time::{Duration, OffsetDateTime, macros::datetime};

use super::{StoreTwin, mailbox};
use crate::{
    domain::{Folder, InternetMessageId, RecordId, SubscriptionId},
    ports::{DeltaCursor, SubscriptionRecord, SubscriptionShape},
    secret::Secret,
    status::{Health, StatusEvent},
};

const T0: OffsetDateTime = datetime!(2026-11-23 10:00:00.123 UTC);

fn subscription(id: &str, local: &str, folder: Folder) -> SubscriptionRecord {
    SubscriptionRecord {
        id: SubscriptionId::parse(id).expect("id"),
        mailbox: mailbox(local),
        folder,
        expires_at: T0 + Duration::days(3),
        client_state: Secret::new(format!("client-state-of-{id}")),
        shape: SubscriptionShape::Plain,
    }
}

/// A subscription is found by its id and among its mailbox's, with its clientState, until it
/// is deleted (twice is fine).
pub async fn a_subscription_is_found_by_id_and_by_mailbox_until_deleted(twin: StoreTwin) {
    let s = &twin.subscriptions;
    let inbox = subscription("sub-inbox", "subs", Folder::Inbox);
    let sent = SubscriptionRecord {
        shape: SubscriptionShape::Rich { certificate_id: "cert-2026".into() },
        ..subscription("sub-sent", "subs", Folder::SentItems)
    };
    let other = subscription("sub-other", "others", Folder::Inbox);
    for record in [&inbox, &sent, &other] {
        s.put_subscription(record).await.expect("put");
    }
    let found = s.subscription(&inbox.id).await.expect("get").expect("found");
    assert_eq!(found, inbox);
    assert_eq!(found.client_state.expose(), "client-state-of-sub-inbox");
    let mut of_mailbox = s.subscriptions_of(&inbox.mailbox).await.expect("list");
    of_mailbox.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(of_mailbox, vec![inbox.clone(), sent.clone()]);
    s.delete_subscription(&inbox.id).await.expect("delete");
    s.delete_subscription(&inbox.id).await.expect("delete again");
    assert_eq!(s.subscription(&inbox.id).await.expect("get"), None);
    assert_eq!(s.subscriptions_of(&inbox.mailbox).await.expect("list"), vec![sent]);
}

/// Putting a subscription again (renewed, reauthorized) replaces it.
pub async fn a_subscription_put_again_replaces_the_old_one(twin: StoreTwin) {
    let s = &twin.subscriptions;
    let first = subscription("sub-renewed", "renewed", Folder::Inbox);
    s.put_subscription(&first).await.expect("put");
    let renewed = SubscriptionRecord {
        expires_at: first.expires_at + Duration::days(2),
        client_state: Secret::new("rotated"),
        shape: SubscriptionShape::Rich { certificate_id: "cert-rotated".into() },
        ..first.clone()
    };
    s.put_subscription(&renewed).await.expect("put again");
    assert_eq!(s.subscription(&first.id).await.expect("get"), Some(renewed.clone()));
    assert_eq!(s.subscriptions_of(&first.mailbox).await.expect("list"), vec![renewed]);
}

/// A folder's cursor goes from a nextLink (mid-pass) to a deltaLink, and can be forgotten.
pub async fn a_cursor_moves_from_next_to_delta_and_can_be_cleared(twin: StoreTwin) {
    let c = &twin.cursors;
    let m = mailbox("cursor");
    assert_eq!(c.cursor(&m, Folder::Inbox).await.expect("get"), None);
    let next = DeltaCursor::Next("https://graph.example/v1.0/next?$skiptoken=a".into());
    c.put_cursor(&m, Folder::Inbox, &next).await.expect("put");
    assert_eq!(c.cursor(&m, Folder::Inbox).await.expect("get"), Some(next));
    let delta = DeltaCursor::Delta("https://graph.example/v1.0/delta?$deltatoken=b".into());
    c.put_cursor(&m, Folder::Inbox, &delta).await.expect("put");
    assert_eq!(c.cursor(&m, Folder::Inbox).await.expect("get"), Some(delta));
    c.clear_cursor(&m, Folder::Inbox).await.expect("clear");
    c.clear_cursor(&m, Folder::Inbox).await.expect("clear again");
    assert_eq!(c.cursor(&m, Folder::Inbox).await.expect("get"), None);
}

/// Cursors of different folders and mailboxes are independent.
pub async fn cursors_are_kept_per_mailbox_and_folder(twin: StoreTwin) {
    let c = &twin.cursors;
    let (a, b) = (mailbox("cursor-a"), mailbox("cursor-b"));
    let cursor = |s: &str| DeltaCursor::Delta(format!("https://graph.example/{s}"));
    c.put_cursor(&a, Folder::Inbox, &cursor("a-inbox")).await.expect("put");
    c.put_cursor(&a, Folder::SentItems, &cursor("a-sent")).await.expect("put");
    c.put_cursor(&b, Folder::Inbox, &cursor("b-inbox")).await.expect("put");
    c.clear_cursor(&a, Folder::Inbox).await.expect("clear");
    assert_eq!(c.cursor(&a, Folder::Inbox).await.expect("get"), None);
    assert_eq!(c.cursor(&a, Folder::SentItems).await.expect("get"), Some(cursor("a-sent")));
    assert_eq!(c.cursor(&b, Folder::Inbox).await.expect("get"), Some(cursor("b-inbox")));
}

/// One email seen by two mailboxes is one activity: the first record stands.
pub async fn the_first_activity_recorded_for_a_message_id_wins(twin: StoreTwin) {
    let d = &twin.dedupe;
    let id = InternetMessageId::parse("<first-wins@contract.example>").expect("id");
    assert_eq!(d.activity_of(&id).await.expect("get"), None);
    let (first, second) = (RecordId::from_u128(1), RecordId::from_u128(2));
    d.record_activity(&id, first).await.expect("record");
    d.record_activity(&id, second).await.expect("record again is not an error");
    assert_eq!(d.activity_of(&id).await.expect("get"), Some(first));
}

/// A batch of look-ups answers each Message-ID in order; a batch of records keeps the first
/// record of each, old or new.
pub async fn activities_are_looked_up_and_recorded_a_batch_at_a_time(twin: StoreTwin) {
    let d = &twin.dedupe;
    let id =
        |n: u32| InternetMessageId::parse(format!("<batch-{n}@contract.example>")).expect("id");
    let (one, two, three) =
        (RecordId::from_u128(11), RecordId::from_u128(12), RecordId::from_u128(13));
    d.record_activity(&id(2), two).await.expect("record");
    assert_eq!(d.activities_of(&[]).await.expect("none"), vec![]);
    let ids = [id(1), id(2), id(3)];
    assert_eq!(d.activities_of(&ids).await.expect("get"), vec![None, Some(two), None]);
    let records = [(id(1), one), (id(2), RecordId::from_u128(99)), (id(3), three), (id(1), three)];
    d.record_activities(&records).await.expect("record a batch");
    d.record_activities(&[]).await.expect("record nothing");
    assert_eq!(d.activities_of(&ids).await.expect("get"), vec![Some(one), Some(two), Some(three)]);
    assert_eq!(d.activity_of(&id(3)).await.expect("get"), Some(three));
}

/// Writers racing on one Message-ID all read back the same single winner.
pub async fn concurrent_records_of_one_message_id_agree_on_one_activity(twin: StoreTwin) {
    let id = InternetMessageId::parse("<race@contract.example>").expect("id");
    let d = twin.dedupe.clone();
    let recorded = join_all((1..=20u128).map(|n| {
        let (d, id) = (d.clone(), id.clone());
        tokio::spawn(async move {
            d.record_activity(&id, RecordId::from_u128(n)).await.expect("record");
            d.activity_of(&id).await.expect("get").expect("found")
        })
    }))
    .await;
    let winners: Vec<RecordId> = recorded.into_iter().map(|r| r.expect("task")).collect();
    assert!(winners.windows(2).all(|w| w[0] == w[1]), "one winner: {winners:?}");
}

/// Counters are added atomically by concurrent workers.
pub async fn status_counters_add_up_under_concurrent_reports(twin: StoreTwin) {
    let status = twin.status.clone();
    let m = Arc::new(mailbox("counted"));
    let reports = (0..80u64).map(|i| {
        let (status, m) = (status.clone(), m.clone());
        let event = match i % 4 {
            0 => StatusEvent::PassSucceeded { emails: 2 },
            1 => StatusEvent::EmailsWritten { created: 1, duplicate: 2 },
            2 => StatusEvent::EmailsWritten { created: 0, duplicate: 1 },
            _ => StatusEvent::EmailsSkipped { emails: 3 },
        };
        tokio::spawn(async move { status.report(&m, event, T0).await.expect("report") })
    });
    for done in join_all(reports).await {
        done.expect("task");
    }
    let s = twin.status.status(&m).await.expect("get").expect("found");
    assert_eq!((s.emails_seen, s.emails_written, s.emails_duplicate), (40, 20, 60));
    assert_eq!(s.emails_skipped, 60);
    assert_eq!(s.health, Health::Healthy);
}

/// Failures count and explain; throttling says until when; a successful pass heals.
pub async fn health_follows_failures_throttling_and_success(twin: StoreTwin) {
    let s = &twin.status;
    let m = mailbox("health");
    assert_eq!(s.status(&m).await.expect("get"), None, "nothing reported yet");
    let reason = "AADSTS7000222: the client secret of profile fabrikam expired";
    let probe = T0 + Duration::minutes(1);
    for _ in 0..2 {
        let failed =
            StatusEvent::Failed { reason: reason.into(), retryable: false, retry_at: Some(probe) };
        s.report(&m, failed, T0).await.expect("report");
    }
    let failing = s.status(&m).await.expect("get").expect("found");
    assert_eq!(failing.health, Health::Failing { reason: reason.into(), retryable: false });
    assert_eq!(failing.consecutive_failures, 2);
    assert_eq!(failing.last_success, None);
    assert_eq!(failing.next_retry, Some(probe), "a parked mailbox keeps its next probe");
    let until = T0 + Duration::minutes(5);
    s.report(&m, StatusEvent::Throttled { until }, T0).await.expect("report");
    assert_eq!(
        s.status(&m).await.expect("get").expect("found").health,
        Health::Throttled { until }
    );
    let later = T0 + Duration::minutes(6);
    s.report(&m, StatusEvent::PassSucceeded { emails: 0 }, later).await.expect("report");
    let healthy = s.status(&m).await.expect("get").expect("found");
    assert_eq!(healthy.health, Health::Healthy);
    assert_eq!(healthy.consecutive_failures, 0);
    assert_eq!(healthy.last_success, Some(later));
    assert_eq!(healthy.updated_at, later);
    assert_eq!(healthy.next_retry, None, "a success clears the probe");
}

/// Each report answers the health just before it, so one worker sees each transition.
pub async fn a_report_answers_the_health_before_it(twin: StoreTwin) {
    let s = &twin.status;
    let m = mailbox("before");
    let parked = |reason: &str| StatusEvent::Failed {
        reason: reason.into(),
        retryable: false,
        retry_at: Some(T0 + Duration::minutes(1)),
    };
    assert_eq!(s.report(&m, parked("AADSTS7000222"), T0).await.expect("report"), None);
    let before = s.report(&m, parked("AADSTS7000222 again"), T0).await.expect("report");
    assert!(before.is_some_and(|h| h.is_parked()), "the second park sees the first");
    let before = s.report(&m, StatusEvent::PassSucceeded { emails: 1 }, T0).await.expect("report");
    assert_eq!(
        before,
        Some(Health::Failing { reason: "AADSTS7000222 again".into(), retryable: false })
    );
}

/// A pass that began before a park does not heal it (its emails and success still count); one
/// that began as its probe does; a pass ending heals a failure that was not a park.
pub async fn only_a_probe_heals_a_park(twin: StoreTwin) {
    let s = &twin.status;
    let m = mailbox("probed");
    let probe = T0 + Duration::minutes(1);
    let reason = "AADSTS7000222: the client secret has expired";
    let parked =
        StatusEvent::Failed { reason: reason.into(), retryable: false, retry_at: Some(probe) };
    s.report(&m, parked, T0).await.expect("park");
    let ended = T0 + Duration::seconds(1);
    s.report(&m, StatusEvent::PassEnded { emails: 3 }, ended).await.expect("report");
    let still = s.status(&m).await.expect("get").expect("found");
    assert_eq!(still.health, Health::Failing { reason: reason.into(), retryable: false });
    assert_eq!((still.consecutive_failures, still.next_retry), (1, Some(probe)));
    assert_eq!((still.emails_seen, still.last_success), (3, Some(ended)));
    s.report(&m, StatusEvent::PassSucceeded { emails: 0 }, probe).await.expect("probe");
    let healed = s.status(&m).await.expect("get").expect("found");
    assert_eq!((healed.health, healed.consecutive_failures), (Health::Healthy, 0));
    assert_eq!(healed.next_retry, None);
    let outage =
        StatusEvent::Failed { reason: "Graph 503".into(), retryable: true, retry_at: None };
    s.report(&m, outage, probe).await.expect("report");
    s.report(&m, StatusEvent::PassEnded { emails: 1 }, probe).await.expect("report");
    let healthy = s.status(&m).await.expect("get").expect("found");
    assert_eq!((healthy.health, healthy.consecutive_failures), (Health::Healthy, 0));
}

/// The admin's switch: disabled whatever the health, and kept through the reports of jobs in
/// flight; enabled starts over as pending with no failures and no park.
pub async fn the_admin_disables_and_enables_a_mailbox_whatever_its_health(twin: StoreTwin) {
    let s = &twin.status;
    let m = mailbox("switched");
    let parked = StatusEvent::Failed {
        reason: "AADSTS7000215".into(),
        retryable: false,
        retry_at: Some(T0 + Duration::minutes(1)),
    };
    s.report(&m, parked, T0).await.expect("report");
    s.report(&m, StatusEvent::Disabled, T0 + Duration::seconds(1)).await.expect("disable");
    let in_flight = StatusEvent::PassSucceeded { emails: 2 };
    s.report(&m, in_flight, T0 + Duration::seconds(2)).await.expect("report");
    let disabled = s.status(&m).await.expect("get").expect("found");
    assert_eq!((disabled.health, disabled.emails_seen), (Health::Disabled, 2));
    let enabled_at = T0 + Duration::seconds(3);
    let before = s.report(&m, StatusEvent::Enabled, enabled_at).await.expect("enable");
    assert_eq!(before, Some(Health::Disabled));
    let enabled = s.status(&m).await.expect("get").expect("found");
    assert_eq!(enabled.health, Health::Pending);
    assert_eq!((enabled.consecutive_failures, enabled.next_retry), (0, None));
    assert_eq!(enabled.updated_at, enabled_at);
    let fresh = mailbox("disabled-first");
    s.report(&fresh, StatusEvent::Disabled, T0).await.expect("disable an unknown mailbox");
    assert_eq!(s.status(&fresh).await.expect("get").expect("found").health, Health::Disabled);
}

/// Every mailbox that was reported on is listed.
pub async fn statuses_lists_every_reported_mailbox(twin: StoreTwin) {
    let s = &twin.status;
    for local in ["listed-b", "listed-a"] {
        s.report(&mailbox(local), StatusEvent::PassSucceeded { emails: 1 }, T0)
            .await
            .expect("report");
    }
    let mut listed: Vec<String> =
        s.statuses().await.expect("list").into_iter().map(|s| s.mailbox.to_string()).collect();
    listed.sort();
    assert_eq!(listed, ["listed-a@contract.example", "listed-b@contract.example"]);
}
