//! Certificate credentials for tests: an app's RSA-2048 self-signed certificate, the PEM
//! bundle exsync reads (`certificate = "file:app.pem"`), and client assertions signed with it
//! as `ENT:certificate-credentials.md` describes them (RS256 + `x5t`, or PS256 + `x5t#S256`).

use aws_lc_rs::{
    rand::SystemRandom,
    signature::{self, RsaEncoding, RsaKeyPair},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64URL};
use rcgen::{CertificateParams, DnType, KeyPair, PKCS_RSA_SHA256, RsaKeySize};
use serde_json::{Map, Value, json};
use time::{Duration, OffsetDateTime};

use super::cert;

/// How an assertion is signed, with the thumbprint header that goes with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssertionAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256 and an `x5t` (SHA-1) header: the older documented form,
    /// still what azure_identity 1.0's certificate credential sends.
    Rs256,
    /// RSASSA-PSS with SHA-256 and an `x5t#S256` header: current guidance.
    Ps256,
}

/// A certificate and its private key, registered on an app with `EntraSim::add_certificate`.
#[derive(Debug)]
pub struct AppCertificate {
    der: Vec<u8>,
    cert_pem: String,
    key_pem: String,
    key: RsaKeyPair,
}

impl AppCertificate {
    /// Generates an RSA-2048 certificate for `common_name`, valid from `not_before` to
    /// `not_after`.
    pub fn generate(
        common_name: &str,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Self {
        let key_pair = KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048)
            .expect("RSA key generation");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("no SANs");
        params.distinguished_name.push(DnType::CommonName, common_name);
        params.not_before = not_before;
        params.not_after = not_after;
        let certificate = params.self_signed(&key_pair).expect("self-signed certificate");
        let key = RsaKeyPair::from_pkcs8(&key_pair.serialize_der()).expect("PKCS#8 RSA key");
        Self {
            der: certificate.der().to_vec(),
            cert_pem: certificate.pem(),
            key_pem: key_pair.serialize_pem(),
            key,
        }
    }

    /// A certificate valid from an hour before `now` to a year after it.
    pub fn valid_at(common_name: &str, now: OffsetDateTime) -> Self {
        Self::generate(common_name, now - Duration::hours(1), now + Duration::days(365))
    }

    /// The certificate, DER encoded (what the app registration stores).
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// Certificate then PKCS#8 private key, both PEM, in one file.
    pub fn pem_bundle(&self) -> String {
        format!("{}{}", self.cert_pem, self.key_pem)
    }

    /// base64url SHA-1 thumbprint (`x5t`).
    pub fn x5t(&self) -> String {
        B64URL.encode(cert::sha1(&self.der))
    }

    /// base64url SHA-256 thumbprint (`x5t#S256`).
    pub fn x5t_s256(&self) -> String {
        B64URL.encode(cert::sha256(&self.der))
    }

    /// Signs `claims` with `alg` and this certificate's matching thumbprint header.
    pub fn assertion(&self, alg: AssertionAlg, claims: &Value) -> String {
        let mut header = Map::new();
        match alg {
            AssertionAlg::Rs256 => header.insert("x5t".into(), self.x5t().into()),
            AssertionAlg::Ps256 => header.insert("x5t#S256".into(), self.x5t_s256().into()),
        };
        self.sign(alg, header, claims)
    }

    /// Signs `claims` with `alg`; `header` gets `alg` and `typ` added and is otherwise sent as
    /// given (to forge thumbprints in tests).
    pub fn sign(
        &self,
        alg: AssertionAlg,
        mut header: Map<String, Value>,
        claims: &Value,
    ) -> String {
        let (name, encoding): (&str, &'static dyn RsaEncoding) = match alg {
            AssertionAlg::Rs256 => ("RS256", &signature::RSA_PKCS1_SHA256),
            AssertionAlg::Ps256 => ("PS256", &signature::RSA_PSS_SHA256),
        };
        header.insert("alg".into(), name.into());
        header.insert("typ".into(), "JWT".into());
        let input = format!(
            "{}.{}",
            B64URL.encode(serde_json::to_vec(&header).expect("header JSON")),
            B64URL.encode(serde_json::to_vec(claims).expect("claims JSON"))
        );
        let mut sig = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(encoding, &SystemRandom::new(), input.as_bytes(), &mut sig)
            .expect("RSA signing");
        format!("{input}.{}", B64URL.encode(sig))
    }
}

/// The documented assertion claims: `aud` (the token endpoint), `iss` = `sub` = client id, a
/// fresh `jti`, `nbf` = `iat` = `now`, `exp` = `now` + `lifetime_secs`.
pub fn assertion_claims(client_id: &str, audience: &str, now: i64, lifetime_secs: i64) -> Value {
    json!({
        "aud": audience,
        "iss": client_id,
        "sub": client_id,
        "jti": uuid::Uuid::new_v4().to_string(),
        "nbf": now,
        "iat": now,
        "exp": now + lifetime_secs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer, pem::PemObject};

    #[test]
    fn the_pem_bundle_holds_the_certificate_and_its_pkcs8_key() {
        let cert = AppCertificate::valid_at("bundle", OffsetDateTime::now_utc());
        let bundle = cert.pem_bundle();
        let certs: Vec<_> =
            CertificateDer::pem_slice_iter(bundle.as_bytes()).collect::<Result<_, _>>().unwrap();
        assert_eq!(certs.len(), 1);
        assert_eq!(certs[0].as_ref(), cert.der());
        let key = PrivatePkcs8KeyDer::from_pem_slice(bundle.as_bytes()).unwrap();
        let pair = RsaKeyPair::from_pkcs8(key.secret_pkcs8_der()).unwrap();
        assert_eq!(pair.public_modulus_len(), 256, "RSA-2048");
    }
}
