//! exsync in one process, the default on a fresh machine: every handler over the SQLite state
//! and queue, tokens made in-process, the webhook listener on a local socket.
//!
//! - [`Embedded::open`] builds the adapters from the configuration once.
//! - [`serve`](Embedded::serve): listener, workers, subscription upkeep or polling, sweeps.
//! - [`sync_once`](Embedded::sync_once): one catch-up pass of every mailbox, then a summary.

mod once;
mod probe;
mod serve;

use std::{sync::Arc, time::Duration};

pub use once::{MailboxSummary, Summary};
pub use serve::ServeError;

use crate::{
    adapters::sqlite::{Claim, Database, DbError, SqliteQueue, SqliteStore},
    config::Config,
    dataverse::{ClientLimits, DataverseClient, parties::PartyResolver},
    domain::MailboxAddress,
    entra::{
        CachingTokens, TokenService,
        jwks::{HttpKeySource, IssuerKeys},
    },
    graph::{GraphClient, RetryPolicy, rich::EncryptionKeys},
    handlers::{
        check::{CheckDeps, CheckError, TestReport, test_and_enable},
        jobs::{SubscribeJobs, SyncJobs, WriteAndScreenJobs, WriteJobs},
        notify::NotifyDeps,
        prefilter::Prefilter,
        running::RunningPasses,
        subscribe::SubscribeDeps,
        sync::{DEFAULT_PAGES_PER_JOB, SyncDeps},
        write::{ScreenDeps, WriteDeps},
    },
    jobs::QueueName,
    ports::{Clock, LocalLimiter, StatusStore, SystemClock, Tokens},
    runtime::{EachJob, JobHandler, Queues, Worker},
    secret::LocalSecrets,
    status::{Health, StatusEvent},
};

/// How long a resolved party address is trusted before it is looked up again.
const PARTY_CACHE_TTL: Duration = Duration::from_secs(15 * 60);

/// Why the embedded runtime could not start.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The state file.
    #[error("runtime.state: {0}")]
    State(String),
    /// The HTTP client (usually `cloud.ca_file`).
    #[error("{0}")]
    Http(String),
}

/// Everything one process needs, built once from the configuration.
#[derive(Debug, Clone)]
pub struct Embedded {
    config: Arc<Config>,
    db: Arc<Database>,
    queue: Arc<SqliteQueue>,
    store: Arc<SqliteStore>,
    clock: Arc<dyn Clock>,
    tokens: Arc<dyn Tokens>,
    graph: GraphClient,
    dataverse: Arc<DataverseClient>,
    parties: Arc<PartyResolver>,
    encryption: Arc<EncryptionKeys>,
    prefilter: Arc<Prefilter>,
    running: RunningPasses,
}

impl Embedded {
    /// Opens the state and builds the clients. Nothing is called over the network yet.
    pub fn open(config: Config) -> Result<Self, OpenError> {
        let config = Arc::new(config);
        let db = Database::open_location(&config.runtime.state)
            .map_err(|e| OpenError::State(e.to_string()))?;
        let queue = Arc::new(SqliteQueue::new(db.clone()));
        let store = Arc::new(SqliteStore::new(db.clone()));
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let http =
            crate::http::client(&config.cloud).map_err(|e| OpenError::Http(e.to_string()))?;
        let service =
            TokenService::new(&config, Arc::new(LocalSecrets), http.clone(), clock.clone());
        let encryption =
            Arc::new(EncryptionKeys::new(config.clone(), Arc::new(LocalSecrets), clock.clone()));
        let issuer = Arc::new(IssuerKeys::new(
            Arc::new(HttpKeySource::new(http.clone(), &config.cloud.authority_host)),
            clock.clone(),
        ));
        let prefilter =
            Arc::new(Prefilter::new(config.clone(), encryption.clone(), issuer, clock.clone()));
        let tokens: Arc<dyn Tokens> =
            Arc::new(CachingTokens::new(Arc::new(service), clock.clone()));
        let mut retry = RetryPolicy::default();
        let mut limits = ClientLimits::default();
        if let Some(timeout) = config.cloud.request_timeout {
            retry.request_timeout = timeout;
            limits.request_timeout = timeout;
        }
        let graph = GraphClient::new(
            http.clone(),
            &config.cloud.graph_url,
            tokens.clone(),
            Arc::new(LocalLimiter::new()),
            clock.clone(),
        )
        .with_retry(retry);
        let dataverse = Arc::new(DataverseClient::new(
            http,
            &config.dataverse.url,
            tokens.clone(),
            limits,
        ));
        let parties = Arc::new(PartyResolver::new(clock.clone(), PARTY_CACHE_TTL));
        Ok(Self {
            config,
            db,
            queue,
            store,
            clock,
            tokens,
            graph,
            dataverse,
            parties,
            encryption,
            prefilter,
            running: RunningPasses::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The SQLite store (status, subscriptions, cursors, dedupe).
    pub fn store(&self) -> &Arc<SqliteStore> {
        &self.store
    }

    /// The SQLite queue (jobs and dead letters).
    pub fn queue(&self) -> &Arc<SqliteQueue> {
        &self.queue
    }

    /// The database file's path.
    pub fn state_path(&self) -> &std::path::Path {
        self.db.path()
    }

    fn queues(&self) -> Queues {
        Queues { source: self.queue.clone(), sink: self.queue.clone() }
    }

    fn sync_deps(&self) -> SyncDeps {
        SyncDeps {
            config: self.config.clone(),
            graph: self.graph.clone(),
            cursors: self.store.clone(),
            passes: self.store.clone(),
            status: self.store.clone(),
            queue: self.queue.clone(),
            clock: self.clock.clone(),
            pages_per_job: DEFAULT_PAGES_PER_JOB,
            running: self.running.clone(),
        }
    }

    fn subscribe_deps(&self) -> SubscribeDeps {
        SubscribeDeps {
            config: self.config.clone(),
            graph: self.graph.clone(),
            subscriptions: self.store.clone(),
            passes: self.store.clone(),
            queue: self.queue.clone(),
            status: self.store.clone(),
            clock: self.clock.clone(),
            encryption: self.encryption.clone(),
        }
    }

    fn write_deps(&self) -> WriteDeps {
        WriteDeps {
            dataverse: self.dataverse.clone(),
            parties: self.parties.clone(),
            dedupe: self.store.clone(),
            status: self.store.clone(),
            clock: self.clock.clone(),
            graph: self.graph.clone(),
            config: self.config.clone(),
        }
    }

    fn screen_deps(&self) -> ScreenDeps {
        ScreenDeps {
            dataverse: self.dataverse.clone(),
            parties: self.parties.clone(),
            dedupe: self.store.clone(),
            passes: self.store.clone(),
            queue: self.queue.clone(),
            clock: self.clock.clone(),
        }
    }

    fn check_deps(&self) -> CheckDeps {
        CheckDeps {
            config: self.config.clone(),
            tokens: self.tokens.clone(),
            graph: self.graph.clone(),
            dataverse: self.dataverse.clone(),
            status: self.store.clone(),
            clock: self.clock.clone(),
        }
    }

    /// Test & Enable: checks everything `mailbox` needs and enables it when all pass.
    pub async fn test_mailbox(&self, mailbox: &MailboxAddress) -> Result<TestReport, CheckError> {
        test_and_enable(&self.check_deps(), mailbox).await
    }

    /// The admin's switch: a disabled mailbox syncs nothing until enabled; a running `serve`
    /// sees it at its next job (and revives an enabled mailbox within seconds). Answers the
    /// health before.
    pub async fn set_enabled(
        &self,
        mailbox: &MailboxAddress,
        enabled: bool,
    ) -> Result<Option<Health>, CheckError> {
        if self.config.mailbox(mailbox).is_none() {
            return Err(CheckError::NotConfigured(mailbox.clone()));
        }
        let event = if enabled { StatusEvent::Enabled } else { StatusEvent::Disabled };
        let before = self.store.report(mailbox, event, self.clock.now()).await?;
        tracing::info!(%mailbox, enabled, "the admin switched the mailbox");
        Ok(before)
    }

    fn notify_deps(&self) -> NotifyDeps {
        NotifyDeps {
            subscriptions: self.store.clone(),
            passes: self.store.clone(),
            queue: self.queue.clone(),
            clock: self.clock.clone(),
            prefilter: self.prefilter.clone(),
        }
    }

    /// The worker of each queue, with its handler.
    fn worker(&self, queue: QueueName) -> Worker {
        let handler: Arc<dyn JobHandler> = match queue {
            QueueName::Changes => Arc::new(EachJob::new(queue, SyncJobs(self.sync_deps()))),
            QueueName::Writes => Arc::new(WriteAndScreenJobs {
                write: WriteJobs(self.write_deps()),
                screen: self.screen_deps(),
            }),
            QueueName::Subscriptions => {
                Arc::new(EachJob::new(queue, SubscribeJobs(self.subscribe_deps())))
            }
        };
        Worker::new(queue, handler)
    }

    /// Makes this process the state's only consumer for as long as the claim lives, and puts
    /// back to work what a process that died left in flight.
    async fn claim(&self) -> Result<Claim, DbError> {
        let (claim, recovered) = self.db.claim().await?;
        if recovered.jobs > 0 || recovered.pass_marks > 0 {
            tracing::info!(
                jobs = recovered.jobs,
                pass_marks = recovered.pass_marks,
                "resumed what the previous run left in flight"
            );
        }
        Ok(claim)
    }

    /// The mailboxes whose mail is synced.
    fn synced_mailboxes(&self) -> impl Iterator<Item = &crate::config::Mailbox> {
        self.config.mailboxes.iter().filter(|m| m.incoming)
    }
}
