//! The crypto and the token checks, with tampered inputs.

use aws_lc_rs::{
    cipher::{AES_256, EncryptionContext, PaddedBlockEncryptingKey, UnboundCipherKey},
    hmac,
    iv::FixedLength,
    rand::{SecureRandom, SystemRandom},
    rsa::{KeySize, OAEP_SHA1_MGF1SHA1, OaepPublicEncryptingKey, PublicEncryptingKey},
    signature::{self, KeyPair, RsaKeyPair},
};
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64URL},
};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::*;
use crate::entra::jwks::Jwk;

const APP: &str = "22222222-2222-2222-2222-222222222222";
const TENANT: &str = "11111111-1111-1111-1111-111111111111";

/// A self-signed certificate and its key, as a PEM bundle.
fn pem() -> String {
    let key = rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
        .unwrap();
    let cert = rcgen::CertificateParams::new(vec!["exsync-notifications".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    format!("{}{}", cert.pem(), key.serialize_pem())
}

/// What Graph does (reference 5.3, inverted), for `certificate`.
fn encrypt(certificate: &EncryptionCertificate, plaintext: &[u8]) -> Value {
    let mut key = [0u8; 32];
    SystemRandom::new().fill(&mut key).unwrap();
    let iv: [u8; 16] = key[..16].try_into().unwrap();
    let aes = PaddedBlockEncryptingKey::cbc_pkcs7(UnboundCipherKey::new(&AES_256, &key).unwrap())
        .unwrap();
    let mut data = plaintext.to_vec();
    aes.less_safe_encrypt(&mut data, EncryptionContext::Iv128(FixedLength::from(iv))).unwrap();
    let der = STANDARD.decode(certificate.certificate_b64()).unwrap();
    let cert = rustls_pki_types::CertificateDer::from(der.as_slice());
    let spki = webpki::EndEntityCert::try_from(&cert).unwrap().subject_public_key_info();
    let rsa = OaepPublicEncryptingKey::new(PublicEncryptingKey::from_der(spki.as_ref()).unwrap())
        .unwrap();
    let mut wrapped = vec![0u8; rsa.ciphertext_size()];
    let wrapped = rsa.encrypt(&OAEP_SHA1_MGF1SHA1, &key, &mut wrapped, None).unwrap().to_vec();
    let signature = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key), &data);
    json!({
        "data": STANDARD.encode(&data),
        "dataKey": STANDARD.encode(wrapped),
        "dataSignature": STANDARD.encode(signature.as_ref()),
        "encryptionCertificateId": certificate.id(),
        "encryptionCertificateThumbprint": certificate.thumbprint(),
    })
}

const MESSAGE: &[u8] = br##"{"@odata.type":"#microsoft.graph.message","from":{"emailAddress":{"address":"maria@adventure-works.example"}}}"##;

#[test]
fn content_encrypted_for_the_certificate_verifies_and_decrypts() {
    let certificate = EncryptionCertificate::from_pem("enc-1", &pem()).unwrap();
    let content = EncryptedContent::from_json(&encrypt(&certificate, MESSAGE)).unwrap();
    assert!(content.is_for(&certificate));
    assert_eq!(content.decrypt(&certificate).unwrap(), MESSAGE);
    assert_eq!(certificate.thumbprint().len(), 40);
    assert!(!format!("{certificate:?}").contains("PRIVATE"), "the key never prints");
}

#[test]
fn a_tampered_ciphertext_or_signature_fails_the_hmac_before_decryption() {
    let certificate = EncryptionCertificate::from_pem("enc-1", &pem()).unwrap();
    let good = encrypt(&certificate, MESSAGE);
    let mut data = STANDARD.decode(good["data"].as_str().unwrap()).unwrap();
    data[0] ^= 1;
    let mut flipped = good.clone();
    flipped["data"] = STANDARD.encode(&data).into();
    let content = EncryptedContent::from_json(&flipped).unwrap();
    assert_eq!(content.decrypt(&certificate), Err(RichError::Signature));
    let mut resigned = good.clone();
    resigned["dataSignature"] = STANDARD.encode([0u8; 32]).into();
    let content = EncryptedContent::from_json(&resigned).unwrap();
    assert_eq!(content.decrypt(&certificate), Err(RichError::Signature));
    let mut garbled = good;
    garbled["dataKey"] = "not base64!".into();
    let content = EncryptedContent::from_json(&garbled).unwrap();
    assert!(matches!(content.decrypt(&certificate), Err(RichError::Malformed(_))));
}

#[test]
fn content_for_another_certificate_is_not_for_this_one_and_does_not_unwrap() {
    let mine = EncryptionCertificate::from_pem("enc-1", &pem()).unwrap();
    let other = EncryptionCertificate::from_pem("enc-1", &pem()).unwrap();
    let content = EncryptedContent::from_json(&encrypt(&other, MESSAGE)).unwrap();
    assert!(!content.is_for(&mine), "same id, other thumbprint");
    assert_eq!(content.decrypt(&mine), Err(RichError::KeyUnwrap { certificate: "enc-1".into() }));
    let renamed = EncryptionCertificate::from_pem("enc-2", &pem()).unwrap();
    let content = EncryptedContent::from_json(&encrypt(&renamed, MESSAGE)).unwrap();
    assert!(!content.is_for(&mine));
}

#[test]
fn a_pem_with_a_foreign_key_or_without_a_key_is_refused() {
    let (a, b) = (pem(), pem());
    let cert_a = &a[..a.find("-----BEGIN PRIVATE KEY").unwrap()];
    let key_b = &b[b.find("-----BEGIN PRIVATE KEY").unwrap()..];
    let error = EncryptionCertificate::from_pem("enc-1", &format!("{cert_a}{key_b}")).unwrap_err();
    assert!(error.to_string().contains("does not belong"), "{error}");
    let error = EncryptionCertificate::from_pem("enc-1", cert_a).unwrap_err();
    assert!(error.to_string().contains("no unencrypted private key"), "{error}");
    assert!(EncryptionCertificate::from_pem("", &a).is_err());
}

/// The identity platform's signing key in a test.
struct Issuer {
    key: RsaKeyPair,
    kid: String,
}

impl Issuer {
    fn new(kid: &str) -> Self {
        Self { key: RsaKeyPair::generate(KeySize::Rsa2048).unwrap(), kid: kid.into() }
    }

    fn jwk(&self) -> Jwk {
        let public = self.key.public_key();
        Jwk {
            kty: "RSA".into(),
            kid: self.kid.clone(),
            n: B64URL.encode(public.modulus().big_endian_without_leading_zero()),
            e: B64URL.encode(public.exponent().big_endian_without_leading_zero()),
        }
    }

    fn sign(&self, header: Value, claims: Value) -> String {
        let input =
            format!("{}.{}", B64URL.encode(header.to_string()), B64URL.encode(claims.to_string()));
        let mut sig = vec![0; self.key.public_modulus_len()];
        self.key
            .sign(&signature::RSA_PKCS1_SHA256, &SystemRandom::new(), input.as_bytes(), &mut sig)
            .unwrap();
        format!("{input}.{}", B64URL.encode(sig))
    }

    /// A token as Graph sends it, with `change` applied to its claims.
    fn token(&self, now: OffsetDateTime, change: impl FnOnce(&mut Value)) -> String {
        let at = now.unix_timestamp();
        let mut claims = json!({
            "aud": APP, "iss": format!("https://sts.windows.net/{TENANT}/"), "iat": at, "nbf": at,
            "exp": at + 3600, "appid": NOTIFICATION_PUBLISHER, "appidacr": "2", "tid": TENANT,
            "ver": "1.0",
        });
        change(&mut claims);
        self.sign(json!({"typ": "JWT", "alg": "RS256", "kid": self.kid}), claims)
    }
}

fn check(token: &str, keys: &[Jwk], now: OffsetDateTime) -> Result<VerifiedToken, RichError> {
    let token = UnverifiedToken::parse(token)?;
    let key = keys
        .iter()
        .find(|k| k.kid == token.kid())
        .ok_or_else(|| RichError::UnknownSigningKey(token.kid().into()))?;
    token.verify(key, now)
}

fn refused(result: Result<VerifiedToken, RichError>, why: &str) {
    match result {
        Err(RichError::Token(reason)) => assert!(reason.contains(why), "{reason}"),
        other => panic!("expected a refusal for {why}, got {other:?}"),
    }
}

#[test]
fn a_token_from_the_publisher_vouches_for_its_app_and_tenant_only() {
    let issuer = Issuer::new("k1");
    let now = OffsetDateTime::now_utc();
    let verified = check(&issuer.token(now, |_| {}), &[issuer.jwk()], now).unwrap();
    assert!(verified.vouches_for(APP, TENANT));
    assert!(verified.vouches_for(&APP.to_uppercase(), TENANT));
    assert!(!verified.vouches_for("99999999-9999-9999-9999-999999999999", TENANT), "wrong aud");
    assert!(!verified.vouches_for(APP, "99999999-9999-9999-9999-999999999999"));
}

#[test]
fn expired_early_and_foreign_tokens_are_refused() {
    let issuer = Issuer::new("k1");
    let keys = [issuer.jwk()];
    let now = OffsetDateTime::now_utc();
    let later = now + time::Duration::hours(2);
    refused(check(&issuer.token(now, |_| {}), &keys, later), "expired");
    let in_leeway = now + time::Duration::hours(1) + time::Duration::minutes(4);
    assert!(check(&issuer.token(now, |_| {}), &keys, in_leeway).is_ok(), "clock skew tolerated");
    let early = issuer.token(now, |c| c["nbf"] = (now.unix_timestamp() + 3600).into());
    refused(check(&early, &keys, now), "not valid yet");
    let other_app = issuer.token(now, |c| c["appid"] = APP.into());
    refused(check(&other_app, &keys, now), "publisher");
    let v2_issuer = issuer.token(now, |c| {
        c["iss"] = format!("https://login.microsoftonline.com/{TENANT}/v2.0").into()
    });
    refused(check(&v2_issuer, &keys, now), "iss");
    let no_expiry = issuer.token(now, |c| {
        c.as_object_mut().unwrap().remove("exp");
    });
    refused(check(&no_expiry, &keys, now), "expiry");
}

#[test]
fn a_token_signed_by_another_key_or_an_unknown_kid_or_alg_none_is_refused() {
    let issuer = Issuer::new("k1");
    let forger = Issuer::new("k1");
    let now = OffsetDateTime::now_utc();
    refused(check(&forger.token(now, |_| {}), &[issuer.jwk()], now), "signature");
    let stranger = Issuer::new("k2");
    assert_eq!(
        check(&stranger.token(now, |_| {}), &[issuer.jwk()], now).unwrap_err(),
        RichError::UnknownSigningKey("k2".into())
    );
    let genuine = issuer.token(now, |_| {});
    let claims = genuine.split('.').nth(1).unwrap();
    let none = format!("{}.{claims}.", B64URL.encode(r#"{"alg":"none","kid":"k1"}"#));
    refused(check(&none, &[issuer.jwk()], now), "RS256");
    refused(check("a.b", &[issuer.jwk()], now), "three parts");
    let mut tampered: Vec<&str> = genuine.split('.').collect();
    let other_claims = issuer.token(now, |c| c["aud"] = "someone-else".into());
    tampered[1] = other_claims.split('.').nth(1).unwrap();
    refused(check(&tampered.join("."), &[issuer.jwk()], now), "signature");
}
