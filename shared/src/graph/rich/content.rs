//! `encryptedContent` of a rich notification, verified and decrypted as reference graph.md 5.3
//! says: the symmetric key unwrapped with RSA-OAEP (SHA-1, MGF1-SHA-1); an HMAC-SHA256 of the
//! ciphertext, keyed with it, compared in constant time before anything is decrypted; then
//! AES-256-CBC with PKCS7 padding and the key's first 16 bytes as IV.

use aws_lc_rs::{
    cipher::{AES_256, DecryptionContext, PaddedBlockDecryptingKey, UnboundCipherKey},
    hmac,
    iv::FixedLength,
    rsa::OAEP_SHA1_MGF1SHA1,
};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde::Deserialize;

use super::{EncryptionCertificate, RichError};

/// AES-256: the unwrapped key must be 32 bytes.
const KEY_BYTES: usize = 32;

/// `encryptedContent` as Graph sends it (reference 5.2).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncryptedContent {
    /// base64 AES-CBC ciphertext.
    pub data: String,
    /// base64 RSA-OAEP-wrapped symmetric key.
    pub data_key: String,
    /// base64 HMAC-SHA256 of the ciphertext.
    pub data_signature: String,
    /// The id exsync gave the certificate it was encrypted for.
    #[serde(default)]
    pub encryption_certificate_id: Option<String>,
    /// That certificate's SHA-1 thumbprint, hex.
    #[serde(default)]
    pub encryption_certificate_thumbprint: Option<String>,
}

impl EncryptedContent {
    /// Reads the notification's `encryptedContent` object.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, RichError> {
        serde_json::from_value(value.clone())
            .map_err(|e| RichError::Malformed(format!("encryptedContent: {e}")))
    }

    /// Whether `certificate` is the one this content names: by id, and by thumbprint when
    /// Graph sent one.
    pub fn is_for(&self, certificate: &EncryptionCertificate) -> bool {
        self.encryption_certificate_id.as_deref() == Some(certificate.id())
            && self
                .encryption_certificate_thumbprint
                .as_deref()
                .is_none_or(|t| t.eq_ignore_ascii_case(certificate.thumbprint()))
    }

    /// Verifies and decrypts: the resource data's JSON bytes.
    pub fn decrypt(&self, certificate: &EncryptionCertificate) -> Result<Vec<u8>, RichError> {
        let decode = |field: &str, text: &str| {
            STANDARD.decode(text.trim()).map_err(|_| {
                RichError::Malformed(format!("encryptedContent.{field} is not base64"))
            })
        };
        let wrapped = decode("dataKey", &self.data_key)?;
        let data = decode("data", &self.data)?;
        let signature = decode("dataSignature", &self.data_signature)?;

        let oaep = certificate.key();
        let mut unwrapped = vec![0u8; oaep.min_output_size()];
        let key = oaep
            .decrypt(&OAEP_SHA1_MGF1SHA1, &wrapped, &mut unwrapped, None)
            .map_err(|_| RichError::KeyUnwrap { certificate: certificate.id().to_string() })?;
        if key.len() != KEY_BYTES {
            return Err(RichError::KeyUnwrap { certificate: certificate.id().to_string() });
        }
        // hmac::verify compares in constant time.
        hmac::verify(&hmac::Key::new(hmac::HMAC_SHA256, key), &data, &signature)
            .map_err(|_| RichError::Signature)?;
        let iv: [u8; 16] = key[..16].try_into().expect("a 32-byte key has 16 first bytes");
        let aes = UnboundCipherKey::new(&AES_256, key)
            .and_then(PaddedBlockDecryptingKey::cbc_pkcs7)
            .map_err(|_| RichError::Decrypt)?;
        let mut in_out = data;
        let plain = aes
            .decrypt(&mut in_out, DecryptionContext::Iv128(FixedLength::from(iv)))
            .map_err(|_| RichError::Decrypt)?;
        Ok(plain.to_vec())
    }
}
