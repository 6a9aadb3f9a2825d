//! Tenants, apps across tenants, consent and resources.

use exsync_sim::entra::SetupError;
use time::Duration;

use super::*;

const OTHER_APP: &str = "bbbbbbbb-0000-4000-8000-000000000002";

#[tokio::test]
async fn a_tenant_is_named_by_id_or_verified_domain_and_unknown_ones_get_90002() {
    let env = Env::start().await;
    let reply = env.post(DOMAIN, &secret_form(CLIENT, SECRET, GRAPH_SCOPE)).await;
    assert_eq!(env.verified_claims(&reply.token()).await["tid"], TENANT);
    let upper = TENANT.to_ascii_uppercase();
    env.post(&upper, &secret_form(CLIENT, SECRET, GRAPH_SCOPE)).await.token();

    for unknown in ["99999999-9999-4999-8999-999999999999", "nowhere.onmicrosoft.com"] {
        let reply = env.post(unknown, &secret_form(CLIENT, SECRET, GRAPH_SCOPE)).await;
        reply.assert_error(400, "invalid_tenant", 90002);
        assert!(reply.description().contains(&format!("Tenant '{unknown}' not found")));
    }
    env.post("contoso", &secret_form(CLIENT, SECRET, GRAPH_SCOPE)).await.assert_error(
        400,
        "invalid_request",
        900023,
    );
}

#[tokio::test]
async fn common_and_consumers_get_9001023_and_organizations_means_the_home_tenant() {
    let env = Env::start().await;
    for tenantless in ["common", "consumers"] {
        env.post(tenantless, &secret_form(CLIENT, SECRET, GRAPH_SCOPE)).await.assert_error(
            400,
            "invalid_request",
            9001023,
        );
    }
    let reply = env.post("organizations", &secret_form(CLIENT, SECRET, GRAPH_SCOPE)).await;
    assert_eq!(env.verified_claims(&reply.token()).await["tid"], TENANT);
}

#[tokio::test]
async fn an_app_unknown_in_the_tenant_gets_400_unauthorized_client_700016() {
    let env = Env::start().await;
    env.sim.provision_resource(CUSTOMER, GRAPH_RESOURCE).unwrap();
    // Registered in TENANT, never consented in CUSTOMER.
    let reply = env.post(CUSTOMER, &secret_form(CLIENT, SECRET, GRAPH_SCOPE)).await;
    reply.assert_error(400, "unauthorized_client", 700016);
    assert!(reply.description().contains(&format!("identifier '{CLIENT}'")));
    // Not registered anywhere.
    env.post(TENANT, &secret_form(OTHER_APP, SECRET, GRAPH_SCOPE)).await.assert_error(
        400,
        "unauthorized_client",
        700016,
    );
}

#[tokio::test]
async fn a_multi_tenant_app_gets_tokens_in_a_customer_tenant_after_admin_consent() {
    let env = Env::start().await;
    env.sim.provision_resource(CUSTOMER, GRAPH_RESOURCE).unwrap();
    assert_eq!(
        env.sim.consent(CUSTOMER, CLIENT, GRAPH_RESOURCE, &["Mail.Read"]),
        Err(SetupError::SingleTenant(CLIENT.into(), CUSTOMER.into()))
    );
    env.sim.set_multi_tenant(CLIENT, true).unwrap();
    env.post(CUSTOMER, &secret_form(CLIENT, SECRET, GRAPH_SCOPE)).await.assert_error(
        400,
        "unauthorized_client",
        700016,
    );

    env.sim
        .consent(CUSTOMER, CLIENT, GRAPH_RESOURCE, &["Mail.Read", "Calendars.ReadWrite"])
        .unwrap();
    let reply = env.post("fabrikam.com", &secret_form(CLIENT, SECRET, GRAPH_SCOPE)).await;
    let claims = env.verified_claims(&reply.token()).await;
    assert_eq!(claims["tid"], CUSTOMER);
    assert_eq!(claims["iss"], format!("https://sts.windows.net/{CUSTOMER}/"));
    assert_eq!(claims["roles"], serde_json::json!(["Calendars.ReadWrite", "Mail.Read"]));
    let customer_sp = env.sim.service_principal_id(CUSTOMER, CLIENT).unwrap();
    assert_eq!(claims["oid"], customer_sp);
    assert_ne!(Some(customer_sp), env.sim.service_principal_id(TENANT, CLIENT));
}

#[tokio::test]
async fn without_admin_consent_the_token_has_no_roles_claim() {
    // Reference B1 "Missing admin consent for app-only access" and D7: the endpoint still
    // issues the token; the resource refuses it later.
    let env = Env::start().await;
    env.sim.add_app(TENANT, OTHER_APP).unwrap();
    env.sim.add_secret(OTHER_APP, SECRET, env.sim.clock().now() + Duration::days(1)).unwrap();
    let reply = env.post(TENANT, &secret_form(OTHER_APP, SECRET, GRAPH_SCOPE)).await;
    let claims = env.verified_claims(&reply.token()).await;
    assert_eq!(claims["appid"], OTHER_APP);
    assert!(!claims.contains_key("roles"), "{claims:?}");
}

#[tokio::test]
async fn revoked_roles_leave_later_tokens_and_a_removed_app_gets_700016() {
    let env = Env::start().await;
    env.sim.consent(TENANT, CLIENT, GRAPH_RESOURCE, &["Mail.Send"]).unwrap();
    let claims = env
        .verified_claims(&env.post(TENANT, &secret_form(CLIENT, SECRET, GRAPH_SCOPE)).await.token())
        .await;
    assert_eq!(claims["roles"], serde_json::json!(["Mail.ReadWrite", "Mail.Send"]));

    env.sim.revoke(TENANT, CLIENT, GRAPH_RESOURCE, &["Mail.Send"]).unwrap();
    let claims = env
        .verified_claims(&env.post(TENANT, &secret_form(CLIENT, SECRET, GRAPH_SCOPE)).await.token())
        .await;
    assert_eq!(claims["roles"], serde_json::json!(["Mail.ReadWrite"]));

    env.sim.revoke(TENANT, CLIENT, GRAPH_RESOURCE, &[]).unwrap();
    let claims = env
        .verified_claims(&env.post(TENANT, &secret_form(CLIENT, SECRET, GRAPH_SCOPE)).await.token())
        .await;
    assert!(!claims.contains_key("roles"));

    env.sim.remove_service_principal(TENANT, CLIENT).unwrap();
    env.post(TENANT, &secret_form(CLIENT, SECRET, GRAPH_SCOPE)).await.assert_error(
        400,
        "unauthorized_client",
        700016,
    );
}

#[tokio::test]
async fn a_disabled_app_gets_7000112() {
    let env = Env::start().await;
    env.sim.set_app_disabled(CLIENT, true).unwrap();
    env.post(TENANT, &secret_form(CLIENT, SECRET, GRAPH_SCOPE)).await.assert_error(
        400,
        "unauthorized_client",
        7000112,
    );
    env.sim.set_app_disabled(CLIENT, false).unwrap();
    env.post(TENANT, &secret_form(CLIENT, SECRET, GRAPH_SCOPE)).await.token();
}

#[tokio::test]
async fn a_resource_without_a_service_principal_in_the_tenant_gets_500011() {
    let env = Env::start().await;
    let crm_scope = format!("{CRM}/.default");
    let refused = |reply: Reply| {
        reply.assert_error(400, "invalid_resource", 500011);
        assert!(reply.description().contains(&format!("principal named {CRM} was not found")));
    };
    refused(env.post(TENANT, &secret_form(CLIENT, SECRET, &crm_scope)).await);
    env.sim.register_resource(CRM, &[]).unwrap();
    refused(env.post(TENANT, &secret_form(CLIENT, SECRET, &crm_scope)).await);
    env.sim.provision_resource(TENANT, CRM).unwrap();
    let reply = env.post(TENANT, &secret_form(CLIENT, SECRET, &crm_scope)).await;
    let claims = env.verified_claims(&reply.token()).await;
    // A Dataverse environment grants no app roles: the application user decides.
    assert_eq!(claims["aud"], CRM);
    assert!(!claims.contains_key("roles"));
}

#[tokio::test]
async fn a_resource_named_by_application_id_gets_that_id_as_audience() {
    let env = Env::start().await;
    let scope = "00000003-0000-0000-c000-000000000000/.default";
    let claims = env
        .verified_claims(&env.post(TENANT, &secret_form(CLIENT, SECRET, scope)).await.token())
        .await;
    assert_eq!(claims["aud"], "00000003-0000-0000-c000-000000000000");
    assert_eq!(claims["roles"], serde_json::json!(["Mail.ReadWrite"]));
}

#[tokio::test]
async fn seeding_rejects_impossible_directories() {
    let env = Env::start().await;
    assert!(matches!(env.sim.add_tenant("not-a-guid", &[]), Err(SetupError::Invalid(..))));
    assert!(matches!(env.sim.add_tenant(TENANT, &[]), Err(SetupError::Exists(_))));
    assert!(matches!(env.sim.add_app(TENANT, CLIENT), Err(SetupError::Exists(_))));
    assert!(matches!(
        env.sim.consent(TENANT, CLIENT, GRAPH_RESOURCE, &["Directory.ReadWrite.All"]),
        Err(SetupError::Unknown(_))
    ));
    env.sim.register_resource(CRM, &[]).unwrap();
    assert!(matches!(
        env.sim.consent(TENANT, CLIENT, CRM, &[]),
        Err(SetupError::NotProvisioned(..))
    ));
    assert!(matches!(env.sim.add_certificate(CLIENT, b"junk"), Err(SetupError::Invalid(..))));
}
