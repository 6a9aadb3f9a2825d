//! Rich notifications (reference graph.md 5): subscriptions with `includeResourceData`, whose
//! notifications carry the message's properties encrypted for the app's certificate and a
//! `validationTokens` JWT per (app, tenant).
//!
//! - [`certificate`]: the encryption certificate and its private key, from a PEM bundle.
//! - [`keys`]: each profile's certificates, read through the secrets port and re-read on
//!   rotation.
//! - [`content`]: `encryptedContent`, verified (HMAC) and decrypted.
//! - [`token`]: the validation tokens, checked against the identity platform's keys.
//!
//! Mail allows no body in rich notifications (reference 5.1), so exsync never writes what
//! they carry: the folder's delta stays the source of truth, and the resource data only
//! decides the tracking rule before any Graph read.

mod certificate;
mod content;
mod keys;
mod token;

pub use certificate::{CertificateError, EncryptionCertificate, KEY_BITS, MAX_CERTIFICATE_ID};
pub use content::EncryptedContent;
pub use keys::{EncryptionKeys, KEYS_TTL, KeyError};
pub use token::{LEEWAY, NOTIFICATION_PUBLISHER, UnverifiedToken, VerifiedToken};

/// The message properties a rich subscription selects (`$select` in its resource): exactly
/// what the tracking rule needs: the sender of received mail, the recipients of sent mail,
/// the headers for In-Reply-To ("responses"), the date ("process emails from") and whether it
/// is a draft. Graph refuses `body` and `uniqueBody` there (reference 5.1); nothing else is
/// asked for, so notifications carry no more than this.
pub const RICH_SELECT: &str =
    "from,toRecipients,ccRecipients,bccRecipients,receivedDateTime,isDraft,internetMessageHeaders";

/// A rich notification that cannot be trusted or read. Graph gets 202 all the same (reference
/// 5.4: answering otherwise only makes it retry and tells a forger what failed); the item is
/// ignored and its folder is still caught up by the next pass or sweep.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RichError {
    /// The payload is not as documented.
    #[error("malformed rich notification: {0}")]
    Malformed(String),
    /// No configured certificate has the id (and thumbprint) the content names.
    #[error("no encryption certificate {id:?} is configured for this profile")]
    UnknownCertificate {
        /// The id the notification names.
        id: Option<String>,
    },
    /// The symmetric key did not unwrap with the certificate's private key.
    #[error("the data key does not decrypt with certificate {certificate:?}")]
    KeyUnwrap {
        /// The certificate tried.
        certificate: String,
    },
    /// The HMAC of the ciphertext does not match `dataSignature`: tampered with.
    #[error("the data signature does not match the encrypted data")]
    Signature,
    /// The ciphertext does not decrypt (bad padding).
    #[error("the data does not decrypt")]
    Decrypt,
    /// A validation token was refused.
    #[error("validation token refused: {0}")]
    Token(String),
    /// A validation token is signed with a key the identity platform does not publish.
    #[error("validation token signed with unknown key {0:?}")]
    UnknownSigningKey(String),
    /// An encrypted item whose (app, tenant) no valid token vouches for.
    #[error("no valid validation token for app {app} in tenant {tenant}")]
    Unvouched {
        /// The subscribing app.
        app: String,
        /// The tenant.
        tenant: String,
    },
}

#[cfg(test)]
mod tests;
