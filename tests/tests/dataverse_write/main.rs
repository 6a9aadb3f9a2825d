//! The Dataverse client and the `write` handler against the Dataverse simulator, over HTTPS.
//!
//! Each test starts its own simulator with one environment and an application user for
//! exsync's app; tokens are minted for the environment's audience by a small test `Tokens`;
//! the dedupe and status stores are in-memory twins of the ports.

mod client;
mod failures;
mod limits;
mod mapping;
mod once;

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU32, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use exsync_shared::{
    config::Config,
    dataverse::{ClientLimits, DataverseClient, parties::PartyResolver},
    domain::{Folder, GraphItemId, InternetMessageId, MailboxAddress, RecordId},
    graph::GraphClient,
    handlers::write::{WriteDeps, write_emails},
    model::{EmailAddress, EmailRecord, Importance},
    outcome::Outcome,
    ports::{
        AccessToken, Clock, CredentialKey, DedupeStore, LocalLimiter, Resource, StatusStore,
        StoreError, SystemClock, TokenError, Tokens,
    },
    secret::Secret,
    status::{Health, MailboxStatus, StatusEvent},
};
use exsync_sim::{
    auth::{KeyRing, TokenSpec, mint},
    clock::SimClock,
    dataverse::{self, DataverseSim, Env},
    jwt::SigningKey,
    server::RunningServer,
    tls::TestCa,
};
use time::OffsetDateTime;
use url::Url;

const TENANT: &str = "6f1c2a8e-0b7d-4c55-9a39-2f4c1d0e8b11";
const APP: &str = "4b8e9f2a-3c1d-4e6f-8a7b-9c0d1e2f3a4b";

/// Tokens for the simulated environment, minted directly (no Entra in these tests).
#[derive(Debug)]
struct SimTokens {
    key: SigningKey,
    clock: SimClock,
    audience: String,
    tenant: String,
    minted: AtomicU32,
    rejected: AtomicU32,
    /// Mint the next token already expired (as a cached token that outlived its lifetime).
    expire_next: AtomicBool,
    /// Every token minted, to prove none leaks.
    issued: Mutex<Vec<String>>,
}

#[async_trait]
impl Tokens for SimTokens {
    async fn token(
        &self,
        key: &CredentialKey,
        resource: Resource,
    ) -> Result<AccessToken, TokenError> {
        assert_eq!((key, resource), (&CredentialKey::Dataverse, Resource::Dataverse));
        self.minted.fetch_add(1, Ordering::SeqCst);
        let age = if self.expire_next.swap(false, Ordering::SeqCst) { 7200 } else { 0 };
        let spec = TokenSpec {
            tenant_id: self.tenant.clone(),
            app_id: APP.into(),
            object_id: "0d6f1b2c-5e4a-4f3b-8c7d-6e5f4a3b2c1d".into(),
            audience: self.audience.clone(),
            roles: Vec::new(),
            issued_at: self.clock.unix() - age,
            lifetime_secs: 3600,
            appidacr: "1",
        };
        let token = mint(&self.key, &spec);
        self.issued.lock().unwrap().push(token.clone());
        Ok(AccessToken {
            token: Secret::new(token),
            expires_at: self.clock.now() + Duration::from_secs(3600),
        })
    }

    async fn rejected(&self, _: &CredentialKey, _: Resource, _: &AccessToken) {
        self.rejected.fetch_add(1, Ordering::SeqCst);
    }
}

/// The dedupe store's in-memory twin.
#[derive(Debug, Default)]
struct MemDedupe(Mutex<HashMap<InternetMessageId, RecordId>>);

#[async_trait]
impl DedupeStore for MemDedupe {
    async fn activity_of(&self, id: &InternetMessageId) -> Result<Option<RecordId>, StoreError> {
        Ok(self.0.lock().unwrap().get(id).copied())
    }

    async fn record_activity(
        &self,
        id: &InternetMessageId,
        activity: RecordId,
    ) -> Result<(), StoreError> {
        self.0.lock().unwrap().entry(id.clone()).or_insert(activity);
        Ok(())
    }
}

/// The status store's in-memory twin: it keeps the events.
#[derive(Debug, Default)]
struct MemStatus(Mutex<Vec<(MailboxAddress, StatusEvent)>>);

impl MemStatus {
    /// `created` flags of the emails the EmailsWritten events of `mailbox` count, in order
    /// (an event's created ones first).
    fn written(&self, mailbox: &str) -> Vec<bool> {
        let events = self.0.lock().unwrap();
        events
            .iter()
            .filter(|(m, _)| m.as_str() == mailbox)
            .flat_map(|(_, e)| match e {
                StatusEvent::EmailsWritten { created, duplicate } => {
                    let created = std::iter::repeat_n(true, *created as usize);
                    created.chain(std::iter::repeat_n(false, *duplicate as usize)).collect()
                }
                _ => Vec::new(),
            })
            .collect()
    }
}

#[async_trait]
impl StatusStore for MemStatus {
    async fn report(
        &self,
        mailbox: &MailboxAddress,
        event: StatusEvent,
        _: OffsetDateTime,
    ) -> Result<Option<Health>, StoreError> {
        self.0.lock().unwrap().push((mailbox.clone(), event));
        Ok(None)
    }

    async fn status(&self, _: &MailboxAddress) -> Result<Option<MailboxStatus>, StoreError> {
        Ok(None)
    }

    async fn statuses(&self) -> Result<Vec<MailboxStatus>, StoreError> {
        Ok(Vec::new())
    }
}

/// A simulator with one environment, and exsync's write path pointed at it.
struct World {
    sim: DataverseSim,
    env: Env,
    /// A plain HTTPS client that trusts the simulator (for acting behind exsync's back).
    http: reqwest::Client,
    tokens: Arc<SimTokens>,
    client: Arc<DataverseClient>,
    dedupe: Arc<MemDedupe>,
    status: Arc<MemStatus>,
    deps: WriteDeps,
    _server: RunningServer,
}

impl World {
    async fn start() -> Self {
        Self::with_limits(ClientLimits::default()).await
    }

    async fn with_limits(limits: ClientLimits) -> Self {
        let ca = TestCa::generate();
        let clock = SimClock::default();
        let key = SigningKey::generate();
        let keys = KeyRing::default();
        keys.publish(key.jwk());
        let (sim, server) = dataverse::start(clock.clone(), keys, &ca).await.expect("simulator");
        let env = sim.add_environment("", TENANT);
        env.add_application_user(APP);
        let tokens = Arc::new(SimTokens {
            key,
            clock,
            audience: env.url(),
            tenant: TENANT.into(),
            minted: AtomicU32::new(0),
            rejected: AtomicU32::new(0),
            expire_next: AtomicBool::new(false),
            issued: Mutex::new(Vec::new()),
        });
        let http = ca.client();
        let client = Arc::new(DataverseClient::new(
            http.clone(),
            &Url::parse(&env.url()).unwrap(),
            tokens.clone(),
            limits,
        ));
        let dedupe = Arc::new(MemDedupe::default());
        let status = Arc::new(MemStatus::default());
        let deps = deps(&client, &dedupe, &status, &tokens);
        Self { sim, env, http, tokens, client, dedupe, status, deps, _server: server }
    }

    /// Runs the handler as the worker does.
    async fn write(&self, jobs: Vec<(MailboxAddress, EmailRecord)>) -> Vec<Outcome> {
        write_emails(&self.deps, jobs).await
    }

    /// The same handler as a restarted process sees it: nothing cached, an empty dedupe store.
    fn restarted(&self) -> WriteDeps {
        deps(&self.client, &Arc::new(MemDedupe::default()), &self.status, &self.tokens)
    }

    /// Operations the simulator executed for exsync's app (a `$batch` counts its parts).
    fn operations(&self) -> u64 {
        self.env.requests(APP).total
    }
}

fn deps(
    client: &Arc<DataverseClient>,
    dedupe: &Arc<MemDedupe>,
    status: &Arc<MemStatus>,
    tokens: &Arc<SimTokens>,
) -> WriteDeps {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    // These emails carry their bodies, so `write` never calls Graph: it points nowhere.
    let nowhere = Url::parse("https://127.0.0.1:9").unwrap();
    let graph = GraphClient::new(
        reqwest::Client::new(),
        &nowhere,
        tokens.clone(),
        Arc::new(LocalLimiter::new()),
        clock.clone(),
    );
    WriteDeps {
        dataverse: client.clone(),
        parties: Arc::new(PartyResolver::new(clock.clone(), Duration::from_secs(300))),
        dedupe: dedupe.clone(),
        status: status.clone(),
        clock,
        graph,
        config: Arc::new(Config::parse(CONFIG, std::path::Path::new(".")).unwrap()),
    }
}

/// A configuration for the `write` handler's Graph reads (none happen in these tests).
const CONFIG: &str = r#"
[dataverse]
url = "https://127.0.0.1:9"
tenant_id = "6f1c2a8e-0b7d-4c55-9a39-2f4c1d0e8b11"
client_id = "4b8e9f2a-3c1d-4e6f-8a7b-9c0d1e2f3a4b"
client_secret = "env:UNUSED"
"#;

fn mailbox(address: &str) -> MailboxAddress {
    MailboxAddress::parse(address).unwrap()
}

fn addresses(list: &[&str]) -> Vec<EmailAddress> {
    list.iter().map(|a| EmailAddress { address: a.to_string(), name: None }).collect()
}

/// A message as Graph hands it over.
fn email(folder: Folder, message_id: Option<&str>, from: &str, to: &[&str]) -> EmailRecord {
    EmailRecord {
        graph_id: GraphItemId::parse(format!("AAMk-{}", uuid::Uuid::new_v4())).unwrap(),
        folder,
        internet_message_id: message_id.map(|id| InternetMessageId::parse(id).unwrap()),
        subject: format!("About {}", message_id.unwrap_or("nothing")),
        body_html: "<html><body><p>Hello</p></body></html>".into(),
        body_omitted: false,
        from: addresses(&[from]).pop(),
        to: addresses(to),
        cc: Vec::new(),
        bcc: Vec::new(),
        received_at: OffsetDateTime::now_utc(),
        sent_at: Some(OffsetDateTime::now_utc() - Duration::from_secs(5)),
        in_reply_to: None,
        conversation_id: None,
        conversation_index: None,
        importance: Importance::Normal,
        has_attachments: false,
    }
}

fn assert_done(outcomes: &[Outcome]) {
    assert!(outcomes.iter().all(|o| *o == Outcome::Done), "{outcomes:#?}");
}
