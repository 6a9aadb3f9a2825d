//! Fresh AWS twins on the shared moto server, and a clock tests can move.

use std::sync::{Arc, Mutex};

use crate::moto::Moto;
use exsync_shared::{
    adapters::aws::{
        DynamoStore, SqsQueue,
        env::{QueueMap, QueueUrls},
    },
    jobs::QueueName,
    ports::Clock,
};
use time::OffsetDateTime;

/// A new table of the shared server; returns its name.
pub async fn fresh_table() -> String {
    let moto = Moto::shared();
    let table = moto.unique("exsync");
    moto.create_table(&table).await;
    table
}

/// A store over `table`, with a client of its own (as each Lambda instance has).
pub async fn store_on(table: &str) -> DynamoStore {
    DynamoStore::new(aws_sdk_dynamodb::Client::new(&Moto::shared().sdk_config().await), table)
}

/// A store over a new table.
pub async fn fresh_store() -> DynamoStore {
    store_on(&fresh_table().await).await
}

/// A clock that stands still until moved.
#[derive(Debug)]
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    /// Standing at the current time.
    pub fn new() -> Arc<Self> {
        Arc::new(Self(Mutex::new(OffsetDateTime::now_utc())))
    }

    /// Moves it forward.
    pub fn advance(&self, by: std::time::Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap()
    }
}

/// The redrive policy's `maxReceiveCount` of the contract's queues: above the runtime's own
/// limit (it dead-letters with a reason after 5 receives), as in the template.
pub const MAX_RECEIVE_COUNT: u32 = 7;

/// The three queues and their dead-letter queues, new on the shared server, with
/// `max_receive_count` in their redrive policy.
pub async fn fresh_queue_map(max_receive_count: u32) -> QueueMap {
    let moto = Moto::shared();
    let stem = moto.unique("exsync");
    let mut urls = Vec::new();
    for queue in QueueName::ALL {
        let pair =
            moto.create_queue(&format!("{stem}-{}", queue.as_str()), max_receive_count).await;
        urls.push((queue, QueueUrls { url: pair.url, dead_letter_url: pair.dead_letter_url }));
    }
    QueueMap::new(urls)
}

/// An SQS twin over new queues.
pub async fn fresh_queue() -> SqsQueue {
    queue_on(fresh_queue_map(MAX_RECEIVE_COUNT).await).await
}

/// An SQS twin over `queues`, with a client of its own.
pub async fn queue_on(queues: QueueMap) -> SqsQueue {
    SqsQueue::new(aws_sdk_sqs::Client::new(&Moto::shared().sdk_config().await), queues)
}
