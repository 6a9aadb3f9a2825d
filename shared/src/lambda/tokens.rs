//! The `tokens` function: a [`TokenRequest`] in, a [`TokenResponse`] out, made by the
//! [`TokenService`] over Secrets Manager. The only function whose role may read client
//! secrets and certificates; the answer carries the token, never the secret.

use std::{path::PathBuf, sync::Arc};

use aws_config::SdkConfig;
use tokio::sync::Mutex;

use super::{SetupError, config::ConfigSource, config_source};
use crate::{
    adapters::aws::{SecretsManagerSecrets, env},
    entra::TokenService,
    ports::{Clock, Secrets, SystemClock, TokenError, Tokens},
    tokens_api::{TokenRequest, TokenResponse},
};

/// The token service of the current configuration.
#[derive(Debug)]
pub struct TokensFunction {
    config: ConfigSource,
    secrets: Arc<dyn Secrets>,
    clock: Arc<dyn Clock>,
    service: Mutex<Option<(String, Arc<TokenService>)>>,
}

impl TokensFunction {
    /// From the process environment.
    pub async fn from_env() -> Result<Self, SetupError> {
        let base = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        Self::from_lookup(&env::sdk_config().await, &env::process_env, base)
    }

    /// From `lookup` and `sdk` (tests hand in moto's).
    pub fn from_lookup(
        sdk: &SdkConfig,
        lookup: &dyn Fn(&str) -> Option<String>,
        base_dir: PathBuf,
    ) -> Result<Self, SetupError> {
        Ok(Self {
            config: config_source(sdk, lookup, base_dir)?,
            secrets: Arc::new(SecretsManagerSecrets::new(aws_sdk_secretsmanager::Client::new(sdk))),
            clock: Arc::new(SystemClock),
            service: Mutex::default(),
        })
    }

    /// Answers one request. Every failure is an answer (`outcome: failed`, with whether
    /// asking again helps), so callers never see a crashed invocation for a refused secret.
    #[tracing::instrument(skip_all, fields(credential, resource))]
    pub async fn answer(&self, request: TokenRequest) -> TokenResponse {
        let (key, resource) = request.into_parts();
        tracing::Span::current().record("credential", key.to_string());
        tracing::Span::current().record("resource", format!("{resource:?}"));
        let result = match self.service().await {
            Ok(service) => service.token(&key, resource).await,
            Err(e) => Err(TokenError {
                retryable: e.is_retryable(),
                ..TokenError::permanent(&key, None, e.to_string())
            }),
        };
        if let Err(error) = &result {
            tracing::warn!(%error, "no token");
        }
        TokenResponse::from_result(result)
    }

    /// The service for the current configuration, built again when it changed.
    async fn service(&self) -> Result<Arc<TokenService>, super::config::ConfigLoadError> {
        let loaded = self.config.current().await?;
        let mut held = self.service.lock().await;
        if let Some((etag, service)) = held.as_ref()
            && *etag == loaded.etag
        {
            return Ok(service.clone());
        }
        let http = crate::http::client(&loaded.config.cloud)
            .map_err(|e| super::config::ConfigLoadError::Http(e.to_string()))?;
        let service = Arc::new(TokenService::new(
            &loaded.config,
            self.secrets.clone(),
            http,
            self.clock.clone(),
        ));
        *held = Some((loaded.etag, service.clone()));
        Ok(service)
    }
}
