//! Subscriptions and the validation handshake (reference 1, 2).

use std::time::Duration;

use exsync_sim::graph::{GraphLimits, NewMessage};
use serde_json::{Value, json};

use crate::common::*;

#[tokio::test]
async fn a_subscription_is_created_after_the_handshake_and_echoes_the_reference_fields() {
    let env = Env::start().await;
    let token = env.token(READER);
    let receiver = Receiver::start(&env.ca, Handshake::Echo).await;
    let mut body = inbox_subscription(&env, &receiver.url("/notify?tenant=abc"), 60);
    body["lifecycleNotificationUrl"] = receiver.url("/lifecycle").into();
    let (status, _, sub) = env.post("/subscriptions", &token, &body).await;
    assert_eq!(status, 201, "{sub}");
    assert!(uuid::Uuid::parse_str(sub["id"].as_str().unwrap()).is_ok());
    assert_eq!(sub["resource"], body["resource"]);
    assert_eq!(sub["applicationId"], APP);
    assert_eq!(sub["creatorId"], APP_OBJECT);
    assert_eq!(sub["changeType"], "created,updated,deleted");
    assert_eq!(sub["clientState"], "secret-client-state");
    assert_eq!(sub["notificationUrl"], receiver.url("/notify?tenant=abc"));
    assert_eq!(sub["lifecycleNotificationUrl"], receiver.url("/lifecycle"));
    assert_eq!(sub["latestSupportedTlsVersion"], "v1_2");
    assert_eq!(sub["includeResourceData"], Value::Null);
    let expiration = sub["expirationDateTime"].as_str().unwrap();
    assert!(
        expiration.ends_with('Z') && expiration.len() == 28,
        "seven fractional digits: {expiration}"
    );
    // Both endpoints were validated with a text/plain POST carrying a token to decode.
    let handshakes = receiver.handshakes();
    assert_eq!(handshakes.len(), 2);
    assert_eq!(handshakes[0].0, "/notify");
    assert_eq!(handshakes[1].0, "/lifecycle");
    assert_eq!(handshakes[0].2.as_deref(), Some("text/plain; charset=utf-8"));
    assert!(handshakes[0].1.contains(' '), "the token needs URL-decoding: {:?}", handshakes[0].1);
    assert_eq!(env.sim.subscriptions().len(), 1);
}

#[tokio::test]
async fn identical_notification_and_lifecycle_urls_are_validated_twice() {
    let env = Env::start().await;
    let receiver = Receiver::start(&env.ca, Handshake::Echo).await;
    let mut body = inbox_subscription(&env, &receiver.url("/hook"), 60);
    body["lifecycleNotificationUrl"] = receiver.url("/hook").into();
    let (status, ..) = env.post("/subscriptions", &env.token(READER), &body).await;
    assert_eq!(status, 201);
    let handshakes = receiver.handshakes();
    assert_eq!(handshakes.len(), 2);
    assert_ne!(handshakes[0].1, handshakes[1].1, "two independent tokens");
}

#[tokio::test]
async fn a_failed_handshake_gives_400_and_no_subscription() {
    let limits =
        GraphLimits { handshake_timeout: Duration::from_millis(500), ..Default::default() };
    let env = Env::with_limits(limits).await;
    let token = env.token(READER);
    for mode in [
        Handshake::Encoded,
        Handshake::Json,
        Handshake::Status(202),
        Handshake::Slow(Duration::from_secs(1)),
    ] {
        let receiver = Receiver::start(&env.ca, mode.clone()).await;
        let resp = env
            .post("/subscriptions", &token, &inbox_subscription(&env, &receiver.url("/n"), 60))
            .await;
        assert_error(&resp, 400, "InvalidRequest");
        assert!(
            resp.2["error"]["message"].as_str().unwrap().contains("validation request failed"),
            "{mode:?}"
        );
        assert_eq!(receiver.handshakes().len(), 1, "{mode:?}");
    }
    // A failing lifecycle endpoint fails the creation too.
    let good = Receiver::start(&env.ca, Handshake::Echo).await;
    let bad = Receiver::start(&env.ca, Handshake::Status(500)).await;
    let mut body = inbox_subscription(&env, &good.url("/n"), 60);
    body["lifecycleNotificationUrl"] = bad.url("/l").into();
    assert_error(&env.post("/subscriptions", &token, &body).await, 400, "InvalidRequest");
    assert!(env.sim.subscriptions().is_empty());
}

#[tokio::test]
async fn invalid_subscription_requests_are_refused_with_400() {
    let env = Env::start().await;
    let token = env.token(READER);
    let receiver = Receiver::start(&env.ca, Handshake::Echo).await;
    let valid = inbox_subscription(&env, &receiver.url("/n"), 60);
    let with = |key: &str, value: Value| {
        let mut b = valid.clone();
        b[key] = value;
        b
    };
    let without = |key: &str| {
        let mut b = valid.clone();
        b.as_object_mut().unwrap().remove(key);
        b
    };
    let cases = [
        (with("notificationUrl", "http://127.0.0.1/n".into()), "InvalidRequest"),
        (with("changeType", "created,moved".into()), "InvalidRequest"),
        (with("clientState", "x".repeat(129).into()), "InvalidRequest"),
        (with("expirationDateTime", expiry(&env, -5).into()), "ExtensionError"),
        (with("expirationDateTime", expiry(&env, 10_081).into()), "ExtensionError"),
        (with("resource", "me/mailFolders('inbox')/messages".into()), "BadRequest"),
        (
            with(
                "resource",
                format!("https://graph.microsoft.com/v1.0/users/{ALICE}/messages").into(),
            ),
            "InvalidRequest",
        ),
        (with("resource", format!("users/{ALICE}/drive/root").into()), "InvalidRequest"),
        (with("notificationurl", "https://x.example".into()), "InvalidRequest"),
        (with("includeResourceData", true.into()), "InvalidRequest"),
        (without("expirationDateTime"), "InvalidRequest"),
        (without("changeType"), "InvalidRequest"),
    ];
    for (body, code) in cases {
        let resp = env.post("/subscriptions", &token, &body).await;
        assert_error(&resp, 400, code);
    }
    let resp = env
        .post("/subscriptions", &token, &with("expirationDateTime", expiry(&env, 10_081).into()))
        .await;
    assert_eq!(
        resp.2["error"]["message"],
        "Subscription expiration can only be 10080 minutes in the future."
    );
    assert!(receiver.handshakes().is_empty(), "invalid requests never reach the endpoint");
    assert!(env.sim.subscriptions().is_empty());
}

#[tokio::test]
async fn subscriptions_need_the_read_role_and_a_write_role_is_no_substitute() {
    let env = Env::start().await;
    let receiver = Receiver::start(&env.ca, Handshake::Echo).await;
    let body = inbox_subscription(&env, &receiver.url("/n"), 60);
    let resp = env.post("/subscriptions", &env.token(&["Mail.ReadWrite"]), &body).await;
    assert_error(&resp, 403, "ErrorAccessDenied");
    let (status, ..) = env.post("/subscriptions", &env.token(&["Mail.ReadBasic"]), &body).await;
    assert_eq!(status, 201);
    // To Do task subscriptions are not supported with application permissions.
    let mut todo = body.clone();
    todo["resource"] = format!("users/{ALICE}/todo/lists/x/tasks").into();
    assert_error(
        &env.post("/subscriptions", &env.token(READER), &todo).await,
        403,
        "ErrorAccessDenied",
    );
    // Unknown users and users of other tenants.
    let mut other = body.clone();
    other["resource"] = format!("users/{CAROL}/messages").into();
    assert_error(
        &env.post("/subscriptions", &env.token(READER), &other).await,
        404,
        "ErrorInvalidUser",
    );
}

#[tokio::test]
async fn subscriptions_can_be_listed_read_renewed_reauthorized_and_deleted() {
    let env = Env::start().await;
    let token = env.token(READER);
    let receiver = Receiver::start(&env.ca, Handshake::Echo).await;
    let (_, _, sub) = env
        .post("/subscriptions", &token, &inbox_subscription(&env, &receiver.url("/n"), 60))
        .await;
    let id = sub["id"].as_str().unwrap();
    let (_, _, list) = env.get("/subscriptions", &token).await;
    assert_eq!(list["value"].as_array().unwrap().len(), 1);
    let other_app = env.token_with(TENANT, OTHER_APP, AUDIENCE, READER);
    let (_, _, list) = env.get("/subscriptions", &other_app).await;
    assert_eq!(list["value"].as_array().unwrap().len(), 0, "only the caller's own");
    assert_error(
        &env.get(&format!("/subscriptions/{id}"), &other_app).await,
        404,
        "ResourceNotFound",
    );
    let (status, _, got) = env.get(&format!("/subscriptions/{id}"), &token).await;
    assert_eq!((status.as_u16(), got["id"].as_str()), (200, Some(id)));

    let patch = |minutes: i64| json!({"expirationDateTime": expiry(&env, minutes)});
    let renew = env.client.patch(env.url(&format!("/subscriptions/{id}"))).json(&patch(120));
    let (status, _, renewed) = env.send(renew, &token).await;
    assert_eq!(status, 200, "{renewed}");
    assert_ne!(renewed["expirationDateTime"], sub["expirationDateTime"]);
    let too_long = env.client.patch(env.url(&format!("/subscriptions/{id}"))).json(&patch(20_000));
    assert_error(&env.send(too_long, &token).await, 400, "ExtensionError");
    let lifecycle_later = env
        .client
        .patch(env.url(&format!("/subscriptions/{id}")))
        .json(&json!({"lifecycleNotificationUrl": receiver.url("/l")}));
    assert_error(&env.send(lifecycle_later, &token).await, 400, "InvalidRequest");
    assert_eq!(receiver.handshakes().len(), 1, "no handshake on renewal");

    let reauth = env.client.post(env.url(&format!("/subscriptions/{id}/reauthorize")));
    let (status, _, body) = env.send(reauth, &token).await;
    assert_eq!((status.as_u16(), body), (204, Value::Null));
    let basic = env.token(&["Mail.ReadBasic"]);
    let reauth = env.client.post(env.url(&format!("/subscriptions/{id}/reauthorize")));
    assert_error(&env.send(reauth, &basic).await, 403, "ErrorAccessDenied");

    let (status, ..) =
        env.send(env.client.delete(env.url(&format!("/subscriptions/{id}"))), &token).await;
    assert_eq!(status, 204);
    assert_error(&env.get(&format!("/subscriptions/{id}"), &token).await, 404, "ResourceNotFound");
    let renew = env.client.patch(env.url(&format!("/subscriptions/{id}"))).json(&patch(60));
    assert_error(&env.send(renew, &token).await, 404, "ResourceNotFound");
}

#[tokio::test]
async fn an_expired_subscription_is_gone_and_notifies_nothing() {
    let env = Env::start().await;
    let token = env.token(READER);
    let mut receiver = Receiver::start(&env.ca, Handshake::Echo).await;
    let (_, _, sub) = env
        .post("/subscriptions", &token, &inbox_subscription(&env, &receiver.url("/n"), 30))
        .await;
    let id = sub["id"].as_str().unwrap();
    env.clock.advance(Duration::from_secs(31 * 60));
    assert!(env.sim.subscriptions().is_empty());
    let later = env.token(READER);
    assert_error(&env.get(&format!("/subscriptions/{id}"), &later).await, 404, "ResourceNotFound");
    env.sim.deliver(ALICE, NewMessage::new("late"));
    receiver.expect_nothing(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn the_subscription_quota_per_mailbox_counts_all_apps_and_answers_403() {
    let limits = GraphLimits { subscriptions_per_mailbox: 2, ..Default::default() };
    let env = Env::with_limits(limits).await;
    let receiver = Receiver::start(&env.ca, Handshake::Echo).await;
    let body = inbox_subscription(&env, &receiver.url("/n"), 60);
    assert_eq!(env.post("/subscriptions", &env.token(READER), &body).await.0, 201);
    let other = env.token_with(TENANT, OTHER_APP, AUDIENCE, READER);
    assert_eq!(
        env.post("/subscriptions", &other, &body).await.0,
        201,
        "identical requests give distinct subscriptions"
    );
    let resp = env.post("/subscriptions", &env.token(READER), &body).await;
    assert_eq!(resp.0, 403, "{}", resp.2);
    // Another mailbox has its own quota.
    let mut bob = body.clone();
    bob["resource"] = format!("users/{BOB}/messages").into();
    assert_eq!(env.post("/subscriptions", &env.token(READER), &bob).await.0, 201);
}

#[tokio::test]
async fn the_subscription_lifetime_cap_is_configurable() {
    let limits = GraphLimits { subscription_max_minutes: 4230, ..Default::default() };
    let env = Env::with_limits(limits).await;
    let receiver = Receiver::start(&env.ca, Handshake::Echo).await;
    let token = env.token(READER);
    let resp = env
        .post("/subscriptions", &token, &inbox_subscription(&env, &receiver.url("/n"), 4231))
        .await;
    assert_eq!(
        resp.2["error"]["message"],
        "Subscription expiration can only be 4230 minutes in the future."
    );
    assert_eq!(
        env.post("/subscriptions", &token, &inbox_subscription(&env, &receiver.url("/n"), 4229))
            .await
            .0,
        201
    );
}
