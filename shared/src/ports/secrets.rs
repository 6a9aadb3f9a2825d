//! Reading secrets (client secrets, certificate PEM bundles) by reference.

use async_trait::async_trait;

use crate::secret::{LocalSecrets, Secret, SecretError, SecretRef};

/// Reads a secret by reference. Only the token service holds one: secrets live where tokens
/// are made (DESIGN invariant 4).
#[async_trait]
pub trait Secrets: Send + Sync + std::fmt::Debug {
    /// The current value of `reference`; read again on every call, so a rotated secret is
    /// picked up without a restart.
    async fn read(&self, reference: &SecretRef) -> Result<Secret, SecretError>;
}

#[async_trait]
impl Secrets for LocalSecrets {
    async fn read(&self, reference: &SecretRef) -> Result<Secret, SecretError> {
        LocalSecrets::read(self, reference)
    }
}
