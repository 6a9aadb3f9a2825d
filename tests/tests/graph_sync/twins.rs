//! In-memory twins of the ports (the SQLite ones live on another branch), a token service
//! minting simulator tokens, and a limiter that measures what it hands out.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use exsync_shared::{
    domain::{Folder, MailboxAddress, SubscriptionId},
    jobs::{Envelope, Job, QueueName, Trigger},
    model::EmailRecord,
    ports::{
        AccessToken, CredentialKey, CursorStore, DeltaCursor, JobQueue, LimitError, LimitKey,
        LocalLimiter, PassStore, QueueError, RequestLimiter, RequestPermit, Resource, StatusStore,
        StoreError, SubscriptionRecord, SubscriptionStore, TokenError, Tokens,
    },
    secret::Secret,
    status::{Health, MailboxStatus, StatusEvent},
};
use exsync_sim::{
    auth::{TokenSpec, mint},
    clock::SimClock,
    jwt::SigningKey,
};
use time::OffsetDateTime;

use super::common::{APP, AUDIENCE, TENANT};

/// Tokens minted as the Entra simulator would, for the app of the profile.
#[derive(Debug)]
pub struct SimTokens {
    pub key: Arc<SigningKey>,
    pub clock: SimClock,
    pub roles: Mutex<Vec<String>>,
    /// Audiences of the next tokens, used before `AUDIENCE` (to provoke 401s).
    pub bad_audiences: Mutex<Vec<String>>,
    pub issued: AtomicUsize,
    pub refreshed: AtomicUsize,
    /// What the token service answers instead of a token.
    pub fail_with: Mutex<Option<TokenError>>,
}

impl SimTokens {
    fn mint(&self) -> AccessToken {
        self.issued.fetch_add(1, Ordering::SeqCst);
        let audience = {
            let mut bad = self.bad_audiences.lock().unwrap();
            if bad.is_empty() { AUDIENCE.to_string() } else { bad.remove(0) }
        };
        let spec = TokenSpec {
            tenant_id: TENANT.into(),
            app_id: APP.into(),
            object_id: "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e55".into(),
            audience,
            roles: self.roles.lock().unwrap().clone(),
            issued_at: self.clock.unix(),
            lifetime_secs: 3599,
            appidacr: "1",
        };
        AccessToken {
            token: Secret::new(mint(&self.key, &spec)),
            expires_at: self.clock.now() + Duration::from_secs(3599),
        }
    }
}

#[async_trait]
impl Tokens for SimTokens {
    async fn token(&self, _: &CredentialKey, _: Resource) -> Result<AccessToken, TokenError> {
        match self.fail_with.lock().unwrap().clone() {
            Some(error) => Err(error),
            None => Ok(self.mint()),
        }
    }

    async fn refresh(
        &self,
        _: &CredentialKey,
        _: Resource,
        _: &Secret,
    ) -> Result<AccessToken, TokenError> {
        self.refreshed.fetch_add(1, Ordering::SeqCst);
        Ok(self.mint())
    }
}

/// A queue that keeps what was enqueued, and counts the calls.
#[derive(Debug, Default)]
pub struct MemQueue {
    pub jobs: Mutex<HashMap<QueueName, Vec<Envelope>>>,
    pub calls: AtomicUsize,
}

#[async_trait]
impl JobQueue for MemQueue {
    async fn enqueue(
        &self,
        q: QueueName,
        jobs: &[Envelope],
        _: Duration,
    ) -> Result<(), QueueError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.jobs.lock().unwrap().entry(q).or_default().extend(jobs.iter().cloned());
        Ok(())
    }
}

impl MemQueue {
    /// Takes every job of a queue.
    pub fn drain(&self, q: QueueName) -> Vec<Job> {
        let mut jobs = self.jobs.lock().unwrap();
        jobs.remove(&q).unwrap_or_default().into_iter().map(|e| e.job().clone()).collect()
    }

    /// Takes the emails of the write queue.
    pub fn drain_writes(&self) -> Vec<EmailRecord> {
        self.drain(QueueName::Writes)
            .into_iter()
            .map(|job| match job {
                Job::WriteEmail { email, .. } => *email,
                other => panic!("not a write job: {other:?}"),
            })
            .collect()
    }

    /// Takes the folder passes of the changes queue.
    pub fn drain_passes(&self) -> Vec<(MailboxAddress, Folder, Trigger)> {
        self.drain(QueueName::Changes)
            .into_iter()
            .map(|job| match job {
                Job::SyncFolder { mailbox, folder, trigger } => (mailbox, folder, trigger),
                other => panic!("not a pass: {other:?}"),
            })
            .collect()
    }
}

type Key = (MailboxAddress, Folder);

/// Cursors, pass marks, statuses and subscriptions in memory.
#[derive(Debug, Default)]
pub struct MemStore {
    pub cursors: Mutex<HashMap<Key, DeltaCursor>>,
    pub marks: Mutex<HashMap<Key, OffsetDateTime>>,
    pub events: Mutex<Vec<(MailboxAddress, StatusEvent)>>,
    pub subs: Mutex<HashMap<SubscriptionId, SubscriptionRecord>>,
}

#[async_trait]
impl CursorStore for MemStore {
    async fn cursor(
        &self,
        m: &MailboxAddress,
        f: Folder,
    ) -> Result<Option<DeltaCursor>, StoreError> {
        Ok(self.cursors.lock().unwrap().get(&(m.clone(), f)).cloned())
    }
    async fn put_cursor(
        &self,
        m: &MailboxAddress,
        f: Folder,
        c: &DeltaCursor,
    ) -> Result<(), StoreError> {
        self.cursors.lock().unwrap().insert((m.clone(), f), c.clone());
        Ok(())
    }
    async fn clear_cursor(&self, m: &MailboxAddress, f: Folder) -> Result<(), StoreError> {
        self.cursors.lock().unwrap().remove(&(m.clone(), f));
        Ok(())
    }
}

#[async_trait]
impl PassStore for MemStore {
    async fn request_pass(
        &self,
        m: &MailboxAddress,
        f: Folder,
        now: OffsetDateTime,
        stale_after: Duration,
    ) -> Result<bool, StoreError> {
        let mut marks = self.marks.lock().unwrap();
        match marks.get(&(m.clone(), f)) {
            Some(at) if now - *at < stale_after => Ok(false),
            _ => {
                marks.insert((m.clone(), f), now);
                Ok(true)
            }
        }
    }
    async fn begin_pass(&self, m: &MailboxAddress, f: Folder) -> Result<(), StoreError> {
        self.marks.lock().unwrap().remove(&(m.clone(), f));
        Ok(())
    }
}

#[async_trait]
impl StatusStore for MemStore {
    async fn report(
        &self,
        m: &MailboxAddress,
        e: StatusEvent,
        _: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.events.lock().unwrap().push((m.clone(), e));
        Ok(())
    }
    async fn status(&self, m: &MailboxAddress) -> Result<Option<MailboxStatus>, StoreError> {
        Ok(self.statuses().await?.into_iter().find(|s| &s.mailbox == m))
    }
    async fn statuses(&self) -> Result<Vec<MailboxStatus>, StoreError> {
        let events = self.events.lock().unwrap();
        let mut out: Vec<MailboxStatus> = Vec::new();
        for (m, e) in events.iter() {
            let health = match e {
                StatusEvent::PassSucceeded { .. } => Health::Healthy,
                StatusEvent::CatchingUp { .. } => Health::CatchingUp,
                StatusEvent::Throttled { until } => Health::Throttled { until: *until },
                StatusEvent::Failed { reason, retryable } => {
                    Health::Failing { reason: reason.clone(), retryable: *retryable }
                }
                StatusEvent::EmailWritten { .. } => continue,
            };
            out.retain(|s| &s.mailbox != m);
            out.push(MailboxStatus {
                mailbox: m.clone(),
                health,
                consecutive_failures: 0,
                last_success: None,
                emails_seen: 0,
                emails_written: 0,
                emails_duplicate: 0,
                updated_at: OffsetDateTime::UNIX_EPOCH,
            });
        }
        Ok(out)
    }
}

#[async_trait]
impl SubscriptionStore for MemStore {
    async fn put_subscription(&self, r: &SubscriptionRecord) -> Result<(), StoreError> {
        self.subs.lock().unwrap().insert(r.id.clone(), r.clone());
        Ok(())
    }
    async fn subscription(
        &self,
        id: &SubscriptionId,
    ) -> Result<Option<SubscriptionRecord>, StoreError> {
        Ok(self.subs.lock().unwrap().get(id).cloned())
    }
    async fn subscriptions_of(
        &self,
        m: &MailboxAddress,
    ) -> Result<Vec<SubscriptionRecord>, StoreError> {
        Ok(self.subs.lock().unwrap().values().filter(|r| &r.mailbox == m).cloned().collect())
    }
    async fn delete_subscription(&self, id: &SubscriptionId) -> Result<(), StoreError> {
        self.subs.lock().unwrap().remove(id);
        Ok(())
    }
}

impl MemStore {
    pub fn events_of(&self, mailbox: &str) -> Vec<StatusEvent> {
        let events = self.events.lock().unwrap();
        events.iter().filter(|(m, _)| m.as_str() == mailbox).map(|(_, e)| e.clone()).collect()
    }
}

/// Wraps the in-process limiter and measures the peak of slots held per profile.
#[derive(Debug, Default)]
pub struct CountingLimiter {
    inner: LocalLimiter,
    held: Arc<Mutex<HashMap<String, (u32, u32)>>>,
}

struct Held {
    _permit: RequestPermit,
    profile: String,
    held: Arc<Mutex<HashMap<String, (u32, u32)>>>,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.held.lock().unwrap().get_mut(&self.profile).unwrap().0 -= 1;
    }
}

#[async_trait]
impl RequestLimiter for CountingLimiter {
    async fn acquire(&self, key: &LimitKey) -> Result<RequestPermit, LimitError> {
        let permit = self.inner.acquire(key).await?;
        let profile = key.profile.to_string();
        {
            let mut held = self.held.lock().unwrap();
            let entry = held.entry(profile.clone()).or_default();
            entry.0 += 1;
            entry.1 = entry.1.max(entry.0);
        }
        Ok(RequestPermit::new(Held { _permit: permit, profile, held: self.held.clone() }))
    }
}

impl CountingLimiter {
    pub fn peak(&self, profile: &str) -> u32 {
        self.held.lock().unwrap().get(profile).map_or(0, |e| e.1)
    }
}
