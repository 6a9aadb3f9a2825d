//! `exsync-write`: the writes queue's event source. Each batch of `WriteEmail` and `Screen`
//! jobs goes into Dataverse, each email once; failures are reported per message
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
        async move { sqs::handle(&pipeline, QueueName::Writes, event).await }
    }))
    .await
}
