//! Who may call: tokens (audience, tenant, lifetime, signature), application users, the
//! request headers, and environments hosted side by side (reference A1).

use std::time::Duration;

use exsync_sim::{auth::mint, jwt::SigningKey};
use serde_json::json;

use crate::world::{APP, TENANT, World};

async fn with_token(w: &World, token: &str) -> crate::world::Resp {
    w.send(
        w.http
            .get(w.url("WhoAmI"))
            .bearer_auth(token)
            .header("Accept", "application/json")
            .header("OData-MaxVersion", "4.0")
            .header("OData-Version", "4.0"),
    )
    .await
}

fn assert_challenge(resp: &crate::world::Resp, w: &World) {
    assert_eq!(resp.status, 401, "{}", resp.text);
    assert!(resp.text.is_empty());
    assert_eq!(
        resp.header("www-authenticate").unwrap(),
        format!(
            "Bearer authorization_uri=https://login.microsoftonline.com/{TENANT}/oauth2/authorize, resource_id={}/",
            w.env.url()
        )
    );
}

#[tokio::test]
async fn who_am_i_names_the_application_user_of_the_calling_app() {
    let w = World::new().await;
    let resp = w.get("WhoAmI").await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("odata-version"), Some("4.0"));
    assert_eq!(resp.json()["UserId"], w.user.to_string());
    let post = w.post("WhoAmI", json!({})).await;
    assert_eq!((post.status, post.code().as_str()), (404, ""));
    assert_eq!(
        post.message(),
        format!("No HTTP resource was found that matches the request URI '{}'.", w.url("WhoAmI"))
    );
    let user = w.env.record("systemusers", w.user).unwrap();
    assert_eq!(user["applicationid"], APP);
    assert_eq!(user["fullname"], format!("# {APP}"));
}

#[tokio::test]
async fn tokens_for_another_audience_or_tenant_expired_or_unsigned_get_401_with_a_bearer_challenge()
{
    let w = World::new().await;
    assert_challenge(
        &w.send(w.http.get(w.url("WhoAmI")).header("OData-MaxVersion", "4.0")).await,
        &w,
    );

    let mut audience = w.spec();
    audience.audience = "https://org.crm.dynamics.com".into();
    assert_challenge(&with_token(&w, &mint(&w.key, &audience)).await, &w);

    let mut tenant = w.spec();
    tenant.tenant_id = "99999999-0000-4000-8000-000000000009".into();
    assert_challenge(&with_token(&w, &mint(&w.key, &tenant)).await, &w);

    let expired = w.token();
    w.clock.advance(Duration::from_secs(3599 + 301));
    assert_challenge(&with_token(&w, &expired).await, &w);

    assert_challenge(&with_token(&w, &mint(&SigningKey::generate(), &w.spec())).await, &w);
    assert_eq!(with_token(&w, &w.token()).await.status, 200);
}

#[tokio::test]
async fn an_app_without_an_application_user_is_403_and_a_disabled_one_is_refused() {
    let w = World::new().await;
    let mut stranger = w.spec();
    stranger.app_id = "5a5a5a5a-0000-4000-8000-000000000005".into();
    let resp = with_token(&w, &mint(&w.key, &stranger)).await;
    assert_eq!((resp.status, resp.code().as_str()), (403, "0x80072560"));
    assert_eq!(resp.message(), "The user is not a member of the organization.");

    w.env.set_user_disabled(w.user, true);
    let resp = w.get("WhoAmI").await;
    assert_eq!((resp.status, resp.code().as_str()), (400, "0x80040225"));
    assert!(
        resp.message()
            .starts_with(&format!("The user with SystemUserId={} in OrganizationContext=", w.user))
    );
    w.env.set_user_disabled(w.user, false);
    assert_eq!(w.get("WhoAmI").await.status, 200);
}

#[tokio::test]
async fn requests_without_the_odata_headers_are_refused() {
    let w = World::new().await;
    let base =
        || w.http.get(w.url("WhoAmI")).bearer_auth(w.token()).header("Accept", "application/json");
    assert_eq!(
        w.send(base().header("OData-MaxVersion", "4.0")).await.status,
        400,
        "no OData-Version"
    );
    assert_eq!(
        w.send(base().header("OData-Version", "4.0")).await.status,
        400,
        "no OData-MaxVersion"
    );
    assert_eq!(
        w.send(base().header("OData-Version", "3.0").header("OData-MaxVersion", "4.0"))
            .await
            .status,
        400
    );
    let xml = w
        .send(
            w.http
                .get(w.url("WhoAmI"))
                .bearer_auth(w.token())
                .header("Accept", "application/xml")
                .header("OData-Version", "4.0")
                .header("OData-MaxVersion", "4.0"),
        )
        .await;
    assert_eq!(xml.status, 406);
}

#[tokio::test]
async fn environments_side_by_side_are_isolated_by_url_and_tenant() {
    let w = World::new().await;
    let other_tenant = "7e7e7e7e-0000-4000-8000-000000000007";
    let org2 = w.sim.add_environment("org2", other_tenant);
    org2.add_application_user(APP);
    assert!(org2.url().ends_with("/org2"));
    w.create("contacts", json!({"lastname": "only in the first"})).await;

    // A token for the first environment is not valid for the second.
    let first_token = w.token();
    let resp = w
        .send(
            w.http
                .get(format!("{}contacts", org2.web_api()))
                .bearer_auth(&first_token)
                .header("OData-MaxVersion", "4.0")
                .header("OData-Version", "4.0")
                .header("Accept", "application/json"),
        )
        .await;
    assert_eq!(resp.status, 401);

    let mut spec = w.spec();
    spec.audience = org2.url();
    spec.tenant_id = other_tenant.into();
    let resp = w
        .send(
            w.http
                .get(format!("{}contacts", org2.web_api()))
                .bearer_auth(mint(&w.key, &spec))
                .header("OData-MaxVersion", "4.0")
                .header("OData-Version", "4.0")
                .header("Accept", "application/json"),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(resp.json()["value"].as_array().unwrap().len(), 0);
    assert_eq!(w.env.records("contacts").len(), 1);
    assert_eq!(org2.requests(APP).total, 1);
}
