//! One "Lambda instance" of each function over the AWS twins: its own HTTP client, token
//! cache, SDK clients and the DynamoDB request limiter, wired by the same [`Wiring`] the
//! Lambda functions use (tokens in-process instead of through the `tokens` function).

use std::sync::Arc;

use exsync_shared::{
    adapters::aws::{DynamoLimiter, DynamoStore, SqsQueue, env::QueueMap},
    config::Config,
    entra::{CachingTokens, TokenService},
    handlers::notify::NotifyDeps,
    jobs::QueueName,
    ports::{Clock, SystemClock},
    runtime::{JobHandler, Queues},
    secret::LocalSecrets,
    wiring::{Adapters, Wiring},
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
        let adapters = Adapters {
            store,
            queue: queue.clone(),
            tokens: Arc::new(CachingTokens::new(Arc::new(service), clock.clone())),
            secrets: Arc::new(LocalSecrets),
            limiter,
            clock,
        };
        let wiring = Wiring::new(config, adapters, http);
        let notify = wiring.notify_deps();
        let handlers = QueueName::ALL.map(|queue| (queue, wiring.handler(queue)));
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
