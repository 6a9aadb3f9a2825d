//! A queue that keeps what it is given, a token service minting simulator tokens, and a
//! limiter that measures what it hands out.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use super::common::{APP, AUDIENCE, TENANT};
use async_trait::async_trait;
use exsync_shared::{
    domain::{Folder, MailboxAddress},
    jobs::{Envelope, Job, QueueName, Trigger},
    model::EmailRecord,
    ports::{
        AccessToken, CredentialKey, JobQueue, LimitError, LimitKey, LocalLimiter, MAX_BODY_BYTES,
        QueueError, RequestLimiter, RequestPermit, Resource, TokenError, Tokens,
    },
    secret::Secret,
};
use exsync_sim::{
    auth::{TokenSpec, mint},
    clock::SimClock,
    jwt::SigningKey,
};

/// Tokens minted as the Entra simulator would, for the app of the profile.
#[derive(Debug)]
pub struct SimTokens {
    pub key: Arc<SigningKey>,
    pub clock: SimClock,
    pub roles: Mutex<Vec<String>>,
    /// Audiences of the next tokens, used before `AUDIENCE` (to provoke 401s).
    pub bad_audiences: Mutex<Vec<String>>,
    pub issued: AtomicUsize,
    pub rejections: AtomicUsize,
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

    async fn rejected(&self, _: &CredentialKey, _: Resource, _: &AccessToken) {
        self.rejections.fetch_add(1, Ordering::SeqCst);
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
        // As both real twins do: a body over the limit refuses the whole batch.
        if let Some(big) = jobs.iter().map(|j| j.to_body().len()).find(|n| *n > MAX_BODY_BYTES) {
            let message = format!("a {big}-byte body is over the limit");
            return Err(QueueError { queue: q.as_str(), message, retryable: false });
        }
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

    /// Takes the folder passes of the changes queue, with their pass-mark tickets.
    pub fn drain_passes(&self) -> Vec<(MailboxAddress, Folder, Trigger, u64)> {
        self.drain(QueueName::Changes)
            .into_iter()
            .map(|job| match job {
                Job::SyncFolder { mailbox, folder, trigger, ticket } => {
                    (mailbox, folder, trigger, ticket)
                }
                other => panic!("not a pass: {other:?}"),
            })
            .collect()
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
