//! `exsync-tokens`: access tokens for the other functions (`tokens_api` requests in, tokens
//! or reasons out). The only function whose role reads client secrets and certificates.

use std::sync::Arc;

use exsync_shared::{
    lambda::{self, Error, LambdaEvent, service_fn, tokens::TokensFunction},
    tokens_api::{TokenRequest, TokenResponse},
};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_logs();
    // Built once per instance: the token credentials, and their caches, live as long as it.
    let function = Arc::new(TokensFunction::from_env().await?);
    lambda::lambda_runtime::run(service_fn(move |event: LambdaEvent<TokenRequest>| {
        let function = function.clone();
        async move { Ok::<TokenResponse, Error>(function.answer(event.payload).await) }
    }))
    .await
}
