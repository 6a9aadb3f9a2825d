//! Rotating a secret without a restart (issue 5): the next token request reads the secret
//! again and rebuilds the credential when it changed or was refused.

use exsync_shared::ports::{Resource, Tokens};
use exsync_sim::entra::TokenOutcome;

use super::*;

#[tokio::test]
async fn a_fixed_secret_file_heals_the_same_service() {
    let world = World::start().await;
    world.write("fabrikam.secret", "Wr0ng~secret.value_pasted_by_mistake");
    let cached = world.cached().with_error_hold(std::time::Duration::ZERO);
    let key = profile("fabrikam");
    let refused = cached.token(&key, Resource::Graph).await.unwrap_err();
    assert_eq!(refused.code.as_deref(), Some("AADSTS7000215"));

    world.write("fabrikam.secret", &format!("{FABRIKAM_SECRET}\n"));
    let token = cached.token(&key, Resource::Graph).await.unwrap();
    let claims = world.verified_claims(token.token.expose(), FABRIKAM).await;
    assert_eq!(claims["appid"], FABRIKAM_APP);
}

#[tokio::test]
async fn a_rotated_secret_is_used_for_the_next_token() {
    let world = World::start().await;
    let service = world.service();
    let key = profile("fabrikam");
    service.token(&key, Resource::Graph).await.unwrap();
    service.token(&key, Resource::Graph).await.unwrap();
    assert_eq!(world.requests(), 1, "unchanged secret: azure_identity's cache answers");

    // The admin adds a new secret, updates the file and deletes the old one.
    let year = world.sim.clock().now() + Duration::days(365);
    let rotated = "R0tated~s3cr3t.value_2027";
    world.sim.add_secret(FABRIKAM_APP, rotated, year).unwrap();
    world.write("fabrikam.secret", rotated);
    world.sim.remove_secret(FABRIKAM_APP, &world.fabrikam_secret_id).unwrap();

    service.token(&key, Resource::Graph).await.unwrap();
    let requests = world.sim.token_requests();
    assert_eq!(requests.len(), 2, "a new secret means a new credential, so a new request");
    assert!(matches!(requests[1].outcome, TokenOutcome::Issued { .. }));
}
