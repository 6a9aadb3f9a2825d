//! Rich notifications made by hand, as Graph makes them (reference graph.md 5.2-5.4), to post
//! genuine, tampered and forged ones at exsync's webhook.

use aws_lc_rs::{
    cipher::{AES_256, EncryptionContext, PaddedBlockEncryptingKey, UnboundCipherKey},
    digest::{SHA1_FOR_LEGACY_USE_ONLY, digest},
    hmac,
    iv::FixedLength,
    rand::{SecureRandom, SystemRandom},
    rsa::{OAEP_SHA1_MGF1SHA1, OaepPublicEncryptingKey, PublicEncryptingKey},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use exsync_sim::{
    graph::{NOTIFICATION_PUBLISHER_APP_ID, SubscriptionInfo},
    jwt::SigningKey,
};
use serde_json::{Map, Value, json};

use super::world::{Cloud, Serving, TestCertificate};

/// `encryptedContent` of `plaintext` for `certificate`.
pub fn encrypt(certificate: &TestCertificate, plaintext: &[u8]) -> Value {
    let mut key = [0u8; 32];
    SystemRandom::new().fill(&mut key).unwrap();
    let iv: [u8; 16] = key[..16].try_into().unwrap();
    let aes = PaddedBlockEncryptingKey::cbc_pkcs7(UnboundCipherKey::new(&AES_256, &key).unwrap())
        .unwrap();
    let mut data = plaintext.to_vec();
    aes.less_safe_encrypt(&mut data, EncryptionContext::Iv128(FixedLength::from(iv))).unwrap();
    let cert = rustls_pki_types::CertificateDer::from(certificate.der.as_slice());
    let spki = webpki::EndEntityCert::try_from(&cert).unwrap().subject_public_key_info();
    let rsa = OaepPublicEncryptingKey::new(PublicEncryptingKey::from_der(spki.as_ref()).unwrap())
        .unwrap();
    let mut wrapped = vec![0u8; rsa.ciphertext_size()];
    let wrapped = rsa.encrypt(&OAEP_SHA1_MGF1SHA1, &key, &mut wrapped, None).unwrap().to_vec();
    let signature = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key), &data);
    let thumbprint: String = digest(&SHA1_FOR_LEGACY_USE_ONLY, &certificate.der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    json!({
        "data": STANDARD.encode(&data),
        "dataKey": STANDARD.encode(wrapped),
        "dataSignature": STANDARD.encode(signature.as_ref()),
        "encryptionCertificateId": certificate.id,
        "encryptionCertificateThumbprint": thumbprint,
    })
}

/// Flips one bit of the ciphertext (the HMAC no longer matches).
pub fn tamper(content: &mut Value) {
    let mut data = STANDARD.decode(content["data"].as_str().unwrap()).unwrap();
    data[0] ^= 1;
    content["data"] = STANDARD.encode(&data).into();
}

/// The decrypted resource data of a message from `sender`.
pub fn message_from(sender: &str) -> Vec<u8> {
    json!({
        "@odata.type": "#microsoft.graph.message",
        "receivedDateTime": time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339).unwrap(),
        "receivedDateTime@odata.type": "#DateTimeOffset",
        "isDraft": false,
        "from": {"@odata.type": "#microsoft.graph.recipient", "emailAddress": {"address": sender}},
        "toRecipients": [],
        "internetMessageHeaders": [],
    })
    .to_string()
    .into_bytes()
}

/// A validation token signed by `signer`, with `change` applied to Graph's claims.
pub fn token(
    signer: &SigningKey,
    app: &str,
    tenant: &str,
    change: impl FnOnce(&mut Value),
) -> String {
    let at = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut claims = json!({
        "aud": app, "iss": format!("https://sts.windows.net/{tenant}/"), "iat": at, "nbf": at,
        "exp": at + 3600, "appid": NOTIFICATION_PUBLISHER_APP_ID, "appidacr": "2", "tid": tenant,
        "ver": "1.0",
    });
    change(&mut claims);
    signer.sign(&claims, &Map::new())
}

/// A POST body with one rich notification of `subscription`.
pub fn post_body(subscription: &SubscriptionInfo, content: Value, tokens: Vec<String>) -> Value {
    let id = format!("AAMkForged{}", uuid::Uuid::new_v4().simple());
    let resource = format!("Users('{}')/messages('{id}')", subscription.user_id);
    json!({
        "value": [{
            "subscriptionId": subscription.id,
            "subscriptionExpirationDateTime": "2030-01-01T00:00:00Z",
            "changeType": "created",
            "resource": resource,
            "clientState": subscription.client_state,
            "tenantId": subscription.tenant_id,
            "encryptedContent": content,
            "resourceData": {"@odata.type": "#microsoft.graph.message", "@odata.id": resource, "id": id},
        }],
        "validationTokens": tokens,
    })
}

/// Posts `body` at exsync's webhook; its status and JSON answer.
pub async fn post(cloud: &Cloud, serving: &Serving, body: &Value) -> (u16, Value) {
    let answer =
        cloud.cloud.ca.client().post(serving.notify_url()).json(body).send().await.unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}
