//! Building azure_identity credentials: always against the configured authority host, over
//! exsync's HTTP client, without azure's own retries (crates.md 2: its default policy stalls
//! about 80 s on a TLS failure; the caller's job retry owns backoff).

use std::sync::Arc;

use azure_core::{
    cloud::{CloudConfiguration, CustomConfiguration},
    credentials::TokenCredential,
    http::{ClientOptions, RetryOptions, Transport},
};
use azure_identity::{
    ClientAssertionCredential, ClientAssertionCredentialOptions, ClientSecretCredential,
    ClientSecretCredentialOptions,
};
use url::Url;

use super::{
    assertion::{CertificateAssertion, CertificateError},
    transport::EntraTransport,
};
use crate::{
    config::Credential,
    domain::{ClientId, TenantId},
    ports::Clock,
    secret::Secret,
};

/// An app registration as the token service knows it.
#[derive(Debug, Clone)]
pub struct AppRegistration {
    /// The app's tenant (where the token is asked).
    pub tenant_id: TenantId,
    /// The application (client) id.
    pub client_id: ClientId,
    /// Where its secret or certificate is kept.
    pub credential: Credential,
}

/// Why a credential could not be built. Never contains the secret.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The PEM bundle is not a usable certificate credential.
    #[error("the certificate in {reference} cannot be used: {source}")]
    Certificate {
        /// Where the bundle was read from.
        reference: String,
        /// What is wrong with it.
        source: CertificateError,
    },
    /// azure_identity refused the settings (tenant id, authority host).
    #[error("azure_identity refused the credential settings: {0}")]
    Azure(String),
}

/// What every credential is built with.
#[derive(Debug, Clone)]
pub struct CredentialFactory {
    authority_host: Url,
    transport: EntraTransport,
    clock: Arc<dyn Clock>,
}

impl CredentialFactory {
    /// Credentials that ask `authority_host` over `http`; `clock` dates certificate assertions.
    pub fn new(authority_host: Url, http: reqwest::Client, clock: Arc<dyn Clock>) -> Self {
        Self { authority_host, transport: EntraTransport::new(http), clock }
    }

    /// Gives each token request `timeout` (see [`super::transport::TOKEN_REQUEST_TIMEOUT`]).
    pub fn with_request_timeout(self, timeout: std::time::Duration) -> Self {
        Self { transport: self.transport.with_timeout(timeout), ..self }
    }

    /// The token endpoint of `tenant`, as azure_identity computes it (and as the `aud` of a
    /// client assertion must name it).
    pub fn token_endpoint(&self, tenant: &TenantId) -> String {
        self.authority_host
            .join(&format!("/{tenant}/oauth2/v2.0/token"))
            .map(String::from)
            .unwrap_or_else(|_| format!("{}/{tenant}/oauth2/v2.0/token", self.authority_host))
    }

    /// Builds `app`'s credential from `material`, the current value of its secret reference
    /// (a client secret, or a PEM bundle with the certificate and its key).
    pub fn build(
        &self,
        app: &AppRegistration,
        material: &Secret,
    ) -> Result<Arc<dyn TokenCredential>, BuildError> {
        let (tenant, client) = (app.tenant_id.to_string(), app.client_id.to_string());
        let azure = |e: azure_core::Error| BuildError::Azure(e.to_string());
        match &app.credential {
            Credential::Secret(_) => {
                let options = ClientSecretCredentialOptions { client_options: self.options() };
                let secret = azure_core::credentials::Secret::new(material.expose().to_string());
                let credential =
                    ClientSecretCredential::new(&tenant, client, secret, Some(options))
                        .map_err(azure)?;
                Ok(credential)
            }
            Credential::Certificate(reference) => {
                let assertion = CertificateAssertion::from_pem(
                    material.expose(),
                    app.client_id.clone(),
                    self.token_endpoint(&app.tenant_id),
                    self.clock.clone(),
                )
                .map_err(|source| BuildError::Certificate {
                    reference: reference.to_string(),
                    source,
                })?;
                let options = ClientAssertionCredentialOptions { client_options: self.options() };
                let credential =
                    ClientAssertionCredential::new(tenant, client, assertion, Some(options))
                        .map_err(azure)?;
                Ok(credential)
            }
        }
    }

    fn options(&self) -> ClientOptions {
        let mut cloud = CustomConfiguration::default();
        cloud.authority_host = self.authority_host.as_str().trim_end_matches('/').to_string();
        ClientOptions {
            cloud: Some(Arc::new(CloudConfiguration::from(cloud))),
            transport: Some(Transport::new(Arc::new(self.transport.clone()))),
            retry: RetryOptions::none(),
            ..ClientOptions::default()
        }
    }
}
