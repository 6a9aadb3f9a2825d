//! What Entra refuses, as admins read it: the AADSTS code, whether waiting helps, what to do.

use std::time::Instant;

use exsync_shared::{
    ports::{CredentialKey, Resource, SystemClock, TokenError, Tokens},
    secret::LocalSecrets,
};
use exsync_sim::faults::{Fault, FaultRule};

use super::*;

async fn refusal(world: &World, name: &str) -> TokenError {
    world.service().token(&profile(name), Resource::Graph).await.unwrap_err()
}

#[tokio::test]
async fn a_wrong_secret_is_aadsts7000215_not_retryable_and_never_printed() {
    let world = World::start().await;
    let wrong = "Wr0ng~secret.value_that_must_not_leak";
    world.write("fabrikam.secret", wrong);
    let service = world.service();
    let cached = world.cached();
    let error = cached.token(&profile("fabrikam"), Resource::Graph).await.unwrap_err();

    assert_eq!(error.code.as_deref(), Some("AADSTS7000215"));
    assert!(!error.retryable);
    assert!(error.message.contains("put the secret's Value"), "{}", error.message);
    assert!(
        error
            .message
            .contains(&format!("file:{}", world.dir.path().join("fabrikam.secret").display()))
    );
    let printed = [
        error.to_string(),
        format!("{error:?}"),
        format!("{service:?}"),
        format!("{cached:?}"),
        format!("{:?}", service.token(&profile("fabrikam"), Resource::Graph).await),
    ];
    for text in printed {
        assert!(!text.contains(wrong) && !text.contains(FABRIKAM_SECRET), "{text}");
    }
    assert_eq!(world.requests(), 2, "one per call: a 401 is not retried");
}

/// Everything logged while `body` runs, at every level and from every crate (azure_core,
/// reqwest, hyper, h2 included).
async fn logs_of<F: std::future::Future>(body: F) -> (F::Output, String) {
    #[derive(Clone, Default)]
    struct Buffer(Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    // A current-thread test runtime: the default subscriber covers every task of the test.
    let _guard = tracing::subscriber::set_default(subscriber);
    let output = body.await;
    let logs = String::from_utf8_lossy(&buffer.0.lock().unwrap()).into_owned();
    (output, logs)
}

#[tokio::test]
async fn neither_secrets_nor_tokens_reach_the_logs() {
    let world = World::start().await;
    let service = world.service();
    let ((good, bad), logs) = logs_of(async {
        let good = service.token(&profile("fabrikam"), Resource::Graph).await.unwrap();
        world.write("fabrikam.secret", "Wr0ng~secret.value_that_must_not_leak");
        let bad = service.token(&profile("fabrikam"), Resource::Graph).await.unwrap_err();
        (good, bad)
    })
    .await;
    assert!(logs.contains("AADSTS7000215") && logs.contains("token issued"), "{logs}");
    assert_eq!(bad.code.as_deref(), Some("AADSTS7000215"));
    // Parts that URL encoding leaves alone, so a logged form body would show too.
    let secrets = ["s3cr3t.value_with", "secret.value_that", good.token.expose()];
    for secret in secrets {
        assert!(!logs.contains(secret), "{secret} is in the logs");
    }
}

#[tokio::test]
async fn tokens_never_show_in_debug_output() {
    let world = World::start().await;
    let token = world.service().token(&profile("fabrikam"), Resource::Graph).await.unwrap();
    let printed = format!("{token:?}");
    assert!(!printed.contains(token.token.expose()) && printed.contains("redacted"), "{printed}");
}

#[tokio::test]
async fn an_expired_secret_is_aadsts7000222_and_says_to_add_a_new_one() {
    let world = World::start().await;
    let error = refusal(&world, "lapsed").await;
    assert_eq!(error.code.as_deref(), Some("AADSTS7000222"));
    assert!(!error.retryable);
    let expected = format!(
        "the client secret has expired: add a new secret to app {LAPSED_APP} in tenant {FABRIKAM} and update file:"
    );
    assert!(error.message.contains(&expected), "{}", error.message);
    assert!(!error.message.contains(LAPSED_SECRET));
}

#[tokio::test]
async fn an_app_that_is_not_in_the_tenant_is_aadsts700016() {
    let world = World::start().await;
    let error = refusal(&world, "stranger").await;
    assert_eq!(error.code.as_deref(), Some("AADSTS700016"));
    assert!(!error.retryable);
    assert!(
        error.message.contains(&format!("app {DATAVERSE_APP} is not in tenant {FABRIKAM}")),
        "{}",
        error.message
    );
    assert!(error.message.contains("adminconsent?client_id="), "{}", error.message);
}

#[tokio::test]
async fn an_unknown_tenant_is_aadsts90002() {
    let world = World::start().await;
    let error = refusal(&world, "nowhere").await;
    assert_eq!(error.code.as_deref(), Some("AADSTS90002"));
    assert!(!error.retryable);
    assert!(error.message.contains("does not exist"), "{}", error.message);
}

#[tokio::test]
async fn a_resource_missing_from_the_tenant_is_aadsts500011() {
    let world = World::start().await;
    let error = world.service().token(&profile("fabrikam"), Resource::Dataverse).await.unwrap_err();
    assert_eq!(error.code.as_deref(), Some("AADSTS500011"));
    assert!(!error.retryable);
    assert!(error.message.contains("check dataverse.url"), "{}", error.message);
}

#[tokio::test]
async fn throttling_and_outages_are_retryable_and_throttling_says_how_long_to_wait() {
    let world = World::start().await;
    let service = world.service();
    let key = profile("fabrikam");
    let faults = world.sim.faults();
    faults.arm(FaultRule::next(1, Fault::Status { status: 429, retry_after: None }));
    let throttled = service.token(&key, Resource::Graph).await.unwrap_err();
    assert!(throttled.retryable, "{throttled:?}");
    assert_eq!(throttled.retry_after, Some(std::time::Duration::from_secs(60)));
    assert!(throttled.message.contains("HTTP 429"), "{}", throttled.message);

    faults.arm(FaultRule::next(1, Fault::Status { status: 503, retry_after: None }));
    let outage = service.token(&key, Resource::Graph).await.unwrap_err();
    assert!(outage.retryable, "{outage:?}");

    assert!(service.token(&key, Resource::Graph).await.is_ok());
}

#[tokio::test]
async fn a_key_missing_from_the_configuration_is_refused_without_a_request() {
    let world = World::start().await;
    let mailbox = exsync_shared::domain::MailboxAddress::parse("x@fabrikam.example").unwrap();
    let error = world.service().token(&CredentialKey::Mailbox(mailbox), Resource::Graph).await;
    assert!(!error.unwrap_err().retryable);
    assert_eq!(world.requests(), 0);
}

#[tokio::test]
async fn without_the_extra_ca_the_tls_handshake_fails_fast_and_clearly() {
    let world = World::start().await;
    let http = exsync_shared::http::build(None).unwrap();
    let service =
        TokenService::new(&world.config, Arc::new(LocalSecrets), http, Arc::new(SystemClock));
    let started = Instant::now();
    let error = service.token(&profile("fabrikam"), Resource::Graph).await.unwrap_err();
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
    assert!(!error.retryable, "{error:?}");
    assert!(error.message.contains("is not trusted"), "{}", error.message);
    assert!(error.message.contains("set cloud.ca_file"), "{}", error.message);
    assert_eq!(world.requests(), 0, "no request reached the simulator");
}

#[tokio::test]
async fn a_token_endpoint_that_never_answers_times_out_as_retryable() {
    let world = World::start().await;
    world.sim.faults().arm(FaultRule::next(1, Fault::Hang));
    let service = world.service().with_request_timeout(std::time::Duration::from_millis(500));
    let started = Instant::now();
    let error = service.token(&profile("fabrikam"), Resource::Graph).await.unwrap_err();
    assert!(started.elapsed() < std::time::Duration::from_secs(3), "{:?}", started.elapsed());
    assert!(error.retryable, "{error:?}");
    assert!(error.message.contains("did not answer in time"), "{}", error.message);
    assert!(service.token(&profile("fabrikam"), Resource::Graph).await.is_ok());
}
