//! What callers use: one token per credential and resource, refreshed before expiry, one
//! request in flight.

use exsync_shared::ports::{CredentialKey, Resource, Tokens};
use exsync_sim::faults::{Fault, FaultRule};

use super::*;

#[tokio::test]
async fn many_calls_cost_one_token_request_per_credential_and_resource() {
    let world = World::start().await;
    let cached = world.cached();
    let first = cached.token(&profile("fabrikam"), Resource::Graph).await.unwrap();
    for _ in 0..50 {
        let again = cached.token(&profile("fabrikam"), Resource::Graph).await.unwrap();
        assert_eq!(again.token, first.token);
    }
    cached.token(&CredentialKey::Dataverse, Resource::Dataverse).await.unwrap();
    cached.token(&CredentialKey::Dataverse, Resource::Dataverse).await.unwrap();
    assert_eq!(world.sim.tokens_issued(FABRIKAM, FABRIKAM_APP, GRAPH_RESOURCE), 1);
    assert_eq!(world.sim.tokens_issued(CONTOSO, DATAVERSE_APP, CRM), 1);
    assert_eq!(world.requests(), 2);
}

#[tokio::test]
async fn concurrent_callers_share_one_request() {
    let world = World::start().await;
    // Slow answers, so that every caller arrives while the first request is in flight.
    let latency = Fault::Latency(std::time::Duration::from_millis(300));
    world.sim.faults().arm(FaultRule::next(1, latency));
    let cached = Arc::new(world.cached());
    let calls = (0..20).map(|_| {
        let cached = cached.clone();
        tokio::spawn(async move { cached.token(&profile("contoso"), Resource::Graph).await })
    });
    let tokens: Vec<_> = futures::future::join_all(calls).await;
    let first = tokens[0].as_ref().unwrap().as_ref().unwrap().token.clone();
    for token in &tokens {
        assert_eq!(token.as_ref().unwrap().as_ref().unwrap().token, first);
    }
    assert_eq!(world.requests(), 1);
}

#[tokio::test]
async fn a_token_close_to_expiry_is_refreshed() {
    let world = World::start().await;
    // Four seconds of life: refreshed at half life (MSAL's five-minute buffer does not fit).
    world.sim.set_token_lifetime(std::time::Duration::from_secs(4));
    let cached = world.cached();
    let key = profile("fabrikam");
    let first = cached.token(&key, Resource::Graph).await.unwrap();
    assert_eq!(cached.token(&key, Resource::Graph).await.unwrap().token, first.token);
    assert_eq!(world.requests(), 1);

    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let refreshed = cached.token(&key, Resource::Graph).await.unwrap();
    assert_ne!(refreshed.token, first.token);
    assert!(refreshed.expires_at > first.expires_at);
    assert_eq!(world.requests(), 2);
}
