//! What went wrong getting a token, read from azure_core's error, and what an admin can do.
//!
//! Branch on `error_codes[0]` (the AADSTS number), never on the text (reference B1, D8). Only
//! the first line of `error_description` is kept (the rest is trace and correlation ids);
//! nothing of the request is ever read.

use std::time::Duration;

use azure_core::error::ErrorKind;
use serde::Deserialize;
use url::Url;

use super::transport::TimedOut;
use crate::{
    config::Credential,
    domain::{ClientId, TenantId},
    ports::{CredentialKey, Resource, TokenError},
};

/// Entra's answer to a refused token request, or why there was none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntraFailure {
    /// The token endpoint answered with an error.
    Refused {
        /// HTTP status.
        status: u16,
        /// `error` (`invalid_client`, ...).
        error: Option<String>,
        /// `error_codes[0]`, the AADSTS number.
        code: Option<u32>,
        /// The first line of `error_description`.
        description: Option<String>,
        /// `Retry-After`, in seconds.
        retry_after: Option<Duration>,
    },
    /// No answer in time.
    TimedOut,
    /// The server's TLS certificate is not trusted.
    UntrustedCertificate {
        /// rustls' reason.
        detail: String,
    },
    /// No connection (DNS, refused, reset).
    Unreachable {
        /// The transport's reason.
        detail: String,
    },
    /// Anything else: an unreadable answer, or a request azure_identity refused to send.
    Other {
        /// azure_core's reason.
        detail: String,
        /// Whether it came from the network side (worth retrying).
        transient: bool,
    },
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ErrorBody {
    error: Option<String>,
    error_description: Option<String>,
    error_codes: Vec<u32>,
}

/// Longest `error_description` line kept (Entra's are one or two sentences).
const MAX_DESCRIPTION: usize = 400;

impl EntraFailure {
    /// Reads azure_identity's error: the HTTP answer it carries, or the transport failure in
    /// its chain of sources.
    pub fn from_azure(error: &azure_core::Error) -> Self {
        let chain = std::iter::successors(Some(error as &(dyn std::error::Error + 'static)), |e| {
            e.source()
        });
        let mut transient = false;
        for cause in chain {
            if let Some(azure) = cause.downcast_ref::<azure_core::Error>() {
                match azure.kind() {
                    ErrorKind::HttpResponse { status, raw_response, .. } => {
                        return refused(u16::from(*status), raw_response.as_deref());
                    }
                    ErrorKind::Io | ErrorKind::Connection => transient = true,
                    _ => {}
                }
            }
            if cause.downcast_ref::<TimedOut>().is_some() {
                return Self::TimedOut;
            }
            if let Some(reqwest) = cause.downcast_ref::<reqwest::Error>() {
                if reqwest.is_timeout() {
                    return Self::TimedOut;
                }
                if let Some(detail) = certificate_problem(reqwest) {
                    return Self::UntrustedCertificate { detail };
                }
                return Self::Unreachable { detail: chain_text(reqwest) };
            }
        }
        Self::Other { detail: first_line(&error.to_string()), transient }
    }
}

fn refused(status: u16, raw: Option<&azure_core::http::RawResponse>) -> EntraFailure {
    let body: ErrorBody =
        raw.and_then(|r| serde_json::from_slice(r.body().as_ref()).ok()).unwrap_or_default();
    let description = body.error_description.as_deref().map(first_line);
    let code = body.error_codes.first().copied().or_else(|| {
        let rest = description.as_deref()?.strip_prefix("AADSTS")?;
        rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
    });
    let retry_after = raw
        .and_then(|r| r.headers().get_optional_str(&azure_core::http::headers::RETRY_AFTER))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    EntraFailure::Refused { status, error: body.error, code, description, retry_after }
}

fn first_line(text: &str) -> String {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default();
    match line.char_indices().nth(MAX_DESCRIPTION) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line.to_string(),
    }
}

/// rustls' certificate verdict, if the connection failed on one (it sits in an `io::Error`,
/// whose `source()` skips it, so the chain is walked by hand).
fn certificate_problem(error: &reqwest::Error) -> Option<String> {
    let mut cause = std::error::Error::source(error);
    while let Some(e) = cause {
        let tls = e
            .downcast_ref::<rustls::Error>()
            .or_else(|| e.downcast_ref::<std::io::Error>()?.get_ref()?.downcast_ref());
        if let Some(
            tls @ (rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented),
        ) = tls
        {
            return Some(tls.to_string());
        }
        cause = e.source();
    }
    None
}

fn chain_text(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(e) = cause {
        text = format!("{text}: {e}");
        cause = e.source();
    }
    first_line(&text)
}

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
                TokenError::permanent(at.key, None, format!("no token request was made: {detail}"))
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

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
