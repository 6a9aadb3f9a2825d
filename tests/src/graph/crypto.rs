//! Rich notifications (reference 5): the encryption certificate a subscription brings, the
//! per-item encryption of resource data, and the `validationTokens` JWTs.

use aws_lc_rs::{
    cipher::{AES_256, EncryptionContext, PaddedBlockEncryptingKey, UnboundCipherKey},
    digest::{SHA1_FOR_LEGACY_USE_ONLY, digest},
    hmac,
    iv::FixedLength,
    rand::{SecureRandom, SystemRandom},
    rsa::{OAEP_SHA1_MGF1SHA1, OaepPublicEncryptingKey, PublicEncryptingKey},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use rustls_pki_types::CertificateDer;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::{errors::GraphError, subscription::EncryptionCert};
use crate::jwt::SigningKey;

/// The app id of the Microsoft Graph change notification publisher, the `appid` of every
/// validation token (reference 5.4).
pub const NOTIFICATION_PUBLISHER_APP_ID: &str = "0bf30f3b-4a52-48df-9a82-234910c4a086";

/// Reads `encryptionCertificate` (base64 X.509): its RSA key must be 2,048 to 4,096 bits
/// (reference 5.1); the issuer is not checked.
pub(crate) fn parse_certificate(
    b64: &str,
    id: Option<String>,
) -> Result<EncryptionCert, GraphError> {
    let invalid = || {
        GraphError::invalid_request(
            "The encryptionCertificate is not a valid base64-encoded X.509 certificate with an \
             RSA public key of 2048 to 4096 bits.",
        )
    };
    let der = STANDARD.decode(b64.trim()).map_err(|_| invalid())?;
    let cert_der = CertificateDer::from(der.as_slice());
    let cert = webpki::EndEntityCert::try_from(&cert_der).map_err(|_| invalid())?;
    let spki = cert.subject_public_key_info().as_ref().to_vec();
    let key = PublicEncryptingKey::from_der(&spki).map_err(|_| invalid())?;
    if !(2048..=4096).contains(&key.key_size_bits()) {
        return Err(invalid());
    }
    let thumbprint = digest(&SHA1_FOR_LEGACY_USE_ONLY, &der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    Ok(EncryptionCert { certificate_b64: b64.trim().to_string(), id, spki, thumbprint })
}

/// Encrypts one item's resource data (reference 5.3, inverted): a fresh 32-byte key,
/// AES-256-CBC with PKCS7 and IV = the key's first 16 bytes, the key wrapped with RSA-OAEP
/// (SHA-1, MGF1-SHA-1), and an HMAC-SHA256 of the ciphertext keyed with the symmetric key.
pub(crate) fn encrypt(cert: &EncryptionCert, plaintext: &[u8]) -> Value {
    let rng = SystemRandom::new();
    let mut key = [0u8; 32];
    rng.fill(&mut key).expect("random key");
    let iv: [u8; 16] = key[..16].try_into().expect("16 bytes");
    let aes = PaddedBlockEncryptingKey::cbc_pkcs7(
        UnboundCipherKey::new(&AES_256, &key).expect("AES-256 key"),
    )
    .expect("CBC key");
    let mut data = plaintext.to_vec();
    aes.less_safe_encrypt(&mut data, EncryptionContext::Iv128(FixedLength::from(iv)))
        .expect("AES-CBC encryption");
    let rsa = OaepPublicEncryptingKey::new(
        PublicEncryptingKey::from_der(&cert.spki).expect("key checked at subscription"),
    )
    .expect("OAEP key");
    let mut wrapped = vec![0u8; rsa.ciphertext_size()];
    let wrapped = rsa
        .encrypt(&OAEP_SHA1_MGF1SHA1, &key, &mut wrapped, None)
        .expect("RSA-OAEP encryption")
        .to_vec();
    let signature = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key), &data);
    json!({
        "data": STANDARD.encode(&data),
        "dataKey": STANDARD.encode(wrapped),
        "dataSignature": STANDARD.encode(signature.as_ref()),
        "encryptionCertificateId": cert.id,
        "encryptionCertificateThumbprint": cert.thumbprint,
    })
}

/// A validation token for the notifications of `app_id` in `tenant` (reference 5.4):
/// `aud` = the subscribing app, `iss` = `https://sts.windows.net/{tenant}/`,
/// `appid` = the notification publisher, signed by the identity platform's key.
pub(crate) fn validation_token(
    signer: &SigningKey,
    app_id: &str,
    tenant: &str,
    now: OffsetDateTime,
) -> String {
    let iat = now.unix_timestamp();
    let claims = json!({
        "aud": app_id,
        "iss": format!("https://sts.windows.net/{tenant}/"),
        "iat": iat,
        "nbf": iat,
        "exp": iat + 3600,
        "aio": "E2ZgYGjNsv/e1/ywEn7U6Nw2eAE=",
        "appid": NOTIFICATION_PUBLISHER_APP_ID,
        "appidacr": "2",
        "idp": format!("https://sts.windows.net/{tenant}/"),
        "tid": tenant,
        "uti": uuid::Uuid::new_v4().simple().to_string(),
        "ver": "1.0",
    });
    signer.sign(&claims, &serde_json::Map::new())
}
