//! `exsync-subscribe`: the schedules (`{"action":"upkeep"}` hourly, `{"action":"sweep"}`) and
//! the subscriptions queue's event source: creates, renews and recreates Graph subscriptions
//! and fans sweeps out into per-folder passes.

use std::sync::Arc;

use exsync_shared::lambda::{self, Error, LambdaEvent, Pipeline, service_fn, subscribe};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_logs();
    // EXSYNC_PUBLIC_URL (the notify Function URL) is where Graph is told to call.
    let pipeline = Arc::new(Pipeline::from_env().await?);
    lambda::lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let pipeline = pipeline.clone();
        async move { subscribe::handle(&pipeline, event).await }
    }))
    .await
}
