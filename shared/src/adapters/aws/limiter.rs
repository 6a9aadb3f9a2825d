//! [`DynamoLimiter`]: Graph's request limits held across every Lambda instance (DESIGN
//! invariant 6; reference graph.md 9.1): 4 requests in flight per (app, mailbox) and the
//! profile's `max_concurrent_connections` across its mailboxes, whatever number of function
//! instances run at once.
//!
//! # Slots as leases
//!
//! Each limit is a set of slot items in the store's table: `pk` = `limit#mbx#{app}#{mailbox}`
//! (slots `0..4`) or `limit#profile#{profile}` (slots `0..limit`), `sk` = `slot#{n}`, with the
//! holder (`owner`, a random id) and `lease_until` (epoch milliseconds). A request takes one
//! slot of each limit in one `TransactWriteItems` of two conditional puts
//! (`attribute_not_exists(pk) OR lease_until < :now`), so it holds both or neither; a slot
//! whose lease ran out is free, which is how an instance that crashed or was frozen with slots
//! gives them back. The lease outlasts the Graph client's request timeout, so a live request
//! never loses its slot; `expires_at` lets TTL remove slots nobody uses any more.
//!
//! # Round trips kept out of the way
//!
//! - Per-instance caps first: a [`LocalLimiter`] gates every request before DynamoDB is asked,
//!   so an instance never asks for more slots than it could use; a request over its instance's
//!   share waits in memory.
//! - A finished request's slots linger in the instance for [`DynamoLimiterSettings::linger`]:
//!   the next request of the same mailbox (a delta pass reads page after page) takes them
//!   without a round trip. After the linger they are released (a conditional delete); an
//!   instance frozen meanwhile frees them by lease expiry.
//! - Waiting is bounded: attempts back off with jitter until
//!   [`DynamoLimiterSettings::patience`], then the request is refused with [`LimitError`],
//!   which the handlers turn into a throttled job (the queue waits, not the instance).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use rand::Rng;
use time::OffsetDateTime;
use tokio::time::Instant;

use super::{dynamo::TTL_ATTRIBUTE, error::classify};
use crate::ports::{
    Clock, LimitError, LimitKey, LocalLimiter, RequestLimiter, RequestPermit,
    limiter::MAILBOX_CONCURRENCY,
};

/// How the distributed limiter waits and holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DynamoLimiterSettings {
    /// How long a taken slot stays taken without its holder: longer than the Graph client's
    /// request timeout (60 s), so only a dead holder loses it.
    pub lease: Duration,
    /// The least lease left for a lingering slot to be used again (a request must finish
    /// before the lease ends).
    pub reuse_margin: Duration,
    /// How long a finished request's slots wait in the instance for the next request of the
    /// same mailbox before they are released.
    pub linger: Duration,
    /// How long a request may wait for slots before it is refused.
    pub patience: Duration,
    /// First backoff between attempts (doubling, with jitter, up to a second).
    pub first_backoff: Duration,
}

impl Default for DynamoLimiterSettings {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(90),
            reuse_margin: Duration::from_secs(70),
            linger: Duration::from_millis(250),
            patience: Duration::from_secs(10),
            first_backoff: Duration::from_millis(25),
        }
    }
}

/// Attempts (each one round trip) per backoff round.
const ATTEMPTS_PER_ROUND: u32 = 3;

/// The limiter over the store's DynamoDB table, shared by every instance.
#[derive(Debug, Clone)]
pub struct DynamoLimiter {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: aws_sdk_dynamodb::Client,
    table: String,
    clock: Arc<dyn Clock>,
    settings: DynamoLimiterSettings,
    local: LocalLimiter,
    idle: Mutex<HashMap<LimitKey, Vec<Lease>>>,
}

/// Two slots (the mailbox's and the profile's) held under one owner id.
#[derive(Debug, Clone)]
struct Lease {
    mailbox_slot: (String, String),
    profile_slot: (String, String),
    owner: String,
    until: OffsetDateTime,
}

impl DynamoLimiter {
    /// A limiter over `table` (the store's), with default settings.
    pub fn new(
        client: aws_sdk_dynamodb::Client,
        table: impl Into<String>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self::with_settings(client, table, clock, DynamoLimiterSettings::default())
    }

    /// A limiter with its own settings (tests shorten the lease).
    pub fn with_settings(
        client: aws_sdk_dynamodb::Client,
        table: impl Into<String>,
        clock: Arc<dyn Clock>,
        settings: DynamoLimiterSettings,
    ) -> Self {
        let inner = Inner {
            client,
            table: table.into(),
            clock,
            settings,
            local: LocalLimiter::new(),
            idle: Mutex::default(),
        };
        Self { inner: Arc::new(inner) }
    }

    /// The table named by `EXSYNC_TABLE_NAME`, with the SDK configured from the environment.
    pub async fn from_env(clock: Arc<dyn Clock>) -> Result<Self, super::env::MissingVariable> {
        let table = super::env::required(
            &super::env::process_env,
            super::env::TABLE_NAME,
            "the DynamoDB table name",
        )?;
        let client = aws_sdk_dynamodb::Client::new(&super::env::sdk_config().await);
        Ok(Self::new(client, table, clock))
    }
}

impl Inner {
    /// A lingering lease of `key` with enough time left, taken out of the idle pool.
    fn reuse(&self, key: &LimitKey) -> Option<Lease> {
        let least = self.clock.now() + self.settings.reuse_margin;
        let mut idle = self.idle.lock().expect("limiter lock");
        let leases = idle.get_mut(key)?;
        leases.retain(|l| l.until > self.clock.now());
        let at = leases.iter().position(|l| l.until >= least)?;
        Some(leases.swap_remove(at))
    }

    /// Every idle lease, taken out of the pool (to release them now).
    fn take_idle(&self) -> Vec<Lease> {
        self.idle.lock().expect("limiter lock").drain().flat_map(|(_, v)| v).collect()
    }

    /// One attempt at a fresh pair of slots: `Ok(None)` if a slot was taken.
    async fn try_take(&self, key: &LimitKey) -> Result<Option<Lease>, String> {
        let (mailbox_index, profile_index) = {
            let mut rng = rand::rng();
            (
                rng.random_range(0..MAILBOX_CONCURRENCY),
                rng.random_range(0..key.profile_limit.max(1)),
            )
        };
        let mailbox_slot =
            (format!("limit#mbx#{}#{}", key.app, key.mailbox), format!("slot#{mailbox_index}"));
        let profile_slot =
            (format!("limit#profile#{}", key.profile), format!("slot#{profile_index}"));
        let owner = uuid::Uuid::new_v4().simple().to_string();
        let now = self.clock.now();
        let until = now + self.settings.lease;
        let put = |slot: &(String, String)| {
            let item = HashMap::from([
                ("pk".to_string(), AttributeValue::S(slot.0.clone())),
                ("sk".to_string(), AttributeValue::S(slot.1.clone())),
                ("owner".to_string(), AttributeValue::S(owner.clone())),
                ("lease_until".to_string(), millis(until)),
                (
                    TTL_ATTRIBUTE.to_string(),
                    AttributeValue::N((until.unix_timestamp() + 1).to_string()),
                ),
            ]);
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk) OR lease_until < :now")
                .expression_attribute_values(":now", millis(now))
                .build()
                .expect("table and item are set");
            TransactWriteItem::builder().put(put).build()
        };
        let written = self
            .client
            .transact_write_items()
            .transact_items(put(&mailbox_slot))
            .transact_items(put(&profile_slot))
            .send()
            .await;
        match written {
            Ok(_) => Ok(Some(Lease { mailbox_slot, profile_slot, owner, until })),
            Err(e)
                if e.as_service_error().is_some_and(|s| s.is_transaction_canceled_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(classify("TransactWriteItems", &e).message),
        }
    }

    /// Gives both slots back, if they are still this lease's (an expired lease may have been
    /// taken over: the condition leaves the new holder's slot alone). Two deletes rather than
    /// one transaction: when one slot was taken over, the other must still be freed.
    async fn release(&self, lease: Lease) {
        for (pk, sk) in [&lease.mailbox_slot, &lease.profile_slot] {
            let sent = self
                .client
                .delete_item()
                .table_name(&self.table)
                .key("pk", AttributeValue::S(pk.clone()))
                .key("sk", AttributeValue::S(sk.clone()))
                .condition_expression("#owner = :owner")
                .expression_attribute_names("#owner", "owner")
                .expression_attribute_values(":owner", AttributeValue::S(lease.owner.clone()))
                .send()
                .await;
            if let Err(e) = sent
                && !e.as_service_error().is_some_and(|s| s.is_conditional_check_failed_exception())
            {
                // Not an error anyone must act on: the lease frees the slot when it runs out.
                let failure = classify("DeleteItem", &e);
                tracing::debug!(error = %failure.message, "could not release a request slot");
            }
        }
    }

    /// Waits (bounded) for a fresh pair of slots.
    async fn take(&self, key: &LimitKey) -> Result<Lease, LimitError> {
        let started = Instant::now();
        let mut backoff = self.settings.first_backoff;
        let refuse = |message: String| LimitError {
            mailbox: key.mailbox.clone(),
            message,
            retry_after: Duration::from_secs(2),
        };
        let mut flushed = false;
        loop {
            for _ in 0..ATTEMPTS_PER_ROUND {
                if let Some(lease) = self.try_take(key).await.map_err(refuse)? {
                    return Ok(lease);
                }
            }
            if !flushed {
                // This instance's own lingering slots may be what is in the way.
                flushed = true;
                for lease in self.take_idle() {
                    self.release(lease).await;
                }
                continue;
            }
            if started.elapsed() >= self.settings.patience {
                return Err(refuse(format!(
                    "every request slot of the mailbox or of profile {} stayed taken for {:?}",
                    key.profile, self.settings.patience
                )));
            }
            let jittered = backoff.mul_f64(0.5 + 0.5 * rand::rng().random::<f64>());
            tokio::time::sleep(jittered).await;
            backoff = (backoff * 2).min(Duration::from_secs(1));
        }
    }
}

fn millis(at: OffsetDateTime) -> AttributeValue {
    AttributeValue::N((at.unix_timestamp_nanos() / 1_000_000).to_string())
}

/// A held pair of slots; dropping it lets them linger, then releases them.
struct Held {
    inner: Arc<Inner>,
    key: LimitKey,
    lease: Option<Lease>,
}

impl Drop for Held {
    fn drop(&mut self) {
        let Some(lease) = self.lease.take() else { return };
        let owner = lease.owner.clone();
        self.inner
            .idle
            .lock()
            .expect("limiter lock")
            .entry(self.key.clone())
            .or_default()
            .push(lease);
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let (inner, key) = (self.inner.clone(), self.key.clone());
        runtime.spawn(async move {
            tokio::time::sleep(inner.settings.linger).await;
            let lease = {
                let mut idle = inner.idle.lock().expect("limiter lock");
                let leases = idle.get_mut(&key);
                leases.and_then(|l| {
                    l.iter().position(|x| x.owner == owner).map(|at| l.swap_remove(at))
                })
            };
            if let Some(lease) = lease {
                inner.release(lease).await;
            }
        });
    }
}

#[async_trait]
impl RequestLimiter for DynamoLimiter {
    async fn acquire(&self, key: &LimitKey) -> Result<RequestPermit, LimitError> {
        let inner = &self.inner;
        let local = inner.local.acquire(key).await?;
        let lease = match inner.reuse(key) {
            Some(lease) => lease,
            None => inner.take(key).await?,
        };
        let held = Held { inner: inner.clone(), key: key.clone(), lease: Some(lease) };
        // Dropped in this order: the slots go back to the pool before the local permit lets
        // the next request of this instance look for them.
        Ok(RequestPermit::new((held, local)))
    }
}
