//! exsync in one process, the default on a fresh machine: every handler over the SQLite state
//! and queue, tokens made in-process, the webhook listener on a local socket.
//!
//! - [`Embedded::open`] builds the adapters from the configuration once.
//! - [`serve`](Embedded::serve): listener, workers, subscription upkeep or polling, sweeps.
//! - [`sync_once`](Embedded::sync_once): one catch-up pass of every mailbox, then a summary.

mod once;
mod probe;
mod serve;

use std::sync::Arc;

pub use once::{MailboxSummary, Summary};
pub use serve::ServeError;

use crate::{
    adapters::sqlite::{Claim, Database, DbError, SqliteQueue, SqliteStore},
    config::Config,
    domain::MailboxAddress,
    entra::{CachingTokens, TokenService},
    handlers::{
        check::{CheckError, TestReport, test_and_enable},
        notify::NotifyDeps,
    },
    jobs::QueueName,
    ports::{Clock, LocalLimiter, StatusStore, SystemClock},
    runtime::{Queues, Worker},
    secret::LocalSecrets,
    status::{Health, StatusEvent},
    wiring::{Adapters, Wiring},
};

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
    wiring: Wiring<SqliteStore>,
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
        let adapters = Adapters {
            store: store.clone(),
            queue: queue.clone(),
            tokens: Arc::new(CachingTokens::new(Arc::new(service), clock.clone())),
            secrets: Arc::new(LocalSecrets),
            limiter: Arc::new(LocalLimiter::new()),
            clock: clock.clone(),
        };
        let wiring = Wiring::new(config.clone(), adapters, http);
        Ok(Self { config, db, queue, store, clock, wiring })
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

    /// Test & Enable: checks everything `mailbox` needs and enables it when all pass.
    pub async fn test_mailbox(&self, mailbox: &MailboxAddress) -> Result<TestReport, CheckError> {
        test_and_enable(&self.wiring.check_deps(), mailbox).await
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
        self.wiring.notify_deps()
    }

    /// The worker of each queue, with its handler.
    fn worker(&self, queue: QueueName) -> Worker {
        Worker::new(queue, self.wiring.handler(queue))
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
