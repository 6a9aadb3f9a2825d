//! Tokens for Graph and Dataverse, with a secret and with a certificate, in two tenants.

use exsync_shared::ports::{CredentialKey, Resource, Tokens};
use exsync_sim::entra::{Credential, TokenOutcome};

use super::*;

#[tokio::test]
async fn a_client_secret_gets_graph_and_dataverse_tokens_in_their_own_tenants() {
    let world = World::start().await;
    let service = world.service();

    let graph = service.token(&profile("fabrikam"), Resource::Graph).await.unwrap();
    let claims = world.verified_claims(graph.token.expose(), FABRIKAM).await;
    assert_eq!(claims["aud"], GRAPH_RESOURCE);
    assert_eq!(claims["tid"], FABRIKAM);
    assert_eq!(claims["appid"], FABRIKAM_APP);
    assert_eq!(claims["appidacr"], "1");
    assert_eq!(claims["roles"], serde_json::json!(["Mail.ReadWrite"]));

    let dataverse = service.token(&CredentialKey::Dataverse, Resource::Dataverse).await.unwrap();
    let claims = world.verified_claims(dataverse.token.expose(), CONTOSO).await;
    assert_eq!(claims["aud"], CRM);
    assert_eq!(claims["tid"], CONTOSO);
    assert_eq!(claims["appid"], DATAVERSE_APP);

    let lifetime = graph.expires_at - time::OffsetDateTime::now_utc();
    assert!((lifetime - Duration::seconds(3599)).abs() < Duration::seconds(5), "{lifetime}");
}

#[tokio::test]
async fn a_certificate_gets_graph_and_dataverse_tokens_without_a_secret() {
    let world = World::start().await;
    let service = world.service();
    for (resource, audience) in [(Resource::Graph, GRAPH_RESOURCE), (Resource::Dataverse, CRM)] {
        let token = service.token(&profile("contoso"), resource).await.unwrap();
        let claims = world.verified_claims(token.token.expose(), CONTOSO).await;
        assert_eq!(claims["aud"], audience);
        assert_eq!(claims["tid"], CONTOSO);
        assert_eq!(claims["appid"], CONTOSO_APP);
        assert_eq!(claims["appidacr"], "2", "authenticated with a certificate");
    }
    let certificate_logins = world
        .sim
        .token_requests()
        .iter()
        .filter(|r| {
            matches!(r.outcome, TokenOutcome::Issued { credential: Credential::Certificate, .. })
        })
        .count();
    assert_eq!(certificate_logins, 2);
}

#[tokio::test]
async fn every_token_request_goes_to_the_configured_authority_only() {
    let world = World::start().await;
    let service = world.service();
    service.token(&profile("fabrikam"), Resource::Graph).await.unwrap();
    service.token(&profile("contoso"), Resource::Graph).await.unwrap();
    service.token(&CredentialKey::Dataverse, Resource::Dataverse).await.unwrap();
    let tenants: Vec<String> = world.sim.token_requests().into_iter().map(|r| r.tenant).collect();
    assert_eq!(tenants, [FABRIKAM, "contoso.example", CONTOSO]);
}

#[tokio::test]
async fn a_mailbox_with_its_own_app_gets_its_token_in_its_profiles_tenant() {
    let world = World::start().await;
    let service = world.service();
    let alice = &world.config.mailboxes[0];
    let own = CredentialKey::of_mailbox(alice);
    assert!(matches!(own, CredentialKey::Mailbox(_)));
    let token = service.token(&own, Resource::Graph).await.unwrap();
    let claims = world.verified_claims(token.token.expose(), FABRIKAM).await;
    assert_eq!((&claims["tid"], &claims["appid"]), (&FABRIKAM.into(), &FABRIKAM_APP.into()));

    let bob = &world.config.mailboxes[1];
    assert_eq!(CredentialKey::of_mailbox(bob), profile("contoso"));
}
