//! The one HTTP client exsync talks to Microsoft with: Entra ID (as azure_identity's
//! transport), Microsoft Graph and Dataverse.
//!
//! rustls over the system's trust store, plus the CA in `[cloud] ca_file` for TLS-inspecting
//! proxies, private clouds and the simulators. Certificate checks are never switched off.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use rustls_pki_types::{CertificateDer, pem::PemObject};

use crate::config::Cloud;

/// How long establishing a connection (TCP and TLS) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long one request may take, body included. Dataverse cancels requests after two
/// minutes itself, so waiting longer only hides a dead connection.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// How long a connection may stay silent while a response is read.
pub const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("exsync/", env!("CARGO_PKG_VERSION"));

/// The HTTP client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum HttpClientError {
    /// `[cloud] ca_file` is missing or not a PEM file of certificates.
    #[error("cloud.ca_file {}: {reason}", path.display())]
    CaFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it and what to do.
        reason: String,
    },
    /// reqwest refused the configuration.
    #[error("cannot build the HTTP client: {0}")]
    Build(#[source] reqwest::Error),
}

/// Builds the client for `cloud`: system roots plus `cloud.ca_file`, if any.
pub fn client(cloud: &Cloud) -> Result<reqwest::Client, HttpClientError> {
    build(cloud.ca_file.as_deref())
}

/// Builds the client, trusting the certificates of `ca_file` besides the system roots.
pub fn build(ca_file: Option<&Path>) -> Result<reqwest::Client, HttpClientError> {
    let extra = match ca_file {
        Some(path) => read_ca_file(path)?,
        None => Vec::new(),
    };
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .https_only(true)
        // A redirect of a request that carries a bearer token or a client secret is never
        // followed blindly; none of the three services redirects API calls.
        .redirect(reqwest::redirect::Policy::none())
        .tls_certs_merge(extra)
        .build()
        .map_err(HttpClientError::Build)
}

/// Reads every certificate of a PEM file, checking that each is one a TLS client can trust.
pub fn read_ca_file(path: &Path) -> Result<Vec<reqwest::Certificate>, HttpClientError> {
    let fail = |reason: String| HttpClientError::CaFile { path: path.to_path_buf(), reason };
    let pem = std::fs::read(path).map_err(|e| fail(format!("cannot read the file: {e}")))?;
    let mut certificates = Vec::new();
    for (i, der) in CertificateDer::pem_slice_iter(&pem).enumerate() {
        let der = der.map_err(|e| fail(format!("certificate {}: not valid PEM: {e}", i + 1)))?;
        webpki::anchor_from_trusted_cert(&der).map_err(|e| {
            fail(format!("certificate {}: not a valid X.509 certificate: {e}", i + 1))
        })?;
        let certificate = reqwest::Certificate::from_der(&der)
            .map_err(|e| fail(format!("certificate {}: {e}", i + 1)))?;
        certificates.push(certificate);
    }
    if certificates.is_empty() {
        return Err(fail(
            "no certificate found: expected one or more PEM blocks \
             (-----BEGIN CERTIFICATE-----)"
                .into(),
        ));
    }
    Ok(certificates)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed_pem() -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        rcgen::CertificateParams::new(vec!["localhost".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap()
            .pem()
    }

    #[test]
    fn a_bundle_of_several_certificates_is_trusted_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, format!("{}\n{}", self_signed_pem(), self_signed_pem())).unwrap();
        assert_eq!(read_ca_file(&path).unwrap().len(), 2);
        assert!(build(Some(&path)).is_ok());
        assert!(build(None).is_ok());
    }

    #[test]
    fn a_bad_ca_file_is_a_config_error_that_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.pem");
        let err = build(Some(&missing)).unwrap_err().to_string();
        assert!(err.starts_with(&format!("cloud.ca_file {}: cannot read", missing.display())));

        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "just some text\n").unwrap();
        let err = build(Some(&empty)).unwrap_err().to_string();
        assert!(err.contains("empty.pem: no certificate found"), "{err}");

        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
            .unwrap();
        let err = build(Some(&garbage)).unwrap_err().to_string();
        assert!(err.contains("garbage.pem: certificate 1: not a valid X.509"), "{err}");
    }
}
