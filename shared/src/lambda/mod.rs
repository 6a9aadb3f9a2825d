//! The Lambda glue (feature `aws`): what the five functions' `main`s call.
//!
//! - [`Pipeline`]: the adapters of a function, built once per instance from the environment
//!   (SQS, DynamoDB, the `tokens` function), and the handlers' dependencies
//!   ([`Wiring`]) built from the configuration, again only when the configuration changed.
//! - [`config`](mod@config) and [`s3`]: the configuration object on S3 (`EXSYNC_CONFIG_URI`).
//! - [`sqs`]: an SQS event through [`process_batch`](crate::runtime::process_batch), answered
//!   with the batch item failures (`ReportBatchItemFailures`).
//! - [`notify`](mod@notify): Function URL requests through the webhook app.
//! - [`subscribe`](mod@subscribe): the schedule's `{"action":"upkeep"}` and `{"action":"sweep"}`, or
//!   an SQS event of subscription jobs.
//! - [`tokens`](mod@tokens): the `tokens` function, the only one that reads client secrets.
//!
//! # Secrets
//!
//! Only `tokens` reads client secrets and certificates. The one exception is the encryption
//! certificates of rich notifications, whose private key `notify` needs to decrypt resource
//! data within Graph's three seconds and whose public part `subscribe` sends to Graph: those
//! two functions read them through [`SecretsManagerSecrets`], and the template grants them
//! `GetSecretValue` on the `encryption/` secrets only (infra/README.md, "Secrets").

pub mod config;
pub mod notify;
pub mod s3;
pub mod sqs;
pub mod subscribe;
pub mod tokens;

use std::{path::PathBuf, sync::Arc};

use async_trait::async_trait;
use aws_config::SdkConfig;
use tokio::sync::Mutex;
use url::Url;

pub use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
pub use lambda_http;
pub use lambda_runtime::{self, Error, LambdaEvent, service_fn};

use self::{
    config::{ConfigLoadError, ConfigSource},
    s3::{S3Reader, S3Uri},
};
use crate::{
    adapters::aws::{
        DynamoLimiter, DynamoStore, LambdaTokens, SecretsManagerSecrets, SqsQueue,
        env::{self, MissingVariable, QueueMap},
    },
    admin::Admin,
    entra::CachingTokens,
    ports::{
        AccessToken, Clock, CredentialKey, RequestLimiter, Resource, Secrets, SystemClock,
        TokenError, Tokens,
    },
    telemetry::{self, LogFormat},
    wiring::{Adapters, Wiring},
};

/// JSON logs (the template sets `LoggingConfig.LogFormat: JSON`), levels from `RUST_LOG`.
pub fn init_logs() {
    telemetry::init(LogFormat::from_env_or(LogFormat::Json), "info");
}

/// A function cannot start: its environment is incomplete or wrong.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// A variable is missing.
    #[error(transparent)]
    Missing(#[from] MissingVariable),
    /// A variable holds something unusable.
    #[error("the environment variable {name}: {message}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// A function's adapters and, per configuration, the handlers' dependencies.
#[derive(Debug)]
pub struct Pipeline {
    config: ConfigSource,
    store: Arc<DynamoStore>,
    queue: Arc<SqsQueue>,
    tokens: Arc<dyn Tokens>,
    secrets: Arc<dyn Secrets>,
    limiter: Arc<dyn RequestLimiter>,
    clock: Arc<dyn Clock>,
    wiring: Mutex<Option<(String, Wiring<DynamoStore>)>>,
}

impl Pipeline {
    /// Everything from the process environment (the SAM template's variables; the AWS SDK's
    /// own for region, credentials and endpoint). Relative paths in the configuration resolve
    /// against the working directory (the task root on Lambda).
    pub async fn from_env() -> Result<Self, SetupError> {
        let base = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        Self::from_lookup(&env::sdk_config().await, &env::process_env, base)
    }

    /// Everything from `lookup` and `sdk` (tests hand in moto's).
    pub fn from_lookup(
        sdk: &SdkConfig,
        lookup: &dyn Fn(&str) -> Option<String>,
        base_dir: PathBuf,
    ) -> Result<Self, SetupError> {
        let config = config_source(sdk, lookup, base_dir)?;
        let table = env::required(lookup, env::TABLE_NAME, "the DynamoDB table's name")?;
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
        // Graph's limits hold across every instance of every function: slot leases in the table.
        let limiter = Arc::new(DynamoLimiter::new(dynamodb.clone(), table.clone(), clock.clone()));
        let store = Arc::new(DynamoStore::new(dynamodb, table));
        let queue = Arc::new(
            SqsQueue::new(aws_sdk_sqs::Client::new(sdk), QueueMap::from_lookup(lookup)?)
                .with_clock(clock.clone()),
        );
        let tokens: Arc<dyn Tokens> = match lookup(env::TOKENS_FUNCTION) {
            Some(function) if !function.trim().is_empty() => Arc::new(CachingTokens::new(
                Arc::new(LambdaTokens::new(aws_sdk_lambda::Client::new(sdk), function.trim())),
                clock.clone(),
            )),
            _ => Arc::new(NoTokens),
        };
        let secrets =
            Arc::new(SecretsManagerSecrets::new(aws_sdk_secretsmanager::Client::new(sdk)));
        Ok(Self { config, store, queue, tokens, secrets, limiter, clock, wiring: Mutex::default() })
    }

    /// Gets tokens from `tokens` instead (tests: the `tokens` handler in the same process).
    pub fn with_tokens(mut self, tokens: Arc<dyn Tokens>) -> Self {
        self.tokens = Arc::new(CachingTokens::new(tokens, self.clock.clone()));
        self
    }

    /// Checks for a newer configuration every `every` (tests).
    pub fn with_config_check_every(mut self, every: std::time::Duration) -> Self {
        self.config = self.config.with_check_every(every);
        self
    }

    /// The SQS queues.
    pub fn queue(&self) -> &Arc<SqsQueue> {
        &self.queue
    }

    /// The DynamoDB store.
    pub fn store(&self) -> &Arc<DynamoStore> {
        &self.store
    }

    /// Time.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The handlers' dependencies for the current configuration, built again only when it
    /// changed (its ETag).
    pub async fn wiring(&self) -> Result<Wiring<DynamoStore>, ConfigLoadError> {
        let loaded = self.config.current().await?;
        let mut held = self.wiring.lock().await;
        if let Some((etag, wiring)) = held.as_ref()
            && *etag == loaded.etag
        {
            return Ok(wiring.clone());
        }
        let http = crate::http::client(&loaded.config.cloud)
            .map_err(|e| ConfigLoadError::Http(e.to_string()))?;
        let adapters = Adapters {
            store: self.store.clone(),
            queue: self.queue.clone(),
            tokens: self.tokens.clone(),
            secrets: self.secrets.clone(),
            limiter: self.limiter.clone(),
            clock: self.clock.clone(),
        };
        let wiring = Wiring::new(loaded.config, adapters, http);
        *held = Some((loaded.etag, wiring.clone()));
        Ok(wiring)
    }

    /// The admin commands over this deployment (`exsync --aws status`, `mailbox`,
    /// `dead-letters`): its table, its queues' dead letters, Test & Enable through `tokens`.
    pub async fn admin(&self) -> Result<Admin, ConfigLoadError> {
        Ok(Admin::new(self.wiring().await?.check_deps(), self.queue.clone()))
    }
}

/// The configuration object named by [`env::CONFIG_URI`], with [`env::PUBLIC_URL`] over
/// `runtime.public_url` when set.
pub fn config_source(
    sdk: &SdkConfig,
    lookup: &dyn Fn(&str) -> Option<String>,
    base_dir: PathBuf,
) -> Result<ConfigSource, SetupError> {
    let uri: S3Uri = env::required(lookup, env::CONFIG_URI, "the configuration's s3://bucket/key")?
        .parse()
        .map_err(|message| SetupError::Invalid { name: env::CONFIG_URI, message })?;
    let public_url = match lookup(env::PUBLIC_URL).filter(|v| !v.trim().is_empty()) {
        Some(text) => {
            Some(Url::parse(text.trim()).ok().filter(|u| u.scheme() == "https").ok_or_else(
                || SetupError::Invalid {
                    name: env::PUBLIC_URL,
                    message: format!("{text:?} is not an https URL (Graph calls only https)"),
                },
            )?)
        }
        None => None,
    };
    let reader = S3Reader::new(sdk.clone())
        .map_err(|e| SetupError::Invalid { name: env::CONFIG_URI, message: e.to_string() })?;
    Ok(ConfigSource::new(uri, reader, base_dir, public_url))
}

/// The tokens of a function the template gives no `EXSYNC_TOKENS_FUNCTION` (notify, which
/// never calls Graph or Dataverse): asking is a deployment error, said as such.
#[derive(Debug)]
struct NoTokens;

#[async_trait]
impl Tokens for NoTokens {
    async fn token(
        &self,
        key: &CredentialKey,
        _resource: Resource,
    ) -> Result<AccessToken, TokenError> {
        Err(TokenError::permanent(
            key,
            None,
            format!(
                "no tokens function to ask ({} is not set: set it to the tokens function's name)",
                env::TOKENS_FUNCTION
            ),
        ))
    }
}
