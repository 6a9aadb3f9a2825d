//! The `Tokens` port on AWS: invoke the `tokens` function, the one place that holds client
//! secrets and certificates (DESIGN: tokens). Callers put a
//! [`CachingTokens`](crate::entra::CachingTokens) in front, so the function is invoked about
//! once an hour per credential and API.

use async_trait::async_trait;
use aws_sdk_lambda::primitives::Blob;
use tracing::instrument;

use super::{
    env::{self, MissingVariable},
    error::classify,
};
use crate::{
    ports::{AccessToken, CredentialKey, Resource, TokenError, Tokens},
    tokens_api::{TokenRequest, TokenResponse},
};

/// Gets tokens by invoking the `tokens` function.
#[derive(Debug, Clone)]
pub struct LambdaTokens {
    client: aws_sdk_lambda::Client,
    function: String,
}

impl LambdaTokens {
    /// Invokes `function` (name or ARN) through `client`.
    pub fn new(client: aws_sdk_lambda::Client, function: impl Into<String>) -> Self {
        Self { client, function: function.into() }
    }

    /// The function named by [`env::TOKENS_FUNCTION`], with the SDK configured from the
    /// environment.
    pub async fn from_env() -> Result<Self, MissingVariable> {
        let function =
            env::required(&env::process_env, env::TOKENS_FUNCTION, "the tokens function's name")?;
        Ok(Self::new(aws_sdk_lambda::Client::new(&env::sdk_config().await), function))
    }
}

/// What to say when the function itself failed (a panic, a timeout, out of memory): Lambda
/// answers `{"errorType": ..., "errorMessage": ...}`, which never holds a secret of ours.
fn function_failure(function: &str, kind: &str, payload: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Failure {
        #[serde(rename = "errorType", default)]
        error_type: String,
        #[serde(rename = "errorMessage", default)]
        error_message: String,
    }
    let detail = serde_json::from_slice::<Failure>(payload)
        .map(|f| {
            let message: String = f.error_message.chars().take(300).collect();
            format!("{}: {message}", f.error_type)
        })
        .unwrap_or_else(|_| "no details".into());
    format!("the tokens function {function} failed ({kind}): {detail}")
}

/// What to say about an answer that does not parse: where, never serde's text, which can
/// quote the answer, and the answer may hold a token.
fn unreadable(function: &str, error: &serde_json::Error) -> String {
    format!(
        "the tokens function {function} answered in a form this exsync cannot read ({:?} error \
         at line {}, column {}); a deployment may be under way",
        error.classify(),
        error.line(),
        error.column()
    )
}

#[async_trait]
impl Tokens for LambdaTokens {
    #[instrument(skip_all, fields(credential = %key, ?resource))]
    async fn token(
        &self,
        key: &CredentialKey,
        resource: Resource,
    ) -> Result<AccessToken, TokenError> {
        let request =
            serde_json::to_vec(&TokenRequest::new(key, resource)).expect("requests serialise");
        let answer = self
            .client
            .invoke()
            .function_name(&self.function)
            .payload(Blob::new(request))
            .send()
            .await
            .map_err(|e| {
                let failure = classify("Invoke", &e);
                let message = format!("the tokens function {}: {}", self.function, failure.message);
                TokenError {
                    retryable: failure.retryable,
                    ..TokenError::permanent(key, None, message)
                }
            })?;
        let payload = answer.payload.as_ref().map_or(&[][..], |b| b.as_ref());
        if let Some(kind) = answer.function_error.as_deref() {
            let message = function_failure(&self.function, kind, payload);
            return Err(TokenError::transient(key, None, message));
        }
        let response: TokenResponse = serde_json::from_slice(payload)
            .map_err(|e| TokenError::transient(key, None, unreadable(&self.function, &e)))?;
        response.into_result(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_crashed_function_is_explained_briefly() {
        let payload = br#"{"errorType":"Runtime.ExitError","errorMessage":"RequestId: 1 Error: Runtime exited"}"#;
        assert_eq!(
            function_failure("exsync-tokens", "Unhandled", payload),
            "the tokens function exsync-tokens failed (Unhandled): Runtime.ExitError: RequestId: 1 \
             Error: Runtime exited"
        );
        assert!(function_failure("f", "Unhandled", b"garbage").ends_with("no details"));
    }

    #[test]
    fn an_unreadable_answer_is_explained_without_quoting_it() {
        let answer = br#""eyJ0.a-bare-token-where-an-answer-belongs""#;
        let error = serde_json::from_slice::<TokenResponse>(answer).unwrap_err();
        assert!(error.to_string().contains("a-bare-token"), "serde would have quoted it");
        let message = unreadable("exsync-tokens", &error);
        assert!(!message.contains("a-bare-token"), "{message}");
        assert!(message.starts_with("the tokens function exsync-tokens answered in a form"));
    }
}
