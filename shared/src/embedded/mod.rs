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
    admin::Admin,
    config::Config,
    entra::{CachingTokens, TokenService},
    handlers::notify::NotifyDeps,
    jobs::QueueName,
    ports::{Clock, LocalLimiter, SystemClock},
    runtime::{Queues, Worker},
    secret::LocalSecrets,
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

    /// The admin commands over this state (`exsync status`, `mailbox`, `dead-letters`).
    pub fn admin(&self) -> Admin {
        Admin::new(self.wiring.check_deps(), self.queue.clone())
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
