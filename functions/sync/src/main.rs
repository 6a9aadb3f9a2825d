//! `exsync-sync`: the changes queue's event source. Each batch of `SyncFolder` jobs reads the
//! folders' deltas from Graph and emits write jobs; failures are reported per message
//! (`ReportBatchItemFailures`).

use std::sync::Arc;

use exsync_shared::{
    jobs::QueueName,
    lambda::{self, Error, LambdaEvent, Pipeline, SqsEvent, service_fn, sqs},
};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_logs();
    // Built once per instance; the configuration is read at the first event and again only
    // when its object changes.
    let pipeline = Arc::new(Pipeline::from_env().await?);
    lambda::lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let pipeline = pipeline.clone();
        async move { sqs::handle(&pipeline, QueueName::Changes, event).await }
    }))
    .await
}
