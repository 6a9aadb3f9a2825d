//! Certificate credentials: client assertions (reference B1, D8; `ENT:certificate-credentials.md`).

use exsync_sim::entra::{AppCertificate, AssertionAlg, Credential, TokenOutcome, assertion_claims};
use serde_json::{Map, Value, json};
use time::Duration;

use super::*;

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn assertion_form(assertion: &str) -> Vec<(&str, &str)> {
    vec![
        ("client_id", CLIENT),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
        ("grant_type", "client_credentials"),
        ("scope", GRAPH_SCOPE),
    ]
}

/// The environment with a certificate registered on `CLIENT`.
async fn with_certificate() -> (Env, AppCertificate) {
    let env = Env::start().await;
    let cert = AppCertificate::valid_at("exsync test app", env.sim.clock().now());
    env.sim.add_certificate(CLIENT, cert.der()).unwrap();
    (env, cert)
}

fn claims_for(env: &Env, audience: &str) -> Value {
    assertion_claims(CLIENT, audience, env.sim.clock().unix(), 600)
}

#[tokio::test]
async fn an_rs256_assertion_with_x5t_gets_a_token_with_appidacr_2() {
    let (env, cert) = with_certificate().await;
    let assertion = cert.assertion(AssertionAlg::Rs256, &claims_for(&env, &env.token_url(TENANT)));
    let reply = env.post(TENANT, &assertion_form(&assertion)).await;
    let claims = env.verified_claims(&reply.token()).await;
    assert_eq!((claims["appid"].as_str(), claims["appidacr"].as_str()), (Some(CLIENT), Some("2")));
    assert_eq!(claims["roles"], json!(["Mail.ReadWrite"]));
    assert!(matches!(
        env.sim.token_requests()[0].outcome,
        TokenOutcome::Issued { credential: Credential::Certificate, .. }
    ));
}

#[tokio::test]
async fn a_ps256_assertion_with_x5t_s256_is_accepted() {
    let (env, cert) = with_certificate().await;
    let assertion = cert.assertion(AssertionAlg::Ps256, &claims_for(&env, &env.token_url(TENANT)));
    env.post(TENANT, &assertion_form(&assertion)).await.token();
}

#[tokio::test]
async fn the_audience_may_be_the_documented_endpoint_by_id_or_domain_v2_or_v1() {
    let (env, cert) = with_certificate().await;
    let audiences = [
        format!("https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"),
        format!("https://login.microsoftonline.com/{DOMAIN}/oauth2/token"),
        format!("{}/{DOMAIN}/oauth2/v2.0/token", env.base()),
    ];
    for audience in audiences {
        let assertion = cert.assertion(AssertionAlg::Rs256, &claims_for(&env, &audience));
        env.post(TENANT, &assertion_form(&assertion)).await.token();
    }
}

#[tokio::test]
async fn a_wrong_audience_gets_50012() {
    let (env, cert) = with_certificate().await;
    for audience in [
        format!("https://login.microsoftonline.com/{CUSTOMER}/oauth2/v2.0/token"),
        "https://graph.microsoft.com".to_string(),
    ] {
        let assertion = cert.assertion(AssertionAlg::Rs256, &claims_for(&env, &audience));
        env.post(TENANT, &assertion_form(&assertion)).await.assert_error(
            401,
            "invalid_client",
            50012,
        );
    }
}

#[tokio::test]
async fn an_assertion_signed_by_another_key_fails_signature_validation_700027() {
    let (env, cert) = with_certificate().await;
    let impostor = AppCertificate::valid_at("impostor", env.sim.clock().now());
    let mut header = Map::new();
    header.insert("x5t".into(), cert.x5t().into());
    let assertion =
        impostor.sign(AssertionAlg::Rs256, header, &claims_for(&env, &env.token_url(TENANT)));
    let reply = env.post(TENANT, &assertion_form(&assertion)).await;
    reply.assert_error(401, "invalid_client", 700027);
    assert!(reply.description().contains("Key was found, but use of the key to verify"));
}

#[tokio::test]
async fn an_unregistered_certificate_gets_700027_key_not_found() {
    let (env, _cert) = with_certificate().await;
    let stranger = AppCertificate::valid_at("stranger", env.sim.clock().now());
    let assertion =
        stranger.assertion(AssertionAlg::Ps256, &claims_for(&env, &env.token_url(TENANT)));
    let reply = env.post(TENANT, &assertion_form(&assertion)).await;
    reply.assert_error(401, "invalid_client", 700027);
    assert!(reply.description().contains("The key was not found"));
}

#[tokio::test]
async fn an_expired_or_future_assertion_gets_700024() {
    let (env, cert) = with_certificate().await;
    let now = env.sim.clock().unix();
    let audience = env.token_url(TENANT);
    for (nbf, exp) in [(now - 1200, now - 600), (now + 600, now + 1200)] {
        let mut claims = claims_for(&env, &audience);
        claims["nbf"] = nbf.into();
        claims["exp"] = exp.into();
        let reply =
            env.post(TENANT, &assertion_form(&cert.assertion(AssertionAlg::Rs256, &claims))).await;
        reply.assert_error(401, "invalid_client", 700024);
        assert!(reply.description().contains("not within its valid time range"));
    }
}

#[tokio::test]
async fn sub_must_equal_iss_which_must_be_the_client_id() {
    let (env, cert) = with_certificate().await;
    let mut claims = claims_for(&env, &env.token_url(TENANT));
    claims["sub"] = "someone-else".into();
    env.post(TENANT, &assertion_form(&cert.assertion(AssertionAlg::Rs256, &claims)))
        .await
        .assert_error(401, "invalid_client", 50048);

    let other = "cccccccc-0000-4000-8000-000000000003";
    claims["sub"] = other.into();
    claims["iss"] = other.into();
    env.post(TENANT, &assertion_form(&cert.assertion(AssertionAlg::Rs256, &claims)))
        .await
        .assert_error(401, "invalid_client", 50012);
}

#[tokio::test]
async fn malformed_assertions_get_50027() {
    let (env, cert) = with_certificate().await;
    let claims = claims_for(&env, &env.token_url(TENANT));
    let no_thumbprint = cert.sign(AssertionAlg::Rs256, Map::new(), &claims);
    let signed = cert.assertion(AssertionAlg::Rs256, &claims);
    let (_, rest) = signed.split_once('.').unwrap();
    let hs256 = format!(
        "{}.{rest}",
        base64_json(&json!({"alg": "HS256", "typ": "JWT", "x5t": cert.x5t()}))
    );
    for assertion in ["not-a-jwt", no_thumbprint.as_str(), hs256.as_str()] {
        env.post(TENANT, &assertion_form(assertion)).await.assert_error(
            401,
            "invalid_client",
            50027,
        );
    }
}

#[tokio::test]
async fn an_expired_certificate_gets_700027_and_a_wrong_assertion_type_is_invalid_request() {
    let env = Env::start().await;
    let now = env.sim.clock().now();
    let old = AppCertificate::generate("old", now - Duration::days(400), now - Duration::days(35));
    env.sim.add_certificate(CLIENT, old.der()).unwrap();
    let assertion = old.assertion(AssertionAlg::Rs256, &claims_for(&env, &env.token_url(TENANT)));
    let reply = env.post(TENANT, &assertion_form(&assertion)).await;
    reply.assert_error(401, "invalid_client", 700027);
    assert!(reply.description().contains("The key used is expired"));

    let mut form = assertion_form(&assertion);
    form[1] = ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer");
    env.post(TENANT, &form).await.assert_error(400, "invalid_request", 90023);
}

#[tokio::test]
async fn a_thumbprint_in_padded_standard_base64_is_accepted_as_azure_identity_sends_it() {
    use base64::{Engine, engine::general_purpose::STANDARD};
    let (env, cert) = with_certificate().await;
    let mut header = Map::new();
    let sha1 = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cert.x5t()).unwrap();
    header.insert("x5t".into(), STANDARD.encode(sha1).into());
    let assertion =
        cert.sign(AssertionAlg::Rs256, header, &claims_for(&env, &env.token_url(TENANT)));
    env.post(TENANT, &assertion_form(&assertion)).await.token();
}

fn base64_json(value: &Value) -> String {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}
