//! `SecretsManagerSecrets` against moto's Secrets Manager.

use std::{sync::Arc, time::Duration};

use crate::moto::Moto;
use exsync_shared::{
    adapters::aws::SecretsManagerSecrets,
    ports::Secrets,
    secret::{SecretError, SecretRef},
};

use crate::common::ManualClock;

async fn secrets(clock: Arc<ManualClock>) -> SecretsManagerSecrets {
    let client = aws_sdk_secretsmanager::Client::new(&Moto::shared().sdk_config().await);
    SecretsManagerSecrets::new(client).with_freshness(Duration::from_secs(60), clock)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_is_read_by_arn_and_a_json_key_selects_one_value() {
    let moto = Moto::shared();
    let plain = moto.create_secret(&moto.unique("fabrikam-app"), "s3cr3t-value").await;
    let json = moto
        .create_secret(&moto.unique("contoso-app"), r#"{"client_secret":"from-json","other":"x"}"#)
        .await;
    let secrets = secrets(ManualClock::new()).await;
    let read = |arn: String| {
        let secrets = &secrets;
        async move { secrets.read(&SecretRef::AwsSecretsManager(arn)).await }
    };
    assert_eq!(read(plain).await.unwrap().expose(), "s3cr3t-value");
    assert_eq!(read(format!("{json}#client_secret")).await.unwrap().expose(), "from-json");
    let missing_key = read(format!("{json}#nope")).await.unwrap_err().to_string();
    assert!(
        missing_key.contains("no key \"nope\"") && !missing_key.contains("from-json"),
        "{missing_key}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_secret_is_picked_up_once_the_cached_value_is_stale() {
    let moto = Moto::shared();
    let arn = moto.create_secret(&moto.unique("rotating"), "first").await;
    let clock = ManualClock::new();
    let secrets = secrets(clock.clone()).await;
    let reference = SecretRef::AwsSecretsManager(arn.clone());
    assert_eq!(secrets.read(&reference).await.unwrap().expose(), "first");
    moto.rotate_secret(&arn, "second").await;
    clock.advance(Duration::from_secs(30));
    assert_eq!(secrets.read(&reference).await.unwrap().expose(), "first", "still fresh");
    clock.advance(Duration::from_secs(31));
    assert_eq!(secrets.read(&reference).await.unwrap().expose(), "second", "read again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_secret_is_an_error_an_admin_must_fix_naming_the_reference() {
    let secrets = secrets(ManualClock::new()).await;
    let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:absent-AbCdEf".to_string();
    let error = secrets.read(&SecretRef::AwsSecretsManager(arn.clone())).await.unwrap_err();
    assert!(!error.is_retryable());
    assert!(matches!(error, SecretError::Store { .. }));
    let text = error.to_string();
    assert!(
        text.starts_with(&format!(
            "secret aws-sm:{arn}: GetSecretValue: ResourceNotFoundException"
        )),
        "{text}"
    );
    assert!(text.contains("check the ARN"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn env_and_file_references_are_read_locally() {
    let secrets = secrets(ManualClock::new()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret.txt");
    std::fs::write(&path, "from-a-file\n").unwrap();
    assert_eq!(secrets.read(&SecretRef::File(path)).await.unwrap().expose(), "from-a-file");
    let unset = SecretRef::Env("EXSYNC_TEST_SURELY_UNSET_VAR".into());
    assert!(matches!(secrets.read(&unset).await, Err(SecretError::MissingEnv { .. })));
}
