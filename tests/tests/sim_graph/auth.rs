//! Tokens, roles, tenants and application access policies (reference 10.3, 11).

use std::time::Duration;

use exsync_sim::graph::{GRAPH_APP_ID, NewMessage};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn a_token_for_another_tenant_finds_no_such_user_404_error_invalid_user() {
    let env = Env::start().await;
    let carol_in_other_tenant = env.token_with(OTHER_TENANT, APP, AUDIENCE, READER);
    // ALICE lives in TENANT: a token of OTHER_TENANT does not see her, by UPN or by id.
    let resp = env.get(&format!("/users/{ALICE}/messages"), &carol_in_other_tenant).await;
    assert_error(&resp, 404, "ErrorInvalidUser");
    assert_eq!(resp.2["error"]["message"], format!("The requested user '{ALICE}' is invalid."));
    let id = env.sim.user_id(ALICE);
    assert_error(
        &env.get(&format!("/users/{id}/messages"), &carol_in_other_tenant).await,
        404,
        "ErrorInvalidUser",
    );
    // The same token reaches CAROL in its own tenant.
    let (status, ..) = env.get(&format!("/users/{CAROL}/messages"), &carol_in_other_tenant).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn bad_tokens_are_refused_with_401_invalid_authentication_token() {
    let env = Env::start().await;
    let path = format!("/users/{ALICE}/messages");
    let wrong_audience = env.token_with(TENANT, APP, "https://org.crm.dynamics.com", READER);
    let resp = env.get(&path, &wrong_audience).await;
    assert_error(&resp, 401, "InvalidAuthenticationToken");
    assert!(resp.1.contains_key("www-authenticate"));

    let resp = env.send(env.client.get(env.url(&path)), "").await;
    assert_error(&resp, 401, "InvalidAuthenticationToken");
    assert_eq!(resp.2["error"]["message"], "Access token is empty.");

    let token = env.token(READER);
    env.clock.advance(Duration::from_secs(3600 + 301));
    let resp = env.get(&path, &token).await;
    assert_error(&resp, 401, "InvalidAuthenticationToken");
    assert!(resp.2["error"]["message"].as_str().unwrap().contains("expired"));
}

#[tokio::test]
async fn the_graph_app_id_is_accepted_as_audience() {
    let env = Env::start().await;
    let token = env.token_with(TENANT, APP, GRAPH_APP_ID, READER);
    let (status, ..) = env.get(&format!("/users/{ALICE}/messages"), &token).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_token_without_the_needed_role_is_refused_with_403_error_access_denied() {
    let env = Env::start().await;
    let calendar_only = env.token(&["Calendars.Read"]);
    assert_error(
        &env.get(&format!("/users/{ALICE}/messages"), &calendar_only).await,
        403,
        "ErrorAccessDenied",
    );
    // Attachments need Mail.Read; ReadBasic reads messages without bodies.
    let ids =
        env.sim.deliver(ALICE, NewMessage::new("hello").attachment("a.txt", "text/plain", b"hi"));
    let basic = env.token(&["Mail.ReadBasic.All"]);
    let (status, _, body) = env.get(&format!("/users/{ALICE}/messages/{}", ids.id), &basic).await;
    assert_eq!(status, 200);
    assert!(body.get("body").is_none() && body.get("bodyPreview").is_none(), "{body}");
    assert_eq!(body["subject"], "hello");
    let resp = env.get(&format!("/users/{ALICE}/messages/{}/attachments", ids.id), &basic).await;
    assert_error(&resp, 403, "ErrorAccessDenied");
    let resp = env.get(&format!("/users/{ALICE}/messages/{}?$select=body", ids.id), &basic).await;
    assert_error(&resp, 403, "ErrorAccessDenied");
    // sendMail needs Mail.Send.
    let body =
        json!({"message": {"subject": "x", "toRecipients": [{"emailAddress": {"address": BOB}}]}});
    let resp =
        env.post(&format!("/users/{ALICE}/sendMail"), &env.token(&["Mail.Read"]), &body).await;
    assert_error(&resp, 403, "ErrorAccessDenied");
}

#[tokio::test]
async fn an_app_restricted_by_an_access_policy_gets_access_to_odata_is_disabled() {
    let env = Env::start().await;
    env.sim.restrict_app(TENANT, APP, &[ALICE]);
    let token = env.token(READER);
    let (status, ..) = env.get(&format!("/users/{ALICE}/messages"), &token).await;
    assert_eq!(status, 200);
    let resp = env.get(&format!("/users/{BOB}/messages"), &token).await;
    assert_error(&resp, 403, "ErrorAccessDenied");
    assert_eq!(resp.2["error"]["message"], "Access to OData is disabled.");
    // Subscriptions on out-of-scope mailboxes are refused the same way.
    let receiver = Receiver::start(&env.ca, Handshake::Echo).await;
    let body = json!({
        "changeType": "created",
        "notificationUrl": receiver.url("/notify"),
        "resource": format!("users/{BOB}/messages"),
        "expirationDateTime": expiry(&env, 60),
    });
    let resp = env.post("/subscriptions", &token, &body).await;
    assert_error(&resp, 403, "ErrorAccessDenied");
    assert_eq!(resp.2["error"]["message"], "Access to OData is disabled.");
    assert!(receiver.handshakes().is_empty());
    // Another app of the tenant is not restricted.
    let other = env.token_with(TENANT, OTHER_APP, AUDIENCE, READER);
    assert_eq!(env.get(&format!("/users/{BOB}/messages"), &other).await.0, 200);
}

#[tokio::test]
async fn me_paths_and_unknown_segments_are_refused_for_app_only_tokens() {
    let env = Env::start().await;
    let token = env.token(READER);
    let resp = env.get("/me/messages", &token).await;
    assert_error(&resp, 400, "BadRequest");
    assert_eq!(
        resp.2["error"]["message"],
        "/me request is only valid with delegated authentication flow."
    );
    assert_error(&env.get(&format!("/users/{ALICE}/nosuch"), &token).await, 400, "BadRequest");
    let resp =
        env.send(env.client.get(format!("{}beta/users", env.server.base_url())), &token).await;
    assert_eq!(resp.0, 400);
}

#[tokio::test]
async fn responses_carry_request_ids_and_echo_the_client_request_id() {
    let env = Env::start().await;
    let token = env.token(READER);
    let req = env
        .client
        .get(env.url(&format!("/users/{ALICE}")))
        .header("client-request-id", "c0ffee00-1111-2222-3333-444455556666");
    let resp = env.send(req, &env.token(&["User.Read.All"])).await;
    assert_eq!(resp.0, 200, "{}", resp.2);
    assert_eq!(resp.1["client-request-id"], "c0ffee00-1111-2222-3333-444455556666");
    assert!(uuid::Uuid::parse_str(resp.1["request-id"].to_str().unwrap()).is_ok());
    assert_eq!(resp.2["userPrincipalName"], ALICE);
    assert_eq!(resp.2["id"], env.sim.user_id(ALICE));
    // Reading the directory user needs a directory role.
    assert_error(&env.get(&format!("/users/{ALICE}"), &token).await, 403, "ErrorAccessDenied");
}

#[tokio::test]
async fn a_user_without_a_mailbox_answers_mailbox_not_enabled_for_rest_api() {
    let env = Env::start().await;
    let dave = "dave@contoso.example";
    let id = env.sim.add_user_without_mailbox(TENANT, dave, "Dave Unlicensed");
    let token = env.token(READER);
    let resp = env.get(&format!("/users/{dave}/mailFolders/inbox/messages/delta"), &token).await;
    assert_error(&resp, 404, "MailboxNotEnabledForRESTAPI");
    let receiver = Receiver::start(&env.ca, Handshake::Echo).await;
    let body = json!({
        "changeType": "created",
        "notificationUrl": receiver.url("/n"),
        "resource": format!("users/{id}/messages"),
        "expirationDateTime": expiry(&env, 60),
    });
    assert_error(
        &env.post("/subscriptions", &token, &body).await,
        404,
        "MailboxNotEnabledForRESTAPI",
    );
    // The directory user exists.
    let (status, _, user) =
        env.get(&format!("/users/{dave}"), &env.token(&["User.Read.All"])).await;
    assert_eq!((status.as_u16(), user["id"].as_str()), (200, Some(id.as_str())));
}
