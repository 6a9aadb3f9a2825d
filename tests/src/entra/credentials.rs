//! Seeding an app's credentials: client secrets and certificates.

use time::OffsetDateTime;

use super::{
    EntraSim, cert,
    directory::{Result, SetupError, app_mut},
    model::{KeyCredential, Secret},
};

impl EntraSim {
    /// Adds a client secret expiring at `expires_at`; returns its secret id (which is not the
    /// secret: sending it gets AADSTS7000215).
    pub fn add_secret(
        &self,
        client_id: &str,
        value: &str,
        expires_at: OffsetDateTime,
    ) -> Result<String> {
        let id = uuid::Uuid::new_v4().to_string();
        let secret = Secret { id: id.clone(), value: value.to_string(), expires_at };
        self.with_app(client_id, |app| app.secrets.push(secret))?;
        Ok(id)
    }

    /// Removes a client secret by its id.
    pub fn remove_secret(&self, client_id: &str, secret_id: &str) -> Result<()> {
        self.with_dir(|dir| {
            let secrets = &mut app_mut(dir, client_id)?.secrets;
            let before = secrets.len();
            secrets.retain(|s| s.id != secret_id);
            if secrets.len() == before {
                Err(SetupError::Unknown(secret_id.into()))
            } else {
                Ok(())
            }
        })
    }

    /// Uploads a certificate (DER) to the app; its validity becomes the key's start and end.
    /// Returns the key id.
    pub fn add_certificate(&self, client_id: &str, cert_der: &[u8]) -> Result<String> {
        let (start, end) = cert::validity(cert_der)
            .filter(|_| webpki::EndEntityCert::try_from(&cert_der.into()).is_ok())
            .ok_or_else(|| SetupError::Invalid("certificate".into(), "X.509 DER certificate"))?;
        let id = uuid::Uuid::new_v4().to_string();
        let key = KeyCredential {
            id: id.clone(),
            der: cert_der.to_vec(),
            sha1: cert::sha1(cert_der),
            sha256: cert::sha256(cert_der),
            start,
            end,
        };
        self.with_app(client_id, |app| app.certificates.push(key))?;
        Ok(id)
    }

    /// Removes a certificate by its key id.
    pub fn remove_certificate(&self, client_id: &str, key_id: &str) -> Result<()> {
        self.with_dir(|dir| {
            let keys = &mut app_mut(dir, client_id)?.certificates;
            let before = keys.len();
            keys.retain(|k| k.id != key_id);
            if keys.len() == before { Err(SetupError::Unknown(key_id.into())) } else { Ok(()) }
        })
    }
}
