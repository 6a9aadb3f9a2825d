//! The Graph simulator on HTTPS, exsync's Graph client pointed at it, and in-memory twins of
//! the ports (the SQLite ones live on another branch).

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
    config::Config,
    domain::{Folder, MailboxAddress, SubscriptionId},
    graph::{GraphClient, RetryPolicy},
    handlers::{subscribe::SubscribeDeps, sync::SyncDeps},
    jobs::{Envelope, Job, QueueName, Trigger},
    model::EmailRecord,
    ports::{
        AccessToken, Clock, CredentialKey, CursorStore, DeltaCursor, JobQueue, LimitError,
        LimitKey, LocalLimiter, PassStore, QueueError, RequestLimiter, RequestPermit, Resource,
        StatusStore, StoreError, SubscriptionRecord, SubscriptionStore, TokenError, Tokens,
    },
    secret::Secret,
    status::{Health, MailboxStatus, StatusEvent},
};
use exsync_sim::{
    auth::{KeyRing, TokenSpec, mint},
    clock::SimClock,
    graph::{GraphConfig, GraphLimits, GraphSim, RequestStats},
    jwt::SigningKey,
    server::RunningServer,
    tls::TestCa,
};
use time::OffsetDateTime;

pub const TENANT: &str = "6f1c7f2a-43b1-4a34-9a5e-0c3d1b7a9e11";
pub const APP: &str = "8a9b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c33";
pub const AUDIENCE: &str = "https://graph.microsoft.com";
pub const ALICE: &str = "alice@contoso.example";
pub const BOB: &str = "bob@contoso.example";
pub const SYNC_FROM: &str = "2026-01-01T00:00:00Z";

/// exsync's clock reading the simulators' clock.
#[derive(Debug, Clone)]
pub struct SimTime(pub SimClock);

impl Clock for SimTime {
    fn now(&self) -> OffsetDateTime {
        self.0.now()
    }
}

/// Tokens minted as the Entra simulator would, for the app of the profile.
#[derive(Debug)]
pub struct SimTokens {
    key: Arc<SigningKey>,
    clock: SimClock,
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

    async fn refresh(&self, _: &CredentialKey, _: Resource) -> Result<AccessToken, TokenError> {
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

/// How a test environment is set up.
#[derive(Debug, Clone)]
pub struct Options {
    pub limits: GraphLimits,
    pub mailboxes: Vec<&'static str>,
    pub profile_connections: u16,
    pub public_url: Option<String>,
    pub subscription_lifetime: &'static str,
    pub incoming: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            limits: GraphLimits::default(),
            mailboxes: vec![ALICE, BOB],
            profile_connections: 10,
            public_url: None,
            subscription_lifetime: "4230m",
            incoming: true,
        }
    }
}

/// The simulator with mailboxes, and everything exsync needs to run handlers against it.
pub struct Env {
    pub ca: TestCa,
    pub clock: SimClock,
    pub sim: GraphSim,
    _server: RunningServer,
    pub tokens: Arc<SimTokens>,
    pub queue: Arc<MemQueue>,
    pub store: Arc<MemStore>,
    pub limiter: Arc<CountingLimiter>,
    pub config: Arc<Config>,
    pub graph: GraphClient,
    pub pages_per_job: usize,
}

impl Env {
    pub async fn start() -> Self {
        Self::with(Options::default()).await
    }

    pub async fn with(options: Options) -> Self {
        let ca = TestCa::generate();
        Self::with_ca(ca, options).await
    }

    pub async fn with_ca(ca: TestCa, options: Options) -> Self {
        let key = Arc::new(SigningKey::generate());
        let keys = KeyRing::default();
        keys.publish(key.jwk());
        let clock = SimClock::default();
        let sim = GraphSim::new(GraphConfig {
            identifier_uri: AUDIENCE.into(),
            keys,
            clock: clock.clone(),
            webhook_client: ca.client(),
            validation_signer: key.clone(),
            limits: options.limits.clone(),
        });
        let server = sim.start(Some(ca.server_config())).await.unwrap();
        for address in &options.mailboxes {
            sim.add_mailbox(TENANT, address, address);
        }
        let config = Arc::new(config(&server, &options));
        let tokens = Arc::new(SimTokens {
            key,
            clock: clock.clone(),
            roles: Mutex::new(vec!["Mail.Read".into()]),
            bad_audiences: Mutex::default(),
            issued: AtomicUsize::new(0),
            refreshed: AtomicUsize::new(0),
            fail_with: Mutex::default(),
        });
        let limiter = Arc::new(CountingLimiter::default());
        let retry = RetryPolicy {
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
            max_wait: Duration::from_secs(2),
            ..RetryPolicy::default()
        };
        let graph = GraphClient::new(
            ca.client(),
            &config.cloud.graph_url,
            tokens.clone(),
            limiter.clone(),
            Arc::new(SimTime(clock.clone())),
        )
        .with_retry(retry);
        Self {
            ca,
            clock,
            sim,
            _server: server,
            tokens,
            queue: Arc::default(),
            store: Arc::default(),
            limiter,
            config,
            graph,
            pages_per_job: 20,
        }
    }

    pub fn sync_deps(&self) -> SyncDeps {
        SyncDeps {
            config: self.config.clone(),
            graph: self.graph.clone(),
            cursors: self.store.clone(),
            passes: self.store.clone(),
            status: self.store.clone(),
            queue: self.queue.clone(),
            clock: Arc::new(SimTime(self.clock.clone())),
            pages_per_job: self.pages_per_job,
        }
    }

    pub fn subscribe_deps(&self) -> SubscribeDeps {
        SubscribeDeps {
            config: self.config.clone(),
            graph: self.graph.clone(),
            subscriptions: self.store.clone(),
            passes: self.store.clone(),
            queue: self.queue.clone(),
            status: self.store.clone(),
            clock: Arc::new(SimTime(self.clock.clone())),
        }
    }

    /// Requests the simulator counted for the app on a mailbox.
    pub fn requests(&self, address: &str) -> RequestStats {
        self.sim.request_stats(APP, address)
    }

    /// Takes the queued passes as if they had started (their coalescing marks cleared).
    pub fn take_passes(&self) -> Vec<(MailboxAddress, Folder, Trigger)> {
        let passes = self.queue.drain_passes();
        self.store.marks.lock().unwrap().clear();
        passes
    }

    pub fn cursor(&self, address: &str, folder: Folder) -> Option<DeltaCursor> {
        let key = (MailboxAddress::parse(address).unwrap(), folder);
        self.store.cursors.lock().unwrap().get(&key).cloned()
    }
}

pub fn mailbox(address: &str) -> MailboxAddress {
    MailboxAddress::parse(address).unwrap()
}

fn config(server: &RunningServer, o: &Options) -> Config {
    let mut text = format!(
        r#"
[cloud]
graph_url = "{graph}"

[dataverse]
url = "https://contoso.crm.dynamics.com"
tenant_id = "{TENANT}"
client_id = "44444444-4444-4444-4444-444444444444"
client_secret = "env:DATAVERSE_SECRET"

[[profiles]]
name = "contoso"
tenant_id = "{TENANT}"
client_id = "{APP}"
client_secret = "env:CONTOSO_SECRET"
process_emails_from = "{SYNC_FROM}"
max_concurrent_connections = {connections}
"#,
        graph = server.base_url(),
        connections = o.profile_connections,
    );
    for address in &o.mailboxes {
        text.push_str(&format!(
            "\n[[mailboxes]]\naddress = \"{address}\"\nprofile = \"contoso\"\nincoming = {}\n",
            o.incoming
        ));
    }
    text.push_str(&format!(
        "\n[runtime]\nsubscription_lifetime = \"{}\"\n",
        o.subscription_lifetime
    ));
    if let Some(url) = &o.public_url {
        text.push_str(&format!("public_url = \"{url}\"\n"));
    }
    Config::parse(&text, std::path::Path::new(".")).unwrap()
}
