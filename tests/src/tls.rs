//! A throw-away certificate authority for the simulators.
//!
//! azure_identity refuses `http://` authority hosts and Graph only calls `https://`
//! notification URLs, so every simulator (and exsync's own listener in tests) serves TLS
//! with a server certificate issued by this CA. exsync trusts it through `[cloud] ca_file`;
//! nothing weakens certificate checks.

use std::{path::Path, sync::Arc};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Names every certificate issued by [`TestCa::server_identity`] is valid for.
pub const LOOPBACK_NAMES: &[&str] = &["localhost", "127.0.0.1", "::1"];

/// A certificate authority generated in memory for one test run.
#[derive(Debug)]
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A server certificate chain and its private key, ready for rustls.
#[derive(Debug)]
pub struct ServerIdentity {
    /// Leaf first, then the CA.
    pub chain: Vec<CertificateDer<'static>>,
    /// The leaf's PKCS#8 private key.
    pub key: PrivateKeyDer<'static>,
}

impl TestCa {
    /// Generates a fresh CA (ECDSA P-256).
    pub fn generate() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("empty SAN list");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, "exsync simulator test CA");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("generate CA key");
        let issuer = CertifiedIssuer::self_signed(params, key).expect("self-sign CA");
        Self { issuer }
    }

    /// The CA certificate, PEM encoded (what `[cloud] ca_file` points at).
    pub fn cert_pem(&self) -> String {
        self.issuer.pem()
    }

    /// The CA certificate, DER encoded.
    pub fn cert_der(&self) -> CertificateDer<'static> {
        self.issuer.der().clone()
    }

    /// Writes the CA certificate as PEM to `path`.
    pub fn write_pem(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, self.cert_pem())
    }

    /// Issues a server certificate for `names` (DNS names or IP addresses).
    pub fn server_identity(&self, names: &[&str]) -> ServerIdentity {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("valid SANs");
        params.distinguished_name.push(DnType::CommonName, "exsync simulator");
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().expect("generate server key");
        let cert = params.signed_by(&key, &self.issuer).expect("sign server cert");
        ServerIdentity {
            chain: vec![cert.der().clone(), self.cert_der()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        }
    }

    /// Writes a server certificate for the loopback names (chain, PEM) and its key (PKCS#8
    /// PEM): what exsync's `runtime.tls_cert` / `runtime.tls_key` point at in tests and the demo.
    pub fn write_server_pem(&self, cert_path: &Path, key_path: &Path) -> std::io::Result<()> {
        let names: Vec<String> = LOOPBACK_NAMES.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(names).expect("valid SANs");
        params.distinguished_name.push(DnType::CommonName, "exsync listener");
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().expect("generate server key");
        let cert = params.signed_by(&key, &self.issuer).expect("sign server cert");
        std::fs::write(cert_path, format!("{}{}", cert.pem(), self.cert_pem()))?;
        std::fs::write(key_path, key.serialize_pem())
    }

    /// A rustls server configuration for the loopback names, with HTTP/1.1 and HTTP/2.
    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let identity = self.server_identity(LOOPBACK_NAMES);
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(identity.chain, identity.key)
            .expect("server certificate");
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Arc::new(config)
    }

    /// An HTTP client that trusts this CA (and, like any client, nothing it should not).
    pub fn client(&self) -> reqwest::Client {
        let ca = reqwest::Certificate::from_der(&self.cert_der()).expect("CA certificate");
        reqwest::Client::builder()
            .add_root_certificate(ca)
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .expect("reqwest client")
    }
}
