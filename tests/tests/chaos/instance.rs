//! One "Lambda instance" of each function over the AWS twins: its own HTTP client, token
//! cache, Graph client with the DynamoDB request limiter, Dataverse client and SDK clients,
//! built as the Lambda `main`s build theirs (what `Embedded::open` builds over SQLite).

use std::{sync::Arc, time::Duration};

use exsync_shared::{
    adapters::aws::{DynamoLimiter, DynamoStore, SqsQueue, env::QueueMap},
    config::Config,
    dataverse::{ClientLimits, DataverseClient, parties::PartyResolver},
    entra::{
        CachingTokens, TokenService,
        jwks::{HttpKeySource, IssuerKeys},
    },
    graph::{GraphClient, RetryPolicy, rich::EncryptionKeys},
    handlers::{
        jobs::{SubscribeJobs, SyncJobs, WriteAndScreenJobs, WriteJobs},
        notify::NotifyDeps,
        prefilter::Prefilter,
        subscribe::SubscribeDeps,
        sync::{DEFAULT_PAGES_PER_JOB, SyncDeps},
        write::{ScreenDeps, WriteDeps},
    },
    jobs::QueueName,
    ports::{Clock, SystemClock, Tokens},
    runtime::{EachJob, JobHandler, Queues},
    secret::LocalSecrets,
};

use crate::moto::Moto;

/// The AWS resources every instance shares.
#[derive(Debug, Clone)]
pub struct Resources {
    /// The queues and their dead-letter queues.
    pub queues: QueueMap,
    /// The table.
    pub table: String,
}

/// One instance of every function.
#[derive(Debug, Clone)]
pub struct Instance {
    /// Its queue adapter (its own SQS client).
    pub queue: Arc<SqsQueue>,
    /// `notify`'s dependencies.
    pub notify: NotifyDeps,
    handlers: [(QueueName, Arc<dyn JobHandler>); 3],
}

impl Instance {
    /// Builds an instance over `resources`.
    pub async fn new(config: Arc<Config>, resources: &Resources) -> Self {
        let moto = Moto::shared();
        let sdk = moto.sdk_config().await;
        let queue =
            Arc::new(SqsQueue::new(aws_sdk_sqs::Client::new(&sdk), resources.queues.clone()));
        let store =
            Arc::new(DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), &resources.table));
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let limiter = Arc::new(DynamoLimiter::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            &resources.table,
            clock.clone(),
        ));
        let http = exsync_shared::http::client(&config.cloud).expect("the HTTP client");
        let service =
            TokenService::new(&config, Arc::new(LocalSecrets), http.clone(), clock.clone());
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
            limiter,
            clock.clone(),
        )
        .with_retry(retry);
        let dataverse =
            Arc::new(DataverseClient::new(http.clone(), &config.dataverse.url, tokens, limits));
        let encryption =
            Arc::new(EncryptionKeys::new(config.clone(), Arc::new(LocalSecrets), clock.clone()));
        let issuer = Arc::new(IssuerKeys::new(
            Arc::new(HttpKeySource::new(http, &config.cloud.authority_host)),
            clock.clone(),
        ));
        let prefilter =
            Arc::new(Prefilter::new(config.clone(), encryption.clone(), issuer, clock.clone()));
        let parties = Arc::new(PartyResolver::new(clock.clone(), Duration::from_secs(900)));
        let sync = SyncDeps {
            config: config.clone(),
            graph: graph.clone(),
            cursors: store.clone(),
            passes: store.clone(),
            status: store.clone(),
            queue: queue.clone(),
            clock: clock.clone(),
            pages_per_job: DEFAULT_PAGES_PER_JOB,
        };
        let subscribe = SubscribeDeps {
            config: config.clone(),
            graph: graph.clone(),
            subscriptions: store.clone(),
            passes: store.clone(),
            queue: queue.clone(),
            status: store.clone(),
            clock: clock.clone(),
            encryption,
        };
        let write = WriteDeps {
            dataverse: dataverse.clone(),
            parties: parties.clone(),
            dedupe: store.clone(),
            status: store.clone(),
            clock: clock.clone(),
            graph,
            config,
        };
        let screen = ScreenDeps {
            dataverse,
            parties,
            dedupe: store.clone(),
            passes: store.clone(),
            queue: queue.clone(),
            clock: clock.clone(),
        };
        let notify = NotifyDeps {
            subscriptions: store.clone(),
            passes: store,
            queue: queue.clone(),
            clock,
            prefilter,
        };
        let handlers: [(QueueName, Arc<dyn JobHandler>); 3] = [
            (QueueName::Changes, Arc::new(EachJob::new(QueueName::Changes, SyncJobs(sync)))),
            (QueueName::Writes, Arc::new(WriteAndScreenJobs { write: WriteJobs(write), screen })),
            (
                QueueName::Subscriptions,
                Arc::new(EachJob::new(QueueName::Subscriptions, SubscribeJobs(subscribe))),
            ),
        ];
        Self { queue, notify, handlers }
    }

    /// The queue capabilities of this instance.
    pub fn queues(&self) -> Queues {
        Queues { source: self.queue.clone(), sink: self.queue.clone() }
    }

    /// Each queue's handler.
    pub fn handlers(&self) -> &[(QueueName, Arc<dyn JobHandler>); 3] {
        &self.handlers
    }
}
