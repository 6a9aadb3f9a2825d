//! What went wrong talking to Graph, on which mailbox, and what the handlers should do about
//! it ([`GraphError::class`]). The `Display` text is the reason an admin reads: it names the
//! Graph error code (never matched on `message`), the request id, and what to do.

use std::{fmt, time::Duration};

use crate::{
    domain::{ClientId, MailboxAddress},
    ports::{LimitError, TokenError},
};

/// How long to wait when Graph throttled without saying for how long.
pub const DEFAULT_THROTTLE: Duration = Duration::from_secs(30);

/// Which Graph call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// A page of a folder's message delta.
    Delta,
    /// GET one message.
    GetMessage,
    /// List a message's attachments.
    ListAttachments,
    /// POST /subscriptions.
    CreateSubscription,
    /// PATCH /subscriptions/{id}.
    RenewSubscription,
    /// DELETE /subscriptions/{id}.
    DeleteSubscription,
    /// POST /subscriptions/{id}/reauthorize.
    ReauthorizeSubscription,
    /// GET /subscriptions/{id}.
    GetSubscription,
    /// GET one mail folder (Test & Enable).
    GetFolder,
}

impl Operation {
    /// Whether the call is about a subscription (a 404 then means the subscription is gone).
    pub fn is_subscription(self) -> bool {
        !matches!(self, Self::Delta | Self::GetMessage | Self::ListAttachments | Self::GetFolder)
    }

    /// Application roles that allow the call (reference graph.md 11.1: subscriptions need the
    /// read permission itself, write permissions do not substitute; reauthorize needs Mail.Read).
    pub(crate) fn accepted_roles(self) -> &'static [&'static str] {
        match self {
            Self::Delta | Self::GetMessage | Self::ListAttachments | Self::GetFolder => {
                &["Mail.Read", "Mail.ReadWrite"]
            }
            _ => &["Mail.Read"],
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Delta => "delta query",
            Self::GetMessage => "message read",
            Self::ListAttachments => "attachment list",
            Self::CreateSubscription => "subscription create",
            Self::RenewSubscription => "subscription renewal",
            Self::DeleteSubscription => "subscription delete",
            Self::ReauthorizeSubscription => "subscription reauthorization",
            Self::GetSubscription => "subscription read",
            Self::GetFolder => "mail folder read",
        })
    }
}

/// Why Graph answered 403.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// The token lacks the application role the call needs.
    MissingRole {
        /// The role to grant.
        needed: &'static str,
    },
    /// The token has the role, so an application access policy or an RBAC for Applications
    /// scope keeps the app out of this mailbox (reference graph.md 11.2).
    AccessPolicy,
    /// Some other refusal (e.g. the 1,000 subscriptions per mailbox quota).
    Other,
}

/// Graph's answer to a failed request (error body of reference graph.md 10.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// `error.code`: the machine key.
    pub code: String,
    /// `error.message`: for humans only.
    pub message: String,
    /// `request-id`, for Microsoft support.
    pub request_id: Option<String>,
    /// `Retry-After`.
    pub retry_after: Option<Duration>,
    /// A 410 with `Location`: Graph reset the sync state (reference 6.2).
    pub reset: bool,
    /// For a 403 `ErrorAccessDenied`: which refusal it is.
    pub denial: Option<Denial>,
}

/// What failed underneath.
#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    /// Graph answered with an error.
    #[error("{}", api_text(.0))]
    Api(Box<ApiError>),
    /// No answer: connection failed, broke or timed out.
    #[error("no answer from Graph ({message})")]
    Transport {
        /// What the HTTP client said.
        message: String,
        /// Whether the request was sent, so Graph may have carried it out.
        maybe_done: bool,
    },
    /// No token.
    #[error("{0}")]
    Token(Box<TokenError>),
    /// A success whose body is not what Graph sends.
    #[error("Graph's answer could not be read: {0}")]
    Decode(String),
    /// No request slot.
    #[error("{0}")]
    Limit(Box<LimitError>),
    /// A next/delta link that points outside `graph_url` (the token is not sent there).
    #[error("refused a link to {0}, which is not under the configured graph_url")]
    ForeignLink(String),
}

fn api_text(e: &ApiError) -> String {
    let id = e.request_id.as_deref().map(|id| format!(", request-id {id}")).unwrap_or_default();
    format!("HTTP {} {}{id}: {}", e.status, e.code, e.message)
}

/// A failed Graph call.
#[derive(Debug)]
pub struct GraphError {
    /// The call.
    pub operation: Operation,
    /// The mailbox it was for.
    pub mailbox: MailboxAddress,
    /// The app it was made as.
    pub app: ClientId,
    /// What failed.
    pub kind: ErrorKind,
}

/// How a failure should be handled; the one classification the handlers read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorClass {
    /// 429, or 503: come back after `retry_after` (or a backoff when Graph gave none).
    Throttled {
        /// Graph's `Retry-After`.
        retry_after: Option<Duration>,
    },
    /// 5xx, timeouts, connection failures: retry with backoff.
    Transient,
    /// The delta token expired or was reset: start the folder over.
    DeltaExpired,
    /// Something is not there.
    NotFound(Missing),
    /// 403: an admin must grant or widen access.
    AccessDenied(Denial),
    /// 401 even with a fresh token.
    Unauthorized,
    /// The user has no Exchange Online mailbox.
    MailboxNotEnabled,
    /// No token: the token service's verdict on retrying.
    Credential {
        /// Whether asking again later can help.
        retryable: bool,
    },
    /// Graph refused the request as malformed; retrying the same request cannot help.
    Rejected,
}

/// What a 404 says is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// The message (deleted, or moved without an immutable id).
    Item,
    /// The user (mailbox address) in the tenant.
    User,
    /// The subscription.
    Subscription,
    /// Some other resource.
    Resource,
}

impl GraphError {
    /// The classification handlers act on.
    pub fn class(&self) -> ErrorClass {
        match &self.kind {
            ErrorKind::Api(api) => classify(self.operation, api),
            ErrorKind::Transport { .. } | ErrorKind::Decode(_) => ErrorClass::Transient,
            // Entra throttled the token request: wait as it asked.
            ErrorKind::Token(e) if e.retry_after.is_some() => {
                ErrorClass::Throttled { retry_after: e.retry_after }
            }
            ErrorKind::Token(e) => ErrorClass::Credential { retryable: e.retryable },
            ErrorKind::Limit(e) => ErrorClass::Throttled { retry_after: Some(e.retry_after) },
            ErrorKind::ForeignLink(_) => ErrorClass::Rejected,
        }
    }

    /// Graph's error code, when Graph answered.
    pub fn code(&self) -> Option<&str> {
        match &self.kind {
            ErrorKind::Api(api) => Some(&api.code),
            _ => None,
        }
    }

    fn advice(&self) -> Option<String> {
        let (mailbox, app) = (&self.mailbox, &self.app);
        Some(match self.class() {
            ErrorClass::AccessDenied(Denial::MissingRole { needed }) => format!(
                "the app {app} has no {needed} application permission: grant it in Entra ID \
                 (API permissions > Microsoft Graph > Application permissions) and give admin \
                 consent"
            ),
            ErrorClass::AccessDenied(Denial::AccessPolicy) => format!(
                "the app {app} holds the permission, so an Exchange application access policy \
                 (or an RBAC for Applications scope) keeps it out of {mailbox}: add the mailbox \
                 to the policy's group or scope (check with Test-ApplicationAccessPolicy \
                 -Identity {mailbox} -AppId {app}); changes take up to 30 minutes"
            ),
            ErrorClass::AccessDenied(_) => format!(
                "Graph refused the app {app} for {mailbox}: check its permissions, application \
                 access policies and the 1,000 subscriptions per mailbox quota"
            ),
            ErrorClass::MailboxNotEnabled => format!(
                "{mailbox} has no Exchange Online mailbox (unlicensed, on-premises, \
                 soft-deleted or not yet provisioned): license it or remove it from the \
                 configuration"
            ),
            ErrorClass::NotFound(Missing::User) => format!(
                "there is no user {mailbox} in the profile's tenant: check the address and the \
                 profile's tenant_id"
            ),
            ErrorClass::Unauthorized => "Graph rejected a freshly issued token: check that the \
                 profile's tenant_id is the mailbox's tenant and that cloud.graph_url is the \
                 cloud the app is registered in"
                .to_string(),
            _ => return None,
        })
    }
}

impl fmt::Display for GraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Graph {} for {}: {}", self.operation, self.mailbox, self.kind)?;
        if let Some(advice) = self.advice() {
            write!(f, ". {advice}")?;
        }
        Ok(())
    }
}

impl std::error::Error for GraphError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.kind)
    }
}

fn classify(operation: Operation, api: &ApiError) -> ErrorClass {
    let code = api.code.as_str();
    let is = |known: &str| code.eq_ignore_ascii_case(known);
    if is("MailboxNotEnabledForRESTAPI") {
        return ErrorClass::MailboxNotEnabled;
    }
    // Reference 6.2: "a 40X-series error" with syncStateNotFound (or resyncRequired), and
    // 410 Gone with a Location for a reset.
    if is("syncStateNotFound") || is("resyncRequired") || api.status == 410 {
        return ErrorClass::DeltaExpired;
    }
    match api.status {
        429 | 503 => ErrorClass::Throttled { retry_after: api.retry_after },
        408 | 500..=599 => ErrorClass::Transient,
        401 => ErrorClass::Unauthorized,
        403 => ErrorClass::AccessDenied(api.denial.clone().unwrap_or(Denial::Other)),
        404 if is("ErrorItemNotFound") => ErrorClass::NotFound(Missing::Item),
        404 if is("ErrorInvalidUser") => ErrorClass::NotFound(Missing::User),
        404 if operation.is_subscription() => ErrorClass::NotFound(Missing::Subscription),
        404 => ErrorClass::NotFound(Missing::Resource),
        _ => ErrorClass::Rejected,
    }
}

#[cfg(test)]
mod tests;
