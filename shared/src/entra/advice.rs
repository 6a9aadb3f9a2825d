//! Entra's refusals explained: whether waiting helps, and what an admin must do otherwise
//! (reference B1 error table, B3 "never retry invalid_client or unauthorized_client").

use std::time::Duration;

use url::Url;

use super::error::EntraFailure;
use crate::{
    config::Credential,
    domain::{ClientId, TenantId},
    ports::{CredentialKey, Resource, TokenError},
};

/// The app a token was asked for, to write messages an admin can act on.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// Whose credential.
    pub key: &'a CredentialKey,
    /// The app's tenant.
    pub tenant: &'a TenantId,
    /// The app.
    pub client_id: &'a ClientId,
    /// Where its secret or certificate is kept.
    pub credential: &'a Credential,
    /// The Entra authority host.
    pub authority: &'a Url,
    /// The API the token was for.
    pub resource: Resource,
}

/// Throttled without `Retry-After`: wait a minute (reference B1, B3).
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(60);

impl EntraFailure {
    /// The error callers see: what failed, what to do, and whether waiting helps.
    pub fn into_token_error(self, at: &Subject<'_>) -> TokenError {
        let (tenant, app, authority) = (at.tenant, at.client_id, at.authority.as_str());
        let authority = authority.trim_end_matches('/');
        match self {
            Self::Refused { status, error, code, description, retry_after } => {
                let entra = description.map(|d| format!(" (Entra: {d})")).unwrap_or_default();
                let Some(code) = code else {
                    let error = error.as_deref().unwrap_or("no error code");
                    let message = format!("HTTP {status} from {authority}: {error}{entra}");
                    return by_status(at, status, error, None, message, retry_after);
                };
                let aadsts = format!("AADSTS{code}");
                let advice = match code {
                    7000215 => format!(
                        "Entra rejected the client secret of app {app} in tenant {tenant}: put \
                         the secret's Value (not its Secret ID) into {}",
                        reference(at)
                    ),
                    7000222 => format!(
                        "the client secret has expired: add a new secret to app {app} in \
                         tenant {tenant} and update {}",
                        reference(at)
                    ),
                    700016 => format!(
                        "app {app} is not in tenant {tenant}: check the tenant and client ids, \
                         and have an admin of the tenant consent to the app at \
                         {authority}/{tenant}/adminconsent?client_id={app}"
                    ),
                    90002 => format!(
                        "tenant {tenant} does not exist at {authority}: check the tenant_id \
                         (a directory GUID or verified domain)"
                    ),
                    500011 => format!(
                        "the {} resource is not in tenant {tenant}: check {}",
                        resource_name(at.resource),
                        resource_key(at.resource)
                    ),
                    70011 => format!(
                        "the {} scope was refused: check {}",
                        resource_name(at.resource),
                        resource_key(at.resource)
                    ),
                    7000112 => {
                        format!("app {app} is disabled in tenant {tenant}: an admin must enable it")
                    }
                    700027 | 50012 | 500133 | 50048 | 700024 => format!(
                        "Entra refused the certificate assertion of app {app} in tenant \
                         {tenant}: upload the certificate in {} to the app registration, check \
                         that it has not expired and that this machine's clock is right",
                        reference(at)
                    ),
                    // TenantThrottlingError, LoopDetected (reference B1).
                    90055 | 50196 => {
                        let message =
                            format!("{aadsts}: Entra is throttling tenant {tenant}{entra}");
                        let wait = retry_after.or(Some(DEFAULT_RETRY_AFTER));
                        return transient(at, Some(aadsts), message, wait);
                    }
                    _ => {
                        let error = error.as_deref().unwrap_or("error");
                        let message = format!("{aadsts}: HTTP {status} {error}{entra}");
                        return by_status(at, status, error, Some(aadsts), message, retry_after);
                    }
                };
                TokenError::permanent(
                    at.key,
                    Some(aadsts.clone()),
                    format!("{aadsts}: {advice}{entra}"),
                )
            }
            Self::TimedOut => transient(
                at,
                None,
                format!("the token endpoint {authority} did not answer in time"),
                None,
            ),
            Self::UntrustedCertificate { detail } => TokenError::permanent(
                at.key,
                None,
                format!(
                    "the TLS certificate of {authority} is not trusted ({detail}): if a proxy \
                     or private cloud uses its own CA, set cloud.ca_file to its PEM certificate"
                ),
            ),
            Self::Unreachable { detail } => {
                transient(at, None, format!("cannot reach {authority}: {detail}"), None)
            }
            Self::Other { detail, transient: true } => {
                transient(at, None, format!("token request to {authority} failed: {detail}"), None)
            }
            Self::Other { detail, transient: false } => {
                TokenError::permanent(at.key, None, format!("azure_identity refused: {detail}"))
            }
        }
    }
}

/// Errors without a code Entra documents: 429, 408, 5xx and `temporarily_unavailable` pass
/// with time; any other refusal needs someone to look.
fn by_status(
    at: &Subject<'_>,
    status: u16,
    error: &str,
    code: Option<String>,
    message: String,
    retry_after: Option<Duration>,
) -> TokenError {
    match status {
        429 => transient(at, code, message, retry_after.or(Some(DEFAULT_RETRY_AFTER))),
        408 | 500..=599 => transient(at, code, message, retry_after),
        _ if error == "temporarily_unavailable" => transient(at, code, message, retry_after),
        _ => TokenError::permanent(at.key, code, message),
    }
}

fn transient(
    at: &Subject<'_>,
    code: Option<String>,
    message: String,
    retry_after: Option<Duration>,
) -> TokenError {
    TokenError { retry_after, ..TokenError::transient(at.key, code, message) }
}

fn reference(at: &Subject<'_>) -> String {
    match at.credential {
        Credential::Secret(r) | Credential::Certificate(r) => r.to_string(),
    }
}

fn resource_name(resource: Resource) -> &'static str {
    match resource {
        Resource::Graph => "Microsoft Graph",
        Resource::Dataverse => "Dataverse",
    }
}

fn resource_key(resource: Resource) -> &'static str {
    match resource {
        Resource::Graph => "cloud.graph_url",
        Resource::Dataverse => "dataverse.url (the environment must belong to the same tenant)",
    }
}
