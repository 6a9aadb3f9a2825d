//! The DynamoDB request limiter: the limiter contract over instances that share one table
//! (each with its own client, as Lambda instances have), then what only it has: a crashed
//! instance's slots free themselves when their lease runs out, and a mailbox read page after
//! page costs one slot round trip, not one per request.

use std::{sync::Arc, time::Duration};

use aws_sdk_dynamodb::types::AttributeValue;
use exsync_shared::{
    adapters::aws::{DynamoLimiter, DynamoLimiterSettings},
    domain::{ClientId, MailboxAddress, ProfileName},
    ports::{LimitKey, RequestLimiter, SystemClock, contract::limiter::LimiterTwin},
};

use crate::{common::fresh_table, moto::Moto};

/// A short lease, so a crashed holder's slots come back within the test.
fn settings() -> DynamoLimiterSettings {
    DynamoLimiterSettings {
        lease: Duration::from_secs(3),
        reuse_margin: Duration::from_secs(1),
        linger: Duration::from_millis(100),
        patience: Duration::from_secs(10),
        first_backoff: Duration::from_millis(20),
    }
}

/// An instance over `table` with a client of its own.
async fn instance(table: &str, settings: DynamoLimiterSettings) -> Arc<DynamoLimiter> {
    let client = aws_sdk_dynamodb::Client::new(&Moto::shared().sdk_config().await);
    Arc::new(DynamoLimiter::with_settings(client, table, Arc::new(SystemClock), settings))
}

async fn twin() -> LimiterTwin {
    let table = fresh_table().await;
    let mut instances: Vec<Arc<dyn RequestLimiter>> = Vec::new();
    for _ in 0..2 {
        instances.push(instance(&table, settings()).await);
    }
    LimiterTwin { instances, guard: None }
}

mod contract {
    exsync_shared::limiter_contract!(super::twin());
}

fn key(local: &str, limit: u16) -> LimitKey {
    LimitKey {
        app: ClientId::parse("44444444-4444-4444-4444-444444444444").unwrap(),
        mailbox: MailboxAddress::parse(format!("{local}@limits.example")).unwrap(),
        profile: ProfileName::parse("limits").unwrap(),
        profile_limit: limit,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_instance_s_slots_free_themselves_when_the_lease_runs_out() {
    let table = fresh_table().await;
    let crashed = instance(&table, settings()).await;
    let alice = key("alice", 100);
    for _ in 0..4 {
        // Never dropped, never released: the instance died holding them.
        std::mem::forget(crashed.acquire(&alice).await.expect("a free slot"));
    }
    let survivor = instance(&table, settings()).await;
    let started = tokio::time::Instant::now();
    let permit = tokio::time::timeout(Duration::from_secs(15), survivor.acquire(&alice))
        .await
        .expect("served within the lease and the patience")
        .expect("a slot once the lease ran out");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(2),
        "the slots were taken until the lease ended: {waited:?}"
    );
    drop(permit);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiter_gives_up_after_its_patience_with_a_retry_after() {
    let table = fresh_table().await;
    let patient = DynamoLimiterSettings { patience: Duration::from_millis(500), ..settings() };
    let holder = instance(&table, settings()).await;
    let bob = key("bob", 100);
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(holder.acquire(&bob).await.expect("a free slot"));
    }
    let other = instance(&table, patient).await;
    let refused = other.acquire(&bob).await.expect_err("no slot within 0.5 s");
    assert!(refused.retry_after > Duration::ZERO);
    assert_eq!(refused.mailbox.as_str(), "bob@limits.example");
    drop(held);
}

/// Counts the slot items of the table (the limiter's writes land there).
async fn slot_items(table: &str) -> usize {
    let client = aws_sdk_dynamodb::Client::new(&Moto::shared().sdk_config().await);
    let scan = client
        .scan()
        .table_name(table)
        .filter_expression("begins_with(pk, :p)")
        .expression_attribute_values(":p", AttributeValue::S("limit#".into()))
        .send()
        .await
        .unwrap();
    scan.items.unwrap_or_default().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_one_after_another_reuse_the_lingering_slots_then_release_them() {
    let table = fresh_table().await;
    let slow_linger = DynamoLimiterSettings { linger: Duration::from_secs(1), ..settings() };
    let limiter = instance(&table, slow_linger).await;
    let carol = key("carol", 8);
    let first = limiter.acquire(&carol).await.unwrap();
    drop(first);
    assert_eq!(slot_items(&table).await, 2, "one mailbox slot and one profile slot");
    for _ in 0..10 {
        // A delta pass: page after page of one mailbox, each request taking what the last left.
        drop(limiter.acquire(&carol).await.unwrap());
    }
    assert_eq!(slot_items(&table).await, 2, "no new slot was taken");
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(slot_items(&table).await, 0, "released after the linger");
}
