//! Bearer-token checks shared by the resource simulators (Graph, Dataverse).
//!
//! Entra signs; the resource servers verify the signature against the published keys, then
//! the lifetime, the audience and the issuer. Each simulator maps a [`Rejection`] to its own
//! wire error (Graph's `InvalidAuthenticationToken`, Dataverse's 401 with `WWW-Authenticate`)
//! and checks `roles` or application users itself.

use std::sync::{Arc, RwLock};

use axum::http::{HeaderMap, header::AUTHORIZATION};
use serde_json::Value;

use crate::{
    clock::SimClock,
    jwt::{self, Jwk},
};

/// The keys a token issuer currently publishes; shared between Entra and the resource servers.
#[derive(Debug, Clone, Default)]
pub struct KeyRing(Arc<RwLock<Vec<Jwk>>>);

impl KeyRing {
    /// Publishes one more key (keys rotate by overlap).
    pub fn publish(&self, key: Jwk) {
        self.0.write().expect("key ring lock").push(key);
    }

    /// Withdraws a key by id.
    pub fn withdraw(&self, kid: &str) {
        self.0.write().expect("key ring lock").retain(|k| k.kid != kid);
    }

    /// The published keys (the JWKS `keys` array).
    pub fn keys(&self) -> Vec<Jwk> {
        self.0.read().expect("key ring lock").clone()
    }
}

/// An app-only access token that passed signature, lifetime, audience and issuer checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppToken {
    /// `tid`: the tenant the token was issued in.
    pub tenant_id: String,
    /// `appid` (v1) or `azp` (v2): the client application.
    pub app_id: String,
    /// `oid`: the service principal's object id in that tenant.
    pub object_id: String,
    /// `aud`, as found in the token.
    pub audience: String,
    /// `roles`: granted application permissions (absent claim = empty).
    pub roles: Vec<String>,
}

/// Why a bearer token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// No `Authorization: Bearer` header.
    #[error("Access token is empty.")]
    Missing,
    /// Not a JWT, bad signature, unknown key.
    #[error("Access token validation failure. {0}")]
    Invalid(String),
    /// `exp` is in the past.
    #[error("Lifetime validation failed, the token is expired.")]
    Expired,
    /// `nbf` is in the future.
    #[error("Lifetime validation failed, the token is not yet valid.")]
    NotYetValid,
    /// `aud` is not this resource.
    #[error("Access token validation failure. Invalid audience.")]
    WrongAudience,
    /// `iss` does not match `tid`.
    #[error("Access token validation failure. Invalid issuer.")]
    WrongIssuer,
}

/// Checks bearer tokens for one resource.
#[derive(Debug, Clone)]
pub struct TokenValidator {
    keys: KeyRing,
    clock: SimClock,
    audiences: Vec<String>,
}

/// Allowed clock skew, as Microsoft's validators allow (5 minutes).
const SKEW_SECS: i64 = 300;

impl TokenValidator {
    /// A validator accepting tokens whose `aud` is one of `audiences` (compared without a
    /// trailing slash).
    pub fn new(keys: KeyRing, clock: SimClock, audiences: Vec<String>) -> Self {
        let audiences =
            audiences.into_iter().map(|a| a.trim_end_matches('/').to_string()).collect();
        Self { keys, clock, audiences }
    }

    /// Validates the `Authorization` header of a request.
    pub fn validate_headers(&self, headers: &HeaderMap) -> Result<AppToken, Rejection> {
        let value = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(Rejection::Missing)?;
        self.validate(token)
    }

    /// Validates a raw token.
    pub fn validate(&self, token: &str) -> Result<AppToken, Rejection> {
        let decoded = jwt::verify_rs256(token, &self.keys.keys())
            .map_err(|e| Rejection::Invalid(e.to_string()))?;
        let claims = decoded.claims;
        let str_claim = |name: &str| claims.get(name).and_then(Value::as_str).unwrap_or_default();
        let num_claim = |name: &str| claims.get(name).and_then(Value::as_i64);
        let now = self.clock.unix();
        match num_claim("exp") {
            Some(exp) if exp + SKEW_SECS > now => {}
            Some(_) => return Err(Rejection::Expired),
            None => return Err(Rejection::Invalid("The token has no expiry.".into())),
        }
        if num_claim("nbf").is_some_and(|nbf| nbf - SKEW_SECS > now) {
            return Err(Rejection::NotYetValid);
        }
        let audience = str_claim("aud").trim_end_matches('/').to_string();
        if !self.audiences.contains(&audience) {
            return Err(Rejection::WrongAudience);
        }
        let tenant_id = str_claim("tid").to_string();
        let issuers = [
            format!("https://sts.windows.net/{tenant_id}/"),
            format!("https://login.microsoftonline.com/{tenant_id}/v2.0"),
        ];
        if tenant_id.is_empty() || !issuers.iter().any(|i| i == str_claim("iss")) {
            return Err(Rejection::WrongIssuer);
        }
        let app_id = match str_claim("appid") {
            "" => str_claim("azp"),
            id => id,
        };
        let roles = claims
            .get("roles")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default();
        Ok(AppToken {
            tenant_id,
            app_id: app_id.to_string(),
            object_id: str_claim("oid").to_string(),
            audience,
            roles,
        })
    }
}

/// What an access token says; [`mint`] turns it into a signed JWT (v1.0 claim layout).
#[derive(Debug, Clone)]
pub struct TokenSpec {
    /// `tid`, and the tenant in `iss`.
    pub tenant_id: String,
    /// `appid`.
    pub app_id: String,
    /// `oid` and `sub`: the app's service principal in the tenant.
    pub object_id: String,
    /// `aud`: the resource's identifier URI.
    pub audience: String,
    /// `roles`: granted application permissions; omitted from the token when empty.
    pub roles: Vec<String>,
    /// `iat` and `nbf`, seconds since the epoch.
    pub issued_at: i64,
    /// `exp` - `iat`.
    pub lifetime_secs: i64,
    /// `appidacr`: "1" for a client secret, "2" for a certificate.
    pub appidacr: &'static str,
}

/// Signs an app-only access token as Entra ID issues it (v1.0 format, RS256).
pub fn mint(key: &jwt::SigningKey, spec: &TokenSpec) -> String {
    let mut claims = serde_json::json!({
        "aud": spec.audience,
        "iss": format!("https://sts.windows.net/{}/", spec.tenant_id),
        "iat": spec.issued_at,
        "nbf": spec.issued_at,
        "exp": spec.issued_at + spec.lifetime_secs,
        "appid": spec.app_id,
        "appidacr": spec.appidacr,
        "idp": format!("https://sts.windows.net/{}/", spec.tenant_id),
        "idtyp": "app",
        "oid": spec.object_id,
        "sub": spec.object_id,
        "tid": spec.tenant_id,
        "uti": uuid::Uuid::new_v4().simple().to_string(),
        "ver": "1.0",
    });
    if !spec.roles.is_empty() {
        claims["roles"] = serde_json::json!(spec.roles);
    }
    key.sign(&claims, &serde_json::Map::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(clock: &SimClock) -> TokenSpec {
        TokenSpec {
            tenant_id: "11111111-1111-1111-1111-111111111111".into(),
            app_id: "22222222-2222-2222-2222-222222222222".into(),
            object_id: "33333333-3333-3333-3333-333333333333".into(),
            audience: "https://graph.example".into(),
            roles: vec!["Mail.Read".into()],
            issued_at: clock.unix(),
            lifetime_secs: 3599,
            appidacr: "1",
        }
    }

    fn setup() -> (jwt::SigningKey, SimClock, TokenValidator) {
        let key = jwt::SigningKey::generate();
        let ring = KeyRing::default();
        ring.publish(key.jwk());
        let clock = SimClock::default();
        let validator =
            TokenValidator::new(ring, clock.clone(), vec!["https://graph.example/".into()]);
        (key, clock, validator)
    }

    #[test]
    fn a_minted_token_validates_with_its_claims() {
        let (key, clock, validator) = setup();
        let token = validator.validate(&mint(&key, &spec(&clock))).unwrap();
        assert_eq!(token.roles, vec!["Mail.Read".to_string()]);
        assert_eq!(token.tenant_id, "11111111-1111-1111-1111-111111111111");
        assert_eq!(token.app_id, "22222222-2222-2222-2222-222222222222");
    }

    #[test]
    fn expired_wrong_audience_and_unsigned_tokens_are_rejected() {
        let (key, clock, validator) = setup();
        let token = mint(&key, &spec(&clock));
        clock.advance(std::time::Duration::from_secs(3599 + 301));
        assert_eq!(validator.validate(&token), Err(Rejection::Expired));

        let mut other = spec(&clock);
        other.audience = "https://org.crm.dynamics.com".into();
        assert_eq!(validator.validate(&mint(&key, &other)), Err(Rejection::WrongAudience));

        let stranger = jwt::SigningKey::generate();
        assert!(matches!(
            validator.validate(&mint(&stranger, &spec(&clock))),
            Err(Rejection::Invalid(_))
        ));
        assert_eq!(validator.validate_headers(&HeaderMap::new()), Err(Rejection::Missing));
    }
}
