//! The token service: the one place that reads client secrets and certificates and asks Entra
//! for tokens (DESIGN: tokens). Callers go through [`super::CachingTokens`].
//!
//! Each app's azure_identity credential is kept between calls, so azure's own cache lives on.
//! The secret is read again whenever a token is actually requested: when it changed (rotated,
//! or fixed after a failure) or the last request failed for good, the credential is rebuilt,
//! so a mailbox heals without a restart.

use std::{
    collections::HashMap,
    fmt,
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use azure_core::credentials::TokenCredential;
use time::OffsetDateTime;
use tracing::{field::Empty, instrument};
use url::Url;

use super::{
    advice::Subject,
    credential::{AppRegistration, CredentialFactory},
    error::EntraFailure,
};
use crate::{
    config::{Config, Credential},
    ports::{AccessToken, Clock, CredentialKey, Resource, Secrets, TokenError, Tokens},
    secret::Secret,
};

/// Gets tokens from Entra ID with the credentials of the configuration.
pub struct TokenService {
    authority_host: Url,
    graph_url: Url,
    dataverse_url: Url,
    apps: HashMap<CredentialKey, AppRegistration>,
    secrets: Arc<dyn Secrets>,
    factory: CredentialFactory,
    clock: Arc<dyn Clock>,
    built: Mutex<HashMap<CredentialKey, Built>>,
}

/// A credential and the secret value it was built from.
struct Built {
    material: Secret,
    credential: Arc<dyn TokenCredential>,
    failed_for_good: bool,
}

impl fmt::Debug for TokenService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenService")
            .field("authority_host", &self.authority_host.as_str())
            .field("apps", &self.apps)
            .finish_non_exhaustive()
    }
}

impl TokenService {
    /// The apps of `config` (the Dataverse app, every profile, every mailbox with its own
    /// credential), asking `config.cloud.authority_host` over `http` (see [`crate::http`]).
    pub fn new(
        config: &Config,
        secrets: Arc<dyn Secrets>,
        http: reqwest::Client,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let mut apps = HashMap::new();
        let d = &config.dataverse;
        apps.insert(
            CredentialKey::Dataverse,
            AppRegistration {
                tenant_id: d.tenant_id.clone(),
                client_id: d.client_id.clone(),
                credential: d.credential.clone(),
            },
        );
        for p in &config.profiles {
            apps.insert(
                CredentialKey::Profile(p.name.clone()),
                AppRegistration {
                    tenant_id: p.tenant_id.clone(),
                    client_id: p.client_id.clone(),
                    credential: p.credential.clone(),
                },
            );
        }
        for m in &config.mailboxes {
            if let Some(own) = &m.credential {
                apps.insert(
                    CredentialKey::Mailbox(m.address.clone()),
                    AppRegistration {
                        tenant_id: config.profile_of(m).tenant_id.clone(),
                        client_id: own.client_id.clone(),
                        credential: own.credential.clone(),
                    },
                );
            }
        }
        let authority_host = config.cloud.authority_host.clone();
        Self {
            factory: CredentialFactory::new(authority_host.clone(), http, clock.clone()),
            authority_host,
            graph_url: config.cloud.graph_url.clone(),
            dataverse_url: config.dataverse.url.clone(),
            apps,
            secrets,
            clock,
            built: Mutex::new(HashMap::new()),
        }
    }

    /// Gives each token request `timeout` instead of 30 s.
    pub fn with_request_timeout(self, timeout: std::time::Duration) -> Self {
        Self { factory: self.factory.with_request_timeout(timeout), ..self }
    }

    /// `{resource URL}/.default`: every application permission granted on the resource.
    fn scope(&self, resource: Resource) -> String {
        let url = match resource {
            Resource::Graph => &self.graph_url,
            Resource::Dataverse => &self.dataverse_url,
        };
        format!("{}/.default", url.as_str().trim_end_matches('/'))
    }

    /// The credential for `key`, rebuilt when the secret changed or the last attempt failed
    /// for good.
    fn credential(
        &self,
        key: &CredentialKey,
        app: &AppRegistration,
        material: Secret,
    ) -> Result<Arc<dyn TokenCredential>, TokenError> {
        let mut built = self.built.lock().expect("credential map lock");
        if let Some(b) = built.get(key).filter(|b| b.material == material && !b.failed_for_good) {
            return Ok(b.credential.clone());
        }
        let credential = self
            .factory
            .build(app, &material)
            .map_err(|e| TokenError::permanent(key, None, e.to_string()))?;
        tracing::info!("credential (re)built from the current secret");
        built.insert(
            key.clone(),
            Built { material, credential: credential.clone(), failed_for_good: false },
        );
        Ok(credential)
    }

    fn mark_failed(&self, key: &CredentialKey) {
        if let Some(b) = self.built.lock().expect("credential map lock").get_mut(key) {
            b.failed_for_good = true;
        }
    }
}

#[async_trait]
impl Tokens for TokenService {
    #[instrument(skip_all, fields(key = %key, resource = ?resource, tenant = Empty))]
    async fn token(
        &self,
        key: &CredentialKey,
        resource: Resource,
    ) -> Result<AccessToken, TokenError> {
        let Some(app) = self.apps.get(key) else {
            let message = "no such credential in the configuration (a mailbox without its own \
                           app uses its profile's: see CredentialKey::of_mailbox)"
                .to_string();
            return Err(TokenError::permanent(key, None, message));
        };
        tracing::Span::current().record("tenant", app.tenant_id.as_str());
        let reference = match &app.credential {
            Credential::Secret(r) | Credential::Certificate(r) => r,
        };
        let material = self.secrets.read(reference).await.map_err(|e| TokenError {
            retryable: e.is_retryable(),
            ..TokenError::permanent(key, None, e.to_string())
        })?;
        let redact = material.clone();
        let credential = self.credential(key, app, material)?;
        let scope = self.scope(resource);
        match credential.get_token(&[scope.as_str()], None).await {
            Ok(token) => {
                // azure dates expiry by the system clock; ours may be simulated.
                let left = token.expires_on - OffsetDateTime::now_utc();
                tracing::debug!(expires_in = left.whole_seconds(), "token issued");
                let token = Secret::new(token.token.secret());
                Ok(AccessToken { token, expires_at: self.clock.now() + left })
            }
            Err(error) => {
                let subject = Subject {
                    key,
                    tenant: &app.tenant_id,
                    client_id: &app.client_id,
                    credential: &app.credential,
                    authority: &self.authority_host,
                    resource,
                };
                let mut error = EntraFailure::from_azure(&error).into_token_error(&subject);
                // Entra does not echo secrets; this holds even if one day it did.
                if redact.expose().len() >= 8 {
                    error.message = error.message.replace(redact.expose(), "[redacted]");
                }
                if error.retryable {
                    tracing::warn!(code = ?error.code, "token request failed: {}", error.message);
                } else {
                    self.mark_failed(key);
                    // WARN, not ERROR: a parked mailbox is probed again and again, and its
                    // alert is logged once, when it parks (handlers::failure::report).
                    tracing::warn!(code = ?error.code, "token request refused: {}", error.message);
                }
                Err(error)
            }
        }
    }

    async fn rejected(&self, key: &CredentialKey, _: Resource, _: &AccessToken) {
        // azure_identity would answer from its own cache: a new credential starts empty.
        self.built.lock().expect("credential map lock").remove(key);
    }
}
