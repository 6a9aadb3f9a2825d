//! Rich notifications: encrypted resource data and validation tokens (reference 5).

use aws_lc_rs::{
    cipher::{AES_256, DecryptionContext, PaddedBlockDecryptingKey, UnboundCipherKey},
    digest::{SHA1_FOR_LEGACY_USE_ONLY, digest},
    hmac,
    iv::FixedLength,
    rsa::{OAEP_SHA1_MGF1SHA1, OaepPrivateDecryptingKey, PrivateDecryptingKey},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use exsync_sim::{
    graph::{NOTIFICATION_PUBLISHER_APP_ID, NewMessage},
    jwt,
};
use serde_json::{Value, json};

use crate::common::*;

/// An RSA key and a self-signed certificate for rich notifications.
fn encryption_certificate() -> (PrivateDecryptingKey, Vec<u8>) {
    let key = rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
        .unwrap();
    let private = PrivateDecryptingKey::from_pkcs8(&key.serialize_der()).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["exsync-notifications".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    (private, cert.der().to_vec())
}

#[tokio::test]
async fn a_rich_notification_decrypts_and_its_validation_token_verifies() {
    let env = Env::start().await;
    let mut receiver = Receiver::start(&env.ca, Handshake::Echo).await;
    let (private, cert) = encryption_certificate();
    let mut body = json!({
        "changeType": "created",
        "notificationUrl": receiver.url("/rich"),
        "resource": format!("users/{ALICE}/messages?$select=subject,from,receivedDateTime"),
        "expirationDateTime": expiry(&env, 1_441),
        "clientState": "rich-state",
        "includeResourceData": true,
        "encryptionCertificate": STANDARD.encode(&cert),
        "encryptionCertificateId": "cert-2026",
    });
    // Rich subscriptions live at most a day; body cannot be selected.
    assert_error(
        &env.post("/subscriptions", &env.token(READER), &body).await,
        400,
        "ExtensionError",
    );
    body["expirationDateTime"] = expiry(&env, 1_439).into();
    let mut with_body = body.clone();
    with_body["resource"] = format!("users/{ALICE}/messages?$select=subject,body").into();
    assert_error(
        &env.post("/subscriptions", &env.token(READER), &with_body).await,
        400,
        "InvalidRequest",
    );
    let id = subscribe(&env, &body).await;

    let m = env.sim.deliver(
        ALICE,
        NewMessage::new("Rich subject").from("Dana Swope", "danas@fabrikam.example"),
    );
    let (_, payload) = receiver.next().await;
    let n = &payload["value"][0];
    assert_eq!(n["subscriptionId"], id);
    assert_eq!(n["resourceData"]["id"], m.id);
    let enc = &n["encryptedContent"];
    assert_eq!(enc["encryptionCertificateId"], "cert-2026");
    let thumbprint: String = digest(&SHA1_FOR_LEGACY_USE_ONLY, &cert)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    assert_eq!(enc["encryptionCertificateThumbprint"], thumbprint);

    // Reference 5.3: RSA-OAEP-SHA1 key, HMAC-SHA256 over the ciphertext, AES-256-CBC, IV = key[..16].
    let oaep = OaepPrivateDecryptingKey::new(private).unwrap();
    let wrapped = STANDARD.decode(enc["dataKey"].as_str().unwrap()).unwrap();
    let mut buf = vec![0u8; oaep.min_output_size()];
    let key = oaep.decrypt(&OAEP_SHA1_MGF1SHA1, &wrapped, &mut buf, None).unwrap().to_vec();
    assert_eq!(key.len(), 32);
    let data = STANDARD.decode(enc["data"].as_str().unwrap()).unwrap();
    let signature = STANDARD.decode(enc["dataSignature"].as_str().unwrap()).unwrap();
    hmac::verify(&hmac::Key::new(hmac::HMAC_SHA256, &key), &data, &signature)
        .expect("signature over the ciphertext");
    let aes = PaddedBlockDecryptingKey::cbc_pkcs7(UnboundCipherKey::new(&AES_256, &key).unwrap())
        .unwrap();
    let iv: [u8; 16] = key[..16].try_into().unwrap();
    let mut in_out = data.clone();
    let plain = aes.decrypt(&mut in_out, DecryptionContext::Iv128(FixedLength::from(iv))).unwrap();
    let content: Value = serde_json::from_slice(plain).unwrap();
    assert_eq!(content["subject"], "Rich subject");
    assert_eq!(content["from"]["emailAddress"]["address"], "danas@fabrikam.example");
    assert_eq!(content["receivedDateTime@odata.type"], "#DateTimeOffset");
    assert!(content.get("body").is_none() && content.get("isRead").is_none(), "{content}");

    // Reference 5.4: one token, signed by the identity platform, for this app and tenant.
    let tokens = payload["validationTokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 1);
    let verified = jwt::verify_rs256(tokens[0].as_str().unwrap(), &[env.key.jwk()]).unwrap();
    let claims = verified.claims;
    assert_eq!(claims["aud"], APP);
    assert_eq!(claims["appid"], NOTIFICATION_PUBLISHER_APP_ID);
    assert_eq!(claims["iss"], format!("https://sts.windows.net/{TENANT}/"));
    assert_eq!(claims["tid"], TENANT);
    let now = env.clock.unix();
    assert!(claims["nbf"].as_i64().unwrap() <= now && claims["exp"].as_i64().unwrap() > now);
}
