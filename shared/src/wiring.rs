//! The handlers' dependencies, built once from a configuration and the adapters of one way of
//! running: SQLite in one process ([`crate::embedded`]), DynamoDB, SQS and the `tokens`
//! function on Lambda (`crate::lambda`, feature `aws`). Both build them here, so a handler
//! gets the same clients, caches and limits whichever way it runs.

use std::{sync::Arc, time::Duration};

use crate::{
    config::Config,
    dataverse::{ClientLimits, DataverseClient, parties::PartyResolver},
    entra::jwks::{HttpKeySource, IssuerKeys},
    graph::{GraphClient, RetryPolicy, rich::EncryptionKeys},
    handlers::{
        check::CheckDeps,
        jobs::{SubscribeJobs, SyncJobs, WriteAndScreenJobs, WriteJobs},
        notify::NotifyDeps,
        prefilter::Prefilter,
        running::RunningPasses,
        subscribe::SubscribeDeps,
        sync::{DEFAULT_PAGES_PER_JOB, SyncDeps},
        write::{ScreenDeps, WriteDeps},
    },
    jobs::QueueName,
    ports::{
        Clock, CursorStore, DedupeStore, JobQueue, PassStore, RequestLimiter, Secrets, StatusStore,
        SubscriptionStore, Tokens,
    },
    runtime::{EachJob, JobHandler},
};

/// How long a resolved party address is trusted before it is looked up again.
const PARTY_CACHE_TTL: Duration = Duration::from_secs(15 * 60);

/// Every store port in one adapter (the SQLite file, the DynamoDB table).
pub trait Store:
    SubscriptionStore + PassStore + CursorStore + DedupeStore + StatusStore + 'static
{
}

impl<T> Store for T where
    T: SubscriptionStore + PassStore + CursorStore + DedupeStore + StatusStore + 'static
{
}

/// The adapters a [`Wiring`] is built over.
#[derive(Debug, Clone)]
pub struct Adapters<S> {
    /// State.
    pub store: Arc<S>,
    /// Where jobs are sent.
    pub queue: Arc<dyn JobQueue>,
    /// Access tokens (callers cache them: pass a [`CachingTokens`](crate::entra::CachingTokens)).
    pub tokens: Arc<dyn Tokens>,
    /// Where the encryption certificates of rich notifications are read.
    pub secrets: Arc<dyn Secrets>,
    /// Graph's request limits: per process in one process, across instances on Lambda.
    pub limiter: Arc<dyn RequestLimiter>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

/// The clients and caches of one configuration, and each handler's dependencies from them.
#[derive(Debug)]
pub struct Wiring<S> {
    config: Arc<Config>,
    store: Arc<S>,
    queue: Arc<dyn JobQueue>,
    clock: Arc<dyn Clock>,
    tokens: Arc<dyn Tokens>,
    graph: GraphClient,
    dataverse: Arc<DataverseClient>,
    parties: Arc<PartyResolver>,
    encryption: Arc<EncryptionKeys>,
    prefilter: Arc<Prefilter>,
    running: RunningPasses,
}

impl<S> Clone for Wiring<S> {
    fn clone(&self) -> Self {
        Self {
            config: self.config.clone(),
            store: self.store.clone(),
            queue: self.queue.clone(),
            clock: self.clock.clone(),
            tokens: self.tokens.clone(),
            graph: self.graph.clone(),
            dataverse: self.dataverse.clone(),
            parties: self.parties.clone(),
            encryption: self.encryption.clone(),
            prefilter: self.prefilter.clone(),
            running: self.running.clone(),
        }
    }
}

impl<S: Store> Wiring<S> {
    /// Builds the clients of `config` over `adapters`, sending HTTP through `http` (see
    /// [`crate::http`]). Nothing is called over the network yet.
    pub fn new(config: Arc<Config>, adapters: Adapters<S>, http: reqwest::Client) -> Self {
        let Adapters { store, queue, tokens, secrets, limiter, clock } = adapters;
        let encryption = Arc::new(EncryptionKeys::new(config.clone(), secrets, clock.clone()));
        let issuer = Arc::new(IssuerKeys::new(
            Arc::new(HttpKeySource::new(http.clone(), &config.cloud.authority_host)),
            clock.clone(),
        ));
        let prefilter =
            Arc::new(Prefilter::new(config.clone(), encryption.clone(), issuer, clock.clone()));
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
            limiter,
            clock.clone(),
        )
        .with_retry(retry);
        let dataverse =
            Arc::new(DataverseClient::new(http, &config.dataverse.url, tokens.clone(), limits));
        let parties = Arc::new(PartyResolver::new(clock.clone(), PARTY_CACHE_TTL));
        Self {
            config,
            store,
            queue,
            clock,
            tokens,
            graph,
            dataverse,
            parties,
            encryption,
            prefilter,
            running: RunningPasses::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// What `sync` needs.
    pub fn sync_deps(&self) -> SyncDeps {
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

    /// What `subscribe` needs.
    pub fn subscribe_deps(&self) -> SubscribeDeps {
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

    /// What `write` needs for `WriteEmail` jobs.
    pub fn write_deps(&self) -> WriteDeps {
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

    /// What `write` needs for `Screen` jobs.
    pub fn screen_deps(&self) -> ScreenDeps {
        ScreenDeps {
            dataverse: self.dataverse.clone(),
            parties: self.parties.clone(),
            dedupe: self.store.clone(),
            passes: self.store.clone(),
            queue: self.queue.clone(),
            clock: self.clock.clone(),
        }
    }

    /// What Test & Enable needs.
    pub fn check_deps(&self) -> CheckDeps {
        CheckDeps {
            config: self.config.clone(),
            tokens: self.tokens.clone(),
            graph: self.graph.clone(),
            dataverse: self.dataverse.clone(),
            status: self.store.clone(),
            clock: self.clock.clone(),
        }
    }

    /// What `notify` needs.
    pub fn notify_deps(&self) -> NotifyDeps {
        NotifyDeps {
            subscriptions: self.store.clone(),
            passes: self.store.clone(),
            queue: self.queue.clone(),
            clock: self.clock.clone(),
            prefilter: self.prefilter.clone(),
        }
    }

    /// The handler of `queue`'s jobs (`sync`, `write` or `subscribe`).
    pub fn handler(&self, queue: QueueName) -> Arc<dyn JobHandler> {
        match queue {
            QueueName::Changes => Arc::new(EachJob::new(queue, SyncJobs(self.sync_deps()))),
            QueueName::Writes => Arc::new(WriteAndScreenJobs {
                write: WriteJobs(self.write_deps()),
                screen: self.screen_deps(),
            }),
            QueueName::Subscriptions => {
                Arc::new(EachJob::new(queue, SubscribeJobs(self.subscribe_deps())))
            }
        }
    }
}
