//! What the `tokens` function is asked and answers (Lambda Invoke payloads), versioned like
//! queue jobs so a deployment can roll out one function at a time.
//!
//! ```json
//! {"v":"1","credential":{"profile":"fabrikam"},"resource":"graph"}
//! {"v":"1","result":{"outcome":"token","token":"eyJ0...","expires_at":"2026-11-23T11:00:00Z"}}
//! {"v":"1","result":{"outcome":"failed","code":"AADSTS7000215","message":"...","retryable":false,"retry_after_seconds":null}}
//! ```
//!
//! The answer carries the token, never a client secret or certificate: those stay in the
//! function (DESIGN invariant 4). The token itself is a [`BearerToken`], which never prints.

use std::{fmt, time::Duration};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    domain::{MailboxAddress, ProfileName},
    ports::{AccessToken, CredentialKey, Resource, TokenError},
    secret::Secret,
};

/// Whose credential, on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialName {
    /// A profile's app.
    Profile(ProfileName),
    /// A mailbox's own app.
    Mailbox(MailboxAddress),
    /// The Dataverse application user's app.
    Dataverse,
}

/// The audience, on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceName {
    /// Microsoft Graph.
    Graph,
    /// The Dataverse environment.
    Dataverse,
}

/// A request to the `tokens` function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "v")]
pub enum TokenRequest {
    /// Version 1.
    #[serde(rename = "1")]
    V1 {
        /// Whose credential.
        credential: CredentialName,
        /// For which API.
        resource: ResourceName,
    },
}

impl TokenRequest {
    /// The request for a token of `resource` made with `key`.
    pub fn new(key: &CredentialKey, resource: Resource) -> Self {
        let credential = match key {
            CredentialKey::Profile(p) => CredentialName::Profile(p.clone()),
            CredentialKey::Mailbox(m) => CredentialName::Mailbox(m.clone()),
            CredentialKey::Dataverse => CredentialName::Dataverse,
        };
        let resource = match resource {
            Resource::Graph => ResourceName::Graph,
            Resource::Dataverse => ResourceName::Dataverse,
        };
        TokenRequest::V1 { credential, resource }
    }

    /// What is asked for, as the ports name it.
    pub fn into_parts(self) -> (CredentialKey, Resource) {
        let TokenRequest::V1 { credential, resource } = self;
        let key = match credential {
            CredentialName::Profile(p) => CredentialKey::Profile(p),
            CredentialName::Mailbox(m) => CredentialKey::Mailbox(m),
            CredentialName::Dataverse => CredentialKey::Dataverse,
        };
        let resource = match resource {
            ResourceName::Graph => Resource::Graph,
            ResourceName::Dataverse => Resource::Dataverse,
        };
        (key, resource)
    }
}

/// An access token on the wire: serialised as the bare string, never printed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BearerToken(String);

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerToken([redacted])")
    }
}

/// What the `tokens` function answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "v")]
pub enum TokenResponse {
    /// Version 1.
    #[serde(rename = "1")]
    V1 {
        /// A token or why there is none.
        result: TokenResult,
    },
}

/// A token, or the [`TokenError`] fields (which never hold a secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum TokenResult {
    /// The token.
    Token {
        /// The bearer token.
        token: BearerToken,
        /// When it stops working.
        #[serde(with = "time::serde::rfc3339")]
        expires_at: OffsetDateTime,
    },
    /// No token.
    Failed {
        /// The Entra error code, when Entra answered with one.
        code: Option<String>,
        /// What failed and what to do.
        message: String,
        /// Whether asking again later can help.
        retryable: bool,
        /// How long Entra asked to wait.
        retry_after_seconds: Option<u64>,
    },
}

impl TokenResponse {
    /// The answer to give for the token service's result.
    pub fn from_result(result: Result<AccessToken, TokenError>) -> Self {
        let result = match result {
            Ok(token) => TokenResult::Token {
                token: BearerToken(token.token.expose().to_string()),
                expires_at: token.expires_at,
            },
            Err(e) => TokenResult::Failed {
                code: e.code,
                message: e.message,
                retryable: e.retryable,
                retry_after_seconds: e.retry_after.map(|d| d.as_secs()),
            },
        };
        TokenResponse::V1 { result }
    }

    /// The token, or the error for `key` (the credential asked for).
    pub fn into_result(self, key: &CredentialKey) -> Result<AccessToken, TokenError> {
        let TokenResponse::V1 { result } = self;
        match result {
            TokenResult::Token { token, expires_at } => {
                Ok(AccessToken { token: Secret::new(token.0), expires_at })
            }
            TokenResult::Failed { code, message, retryable, retry_after_seconds } => {
                Err(TokenError {
                    key: key.clone(),
                    code,
                    message,
                    retryable,
                    retry_after: retry_after_seconds.map(Duration::from_secs),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn requests_keep_their_wire_shape_and_name_the_credential() {
        let key = CredentialKey::Profile(ProfileName::parse("fabrikam").unwrap());
        let request = TokenRequest::new(&key, Resource::Graph);
        let json = serde_json::to_string(&request).unwrap();
        assert_eq!(json, r#"{"v":"1","credential":{"profile":"fabrikam"},"resource":"graph"}"#);
        let back: TokenRequest = serde_json::from_str(&json).unwrap();
        assert_eq!(back.into_parts(), (key, Resource::Graph));
        let dataverse = TokenRequest::new(&CredentialKey::Dataverse, Resource::Dataverse);
        assert_eq!(
            serde_json::to_string(&dataverse).unwrap(),
            r#"{"v":"1","credential":"dataverse","resource":"dataverse"}"#
        );
        let mailbox =
            r#"{"v":"1","credential":{"mailbox":"Bob@Contoso.Example"},"resource":"graph"}"#;
        let (key, _) = serde_json::from_str::<TokenRequest>(mailbox).unwrap().into_parts();
        assert_eq!(key.to_string(), "mailbox bob@contoso.example");
    }

    #[test]
    fn a_token_travels_but_never_prints() {
        let expires_at = datetime!(2026-11-23 11:00 UTC);
        let token = AccessToken { token: Secret::new("eyJ0.secret-token"), expires_at };
        let response = TokenResponse::from_result(Ok(token));
        let json = serde_json::to_string(&response).unwrap();
        assert_eq!(
            json,
            r#"{"v":"1","result":{"outcome":"token","token":"eyJ0.secret-token","expires_at":"2026-11-23T11:00:00Z"}}"#
        );
        assert!(!format!("{response:?}").contains("secret-token"), "{response:?}");
        let back: TokenResponse = serde_json::from_str(&json).unwrap();
        let token = back.into_result(&CredentialKey::Dataverse).unwrap();
        assert_eq!((token.token.expose(), token.expires_at), ("eyJ0.secret-token", expires_at));
    }

    #[test]
    fn an_error_travels_with_its_code_classification_and_retry_after() {
        let key = CredentialKey::Mailbox(MailboxAddress::parse("alice@fabrikam.example").unwrap());
        let error = TokenError {
            retry_after: Some(Duration::from_secs(30)),
            ..TokenError::transient(&key, Some("AADSTS50196".into()), "Entra throttled us".into())
        };
        let json = serde_json::to_string(&TokenResponse::from_result(Err(error))).unwrap();
        assert_eq!(
            json,
            r#"{"v":"1","result":{"outcome":"failed","code":"AADSTS50196","message":"Entra throttled us","retryable":true,"retry_after_seconds":30}}"#
        );
        let back =
            serde_json::from_str::<TokenResponse>(&json).unwrap().into_result(&key).unwrap_err();
        assert_eq!(back.key, key);
        assert_eq!(back.code.as_deref(), Some("AADSTS50196"));
        assert!(back.retryable);
        assert_eq!(back.retry_after, Some(Duration::from_secs(30)));
    }

    #[test]
    fn unknown_versions_and_shapes_are_refused() {
        assert!(serde_json::from_str::<TokenResponse>(r#"{"v":"2","result":{}}"#).is_err());
        assert!(
            serde_json::from_str::<TokenRequest>(
                r#"{"v":"1","credential":"nobody","resource":"graph"}"#
            )
            .is_err()
        );
        assert!(
            serde_json::from_str::<TokenRequest>(
                r#"{"v":"1","credential":{"mailbox":"nope"},"resource":"graph"}"#
            )
            .is_err()
        );
    }
}
