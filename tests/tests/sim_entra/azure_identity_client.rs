//! The real client library exsync uses, azure_identity 1.0, against the simulator
//! (`crates.md` section 2): authority host = the simulator, transport = a client trusting
//! the test CA, no retries.

use std::sync::Arc;

use azure_core::{
    cloud::{CloudConfiguration, CustomConfiguration},
    credentials::{Secret, TokenCredential},
    http::{ClientMethodOptions, ClientOptions, RetryOptions, Transport},
};
use azure_identity::{
    ClientAssertion, ClientAssertionCredential, ClientAssertionCredentialOptions,
    ClientSecretCredential, ClientSecretCredentialOptions,
};
use exsync_sim::entra::{AppCertificate, AssertionAlg, assertion_claims};

use super::*;

fn client_options(env: &Env) -> ClientOptions {
    let mut cloud = CustomConfiguration::default();
    cloud.authority_host = env.server.base_url().to_string();
    ClientOptions {
        cloud: Some(Arc::new(CloudConfiguration::from(cloud))),
        transport: Some(Transport::new(Arc::new(env.ca.client()))),
        retry: RetryOptions::none(),
        ..Default::default()
    }
}

fn secret_credential(env: &Env, secret: &str) -> Arc<ClientSecretCredential> {
    let options = ClientSecretCredentialOptions { client_options: client_options(env) };
    ClientSecretCredential::new(
        TENANT,
        CLIENT.into(),
        Secret::new(secret.to_string()),
        Some(options),
    )
    .unwrap()
}

#[tokio::test]
async fn client_secret_credential_gets_a_token_and_serves_the_second_call_from_its_cache() {
    let env = Env::start().await;
    let credential = secret_credential(&env, SECRET);
    let first = credential.get_token(&[GRAPH_SCOPE], None).await.unwrap();
    let claims = env.verified_claims(first.token.secret()).await;
    assert_eq!((claims["tid"].as_str(), claims["appid"].as_str()), (Some(TENANT), Some(CLIENT)));
    let expected_expiry = env.sim.clock().now() + time::Duration::seconds(3599);
    assert!((first.expires_on - expected_expiry).abs() < time::Duration::seconds(5));

    let second = credential.get_token(&[GRAPH_SCOPE], None).await.unwrap();
    assert_eq!(second.token.secret(), first.token.secret());
    assert_eq!(env.sim.tokens_issued(TENANT, CLIENT, GRAPH_RESOURCE), 1);
}

#[tokio::test]
async fn a_wrong_secret_surfaces_in_azure_identity_as_aadsts7000215() {
    let env = Env::start().await;
    let error = secret_credential(&env, "wrong").get_token(&[GRAPH_SCOPE], None).await.unwrap_err();
    assert!(error.to_string().contains("AADSTS7000215"), "{error}");
    assert_eq!(env.sim.token_requests().len(), 1, "a 401 is not retried");
}

/// A certificate credential without openssl: RS256 + `x5t`, signed with aws-lc-rs.
#[derive(Debug)]
struct SignedAssertion {
    cert: AppCertificate,
    audience: String,
    clock: exsync_sim::clock::SimClock,
}

#[async_trait::async_trait]
impl ClientAssertion for SignedAssertion {
    async fn secret(&self, _: Option<ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        let claims = assertion_claims(CLIENT, &self.audience, self.clock.unix(), 600);
        Ok(self.cert.assertion(AssertionAlg::Rs256, &claims))
    }
}

#[tokio::test]
async fn client_assertion_credential_with_a_certificate_signer_gets_a_token() {
    let env = Env::start().await;
    let cert = AppCertificate::valid_at("exsync", env.sim.clock().now());
    env.sim.add_certificate(CLIENT, cert.der()).unwrap();
    let assertion =
        SignedAssertion { cert, audience: env.token_url(TENANT), clock: env.sim.clock() };
    let options = ClientAssertionCredentialOptions { client_options: client_options(&env) };
    let credential =
        ClientAssertionCredential::new(TENANT.into(), CLIENT.into(), assertion, Some(options))
            .unwrap();
    let token = credential.get_token(&[GRAPH_SCOPE], None).await.unwrap();
    let claims = env.verified_claims(token.token.secret()).await;
    assert_eq!(claims["appidacr"], "2");
}
