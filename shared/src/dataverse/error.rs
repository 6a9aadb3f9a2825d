//! What can go wrong talking to Dataverse, and whether a retry can help.
//!
//! Every Dataverse error carries `{"error":{"code","message"}}` (reference A8); `code` is often
//! empty and does not follow the HTTP status, so classification reads both (A5, A8).

use std::time::Duration;

use crate::ports::TokenError;

/// DuplicateRecord: a create whose key exists (A5: the service sends it with 412; A8).
pub const DUPLICATE_RECORD: &str = "0x80040237";
/// DuplicateRecordEntityKey: a duplicate on an alternate key (A8).
pub const DUPLICATE_ENTITY_KEY: &str = "0x80060892";
/// Service protection codes (A7): requests, execution time, concurrency.
pub const THROTTLING_CODES: [&str; 3] = ["0x80072322", "0x80072321", "0x80072326"];
/// PrivilegeDenied (A8).
pub const PRIVILEGE_DENIED: &str = "0x80040220";
/// UserNotMemberOfOrg: the token's app has no application user in the environment.
const NOT_A_MEMBER: &str = "0x80072560";
/// The application user is disabled.
const USER_DISABLED: &str = "0x80040225";

/// The wait when a 429 comes without a usable `Retry-After` (the A7 sample backs off from 2 s).
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

/// An error answer of the Web API: HTTP status plus the body's code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// `error.code` (hex such as `0x80040237`; may be empty).
    pub code: String,
    /// `error.message`.
    pub message: String,
    /// `Retry-After`, when the answer had one.
    pub retry_after: Option<Duration>,
}

/// What an error means for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Service protection (429): come back after `retry_after`; not a failure.
    Throttled {
        /// How long to stay away.
        retry_after: Duration,
    },
    /// An outage, a timeout, a 5xx: trying again later helps.
    Transient,
    /// The record already exists (create-only on an existing key).
    Duplicate,
    /// The addressed record does not exist.
    NotFound,
    /// Dataverse refused the data (400): a bug or bad data; trying again cannot help.
    Invalid,
    /// 401/403: an administrator must act (application user, security role).
    Auth,
}

impl ApiError {
    /// Reads an error answer; a body that is not the documented JSON keeps its text (trimmed).
    pub fn parse(status: u16, retry_after: Option<Duration>, body: &str) -> Self {
        #[derive(serde::Deserialize)]
        struct Envelope {
            error: Inner,
        }
        #[derive(serde::Deserialize)]
        struct Inner {
            #[serde(default)]
            code: String,
            #[serde(default)]
            message: String,
        }
        match serde_json::from_str::<Envelope>(body) {
            Ok(Envelope { error }) => {
                Self { status, code: error.code, message: error.message, retry_after }
            }
            Err(_) => Self {
                status,
                code: String::new(),
                message: body.trim().chars().take(500).collect(),
                retry_after,
            },
        }
    }

    /// What this error means for the caller.
    pub fn class(&self) -> ErrorClass {
        let code = self.code.to_ascii_lowercase();
        if self.status == 429 || THROTTLING_CODES.contains(&code.as_str()) {
            return ErrorClass::Throttled {
                retry_after: self.retry_after.unwrap_or(DEFAULT_RETRY_AFTER),
            };
        }
        if code == DUPLICATE_RECORD || code == DUPLICATE_ENTITY_KEY {
            return ErrorClass::Duplicate;
        }
        match self.status {
            401 | 403 => ErrorClass::Auth,
            // 412 without a code is the docs' create-only answer (A5); a version mismatch also
            // answers 412 but exsync never sends `If-Match` with a version.
            412 => ErrorClass::Duplicate,
            404 => ErrorClass::NotFound,
            408 | 500..=599 => ErrorClass::Transient,
            _ => ErrorClass::Invalid,
        }
    }

    /// The column a validation message names (`The length of the 'subject' attribute ...`,
    /// `Could not find a property named 'x'`, `Attribute 'x' of entity ...`), if any.
    pub fn field(&self) -> Option<&str> {
        const MARKERS: [(&str, &str); 4] = [
            ("property named '", "'"),
            ("attribute '", "'"),
            ("the '", "' attribute"),
            ("of '", "' on record"),
        ];
        let lower = self.message.to_ascii_lowercase();
        let quoted = MARKERS.iter().find_map(|(start, end)| {
            let from = lower.find(start)? + start.len();
            let len = lower[from..].find(end)?;
            Some(&self.message[from..from + len]).filter(|f| !f.is_empty() && !f.contains(' '))
        });
        // "4 is not a valid status code for state code EmailState.Open on email ..." (A2).
        quoted.or_else(|| lower.contains("is not a valid status code").then_some("statuscode"))
    }

    /// What an administrator should do about an authorization failure.
    fn advice(&self) -> &'static str {
        match self.code.to_ascii_lowercase().as_str() {
            NOT_A_MEMBER => {
                return " (the app in [dataverse] is not an application user of this \
                        environment: add it in the Power Platform admin center, Environment > \
                        Settings > Users + permissions > Application users, with a security \
                        role)";
            }
            USER_DISABLED => {
                return " (exsync's application user is disabled in this environment: enable \
                        it in the Power Platform admin center, Application users)";
            }
            _ => {}
        }
        match self.status {
            401 => {
                " (the environment refused exsync's token: check that the app in [dataverse] \
                 is an application user of this environment and that its credential is current)"
            }
            403 => {
                " (exsync's application user lacks a privilege: give it a security role with \
                 create, read and write on email, activityparty and the party tables)"
            }
            _ => "",
        }
    }
}

/// A Dataverse call that failed. Messages name the operation and never carry a token.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DataverseError {
    /// Dataverse answered with an error.
    #[error("Dataverse {operation}: HTTP {} {}: {}{}", api.status, api.code, api.message, api.advice())]
    Api {
        /// What was attempted (`POST emails`, `$batch of 3`).
        operation: String,
        /// The answer.
        api: ApiError,
    },
    /// No answer: connection failure or timeout.
    #[error("Dataverse {operation}: no answer: {message}")]
    Transport {
        /// What was attempted.
        operation: String,
        /// Why (from the HTTP client, without the URL).
        message: String,
    },
    /// An answer that does not follow the protocol (malformed `$batch`, missing header).
    #[error("Dataverse {operation}: unexpected answer: {message}")]
    Protocol {
        /// What was attempted.
        operation: String,
        /// What was wrong with it.
        message: String,
    },
    /// Not sent: service protection asked this client to stay away a while longer.
    #[error("Dataverse {operation}: not sent, service protection asks to wait {remaining:?} more")]
    Paused {
        /// What was attempted.
        operation: String,
        /// How long the pause still lasts.
        remaining: Duration,
    },
    /// No token for the environment.
    #[error("Dataverse {operation}: {source}")]
    Token {
        /// What was attempted.
        operation: String,
        /// The token service's answer (boxed: it is large and rare).
        source: Box<TokenError>,
    },
}

impl DataverseError {
    /// What this error means for the caller (the one method the worker reads).
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Api { api, .. } => api.class(),
            Self::Transport { .. } | Self::Protocol { .. } => ErrorClass::Transient,
            Self::Paused { remaining, .. } => ErrorClass::Throttled { retry_after: *remaining },
            Self::Token { source, .. } => match source.retry_after {
                Some(wait) => ErrorClass::Throttled { retry_after: wait },
                None if source.retryable => ErrorClass::Transient,
                None => ErrorClass::Auth,
            },
        }
    }

    /// The Dataverse answer, when there was one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Self::Api { api, .. } => Some(api),
            _ => None,
        }
    }
}

/// Reads `Retry-After` as integer seconds (the form A7 documents).
pub fn parse_retry_after(value: Option<&str>) -> Option<Duration> {
    value?.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_classified_by_status_and_code() {
        let throttled = ApiError::parse(
            429,
            Some(Duration::from_secs(7)),
            r#"{"error":{"code":"0x80072322","message":"Number of requests exceeded the limit of 6000 over time window of 300 seconds."}}"#,
        );
        assert_eq!(
            throttled.class(),
            ErrorClass::Throttled { retry_after: Duration::from_secs(7) }
        );
        let concurrency = ApiError::parse(429, None, r#"{"error":{"code":"0x80072326"}}"#);
        assert_eq!(concurrency.class(), ErrorClass::Throttled { retry_after: DEFAULT_RETRY_AFTER });
        let duplicate = ApiError::parse(
            412,
            None,
            r#"{"error":{"code":"0x80040237","message":"A record with matching key values already exists."}}"#,
        );
        assert_eq!(duplicate.class(), ErrorClass::Duplicate);
        assert_eq!(
            ApiError::parse(412, None, r#"{"error":{"code":""}}"#).class(),
            ErrorClass::Duplicate
        );
        assert_eq!(
            ApiError::parse(503, None, "Service Unavailable").class(),
            ErrorClass::Transient
        );
        assert_eq!(ApiError::parse(403, None, "{}").class(), ErrorClass::Auth);
        assert_eq!(ApiError::parse(401, None, "").class(), ErrorClass::Auth);
        assert_eq!(ApiError::parse(404, None, "").class(), ErrorClass::NotFound);
        assert_eq!(ApiError::parse(400, None, "").class(), ErrorClass::Invalid);
    }

    #[test]
    fn a_validation_message_names_its_field() {
        let too_long = ApiError::parse(
            400,
            None,
            r#"{"error":{"code":"0x80044331","message":"A validation error occurred.  The length of the 'subject' attribute of the 'email' entity exceeded the maximum allowed length of '800'."}}"#,
        );
        assert_eq!(too_long.field(), Some("subject"));
        let unknown = ApiError::parse(
            400,
            None,
            r#"{"error":{"code":"0x80060888","message":"Could not find a property named 'subjekt' on type 'Microsoft.Dynamics.CRM.email'."}}"#,
        );
        assert_eq!(unknown.field(), Some("subjekt"));
        let required = ApiError::parse(
            400,
            None,
            r#"{"error":{"message":"Attribute 'statuscode' of entity 'email' cannot be NULL."}}"#,
        );
        assert_eq!(required.field(), Some("statuscode"));
        assert_eq!(ApiError::parse(400, None, "bad").field(), None);
    }

    #[test]
    fn auth_errors_tell_the_admin_what_to_do() {
        let error = DataverseError::Api {
            operation: "POST emails".into(),
            api: ApiError::parse(403, None, r#"{"error":{"code":"0x80040220","message":"no"}}"#),
        };
        let text = error.to_string();
        assert!(text.contains("security role"), "{text}");
        assert_eq!(error.class(), ErrorClass::Auth);
    }

    #[test]
    fn a_throttled_or_failing_token_service_is_waited_for_and_a_refusal_needs_an_admin() {
        let token = |retryable, retry_after| DataverseError::Token {
            operation: "GET contacts".into(),
            source: Box::new(TokenError {
                key: crate::ports::CredentialKey::Dataverse,
                code: None,
                message: "no".into(),
                retryable,
                retry_after,
            }),
        };
        let wait = Duration::from_secs(60);
        assert_eq!(token(true, Some(wait)).class(), ErrorClass::Throttled { retry_after: wait });
        assert_eq!(token(true, None).class(), ErrorClass::Transient);
        assert_eq!(token(false, None).class(), ErrorClass::Auth);
    }

    #[test]
    fn retry_after_is_read_as_seconds() {
        assert_eq!(parse_retry_after(Some(" 12 ")), Some(Duration::from_secs(12)));
        assert_eq!(parse_retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")), None);
        assert_eq!(parse_retry_after(None), None);
    }
}
