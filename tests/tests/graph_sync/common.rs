//! The Graph simulator on HTTPS and exsync's Graph client and handlers pointed at it.

use std::{
    sync::{Arc, Mutex, atomic::AtomicUsize},
    time::Duration,
};

use exsync_shared::{
    adapters::sqlite::{Database, SqliteStore},
    config::Config,
    domain::{Folder, MailboxAddress},
    entra::CachingTokens,
    graph::{GraphClient, RetryPolicy, rich::EncryptionKeys},
    handlers::{subscribe::SubscribeDeps, sync::SyncDeps},
    jobs::Trigger,
    ports::{
        Clock, CursorStore, DeltaCursor, PassStore, StatusStore, SubscriptionRecord,
        SubscriptionStore,
    },
    secret::LocalSecrets,
    status::MailboxStatus,
};
use exsync_sim::{
    auth::KeyRing,
    clock::SimClock,
    graph::{GraphConfig, GraphLimits, GraphSim, RequestStats},
    jwt::SigningKey,
    server::RunningServer,
    tls::TestCa,
};
use time::OffsetDateTime;

pub use super::twins::{CountingLimiter, MemQueue, SimTokens};

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

/// How a test environment is set up.
#[derive(Debug, Clone)]
pub struct Options {
    pub limits: GraphLimits,
    pub mailboxes: Vec<&'static str>,
    pub profile_connections: u16,
    pub public_url: Option<String>,
    pub subscription_lifetime: &'static str,
    pub incoming: bool,
    /// Configured mailboxes whose users have no Exchange Online mailbox.
    pub without_mailbox: Vec<&'static str>,
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
            without_mailbox: Vec::new(),
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
    pub store: Arc<SqliteStore>,
    _state_dir: tempfile::TempDir,
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
            match options.without_mailbox.contains(address) {
                true => sim.add_user_without_mailbox(TENANT, address, address),
                false => sim.add_mailbox(TENANT, address, address),
            };
        }
        let config = Arc::new(config(&server, &options));
        let tokens = Arc::new(SimTokens {
            key,
            clock: clock.clone(),
            roles: Mutex::new(vec!["Mail.Read".into()]),
            bad_audiences: Mutex::default(),
            issued: AtomicUsize::new(0),
            rejections: AtomicUsize::new(0),
            fail_with: Mutex::default(),
        });
        let limiter = Arc::new(CountingLimiter::default());
        // The embedded state database, as the local runner uses it.
        let state_dir = tempfile::tempdir().unwrap();
        let db = Database::open(&state_dir.path().join("state.db")).unwrap();
        let store = Arc::new(SqliteStore::new(db));
        let retry = RetryPolicy {
            base_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
            max_wait: Duration::from_secs(2),
            ..RetryPolicy::default()
        };
        let time: Arc<dyn Clock> = Arc::new(SimTime(clock.clone()));
        // As wired in production: the callers' cache in front of the token service.
        let cached = Arc::new(CachingTokens::new(tokens.clone(), time.clone()));
        let graph =
            GraphClient::new(ca.client(), &config.cloud.graph_url, cached, limiter.clone(), time)
                .with_retry(retry);
        Self {
            ca,
            clock,
            sim,
            _server: server,
            tokens,
            queue: Arc::default(),
            store,
            _state_dir: state_dir,
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
            running: Default::default(),
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
            encryption: Arc::new(EncryptionKeys::new(
                self.config.clone(),
                Arc::new(LocalSecrets),
                Arc::new(SimTime(self.clock.clone())),
            )),
        }
    }

    /// Requests the simulator counted for the app on a mailbox.
    pub fn requests(&self, address: &str) -> RequestStats {
        self.sim.request_stats(APP, address)
    }

    /// Takes the queued passes as if they had started (their coalescing marks cleared).
    pub async fn take_passes(&self) -> Vec<(MailboxAddress, Folder, Trigger)> {
        let mut passes = Vec::new();
        for (mailbox, folder, trigger, ticket) in self.queue.drain_passes() {
            self.store.begin_pass(&mailbox, folder, ticket).await.unwrap();
            passes.push((mailbox, folder, trigger));
        }
        passes
    }

    pub async fn cursor(&self, address: &str, folder: Folder) -> Option<DeltaCursor> {
        self.store.cursor(&mailbox(address), folder).await.unwrap()
    }

    pub async fn status(&self, address: &str) -> MailboxStatus {
        self.store.status(&mailbox(address)).await.unwrap().expect("a status record")
    }

    pub async fn subscription_records(&self, address: &str) -> Vec<SubscriptionRecord> {
        self.store.subscriptions_of(&mailbox(address)).await.unwrap()
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
