use super::*;
use rcgen::{CertificateParams, KeyPair, PKCS_RSA_SHA256, RsaKeySize};
use serde_json::Value;
use time::macros::datetime;

const CLIENT: &str = "22222222-2222-2222-2222-222222222222";
const AUDIENCE: &str =
    "https://login.example/11111111-1111-1111-1111-111111111111/oauth2/v2.0/token";

#[derive(Debug)]
struct Fixed(OffsetDateTime);

impl Clock for Fixed {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

struct AppCert {
    der: Vec<u8>,
    cert_pem: String,
    key: KeyPair,
}

fn app_cert() -> AppCert {
    let key = KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048).unwrap();
    let cert = CertificateParams::new(Vec::<String>::new()).unwrap().self_signed(&key).unwrap();
    AppCert { der: cert.der().to_vec(), cert_pem: cert.pem(), key }
}

fn load(pem: &str) -> Result<CertificateAssertion, CertificateError> {
    let clock = Arc::new(Fixed(datetime!(2026-05-01 12:00 UTC)));
    CertificateAssertion::from_pem(pem, ClientId::parse(CLIENT).unwrap(), AUDIENCE.into(), clock)
}

fn part(jwt: &str, i: usize) -> Vec<u8> {
    B64URL.decode(jwt.split('.').nth(i).unwrap()).unwrap()
}

/// The RSAPrivateKey inside a PKCS#8 PrivateKeyInfo (RFC 5208: SEQUENCE { INTEGER 0,
/// AlgorithmIdentifier, OCTET STRING privateKey }).
fn pkcs1_from_pkcs8(pkcs8: &[u8]) -> Vec<u8> {
    fn element(input: &[u8]) -> (u8, &[u8], &[u8]) {
        let (tag, first) = (input[0], input[1]);
        let (len, at) = if first < 0x80 {
            (first as usize, 2)
        } else {
            let n = (first & 0x7f) as usize;
            (input[2..2 + n].iter().fold(0, |a, b| (a << 8) | *b as usize), 2 + n)
        };
        (tag, &input[at..at + len], &input[at + len..])
    }
    let (_, info, _) = element(pkcs8);
    let (_, _, rest) = element(info); // version
    let (_, _, rest) = element(rest); // algorithm
    let (tag, key, _) = element(rest);
    assert_eq!(tag, 0x04);
    key.to_vec()
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> =
        body.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
}

#[test]
fn an_assertion_verifies_with_the_certificates_public_key_and_names_it_by_x5t() {
    let cert = app_cert();
    let signer = load(&format!("{}{}", cert.cert_pem, cert.key.serialize_pem())).unwrap();
    let now = datetime!(2026-05-01 12:00 UTC);
    let jwt = signer.sign(now);

    let (signed, signature) = jwt.rsplit_once('.').unwrap();
    webpki::EndEntityCert::try_from(&CertificateDer::from(cert.der.as_slice()))
        .unwrap()
        .verify_signature(
            webpki::aws_lc_rs::RSA_PKCS1_2048_8192_SHA256,
            signed.as_bytes(),
            &B64URL.decode(signature).unwrap(),
        )
        .expect("the signature verifies with the certificate's key");

    let header: Value = serde_json::from_slice(&part(&jwt, 0)).unwrap();
    let thumbprint = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, &cert.der);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["x5t"], B64URL.encode(thumbprint.as_ref()));

    let claims: Value = serde_json::from_slice(&part(&jwt, 1)).unwrap();
    assert_eq!(claims["aud"], AUDIENCE);
    assert_eq!(claims["iss"], CLIENT);
    assert_eq!(claims["sub"], CLIENT);
    assert_eq!(claims["nbf"], now.unix_timestamp());
    assert_eq!(claims["iat"], now.unix_timestamp());
    assert_eq!(claims["exp"], now.unix_timestamp() + 600);
    let jti = claims["jti"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(jti).is_ok());
    let again: Value = serde_json::from_slice(&part(&signer.sign(now), 1)).unwrap();
    assert_ne!(again["jti"], jti, "every assertion has its own jti");
}

#[test]
fn x5t_is_unpadded_base64url_as_documented() {
    // ENT:certificate-credentials.md: hex 84E05C1D98BCE3A5421D225B140B36E86A3D5534 is x5t
    // hOBcHZi846VCHSJbFAs26Go9VTQ.
    let raw: Vec<u8> = (0..20)
        .map(|i| {
            u8::from_str_radix(&"84E05C1D98BCE3A5421D225B140B36E86A3D5534"[i * 2..i * 2 + 2], 16)
                .unwrap()
        })
        .collect();
    assert_eq!(B64URL.encode(raw), "hOBcHZi846VCHSJbFAs26Go9VTQ");
}

#[test]
fn a_pkcs1_key_and_a_key_before_the_certificate_are_read_too() {
    let cert = app_cert();
    let pkcs1 = pem("RSA PRIVATE KEY", &pkcs1_from_pkcs8(&cert.key.serialize_der()));
    let signer = load(&format!("{pkcs1}{}", cert.cert_pem)).unwrap();
    let expected = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, &cert.der);
    assert_eq!(signer.x5t(), B64URL.encode(expected.as_ref()));
}

#[test]
fn unusable_bundles_say_why_without_quoting_the_key() {
    let cert = app_cert();
    let key_pem = cert.key.serialize_pem();
    let other = app_cert();
    let ec = KeyPair::generate().unwrap().serialize_pem();
    let cases = [
        (key_pem.clone(), "no certificate in the PEM bundle"),
        (cert.cert_pem.clone(), "no unencrypted private key"),
        (format!("{}{ec}", cert.cert_pem), "not an RSA key"),
        (format!("{}{}", other.cert_pem, key_pem), "does not belong to the certificate"),
    ];
    for (bundle, expected) in cases {
        let err = load(&bundle).unwrap_err().to_string();
        assert!(err.contains(expected), "{err}");
        let key_body: String = key_pem.lines().nth(1).unwrap().into();
        assert!(!err.contains(&key_body) && !format!("{:?}", load(&bundle)).contains(&key_body));
    }
}
