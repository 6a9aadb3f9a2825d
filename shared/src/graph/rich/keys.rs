//! Each profile's encryption certificates, read through the secrets port when first needed
//! and again after [`KEYS_TTL`], or at once (at most every [`RELOAD_AFTER`]) when a
//! notification names a certificate not loaded: a PEM file or secret replaced under its
//! reference is picked up without a restart (a new certificate id is a configuration change).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use time::OffsetDateTime;

use super::{CertificateError, EncryptedContent, EncryptionCertificate};
use crate::{
    config::{Config, Profile},
    domain::ProfileName,
    ports::{Clock, Secrets},
    secret::{SecretError, SecretRef},
};

/// How long loaded certificates are used before they are read again.
pub const KEYS_TTL: Duration = Duration::from_secs(5 * 60);
/// An unknown certificate id reloads the profile's certificates at most this often.
const RELOAD_AFTER: Duration = Duration::from_secs(10);

/// A profile's encryption certificates cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The profile has no `rich_notifications`.
    #[error("profile {profile}: rich notifications are not configured")]
    NotConfigured {
        /// The profile.
        profile: ProfileName,
    },
    /// The PEM could not be read.
    #[error("profile {profile}: encryption certificate {id:?}: {source}")]
    Secret {
        /// The profile.
        profile: ProfileName,
        /// The certificate's id.
        id: String,
        /// Why (names the reference, never the value).
        source: SecretError,
    },
    /// The PEM is not a usable certificate and key.
    #[error("profile {profile}: encryption certificate {id:?} ({reference}): {problem}")]
    Certificate {
        /// The profile.
        profile: ProfileName,
        /// The certificate's id.
        id: String,
        /// Where it is kept.
        reference: SecretRef,
        /// What is wrong with it.
        problem: CertificateError,
    },
}

impl KeyError {
    /// Whether reading again later can help (a secret store briefly unavailable); the others
    /// wait for an admin.
    pub fn is_retryable(&self) -> bool {
        matches!(self, KeyError::Secret { source, .. } if source.is_retryable())
    }
}

#[derive(Debug, Clone)]
struct Loaded {
    certificates: Vec<Arc<EncryptionCertificate>>,
    at: OffsetDateTime,
}

/// The encryption certificates of every profile with rich notifications; one per process,
/// shared by subscription upkeep (which sends the current certificate) and `notify` (which
/// decrypts with any of them).
#[derive(Debug)]
pub struct EncryptionKeys {
    config: Arc<Config>,
    secrets: Arc<dyn Secrets>,
    clock: Arc<dyn Clock>,
    cache: Mutex<HashMap<ProfileName, Loaded>>,
}

impl EncryptionKeys {
    /// Certificates of `config`'s profiles, read through `secrets` when first needed.
    pub fn new(config: Arc<Config>, secrets: Arc<dyn Secrets>, clock: Arc<dyn Clock>) -> Self {
        Self { config, secrets, clock, cache: Mutex::new(HashMap::new()) }
    }

    /// The certificate new subscriptions of `profile` are created with.
    pub async fn current(&self, profile: &Profile) -> Result<Arc<EncryptionCertificate>, KeyError> {
        let loaded = self.loaded(profile, KEYS_TTL).await?;
        Ok(loaded.certificates[0].clone())
    }

    /// The certificate `content` was encrypted for, among `profile`'s; `None` when none is.
    pub async fn for_content(
        &self,
        profile: &Profile,
        content: &EncryptedContent,
    ) -> Result<Option<Arc<EncryptionCertificate>>, KeyError> {
        let find = |l: &Loaded| l.certificates.iter().find(|c| content.is_for(c)).cloned();
        let loaded = self.loaded(profile, KEYS_TTL).await?;
        if let Some(found) = find(&loaded) {
            return Ok(Some(found));
        }
        Ok(find(&self.loaded(profile, RELOAD_AFTER).await?))
    }

    /// The profile's certificates, read again when older than `max_age`.
    async fn loaded(&self, profile: &Profile, max_age: Duration) -> Result<Loaded, KeyError> {
        let now = self.clock.now();
        if let Some(loaded) = self.cache.lock().expect("keys lock").get(&profile.name)
            && (now - loaded.at).unsigned_abs() < max_age
        {
            return Ok(loaded.clone());
        }
        // The configuration the process runs with, not a copy a caller may hold.
        let configured = self.config.profiles.iter().find(|p| p.name == profile.name);
        let rich = configured
            .and_then(|p| p.rich.as_ref())
            .ok_or_else(|| KeyError::NotConfigured { profile: profile.name.clone() })?;
        let mut certificates = Vec::new();
        for reference in rich.certificates() {
            let secret = self.secrets.read(&reference.pem).await.map_err(|source| {
                KeyError::Secret { profile: profile.name.clone(), id: reference.id.clone(), source }
            })?;
            let certificate = EncryptionCertificate::from_pem(&reference.id, secret.expose())
                .map_err(|problem| KeyError::Certificate {
                    profile: profile.name.clone(),
                    id: reference.id.clone(),
                    reference: reference.pem.clone(),
                    problem,
                })?;
            certificates.push(Arc::new(certificate));
        }
        let loaded = Loaded { certificates, at: now };
        self.cache.lock().expect("keys lock").insert(profile.name.clone(), loaded.clone());
        Ok(loaded)
    }
}
