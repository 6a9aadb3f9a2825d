//! Access tokens, asked of the one place that holds credentials (DESIGN: tokens).

use std::{fmt, time::Duration};

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::{
    config::Mailbox,
    domain::{MailboxAddress, ProfileName},
    secret::Secret,
};

/// Whose credential a token is made with. Callers name it; only the token service reads it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CredentialKey {
    /// A profile's app, for Graph.
    Profile(ProfileName),
    /// A mailbox's own app, for Graph.
    Mailbox(MailboxAddress),
    /// The Dataverse application user's app.
    Dataverse,
}

impl CredentialKey {
    /// The credential a mailbox's Graph calls use: its own app when it has one, else its
    /// profile's.
    pub fn of_mailbox(mailbox: &Mailbox) -> Self {
        match mailbox.credential {
            Some(_) => Self::Mailbox(mailbox.address.clone()),
            None => Self::Profile(mailbox.profile.clone()),
        }
    }
}

impl fmt::Display for CredentialKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Profile(p) => write!(f, "profile {p}"),
            Self::Mailbox(m) => write!(f, "mailbox {m}"),
            Self::Dataverse => f.write_str("dataverse"),
        }
    }
}

/// The API a token is for (its audience).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resource {
    /// Microsoft Graph (`{graph_url}/.default`).
    Graph,
    /// The Dataverse environment (`{url}/.default`).
    Dataverse,
}

/// A bearer token and when it stops working.
#[derive(Debug, Clone)]
pub struct AccessToken {
    /// The token.
    pub token: Secret,
    /// Its expiry.
    pub expires_at: OffsetDateTime,
}

/// A token that could not be had. The message never contains a secret.
#[derive(Debug, Clone, thiserror::Error)]
#[error("token for {key}: {message}")]
pub struct TokenError {
    /// Whose credential.
    pub key: CredentialKey,
    /// The Entra error code (`AADSTS7000215`), when Entra answered with one.
    pub code: Option<String>,
    /// What failed and what to do, safe to show to an admin.
    pub message: String,
    /// Whether asking again later can help (throttling, outage) or an admin must act.
    pub retryable: bool,
    /// How long Entra asked us to wait (HTTP 429 `Retry-After`), when it did.
    pub retry_after: Option<Duration>,
}

impl TokenError {
    /// A failure only an admin can fix (wrong or expired secret, app not in the tenant).
    pub fn permanent(key: &CredentialKey, code: Option<String>, message: String) -> Self {
        Self { key: key.clone(), code, message, retryable: false, retry_after: None }
    }

    /// A failure that asking again later can fix (outage, timeout, throttling).
    pub fn transient(key: &CredentialKey, code: Option<String>, message: String) -> Self {
        Self { key: key.clone(), code, message, retryable: true, retry_after: None }
    }
}

/// Gets access tokens (in-process on one machine, the `tokens` function on AWS).
#[async_trait]
pub trait Tokens: Send + Sync + fmt::Debug {
    /// A token for `resource` made with the credential `key`, valid for a few minutes at least.
    async fn token(
        &self,
        key: &CredentialKey,
        resource: Resource,
    ) -> Result<AccessToken, TokenError>;
}
