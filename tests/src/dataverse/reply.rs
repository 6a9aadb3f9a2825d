//! The outcome of one operation, before it becomes an HTTP response or a `$batch` part.

use axum::http::StatusCode;
use serde_json::Value;

use super::{errors::ApiError, store::EntityRef};

/// Status, headers and JSON body of one operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// Headers besides `OData-Version` and `Content-Type`, which are always added.
    pub headers: Vec<(&'static str, String)>,
    /// JSON body, if any.
    pub body: Option<Value>,
    /// The record the operation created or addressed (a `Content-ID` names it in a changeset).
    pub entity: Option<EntityRef>,
}

impl Reply {
    /// A JSON response.
    pub fn json(status: StatusCode, body: Value) -> Self {
        Self { status, headers: Vec::new(), body: Some(body), entity: None }
    }

    /// `204 No Content`.
    pub fn no_content() -> Self {
        Self { status: StatusCode::NO_CONTENT, headers: Vec::new(), body: None, entity: None }
    }

    /// Adds a header.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// Records the addressed entity.
    pub fn entity(mut self, entity: EntityRef) -> Self {
        self.entity = Some(entity);
        self
    }

    /// Whether the operation failed.
    pub fn failed(&self) -> bool {
        self.status.is_client_error() || self.status.is_server_error()
    }
}

impl From<ApiError> for Reply {
    fn from(error: ApiError) -> Self {
        Self {
            status: error.status,
            headers: error.headers.clone(),
            body: Some(error.body()),
            entity: None,
        }
    }
}
