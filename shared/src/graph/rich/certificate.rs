//! The app's encryption certificate for rich notifications: a PEM bundle with an X.509
//! certificate and its RSA private key. Graph gets the certificate (public key only) when a
//! subscription is created and encrypts each notification's symmetric key for it; exsync
//! keeps the private key to decrypt (reference graph.md 5.1, 5.3).

use std::fmt;

use aws_lc_rs::{
    digest,
    encoding::AsDer,
    rsa::{OaepPrivateDecryptingKey, PrivateDecryptingKey, PublicEncryptingKey},
    signature::RsaKeyPair,
};
use base64::{Engine, engine::general_purpose::STANDARD};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};

/// Graph accepts RSA keys of 2,048 to 4,096 bits (reference 5.1).
pub const KEY_BITS: std::ops::RangeInclusive<usize> = 2048..=4096;

/// Graph's limit on `encryptionCertificateId` (reference 5.1).
pub const MAX_CERTIFICATE_ID: usize = 128;

/// A PEM bundle that cannot be an encryption certificate. Never quotes the PEM.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CertificateError(String);

/// An encryption certificate with its private key, as configured under an id.
pub struct EncryptionCertificate {
    id: String,
    certificate_b64: String,
    thumbprint: String,
    key: OaepPrivateDecryptingKey,
}

impl fmt::Debug for EncryptionCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptionCertificate")
            .field("id", &self.id)
            .field("thumbprint", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

impl EncryptionCertificate {
    /// Reads a PEM bundle: the certificate (the first, if there is a chain) and its RSA
    /// private key (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`), which must belong
    /// together and be 2,048 to 4,096 bits.
    pub fn from_pem(id: &str, pem: &str) -> Result<Self, CertificateError> {
        let fail = |m: &str| CertificateError(m.to_string());
        if id.is_empty() || id.chars().count() > MAX_CERTIFICATE_ID {
            return Err(fail("the certificate id must be 1 to 128 characters (Graph's limit)"));
        }
        let certificate = CertificateDer::pem_slice_iter(pem.as_bytes())
            .next()
            .ok_or_else(|| fail("no certificate in the PEM bundle (-----BEGIN CERTIFICATE-----)"))?
            .map_err(|_| fail("the certificate in the PEM bundle is not valid PEM"))?;
        let private = match PrivateKeyDer::from_pem_slice(pem.as_bytes()) {
            Ok(PrivateKeyDer::Pkcs8(der)) => {
                PrivateDecryptingKey::from_pkcs8(der.secret_pkcs8_der())
                    .map_err(|_| fail("the private key is not an RSA key: Graph needs RSA"))?
            }
            Ok(PrivateKeyDer::Pkcs1(der)) => {
                let pair = RsaKeyPair::from_der(der.secret_pkcs1_der())
                    .map_err(|_| fail("the RSA private key (PKCS#1) cannot be read"))?;
                let pkcs8 =
                    pair.as_der().map_err(|_| fail("the RSA private key cannot be read"))?;
                PrivateDecryptingKey::from_pkcs8(pkcs8.as_ref())
                    .map_err(|_| fail("the RSA private key cannot be read"))?
            }
            Ok(_) => return Err(fail("the private key is not an RSA key: Graph needs RSA")),
            Err(_) => {
                return Err(fail(
                    "no unencrypted private key in the PEM bundle (-----BEGIN PRIVATE KEY----- \
                     or -----BEGIN RSA PRIVATE KEY-----); encrypted keys are not supported",
                ));
            }
        };
        if !KEY_BITS.contains(&private.key_size_bits()) {
            return Err(fail("the RSA key must have 2048 to 4096 bits (Graph's limits)"));
        }
        check_pair(&certificate, &private)?;
        let key = OaepPrivateDecryptingKey::new(private)
            .map_err(|_| fail("the RSA private key cannot decrypt with OAEP"))?;
        Ok(Self {
            id: id.to_string(),
            certificate_b64: STANDARD.encode(certificate.as_ref()),
            thumbprint: thumbprint(&certificate),
            key,
        })
    }

    /// The id exsync gives Graph (`encryptionCertificateId`), echoed in every notification.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The certificate, base64 DER, as `encryptionCertificate` wants it (public key only).
    pub fn certificate_b64(&self) -> &str {
        &self.certificate_b64
    }

    /// The SHA-1 thumbprint, upper-case hex, as `encryptionCertificateThumbprint` shows it.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// The private key, for [`super::EncryptedContent::decrypt`].
    pub(super) fn key(&self) -> &OaepPrivateDecryptingKey {
        &self.key
    }
}

fn thumbprint(certificate: &CertificateDer<'_>) -> String {
    // SHA-1 only because Graph names the certificate by it.
    digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, certificate.as_ref())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

/// A key of another certificate would only show as notifications that never decrypt.
fn check_pair(
    certificate: &CertificateDer<'_>,
    private: &PrivateDecryptingKey,
) -> Result<(), CertificateError> {
    let invalid = || CertificateError("the certificate is not a valid X.509 certificate".into());
    let end_entity = webpki::EndEntityCert::try_from(certificate).map_err(|_| invalid())?;
    let spki = end_entity.subject_public_key_info();
    let in_certificate = PublicEncryptingKey::from_der(spki.as_ref())
        .map_err(|_| CertificateError("the certificate's key is not an RSA key".into()))?;
    let der = |k: &PublicEncryptingKey| k.as_der().map(|d| d.as_ref().to_vec()).ok();
    if der(&in_certificate).is_none() || der(&in_certificate) != der(&private.public_key()) {
        return Err(CertificateError("the private key does not belong to the certificate".into()));
    }
    Ok(())
}
