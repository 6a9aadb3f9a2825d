//! Graph's wire errors: `{"error":{"code","message","innerError":{...}}}` (reference 10.1) with
//! the codes of reference 10.2, and the headers that go with some of them.

use axum::http::StatusCode;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::{dates, ids::IdError};

impl From<IdError> for GraphError {
    fn from(e: IdError) -> Self {
        match e {
            IdError::Malformed => Self::id_malformed(),
            IdError::NotFound => Self::item_not_found(),
            // Exchange's answer for an id of another mailbox, with 404
            // (MicrosoftDocs/BusinessApplicationPlatform-Connectors-public#80 for the body;
            // OfficeDev/office-js#3093 for the status).
            IdError::OtherMailbox => Self::new(
                StatusCode::NOT_FOUND,
                "ErrorInvalidMailboxItemId",
                "Item Id doesn't belong to the current mailbox.",
            ),
        }
    }
}

/// One failed request, rendered by [`GraphError::body`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GraphError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    /// `Retry-After` seconds (429, 503).
    pub retry_after: Option<u64>,
    /// `Location` (the 410 sync reset of reference 6.2).
    pub location: Option<String>,
    /// Render the throttling body of reference 9.2 (its own `innerError` layout).
    pub throttle_body: bool,
}

impl GraphError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_string(),
            message: message.into(),
            retry_after: None,
            location: None,
            throttle_body: false,
        }
    }

    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// 400 `BadRequest`, Graph's generic code for a malformed request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// 400 `InvalidRequest`, used by the subscription service (reference 1.4).
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidRequest", message)
    }

    /// 401 `InvalidAuthenticationToken` with the reason (reference 10.2).
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "InvalidAuthenticationToken", message)
    }

    /// 403 for a token without the role an operation needs (reference 10.3). The message is
    /// the one Exchange Online returns for app-only calls without the permission.
    pub fn access_denied() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "ErrorAccessDenied",
            "Access is denied. Check credentials and try again.",
        )
    }

    /// 403 for an app that an application access policy (or RBAC scope) keeps out of this
    /// mailbox (reference 11.2; docs: concepts/auth-limit-mailbox-access.md).
    pub fn odata_disabled() -> Self {
        Self::new(StatusCode::FORBIDDEN, "ErrorAccessDenied", "Access to OData is disabled.")
    }

    /// 404 for a user that does not exist in the token's tenant. Graph answers
    /// `ErrorInvalidUser` "The requested user '…' is invalid." with 404 (seen in
    /// microsoftgraph/microsoft-graph-docs#4097 and #7909, the latter with the 404 status).
    pub fn invalid_user(user: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ErrorInvalidUser",
            format!("The requested user '{user}' is invalid."),
        )
    }

    /// 404 for a user without an Exchange Online mailbox (reference 10.2; the status is
    /// UNCONFIRMED there, sometimes 401/403).
    pub fn mailbox_not_enabled() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "MailboxNotEnabledForRESTAPI",
            "REST API is not yet supported for this mailbox.",
        )
    }

    /// 404 for an item id that is unknown, deleted, or stale after a move (reference 10.2).
    pub fn item_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ErrorItemNotFound",
            "The specified object was not found in the store.",
        )
    }

    /// 400 for an id that is not an Exchange id at all. UNCONFIRMED wording; the code is the
    /// one Exchange uses for undecodable ids.
    pub fn id_malformed() -> Self {
        Self::new(StatusCode::BAD_REQUEST, "ErrorInvalidIdMalformed", "Id is malformed.")
    }

    /// 404 `ResourceNotFound` (reference 10.2: e.g. a deleted subscription id).
    pub fn resource_not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "ResourceNotFound", message)
    }

    /// 400 for a path segment Graph does not know. UNCONFIRMED wording (OData's
    /// "Resource not found for the segment" as commonly seen).
    pub fn unknown_segment(segment: &str) -> Self {
        Self::bad_request(format!("Resource not found for the segment '{segment}'."))
    }

    /// 405 for a known path with a method it does not support.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Request_BadRequest",
            "Specified HTTP method is not allowed for the request target.",
        )
    }

    /// 429 with the body of reference 9.2.
    pub fn too_many_requests(retry_after: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "Please retry again later.",
        )
        .with_retry_after(retry_after);
        e.throttle_body = true;
        e
    }

    /// 429 for the fifth concurrent request of one app on one mailbox (reference 9.2; the
    /// message as Exchange words it, e.g. quoted by the Ruby client `ms_graph_rest`).
    pub fn mailbox_concurrency(retry_after: u64) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "ApplicationThrottled",
            "Application is over its MailboxConcurrency limit.",
        )
        .with_retry_after(retry_after)
    }

    /// The JSON body, with `innerError` carrying the request ids and the date.
    pub fn body(&self, request_id: &str, client_request_id: &str, now: OffsetDateTime) -> Value {
        let date = dates::inner_error_date(now);
        let inner = if self.throttle_body {
            json!({
                "code": self.status.as_u16().to_string(),
                "date": date,
                "message": "Please retry after",
                "request-id": request_id,
                "status": self.status.as_u16().to_string(),
            })
        } else {
            json!({
                "date": date,
                "request-id": request_id,
                "client-request-id": client_request_id,
            })
        };
        json!({"error": {"code": self.code, "message": self.message, "innerError": inner}})
    }
}
