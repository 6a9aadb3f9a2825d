//! The `Secrets` port with `aws-sm:` references read from AWS Secrets Manager (`env:` and
//! `file:` as [`LocalSecrets`] reads them).
//!
//! `aws-sm:ARN` is the secret's string; `aws-sm:ARN#key` is the string under `key` of a
//! secret that holds a JSON object (`#` cannot occur in an ARN). Values are kept in memory for
//! [`DEFAULT_FRESH_FOR`], so a rotated secret is read within that time of its rotation.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{
    env,
    error::{AwsFailure, classify},
};
use crate::{
    ports::{Clock, Secrets, SystemClock},
    secret::{LocalSecrets, Secret, SecretError, SecretRef},
};

/// How long a value read from Secrets Manager is used before it is read again.
pub const DEFAULT_FRESH_FOR: Duration = Duration::from_secs(60);

/// Reads secrets, `aws-sm:` ones from Secrets Manager.
pub struct SecretsManagerSecrets {
    client: aws_sdk_secretsmanager::Client,
    clock: Arc<dyn Clock>,
    fresh_for: Duration,
    cache: Mutex<HashMap<String, (Secret, OffsetDateTime)>>,
}

impl std::fmt::Debug for SecretsManagerSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretsManagerSecrets")
            .field("fresh_for", &self.fresh_for)
            .finish_non_exhaustive()
    }
}

impl SecretsManagerSecrets {
    /// Reads through `client`, keeping values for [`DEFAULT_FRESH_FOR`] by the system clock.
    pub fn new(client: aws_sdk_secretsmanager::Client) -> Self {
        Self {
            client,
            clock: Arc::new(SystemClock),
            fresh_for: DEFAULT_FRESH_FOR,
            cache: Mutex::default(),
        }
    }

    /// With the SDK configured from the environment.
    pub async fn from_env() -> Self {
        Self::new(aws_sdk_secretsmanager::Client::new(&env::sdk_config().await))
    }

    /// Keeps values for `fresh_for` by `clock`.
    pub fn with_freshness(mut self, fresh_for: Duration, clock: Arc<dyn Clock>) -> Self {
        self.fresh_for = fresh_for;
        self.clock = clock;
        self
    }

    /// The whole secret string of `arn`, from memory while fresh.
    async fn secret_string(&self, reference: &SecretRef, arn: &str) -> Result<Secret, SecretError> {
        let now = self.clock.now();
        if let Some((value, read_at)) = self.cache.lock().expect("cache lock").get(arn)
            && now - *read_at < self.fresh_for
        {
            return Ok(value.clone());
        }
        let answer = self
            .client
            .get_secret_value()
            .secret_id(arn)
            .send()
            .await
            .map_err(|e| store_error(reference, classify("GetSecretValue", &e)))?;
        let value = match (answer.secret_string, answer.secret_binary) {
            (Some(text), _) => Secret::new(text),
            (None, Some(bytes)) => {
                Secret::new(String::from_utf8(bytes.into_inner()).map_err(|_| {
                    refused(
                        reference,
                        "the secret is binary and not UTF-8 text; store it as a string",
                    )
                })?)
            }
            (None, None) => return Err(refused(reference, "the secret has no value")),
        };
        self.cache.lock().expect("cache lock").insert(arn.to_string(), (value.clone(), now));
        Ok(value)
    }
}

fn refused(reference: &SecretRef, reason: &str) -> SecretError {
    SecretError::Store { reference: reference.clone(), reason: reason.into(), retryable: false }
}

fn store_error(reference: &SecretRef, failure: AwsFailure) -> SecretError {
    let hint = match failure.code.as_deref() {
        Some("ResourceNotFoundException") => {
            "; check the ARN, and that the secret has a current value"
        }
        Some("AccessDeniedException") => {
            "; the function's role needs secretsmanager:GetSecretValue on it (and kms:Decrypt for a \
             customer managed key)"
        }
        Some("DecryptionFailure") => "; the function's role needs kms:Decrypt on the secret's key",
        _ => "",
    };
    SecretError::Store {
        reference: reference.clone(),
        reason: format!("{}{hint}", failure.message),
        retryable: failure.retryable,
    }
}

/// The string under `key` of a secret holding a JSON object. Errors name the key, never the
/// value.
fn select(reference: &SecretRef, secret: &Secret, key: &str) -> Result<Secret, SecretError> {
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(secret.expose())
        .map_err(|_| refused(reference, "the secret is not a JSON object, so it has no keys"))?;
    match object.get(key) {
        Some(serde_json::Value::String(value)) => Ok(Secret::new(value.clone())),
        Some(_) => Err(refused(reference, &format!("the value under {key:?} is not a string"))),
        None => Err(refused(reference, &format!("the secret has no key {key:?}"))),
    }
}

#[async_trait]
impl Secrets for SecretsManagerSecrets {
    async fn read(&self, reference: &SecretRef) -> Result<Secret, SecretError> {
        let SecretRef::AwsSecretsManager(name) = reference else {
            return LocalSecrets.read(reference);
        };
        let (arn, key) = match name.split_once('#') {
            Some((arn, key)) => (arn, Some(key)),
            None => (name.as_str(), None),
        };
        let secret = self.secret_string(reference, arn).await?;
        match key {
            Some(key) => select(reference, &secret, key),
            None => Ok(secret),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_selects_a_string_of_a_json_secret_and_errors_never_show_values() {
        let reference =
            SecretRef::AwsSecretsManager("arn:aws:secretsmanager:eu-west-1:1:secret:x#k".into());
        let secret = Secret::new(r#"{"client_secret":"hunter2","n":5}"#);
        assert_eq!(select(&reference, &secret, "client_secret").unwrap().expose(), "hunter2");
        for (secret, key) in [(&secret, "n"), (&secret, "absent"), (&Secret::new("hunter2"), "k")] {
            let error = select(&reference, secret, key).unwrap_err().to_string();
            assert!(!error.contains("hunter2"), "{error}");
            assert!(error.starts_with("secret aws-sm:arn:aws:secretsmanager"), "{error}");
        }
    }
}
