//! Compact JWS (JWT) signing and verification with RS256, as Entra ID issues tokens.
//!
//! The Entra simulator signs with [`SigningKey`]; the Graph and Dataverse simulators verify
//! with the public [`Jwk`]s it publishes (its JWKS), exactly as the real resource servers do.

use aws_lc_rs::{
    rand::SystemRandom,
    rsa::KeySize,
    signature::{self, KeyPair as _, RsaKeyPair, RsaPublicKeyComponents},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64URL};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An RSA-2048 signing key with its key id (`kid`).
#[derive(Debug)]
pub struct SigningKey {
    kid: String,
    key: RsaKeyPair,
}

/// A public RSA key as published in a JWKS document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Always `RSA`.
    pub kty: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub use_: String,
    /// Key id, matched against a token header's `kid`.
    pub kid: String,
    /// Modulus, base64url.
    pub n: String,
    /// Exponent, base64url.
    pub e: String,
}

/// Why a token did not verify. The message is safe to return to a client.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    /// Not three base64url parts of JSON.
    #[error("token is not a well-formed JWT: {0}")]
    Malformed(&'static str),
    /// The header names an algorithm we do not accept.
    #[error("token algorithm {0:?} is not supported")]
    Algorithm(String),
    /// No published key has the header's `kid`.
    #[error("token signing key {0:?} is unknown")]
    UnknownKey(String),
    /// The signature does not match.
    #[error("token signature is invalid")]
    Signature,
}

/// A verified (or merely decoded) token: its header and claims.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The JOSE header.
    pub header: Map<String, Value>,
    /// The claims.
    pub claims: Map<String, Value>,
}

impl SigningKey {
    /// Generates a new key with a random key id.
    pub fn generate() -> Self {
        let key = RsaKeyPair::generate(KeySize::Rsa2048).expect("RSA key generation");
        let kid = B64URL.encode(uuid::Uuid::new_v4().as_bytes());
        Self { kid, key }
    }

    /// The key id placed in every token header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public half, for a JWKS document.
    pub fn jwk(&self) -> Jwk {
        let public = self.key.public_key();
        Jwk {
            kty: "RSA".into(),
            use_: "sig".into(),
            kid: self.kid.clone(),
            n: B64URL.encode(public.modulus().big_endian_without_leading_zero()),
            e: B64URL.encode(public.exponent().big_endian_without_leading_zero()),
        }
    }

    /// Signs `claims` as an RS256 JWT with `typ`, `alg`, `kid` and any `extra_header` fields.
    pub fn sign(&self, claims: &Value, extra_header: &Map<String, Value>) -> String {
        let mut header = Map::new();
        header.insert("typ".into(), "JWT".into());
        header.insert("alg".into(), "RS256".into());
        header.insert("kid".into(), self.kid.clone().into());
        header.extend(extra_header.clone());
        let signing_input = format!(
            "{}.{}",
            B64URL.encode(serde_json::to_vec(&header).expect("header JSON")),
            B64URL.encode(serde_json::to_vec(claims).expect("claims JSON"))
        );
        let mut sig = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                signing_input.as_bytes(),
                &mut sig,
            )
            .expect("RSA signing");
        format!("{signing_input}.{}", B64URL.encode(sig))
    }
}

/// Splits and decodes a JWT without checking its signature.
pub fn decode_unverified(token: &str) -> Result<(Decoded, String, Vec<u8>), JwtError> {
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed("expected three dot-separated parts"));
    };
    let json = |part: &str| -> Result<Map<String, Value>, JwtError> {
        let bytes =
            B64URL.decode(part).map_err(|_| JwtError::Malformed("part is not base64url"))?;
        serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed("part is not a JSON object"))
    };
    let decoded = Decoded { header: json(h)?, claims: json(c)? };
    let sig = B64URL.decode(s).map_err(|_| JwtError::Malformed("signature is not base64url"))?;
    Ok((decoded, format!("{h}.{c}"), sig))
}

/// Verifies an RS256 token against a set of published keys, selected by `kid`.
pub fn verify_rs256(token: &str, keys: &[Jwk]) -> Result<Decoded, JwtError> {
    let (decoded, signing_input, sig) = decode_unverified(token)?;
    let alg = decoded.header.get("alg").and_then(Value::as_str).unwrap_or_default();
    if alg != "RS256" {
        return Err(JwtError::Algorithm(alg.to_string()));
    }
    let kid = decoded.header.get("kid").and_then(Value::as_str).unwrap_or_default();
    let jwk =
        keys.iter().find(|k| k.kid == kid).ok_or_else(|| JwtError::UnknownKey(kid.to_string()))?;
    let (n, e) = (
        B64URL.decode(&jwk.n).map_err(|_| JwtError::Malformed("JWK modulus"))?,
        B64URL.decode(&jwk.e).map_err(|_| JwtError::Malformed("JWK exponent"))?,
    );
    RsaPublicKeyComponents { n: &n, e: &e }
        .verify(&signature::RSA_PKCS1_2048_8192_SHA256, signing_input.as_bytes(), &sig)
        .map_err(|_| JwtError::Signature)?;
    Ok(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_signed_token_verifies_with_the_published_key_only() {
        let key = SigningKey::generate();
        let token = key.sign(&json!({"aud": "x", "tid": "t"}), &Map::new());
        let decoded = verify_rs256(&token, &[key.jwk()]).unwrap();
        assert_eq!(decoded.claims["aud"], "x");
        assert_eq!(decoded.header["kid"], key.kid());

        let other = SigningKey::generate();
        assert_eq!(
            verify_rs256(&token, &[other.jwk()]).unwrap_err(),
            JwtError::UnknownKey(key.kid().to_string())
        );
        let mut forged = other.jwk();
        forged.kid = key.kid().to_string();
        assert_eq!(verify_rs256(&token, &[forged]).unwrap_err(), JwtError::Signature);
    }

    #[test]
    fn tampered_claims_fail_verification() {
        let key = SigningKey::generate();
        let token = key.sign(&json!({"roles": ["Mail.Read"]}), &Map::new());
        let mut parts: Vec<&str> = token.split('.').collect();
        let tampered = B64URL.encode(br#"{"roles":["Mail.ReadWrite"]}"#);
        parts[1] = &tampered;
        assert_eq!(verify_rs256(&parts.join("."), &[key.jwk()]).unwrap_err(), JwtError::Signature);
    }
}
