//! Tokens for Graph: asked of the `Tokens` port, cached until shortly before they expire
//! (DESIGN: callers cache the answer), refreshed once when Graph rejects one.

use std::{collections::HashMap, sync::Arc, time::Duration};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use tokio::sync::Mutex;

use crate::{
    ports::{AccessToken, Clock, CredentialKey, Resource, TokenError, Tokens},
    secret::Secret,
};

/// A cached token is replaced this long before it expires, so no request leaves with a token
/// that dies in flight.
const EXPIRY_MARGIN: Duration = Duration::from_secs(120);

/// Graph tokens per credential.
#[derive(Debug)]
pub(crate) struct TokenCache {
    tokens: Arc<dyn Tokens>,
    clock: Arc<dyn Clock>,
    // One slot per credential, so a slow token endpoint of one tenant holds up only its own
    // requests, and concurrent requests of one credential ask once.
    slots: std::sync::Mutex<HashMap<CredentialKey, Arc<Mutex<Option<AccessToken>>>>>,
}

impl TokenCache {
    pub(crate) fn new(tokens: Arc<dyn Tokens>, clock: Arc<dyn Clock>) -> Self {
        Self { tokens, clock, slots: Default::default() }
    }

    fn slot(&self, key: &CredentialKey) -> Arc<Mutex<Option<AccessToken>>> {
        Arc::clone(self.slots.lock().expect("token slots lock").entry(key.clone()).or_default())
    }

    /// A token valid for a while yet.
    pub(crate) async fn get(&self, key: &CredentialKey) -> Result<Secret, TokenError> {
        let slot = self.slot(key);
        let mut cached = slot.lock().await;
        if let Some(token) = cached.as_ref()
            && token.expires_at - self.clock.now() > EXPIRY_MARGIN
        {
            return Ok(token.token.clone());
        }
        let token = self.tokens.token(key, Resource::Graph).await?;
        Ok(cached.insert(token).token.clone())
    }

    /// A new token after Graph answered 401 to `rejected`; a token another request already
    /// replaced it with is reused.
    pub(crate) async fn refresh(
        &self,
        key: &CredentialKey,
        rejected: &Secret,
    ) -> Result<Secret, TokenError> {
        let slot = self.slot(key);
        let mut cached = slot.lock().await;
        if let Some(token) = cached.as_ref()
            && token.token != *rejected
        {
            return Ok(token.token.clone());
        }
        let token = self.tokens.refresh(key, Resource::Graph).await?;
        Ok(cached.insert(token).token.clone())
    }
}

/// The `roles` claim of our own access token, read without verification (Graph verified it):
/// it tells a missing permission from an access policy when Graph answers 403.
pub(crate) fn token_roles(token: &Secret) -> Option<Vec<String>> {
    let payload = token.expose().split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    Some(match claims.get("roles") {
        Some(serde_json::Value::Array(roles)) => {
            roles.iter().filter_map(|r| r.as_str().map(str::to_string)).collect()
        }
        _ => Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: serde_json::Value) -> Secret {
        let part = |v: &serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let header = serde_json::json!({"alg":"RS256","typ":"JWT"});
        Secret::new(format!("{}.{}.c2ln", part(&header), part(&claims)))
    }

    #[test]
    fn roles_are_read_from_the_token_and_absent_roles_are_none_granted() {
        let token =
            jwt(serde_json::json!({"aud":"https://graph.microsoft.com","roles":["Mail.Read"]}));
        assert_eq!(token_roles(&token), Some(vec!["Mail.Read".to_string()]));
        assert_eq!(token_roles(&jwt(serde_json::json!({"aud":"x"}))), Some(vec![]));
        assert_eq!(token_roles(&Secret::new("opaque")), None);
    }
}
