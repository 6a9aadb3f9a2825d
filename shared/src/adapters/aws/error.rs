//! AWS SDK errors, read once: what failed (operation, AWS error code, message) and whether a
//! retry can help. Every adapter turns the result into its port's error.

use std::error::Error;

use aws_sdk_sqs::{
    config::http::HttpResponse,
    error::{DisplayErrorContext, ProvideErrorMetadata, SdkError},
};

/// An AWS call that failed, classified. Its text carries the AWS error code and message,
/// which never contain an item's or a secret's value (no adapter asks AWS to return the old
/// item on a failed condition).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AwsFailure {
    /// The AWS error code (`ThrottlingException`, `ResourceNotFoundException`), if AWS answered.
    pub code: Option<String>,
    /// The HTTP status, if AWS answered.
    pub status: Option<u16>,
    /// "`operation`: what AWS or the transport said".
    pub message: String,
    /// Whether the same call may succeed later.
    pub retryable: bool,
}

/// Error codes of throttling and of brief unavailability across SQS, DynamoDB, Secrets
/// Manager and Lambda, whatever HTTP status carries them.
const TRANSIENT_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "RequestThrottled",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
    "TooManyRequestsException",
    "TransactionConflictException",
    "LimitExceededException",
    "InternalFailure",
    "InternalServerError",
    "InternalError",
    "ServiceUnavailable",
    "ServiceException",
    "KMSThrottlingException",
    "EC2ThrottledException",
    "ResourceNotReadyException",
    "ResourceConflictException",
];

/// Classifies a failed SDK call of `operation`.
pub(crate) fn classify<E>(operation: &str, error: &SdkError<E, HttpResponse>) -> AwsFailure
where
    E: ProvideErrorMetadata + Error + Send + Sync + 'static,
{
    match error {
        SdkError::ServiceError(service) => service_failure(
            operation,
            error.code(),
            error.message(),
            service.raw().status().as_u16(),
        ),
        // The request was never sent: a bug or a bad configuration, not a passing condition.
        SdkError::ConstructionFailure(_) => AwsFailure {
            code: None,
            status: None,
            message: format!("{operation}: {}", DisplayErrorContext(error)),
            retryable: false,
        },
        // Timeouts, connection failures, garbled responses: the network or AWS, later.
        _ => AwsFailure {
            code: None,
            status: error.raw_response().map(|r| r.status().as_u16()),
            message: format!("{operation}: {}", DisplayErrorContext(error)),
            retryable: true,
        },
    }
}

/// An error response of AWS: throttling and server errors are worth a retry, the rest
/// (not found, access denied, validation) needs a fix first.
fn service_failure(
    operation: &str,
    code: Option<&str>,
    text: Option<&str>,
    status: u16,
) -> AwsFailure {
    let retryable =
        status == 429 || status >= 500 || code.is_some_and(|c| TRANSIENT_CODES.contains(&c));
    let text = text.unwrap_or("no message");
    let message = match code {
        Some(code) => format!("{operation}: {code}: {text}"),
        None => format!("{operation}: HTTP {status}: {text}"),
    };
    AwsFailure { code: code.map(str::to_string), status: Some(status), message, retryable }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_and_server_errors_are_retryable_the_rest_needs_a_fix() {
        let throttled = service_failure("PutItem", Some("ThrottlingException"), Some("slow"), 400);
        assert!(throttled.retryable);
        assert_eq!(throttled.message, "PutItem: ThrottlingException: slow");
        assert!(service_failure("Invoke", None, None, 503).retryable);
        assert!(service_failure("Invoke", Some("TooManyRequestsException"), None, 429).retryable);
        let missing =
            service_failure("GetSecretValue", Some("ResourceNotFoundException"), None, 400);
        assert!(!missing.retryable);
        assert_eq!(missing.code.as_deref(), Some("ResourceNotFoundException"));
        assert!(!service_failure("SendMessage", Some("AccessDenied"), Some("no"), 403).retryable);
    }
}
