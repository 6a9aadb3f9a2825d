//! The simulated cloud as exsync sees it: a configuration written for it loads, and the
//! token service gets tokens that Graph and Dataverse accept.

use std::sync::Arc;

use exsync_shared::{
    config::Config,
    entra::{CachingTokens, TokenService},
    http,
    ports::{CredentialKey, Resource, SystemClock, Tokens},
    secret::LocalSecrets,
};
use exsync_sim::cloud::SimCloud;

#[tokio::test]
async fn a_config_written_for_the_cloud_reaches_graph_and_dataverse_with_real_tokens() {
    let cloud = SimCloud::start().await.unwrap();
    let fabrikam = cloud.add_exchange_tenant("fabrikam.example");
    let alice = cloud.add_mailbox(&fabrikam, "alice", "Alice Fabrikam");
    let dataverse = cloud.add_dataverse("northwind.example");
    let path = cloud
        .config(&dataverse)
        .profile("fabrikam", &fabrikam, "")
        .mailbox(&alice, "fabrikam", "")
        .write(cloud.dir())
        .unwrap();
    let config = Config::load(&path).unwrap();

    let client = http::client(&config.cloud).unwrap();
    let clock = Arc::new(SystemClock);
    let service = TokenService::new(&config, Arc::new(LocalSecrets), client.clone(), clock.clone());
    let tokens = CachingTokens::new(Arc::new(service), clock);

    let profile = CredentialKey::Profile(config.profiles[0].name.clone());
    let graph_token = tokens.token(&profile, Resource::Graph).await.unwrap();
    let inbox = format!("{}v1.0/users/{alice}/mailFolders/inbox/messages", cloud.graph_url());
    let response = client.get(inbox).bearer_auth(graph_token.token.expose()).send().await.unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());

    let dv_token = tokens.token(&CredentialKey::Dataverse, Resource::Dataverse).await.unwrap();
    let who_am_i = format!("{}/WhoAmI", dataverse.env.web_api());
    let response = client
        .get(who_am_i)
        .bearer_auth(dv_token.token.expose())
        .header("OData-Version", "4.0")
        .header("OData-MaxVersion", "4.0")
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}
