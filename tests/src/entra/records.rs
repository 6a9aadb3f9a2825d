//! What the handle reports about token requests, so tests can assert that a client caches
//! its tokens and stops on configuration errors.

use time::OffsetDateTime;

use crate::faults::Fault;

/// One call of the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// When it arrived (simulated time).
    pub at: OffsetDateTime,
    /// The `{tenant}` path segment as sent.
    pub tenant: String,
    /// The tenant id it resolved to.
    pub tenant_id: Option<String>,
    /// The client id the request named.
    pub client_id: Option<String>,
    /// The requested resource's identifier URI, once found in the tenant.
    pub resource: Option<String>,
    /// What the endpoint answered.
    pub outcome: TokenOutcome,
}

/// How a token request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenOutcome {
    /// A token was issued.
    Issued {
        /// How the client authenticated.
        credential: Credential,
        /// The `roles` claim (empty: no claim).
        roles: Vec<String>,
    },
    /// An AADSTS error.
    Refused {
        /// HTTP status.
        status: u16,
        /// OAuth `error`.
        error: String,
        /// The AADSTS number.
        code: u32,
    },
    /// An injected fault answered instead.
    Faulted(Fault),
}

/// The client credential behind an issued token (`appidacr` "1" or "2").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// A client secret.
    Secret,
    /// A certificate (client assertion).
    Certificate,
}

impl TokenRequest {
    /// Whether this request got a token for `tenant_id`, `client_id` and `resource`.
    pub fn issued_for(&self, tenant_id: &str, client_id: &str, resource: &str) -> bool {
        matches!(self.outcome, TokenOutcome::Issued { .. })
            && self.tenant_id.as_deref() == Some(tenant_id)
            && self.client_id.as_deref() == Some(client_id)
            && self
                .resource
                .as_deref()
                .is_some_and(|r| r.eq_ignore_ascii_case(resource.trim_end_matches('/')))
    }
}
