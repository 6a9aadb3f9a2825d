//! The certificate credential: a client assertion (a JWT) signed with the app certificate's
//! RSA key, in the form `ENT:certificate-credentials.md` documents for RS256 (reference B1,
//! D8): header `alg` RS256 with `x5t` = base64url SHA-1 thumbprint of the DER certificate;
//! claims `aud` = the token endpoint, `iss` = `sub` = client id, a unique `jti`, `nbf`/`iat`
//! now, `exp` ten minutes later. aws-lc-rs signs, so no openssl is needed (crates.md 2).

use std::{fmt, sync::Arc};

use async_trait::async_trait;
use aws_lc_rs::{
    digest,
    rand::SystemRandom,
    signature::{self, RsaKeyPair},
};
use azure_core::http::ClientMethodOptions;
use azure_identity::ClientAssertion;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64URL};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use serde_json::json;
use time::{Duration, OffsetDateTime};

use crate::{domain::ClientId, ports::Clock};

/// How long an assertion is valid (Entra recommends 5 to 10 minutes; reference B1).
pub const ASSERTION_LIFETIME: Duration = Duration::minutes(10);

/// A PEM bundle that cannot be used as a certificate credential. Never quotes the PEM.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CertificateError(String);

/// Signs client assertions for one app with its certificate's private key.
pub struct CertificateAssertion {
    client_id: ClientId,
    audience: String,
    x5t: String,
    key: RsaKeyPair,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for CertificateAssertion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateAssertion")
            .field("client_id", &self.client_id)
            .field("audience", &self.audience)
            .field("x5t", &self.x5t)
            .finish_non_exhaustive()
    }
}

impl CertificateAssertion {
    /// Reads a PEM bundle holding the app's certificate (the first one, if there is a chain)
    /// and its RSA private key (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`), and checks
    /// that they belong together. `audience` is the token endpoint URL.
    pub fn from_pem(
        pem: &str,
        client_id: ClientId,
        audience: String,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, CertificateError> {
        let fail = |m: &str| CertificateError(m.to_string());
        let certificate = CertificateDer::pem_slice_iter(pem.as_bytes())
            .next()
            .ok_or_else(|| fail("no certificate in the PEM bundle (-----BEGIN CERTIFICATE-----)"))?
            .map_err(|_| fail("the certificate in the PEM bundle is not valid PEM"))?;
        let key = match PrivateKeyDer::from_pem_slice(pem.as_bytes()) {
            Ok(PrivateKeyDer::Pkcs8(der)) => RsaKeyPair::from_pkcs8(der.secret_pkcs8_der())
                .map_err(|_| fail("the private key is not an RSA key: Entra needs RSA"))?,
            Ok(PrivateKeyDer::Pkcs1(der)) => RsaKeyPair::from_der(der.secret_pkcs1_der())
                .map_err(|_| fail("the RSA private key (PKCS#1) cannot be read"))?,
            Ok(_) => return Err(fail("the private key is not an RSA key: Entra needs RSA")),
            Err(_) => {
                return Err(fail(
                    "no unencrypted private key in the PEM bundle (-----BEGIN PRIVATE KEY----- \
                     or -----BEGIN RSA PRIVATE KEY-----); encrypted keys are not supported",
                ));
            }
        };
        check_pair(&certificate, &key)?;
        let x5t = B64URL.encode(sha1(&certificate));
        Ok(Self { client_id, audience, x5t, key, clock })
    }

    /// The `x5t` header: base64url SHA-1 thumbprint of the certificate.
    pub fn x5t(&self) -> &str {
        &self.x5t
    }

    /// A fresh assertion valid from `now` for [`ASSERTION_LIFETIME`].
    pub fn sign(&self, now: OffsetDateTime) -> String {
        let header = json!({"alg": "RS256", "typ": "JWT", "x5t": self.x5t});
        let now = now.unix_timestamp();
        let claims = json!({
            "aud": self.audience,
            "iss": self.client_id.as_str(),
            "sub": self.client_id.as_str(),
            "jti": uuid::Uuid::new_v4().to_string(),
            "nbf": now,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME.whole_seconds(),
        });
        let input =
            format!("{}.{}", B64URL.encode(header.to_string()), B64URL.encode(claims.to_string()));
        format!("{input}.{}", B64URL.encode(rs256(&self.key, input.as_bytes())))
    }
}

#[async_trait]
impl ClientAssertion for CertificateAssertion {
    async fn secret(&self, _: Option<ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        Ok(self.sign(self.clock.now()))
    }
}

fn sha1(der: &[u8]) -> Vec<u8> {
    // SHA-1 only because the RS256 form of the assertion names the certificate by it.
    digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, der).as_ref().to_vec()
}

fn rs256(key: &RsaKeyPair, message: &[u8]) -> Vec<u8> {
    let mut signature = vec![0; key.public_modulus_len()];
    key.sign(&signature::RSA_PKCS1_SHA256, &SystemRandom::new(), message, &mut signature)
        .expect("RSA signing with a valid key and a buffer of the modulus length");
    signature
}

/// A key that does not belong to the certificate would only be refused by Entra
/// (AADSTS700027); saying so at load names the real problem.
fn check_pair(certificate: &CertificateDer<'_>, key: &RsaKeyPair) -> Result<(), CertificateError> {
    let end_entity = webpki::EndEntityCert::try_from(certificate)
        .map_err(|_| CertificateError("the certificate is not a valid X.509 certificate".into()))?;
    let probe = b"exsync certificate and key pair check";
    end_entity
        .verify_signature(webpki::aws_lc_rs::RSA_PKCS1_2048_8192_SHA256, probe, &rs256(key, probe))
        .map_err(|_| CertificateError("the private key does not belong to the certificate".into()))
}

#[cfg(test)]
#[path = "assertion_tests.rs"]
mod tests;
