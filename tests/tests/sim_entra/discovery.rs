//! Signing keys, rotation and OpenID metadata.

use serde_json::Value;

use super::*;

async fn get(env: &Env, path: &str) -> Reply {
    Reply::read(env.http.get(format!("{}{path}", env.base())).send().await.unwrap()).await
}

#[tokio::test]
async fn the_keys_are_published_for_tenants_and_common_and_unknown_tenants_get_90002() {
    let env = Env::start().await;
    let kid = env.sim.signing_key().kid().to_string();
    for path in [
        format!("/{TENANT}/discovery/v2.0/keys"),
        format!("/{DOMAIN}/discovery/keys"),
        "/common/discovery/keys".to_string(),
        "/common/discovery/v2.0/keys".to_string(),
    ] {
        let reply = get(&env, &path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        let keys = reply.body["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(
            (keys[0]["kid"].as_str(), keys[0]["kty"].as_str()),
            (Some(kid.as_str()), Some("RSA"))
        );
        assert_eq!(keys[0]["use"], "sig");
    }
    get(&env, "/99999999-9999-4999-8999-999999999999/discovery/v2.0/keys").await.assert_error(
        400,
        "invalid_tenant",
        90002,
    );
}

#[tokio::test]
async fn openid_metadata_points_at_this_simulator() {
    let env = Env::start().await;
    let reply = get(&env, &format!("/{DOMAIN}/v2.0/.well-known/openid-configuration")).await;
    let doc = &reply.body;
    assert_eq!(doc["token_endpoint"], env.token_url(TENANT));
    assert_eq!(doc["jwks_uri"], format!("{}/{TENANT}/discovery/v2.0/keys", env.base()));
    assert_eq!(doc["issuer"], format!("https://login.microsoftonline.com/{TENANT}/v2.0"));
    let methods = doc["token_endpoint_auth_methods_supported"].as_array().unwrap();
    assert!(methods.contains(&Value::from("client_secret_basic")));
    assert!(methods.contains(&Value::from("private_key_jwt")));

    let common = get(&env, "/common/v2.0/.well-known/openid-configuration").await.body;
    assert_eq!(common["issuer"], "https://login.microsoftonline.com/{tenantid}/v2.0");
    let v1 = get(&env, &format!("/{TENANT}/.well-known/openid-configuration")).await.body;
    assert_eq!(v1["issuer"], format!("https://sts.windows.net/{TENANT}/"));

    get(&env, "/nowhere.example/v2.0/.well-known/openid-configuration").await.assert_error(
        400,
        "invalid_tenant",
        90002,
    );
}

#[tokio::test]
async fn after_a_rotation_old_tokens_verify_until_the_old_key_is_withdrawn() {
    let env = Env::start().await;
    let old_kid = env.sim.signing_key().kid().to_string();
    let old_token = env.post(TENANT, &secret_form(CLIENT, SECRET, GRAPH_SCOPE)).await.token();

    let new_key = env.sim.rotate_signing_key();
    let new_token = env.post(TENANT, &secret_form(CLIENT, SECRET, GRAPH_SCOPE)).await.token();
    let kids: Vec<String> = env.jwks().await.into_iter().map(|k| k.kid).collect();
    assert_eq!(kids, vec![old_kid.clone(), new_key.kid().to_string()]);
    let header = jwt::decode_unverified(&new_token).unwrap().0.header;
    assert_eq!(header["kid"], new_key.kid());
    env.verified_claims(&old_token).await;

    env.sim.withdraw_key(&old_kid);
    assert!(jwt::verify_rs256(&old_token, &env.jwks().await).is_err());
    env.verified_claims(&new_token).await;
}
