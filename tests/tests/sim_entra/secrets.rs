//! Client secrets, HTTP Basic, the request form, and the token response.

use std::time::Duration as StdDuration;

use base64::{Engine, engine::general_purpose::STANDARD};
use exsync_sim::{
    auth::{KeyRing, TokenValidator},
    entra::{Credential, TokenOutcome},
};
use time::Duration;
use url::form_urlencoded::byte_serialize;

use super::*;

#[tokio::test]
async fn a_secret_gets_a_v1_token_with_the_granted_roles_that_verifies_against_the_jwks() {
    let env = Env::start().await;
    let reply = env.post(TENANT, &secret_form(CLIENT, SECRET, GRAPH_SCOPE)).await;
    let token = reply.token();
    assert_eq!(reply.body["token_type"], "Bearer");
    assert_eq!(reply.body["expires_in"], 3599);
    assert_eq!(reply.body["ext_expires_in"], 3599);
    assert!(reply.body.get("refresh_in").is_none());
    assert!(reply.body.get("refresh_token").is_none());
    assert_eq!(reply.headers["content-type"], "application/json; charset=utf-8");
    assert_eq!(reply.headers["cache-control"], "no-store, no-cache");

    let claims = env.verified_claims(&token).await;
    let now = env.sim.clock().unix();
    assert_eq!(claims["aud"], "https://graph.microsoft.com");
    assert_eq!(claims["iss"], format!("https://sts.windows.net/{TENANT}/"));
    assert_eq!(claims["tid"], TENANT);
    assert_eq!(claims["appid"], CLIENT);
    assert_eq!(claims["appidacr"], "1");
    assert_eq!(claims["oid"], env.sim.service_principal_id(TENANT, CLIENT).unwrap());
    assert_eq!(claims["roles"], serde_json::json!(["Mail.ReadWrite"]));
    let (iat, nbf, exp) = (
        claims["iat"].as_i64().unwrap(),
        claims["nbf"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
    );
    assert!((iat - now).abs() <= 2 && nbf == iat && exp == iat + 3599);

    // What Graph's simulator will do with it.
    let ring = KeyRing::default();
    env.jwks().await.into_iter().for_each(|k| ring.publish(k));
    let validator = TokenValidator::new(ring, env.sim.clock(), vec![GRAPH_RESOURCE.into()]);
    let app_token = validator.validate(&token).unwrap();
    assert_eq!((app_token.tenant_id.as_str(), app_token.app_id.as_str()), (TENANT, CLIENT));
}

#[tokio::test]
async fn the_token_lifetime_and_refresh_in_are_set_on_the_handle() {
    let env = Env::start().await;
    env.sim.set_token_lifetime(StdDuration::from_secs(120));
    env.sim.set_refresh_in(Some(StdDuration::from_secs(60)));
    let reply = env.post(TENANT, &secret_form(CLIENT, SECRET, GRAPH_SCOPE)).await;
    let claims = env.verified_claims(&reply.token()).await;
    assert_eq!(
        (reply.body["expires_in"].as_i64(), reply.body["refresh_in"].as_i64()),
        (Some(120), Some(60))
    );
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 120);
}

#[tokio::test]
async fn http_basic_authentication_is_accepted_with_form_encoded_credentials() {
    let env = Env::start().await;
    // RFC 6749 section 2.3.1: each half is form-urlencoded, then base64.
    let user: String = byte_serialize(CLIENT.as_bytes()).collect();
    let pass: String = byte_serialize(SECRET.as_bytes()).collect();
    let basic = format!("Basic {}", STANDARD.encode(format!("{user}:{pass}")));
    let form = [("grant_type", "client_credentials"), ("scope", GRAPH_SCOPE)];
    let send = |form: Vec<(&'static str, &'static str)>| {
        env.http.post(env.token_url(TENANT)).header("authorization", &basic).form(&form).send()
    };
    let reply = Reply::read(send(form.to_vec()).await.unwrap()).await;
    assert_eq!(env.verified_claims(&reply.token()).await["appid"], CLIENT);

    // RFC 6749 section 2.3: one authentication method per request.
    let mut both = form.to_vec();
    both.push(("client_secret", SECRET));
    Reply::read(send(both).await.unwrap()).await.assert_error(400, "invalid_request", 90023);
}

#[tokio::test]
async fn a_wrong_secret_is_refused_with_401_invalid_client_7000215() {
    let env = Env::start().await;
    let reply = env.post(TENANT, &secret_form(CLIENT, "not-the-secret", GRAPH_SCOPE)).await;
    reply.assert_error(401, "invalid_client", 7000215);
    assert!(reply.description().contains(&format!("for a secret added to app '{CLIENT}'")));

    // The secret's id is not the secret.
    let id =
        env.sim.add_secret(CLIENT, "other", env.sim.clock().now() + Duration::days(1)).unwrap();
    env.post(TENANT, &secret_form(CLIENT, &id, GRAPH_SCOPE)).await.assert_error(
        401,
        "invalid_client",
        7000215,
    );
}

#[tokio::test]
async fn an_expired_secret_is_refused_with_7000222_and_a_removed_one_with_7000215() {
    let env = Env::start().await;
    let now = env.sim.clock().now();
    let old = env.sim.add_secret(CLIENT, "old-secret", now + Duration::hours(1)).unwrap();
    env.post(TENANT, &secret_form(CLIENT, "old-secret", GRAPH_SCOPE)).await.token();
    env.sim.clock().advance(StdDuration::from_secs(2 * 3600));
    env.post(TENANT, &secret_form(CLIENT, "old-secret", GRAPH_SCOPE)).await.assert_error(
        401,
        "invalid_client",
        7000222,
    );
    env.sim.remove_secret(CLIENT, &old).unwrap();
    env.post(TENANT, &secret_form(CLIENT, "old-secret", GRAPH_SCOPE)).await.assert_error(
        401,
        "invalid_client",
        7000215,
    );
}

#[tokio::test]
async fn a_request_without_secret_or_assertion_gets_7000218() {
    let env = Env::start().await;
    let form =
        [("client_id", CLIENT), ("grant_type", "client_credentials"), ("scope", GRAPH_SCOPE)];
    env.post(TENANT, &form).await.assert_error(401, "invalid_client", 7000218);
    // An empty secret is no secret.
    env.post(TENANT, &secret_form(CLIENT, "", GRAPH_SCOPE)).await.assert_error(
        401,
        "invalid_client",
        7000218,
    );
}

#[tokio::test]
async fn missing_parameters_get_900144_naming_the_parameter() {
    let env = Env::start().await;
    let full = secret_form(CLIENT, SECRET, GRAPH_SCOPE);
    for missing in ["grant_type", "client_id", "scope"] {
        let form: Vec<_> = full.iter().copied().filter(|(k, _)| *k != missing).collect();
        let reply = env.post(TENANT, &form).await;
        reply.assert_error(400, "invalid_request", 900144);
        assert!(reply.description().contains(&format!("parameter: '{missing}'")), "{missing}");
    }
}

#[tokio::test]
async fn only_a_form_body_counts_so_json_and_query_parameters_get_900144() {
    let env = Env::start().await;
    let json = serde_json::json!({"client_id": CLIENT, "client_secret": SECRET,
        "grant_type": "client_credentials", "scope": GRAPH_SCOPE});
    let response = env.http.post(env.token_url(TENANT)).json(&json).send().await.unwrap();
    let reply = Reply::read(response).await;
    reply.assert_error(400, "invalid_request", 900144);
    assert!(reply.description().contains("'grant_type'"));

    let url = format!("{}?grant_type=client_credentials", env.token_url(TENANT));
    let form: Vec<_> = secret_form(CLIENT, SECRET, GRAPH_SCOPE)
        .into_iter()
        .filter(|(k, _)| *k != "grant_type")
        .collect();
    let reply = Reply::read(env.http.post(url).form(&form).send().await.unwrap()).await;
    reply.assert_error(400, "invalid_request", 900144);
}

#[tokio::test]
async fn other_grants_get_70003_and_other_methods_900561() {
    let env = Env::start().await;
    let mut form = secret_form(CLIENT, SECRET, GRAPH_SCOPE);
    form[2] = ("grant_type", "password");
    env.post(TENANT, &form).await.assert_error(400, "unsupported_grant_type", 70003);

    let reply = Reply::read(env.http.get(env.token_url(TENANT)).send().await.unwrap()).await;
    reply.assert_error(400, "invalid_request", 900561);
}

#[tokio::test]
async fn scopes_must_name_one_resource_with_default() {
    let env = Env::start().await;
    let cases = [
        ("https://graph.microsoft.com/.default https://outlook.office365.com/.default", 700022),
        ("openid offline_access", 700023),
        ("https://graph.microsoft.com/Mail.ReadWrite", 1002012),
        ("Mail.ReadWrite", 1002012),
        (".default", 70011),
    ];
    for (scope, code) in cases {
        env.post(TENANT, &secret_form(CLIENT, SECRET, scope)).await.assert_error(
            400,
            "invalid_scope",
            code,
        );
    }
    // OpenID scopes next to one resource are harmless; a trailing slash on the URI too.
    env.post(TENANT, &secret_form(CLIENT, SECRET, "https://graph.microsoft.com//.default openid"))
        .await
        .token();
}

#[tokio::test]
async fn the_client_request_id_comes_back_as_the_correlation_id() {
    let env = Env::start().await;
    let id = "0b4f8f8a-5d3a-4c55-9a53-2c8f1b0d7e11";
    let form = secret_form(CLIENT, "wrong", GRAPH_SCOPE);
    let response =
        env.http.post(env.token_url(TENANT)).header("client-request-id", id).form(&form).send();
    let reply = Reply::read(response.await.unwrap()).await;
    reply.assert_error(401, "invalid_client", 7000215);
    assert_eq!(reply.body["correlation_id"], id);
}

#[tokio::test]
async fn the_handle_counts_issued_tokens_and_records_refusals() {
    let env = Env::start().await;
    for _ in 0..2 {
        env.post(TENANT, &secret_form(CLIENT, SECRET, GRAPH_SCOPE)).await.token();
    }
    env.post(TENANT, &secret_form(CLIENT, "wrong", GRAPH_SCOPE)).await;
    assert_eq!(env.sim.tokens_issued(TENANT, CLIENT, "https://graph.microsoft.com/"), 2);
    assert_eq!(env.sim.tokens_issued(TENANT, CLIENT, CRM), 0);
    let log = env.sim.token_requests();
    assert_eq!(log.len(), 3);
    assert_eq!(
        log[0].outcome,
        TokenOutcome::Issued {
            credential: Credential::Secret,
            roles: vec!["Mail.ReadWrite".into()]
        }
    );
    assert_eq!(
        log[2].outcome,
        TokenOutcome::Refused { status: 401, error: "invalid_client".into(), code: 7000215 }
    );
    assert_eq!(log[2].client_id.as_deref(), Some(CLIENT));
}
