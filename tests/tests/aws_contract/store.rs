//! What the DynamoDB twin adds to the store contract: conditional writes racing across
//! separate clients, pass items that never expire, guarded status updates, subscriptions kept twice.

use std::{sync::Arc, time::Duration};

use crate::moto::Moto;
use aws_sdk_dynamodb::types::{AttributeValue, TimeToLiveStatus};
use exsync_shared::{
    adapters::aws::{DynamoStore, dynamo::TTL_ATTRIBUTE},
    domain::{Folder, InternetMessageId, MailboxAddress, SubscriptionId},
    ports::{DedupeStore, PassStore, StatusStore, SubscriptionRecord, SubscriptionStore},
    secret::Secret,
    status::{Health, MailboxStatus, StatusEvent},
};
use futures::future::join_all;
use time::{OffsetDateTime, macros::datetime};
use uuid::Uuid;

use crate::common::{fresh_store, fresh_table, store_on};

const T0: OffsetDateTime = datetime!(2026-11-23 10:00 UTC);

fn mailbox(local: &str) -> MailboxAddress {
    MailboxAddress::parse(format!("{local}@aws.example")).unwrap()
}

/// Two stores over one table, each with its own client (two Lambda instances).
async fn two_writers() -> (Arc<DynamoStore>, Arc<DynamoStore>, String) {
    let table = fresh_table().await;
    (Arc::new(store_on(&table).await), Arc::new(store_on(&table).await), table)
}

async fn raw_item(
    table: &str,
    pk: &str,
    sk: &str,
) -> std::collections::HashMap<String, AttributeValue> {
    let client = aws_sdk_dynamodb::Client::new(&Moto::shared().sdk_config().await);
    client
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(pk.into()))
        .key("sk", AttributeValue::S(sk.into()))
        .send()
        .await
        .unwrap()
        .item
        .expect("the item exists")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_racing_on_one_message_id_leave_exactly_one_activity() {
    let (a, b, _) = two_writers().await;
    let message_id = InternetMessageId::parse("<race@aws.example>").unwrap();
    let candidates: Vec<Uuid> = (0..16).map(|_| Uuid::new_v4()).collect();
    let writes = candidates.iter().enumerate().map(|(i, activity)| {
        let store: Arc<dyn DedupeStore> = if i % 2 == 0 { a.clone() } else { b.clone() };
        let (message_id, activity) = (message_id.clone(), *activity);
        tokio::spawn(async move { store.record_activity(&message_id, activity).await })
    });
    for result in join_all(writes).await {
        result.unwrap().expect("a losing writer is not an error");
    }
    let winner = a.activity_of(&message_id).await.unwrap().expect("recorded");
    assert!(candidates.contains(&winner));
    assert_eq!(b.activity_of(&message_id).await.unwrap(), Some(winner), "both see the one winner");
    b.record_activity(&message_id, Uuid::new_v4()).await.unwrap();
    assert_eq!(a.activity_of(&message_id).await.unwrap(), Some(winner), "and it stays");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_racing_on_one_pass_item_get_distinct_tickets_and_then_join_one_mark() {
    let (a, b, _) = two_writers().await;
    let m = mailbox("racing-writers");
    let stale_after = Duration::from_secs(600);
    let requests = (0..20).map(|i| {
        let store: Arc<dyn PassStore> = if i % 2 == 0 { a.clone() } else { b.clone() };
        let m = m.clone();
        tokio::spawn(async move { store.request_pass(&m, Folder::Inbox, T0, stale_after).await })
    });
    let mut tickets: Vec<u64> =
        join_all(requests).await.into_iter().filter_map(|r| r.unwrap().unwrap()).collect();
    assert_eq!(tickets.len(), 20, "no mark yet: every request is told to enqueue");
    tickets.sort_unstable();
    assert_eq!(tickets, (1..=20).collect::<Vec<u64>>(), "one ticket each, in the item's order");
    a.pass_queued(&m, Folder::Inbox, 7, T0).await.unwrap();
    assert_eq!(b.request_pass(&m, Folder::Inbox, T0, stale_after).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mark_of_the_earlier_format_coalesces_nothing_and_loses_its_ttl() {
    let (store, _, table) = two_writers().await;
    let m = mailbox("earlier-format");
    let (pk, sk) = (format!("mbx#{m}"), "pass#sentitems");
    // As the previous version wrote it: a fresh mark whose job may have been lost.
    let client = aws_sdk_dynamodb::Client::new(&Moto::shared().sdk_config().await);
    let now = T0.unix_timestamp_nanos().to_string();
    let expires = (T0 + Duration::from_secs(600)).unix_timestamp().to_string();
    client
        .put_item()
        .table_name(&table)
        .item("pk", AttributeValue::S(pk.clone()))
        .item("sk", AttributeValue::S(sk.into()))
        .item("marked_at", AttributeValue::N(now))
        .item(TTL_ATTRIBUTE, AttributeValue::N(expires))
        .send()
        .await
        .unwrap();
    let stale_after = Duration::from_secs(600);
    let ticket = store.request_pass(&m, Folder::SentItems, T0, stale_after).await.unwrap();
    assert_eq!(ticket, Some(1));
    // The item keeps its tickets for good: TTL must never reset them.
    let item = raw_item(&table, &pk, sk).await;
    assert!(!item.contains_key(TTL_ATTRIBUTE) && !item.contains_key("marked_at"), "{item:?}");
    let client = aws_sdk_dynamodb::Client::new(&Moto::shared().sdk_config().await);
    let ttl = client.describe_time_to_live().table_name(&table).send().await.unwrap();
    let ttl = ttl.time_to_live_description.unwrap();
    assert_eq!(ttl.time_to_live_status, Some(TimeToLiveStatus::Enabled));
    assert_eq!(ttl.attribute_name.as_deref(), Some(TTL_ATTRIBUTE));
    assert_eq!(crate::moto::TTL_ATTRIBUTE, TTL_ATTRIBUTE, "the table is made as the adapter needs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_mailbox_keeps_its_health_while_its_counters_count() {
    let (store, _, table) = two_writers().await;
    let m = mailbox("disabled");
    store.report(&m, StatusEvent::PassSucceeded { emails: 1 }, T0).await.unwrap();
    let client = aws_sdk_dynamodb::Client::new(&Moto::shared().sdk_config().await);
    // An admin switched it off (written as the status item holds it).
    client
        .update_item()
        .table_name(&table)
        .key("pk", AttributeValue::S("status".into()))
        .key("sk", AttributeValue::S(format!("mbx#{m}")))
        .update_expression("SET health = :h, health_state = :s")
        .expression_attribute_values(":h", AttributeValue::S(r#"{"state":"disabled"}"#.into()))
        .expression_attribute_values(":s", AttributeValue::S("disabled".into()))
        .send()
        .await
        .unwrap();
    let later = T0 + Duration::from_secs(60);
    let failed =
        StatusEvent::Failed { reason: "Graph 503".into(), retryable: true, retry_at: None };
    store.report(&m, failed, later).await.unwrap();
    store.report(&m, StatusEvent::PassSucceeded { emails: 2 }, T0).await.unwrap();
    let status = store.status(&m).await.unwrap().unwrap();
    assert_eq!(status.health, Health::Disabled);
    assert_eq!(status.emails_seen, 3);
    assert_eq!(status.last_success, Some(T0), "a late report does not move it back");
    assert_eq!(status.updated_at, later);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_moved_to_another_mailbox_leaves_the_old_one() {
    let (store, _, table) = two_writers().await;
    let id = SubscriptionId::parse("sub-moved").unwrap();
    let mut record = SubscriptionRecord {
        id: id.clone(),
        mailbox: mailbox("first-owner"),
        folder: Folder::Inbox,
        expires_at: T0,
        client_state: Secret::new("client-state-never-printed"),
        shape: exsync_shared::ports::SubscriptionShape::Plain,
    };
    store.put_subscription(&record).await.unwrap();
    record.mailbox = mailbox("second-owner");
    store.put_subscription(&record).await.unwrap();
    assert!(store.subscriptions_of(&mailbox("first-owner")).await.unwrap().is_empty());
    assert_eq!(store.subscriptions_of(&mailbox("second-owner")).await.unwrap(), [record.clone()]);
    let item = raw_item(&table, "sub#sub-moved", "subscription").await;
    assert_eq!(
        item.get("client_state"),
        Some(&AttributeValue::S("client-state-never-printed".into()))
    );
    assert!(!item.contains_key(TTL_ATTRIBUTE), "a subscription never expires by TTL");
    assert!(!format!("{store:?} {record:?}").contains("never-printed"));
    store.delete_subscription(&id).await.unwrap();
    store.delete_subscription(&id).await.unwrap();
    assert!(store.subscriptions_of(&mailbox("second-owner")).await.unwrap().is_empty());
    assert_eq!(store.subscription(&id).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_updates_give_what_mailbox_status_apply_gives_for_the_same_events() {
    let store = fresh_store().await;
    let m = mailbox("parity");
    let at = |s: i64| T0 + time::Duration::seconds(s);
    let events = [
        (StatusEvent::EmailsWritten { created: 0, duplicate: 1 }, at(5)),
        (
            StatusEvent::Failed { reason: "Graph 503".into(), retryable: true, retry_at: None },
            at(10),
        ),
        (
            StatusEvent::Failed {
                reason: "Graph 503 again".into(),
                retryable: true,
                retry_at: None,
            },
            at(20),
        ),
        (StatusEvent::PassSucceeded { emails: 4 }, at(30)),
        (StatusEvent::EmailsWritten { created: 3, duplicate: 2 }, at(25)),
        (StatusEvent::Throttled { until: at(90) }, at(40)),
        (StatusEvent::PassSucceeded { emails: 1 }, at(35)),
        (
            StatusEvent::Failed {
                reason: "AADSTS7000215".into(),
                retryable: false,
                retry_at: Some(at(110)),
            },
            at(50),
        ),
        (StatusEvent::PassEnded { emails: 2 }, at(55)),
        (StatusEvent::Disabled, at(60)),
        (StatusEvent::PassSucceeded { emails: 2 }, at(65)),
        (StatusEvent::Enabled, at(70)),
        (
            StatusEvent::Failed {
                reason: "AADSTS7000222".into(),
                retryable: false,
                retry_at: Some(at(140)),
            },
            at(80),
        ),
        (StatusEvent::CatchingUp { emails: 3 }, at(85)),
        (
            StatusEvent::Failed { reason: "Graph 503".into(), retryable: true, retry_at: None },
            at(90),
        ),
        (StatusEvent::PassEnded { emails: 1 }, at(95)),
        (StatusEvent::Disabled, at(100)),
        (StatusEvent::PassEnded { emails: 1 }, at(105)),
    ];
    let mut expected: Option<MailboxStatus> = None;
    for (event, when) in events {
        store.report(&m, event.clone(), when).await.unwrap();
        expected.get_or_insert_with(|| MailboxStatus::new(m.clone(), when)).apply(event, when);
        assert_eq!(store.status(&m).await.unwrap(), expected, "after an event at {when}");
    }
}
