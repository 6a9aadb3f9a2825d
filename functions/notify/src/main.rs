//! `exsync-notify`: Graph's change and lifecycle notifications through the Function URL. The
//! validation handshake is answered in text/plain; a notification is answered 202 only once
//! its jobs are in SQS.

use std::sync::Arc;

use exsync_shared::lambda::{self, Error, Pipeline, lambda_http, notify};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_logs();
    // Built once per instance; notify has no EXSYNC_TOKENS_FUNCTION: it never calls Graph or
    // Dataverse.
    let pipeline = Arc::new(Pipeline::from_env().await?);
    lambda_http::run(lambda_http::service_fn(move |request: lambda_http::Request| {
        let pipeline = pipeline.clone();
        async move { notify::handle(&pipeline, request).await }
    }))
    .await
}
