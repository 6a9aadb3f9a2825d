//! The `validationTokens` of a rich notification POST (reference graph.md 5.4): JWTs signed
//! RS256 by the Microsoft identity platform, one per (app, tenant) in the POST, whose `aud` is
//! the subscribing app, `iss` is `https://sts.windows.net/{tenant}/` and `appid` is the Graph
//! change-notification publisher. Every one must verify, or the POST is not Graph's.

use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64URL};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::RichError;
use crate::entra::jwks::Jwk;

/// The app id of the Microsoft Graph change notification publisher (reference 5.4).
pub const NOTIFICATION_PUBLISHER: &str = "0bf30f3b-4a52-48df-9a82-234910c4a086";

/// Clock skew tolerated on `exp` and `nbf`, as identity libraries allow by default.
pub const LEEWAY: time::Duration = time::Duration::minutes(5);

const ISSUER_PREFIX: &str = "https://sts.windows.net/";

/// A token read but not verified yet: its key id says which signing key to fetch.
#[derive(Debug, Clone)]
pub struct UnverifiedToken {
    kid: String,
    signing_input: String,
    signature: Vec<u8>,
    claims: Map<String, Value>,
}

/// What a verified token vouches for: notifications of `app_id` in `tenant_id`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VerifiedToken {
    /// The subscribing app (`aud`), lower case.
    pub app_id: String,
    /// The tenant (from `iss`), lower case.
    pub tenant_id: String,
}

impl VerifiedToken {
    /// Whether it vouches for notifications of `app_id` in `tenant_id` (case-insensitive).
    pub fn vouches_for(&self, app_id: &str, tenant_id: &str) -> bool {
        self.app_id.eq_ignore_ascii_case(app_id) && self.tenant_id.eq_ignore_ascii_case(tenant_id)
    }
}

impl UnverifiedToken {
    /// Reads a compact JWS; only RS256 with a `kid` is accepted.
    pub fn parse(token: &str) -> Result<Self, RichError> {
        let refuse = |why: &str| RichError::Token(why.to_string());
        let mut parts = token.trim().split('.');
        let (Some(header), Some(claims), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(refuse("not a compact JWT of three parts"));
        };
        let json = |part: &str| -> Result<Map<String, Value>, RichError> {
            let bytes = B64URL.decode(part).map_err(|_| refuse("a part is not base64url"))?;
            serde_json::from_slice(&bytes).map_err(|_| refuse("a part is not a JSON object"))
        };
        let header_json = json(header)?;
        if header_json.get("alg").and_then(Value::as_str) != Some("RS256") {
            return Err(refuse("the algorithm is not RS256"));
        }
        let kid = header_json
            .get("kid")
            .and_then(Value::as_str)
            .ok_or_else(|| refuse("the header names no signing key (kid)"))?
            .to_string();
        Ok(Self {
            kid,
            signing_input: format!("{header}.{claims}"),
            signature: B64URL
                .decode(signature)
                .map_err(|_| refuse("the signature is not base64url"))?,
            claims: json(claims)?,
        })
    }

    /// The signing key's id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Checks the signature with `key` (whose `kid` must be the token's) and the claims at
    /// `now`.
    pub fn verify(self, key: &Jwk, now: OffsetDateTime) -> Result<VerifiedToken, RichError> {
        let refuse = |why: String| RichError::Token(why);
        if key.kid != self.kid || !key.kty.eq_ignore_ascii_case("RSA") {
            return Err(RichError::UnknownSigningKey(self.kid));
        }
        let n =
            B64URL.decode(&key.n).map_err(|_| refuse(format!("key {} is unreadable", key.kid)))?;
        let e =
            B64URL.decode(&key.e).map_err(|_| refuse(format!("key {} is unreadable", key.kid)))?;
        RsaPublicKeyComponents { n: &n, e: &e }
            .verify(&RSA_PKCS1_2048_8192_SHA256, self.signing_input.as_bytes(), &self.signature)
            .map_err(|_| refuse("the signature does not verify".into()))?;

        let text = |name: &str| self.claims.get(name).and_then(Value::as_str);
        let seconds = |name: &str| self.claims.get(name).and_then(Value::as_i64);
        let now_s = now.unix_timestamp();
        match seconds("exp") {
            Some(exp) if now_s <= exp + LEEWAY.whole_seconds() => {}
            Some(_) => return Err(refuse("the token has expired (exp)".into())),
            None => return Err(refuse("the token has no expiry (exp)".into())),
        }
        if seconds("nbf").is_some_and(|nbf| now_s + LEEWAY.whole_seconds() < nbf) {
            return Err(refuse("the token is not valid yet (nbf)".into()));
        }
        // v1.0 tokens name the caller in `appid`, v2.0 ones in `azp` (reference 5.4).
        let publisher = text("appid").or_else(|| text("azp")).unwrap_or_default();
        if !publisher.eq_ignore_ascii_case(NOTIFICATION_PUBLISHER) {
            return Err(refuse(format!(
                "appid {publisher:?} is not the Graph change notification publisher"
            )));
        }
        let issuer = text("iss").unwrap_or_default();
        let tenant_id = issuer
            .strip_prefix(ISSUER_PREFIX)
            .and_then(|rest| rest.strip_suffix('/'))
            .filter(|t| !t.is_empty() && !t.contains('/'))
            .ok_or_else(|| {
                refuse(format!("iss {issuer:?} is not https://sts.windows.net/{{tenant}}/"))
            })?
            .to_ascii_lowercase();
        let app_id = text("aud")
            .filter(|a| !a.is_empty())
            .ok_or_else(|| refuse("the token has no audience (aud)".into()))?
            .to_ascii_lowercase();
        Ok(VerifiedToken { app_id, tenant_id })
    }
}
