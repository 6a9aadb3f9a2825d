//! The Web API's error responses: `{"error":{"code","message"}}` with the real codes.
//!
//! Shape: PAD `webapi/compose-http-requests-handle-errors.md` (reference A8). Every constructor
//! names its source; the ones marked UNCONFIRMED are our most plausible guess.

use axum::http::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

/// Code the OData layer uses for URI and payload problems it cannot map to a platform error.
/// Reference A8 (third-party observation); the 2022 support article
/// (MicrosoftDocs/SupportArticles-docs `support/power-platform/power-apps/web-api-client-errors.md`)
/// printed `0x0` for the same message.
pub const ODATA: &str = "0x80060888";

/// A refused request: HTTP status, Dataverse error code (hex string, may be empty) and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// `error.code`, e.g. `0x80044331`; empty where the docs show it empty.
    pub code: String,
    /// `error.message`.
    pub message: String,
    /// Extra response headers (`Retry-After` on 429).
    pub headers: Vec<(&'static str, String)>,
}

impl ApiError {
    /// Any error.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self { status, code: code.to_string(), message: message.into(), headers: Vec::new() }
    }

    /// 400 with a code.
    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        json!({"error": {"code": self.code, "message": self.message}})
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// 404 for a wrong entity set, function or action name (case sensitive). Source: the
    /// support article above ("Resource not found for the segment 'Account'.", `0x8006088a`).
    pub fn unknown_segment(segment: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "0x8006088a",
            format!("Resource not found for the segment '{segment}'."),
        )
    }

    /// 400 for an unknown property in `$select`, `$filter`, `$orderby` or the body. Message
    /// from the support article; code from reference A8.
    pub fn unknown_property(property: &str, logical: &str) -> Self {
        Self::bad_request(
            ODATA,
            format!(
                "Could not find a property named '{property}' on type 'Microsoft.Dynamics.CRM.{logical}'."
            ),
        )
    }

    /// 400 for a payload the OData reader refused. Code and prefix from the support article
    /// ("Error identified in Payload provided by the user for Entity :'contacts'", `0x80048d19`).
    pub fn payload(entity_set: &str, inner: impl std::fmt::Display) -> Self {
        Self::bad_request(
            "0x80048d19",
            format!(
                "Error identified in Payload provided by the user for Entity :'{entity_set}'  ---->  \
                 InnerException : Microsoft.OData.ODataException: {inner}"
            ),
        )
    }

    /// A bind to a navigation property the entity type does not declare (support article).
    pub fn undeclared_navigation(entity_set: &str, name: &str) -> Self {
        Self::payload(
            entity_set,
            format!(
                "An undeclared property '{name}' which only has property annotations in the payload \
                 but no property value was found in the payload. In OData, only declared navigation \
                 properties and declared named streams can be represented as properties without values."
            ),
        )
    }

    /// 404 ObjectDoesNotExist `0x80040217` (reference A8); message as in the docs' 404 example
    /// (`PAD:webapi/perform-conditional-operations-using-web-api.md`, which prints the code empty).
    pub fn record_not_found(logical: &str, id: Uuid) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "0x80040217",
            format!("{logical} With Id = {id} Does Not Exist"),
        )
    }

    /// 412 DuplicateRecord for a create whose key exists or `If-None-Match: *` on an existing
    /// record. Reference A5: the docs print the code empty, the service sends `0x80040237`;
    /// 412 is the status the compose-http doc lists for DuplicateRecord.
    pub fn duplicate() -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            "0x80040237",
            "A record with matching key values already exists.",
        )
    }

    /// 412 for `If-Match: W/"n"` that does not match (conditional-operations doc, code empty).
    pub fn version_mismatch() -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            "",
            "The version of the existing record doesn't match the RowVersion property provided.",
        )
    }

    /// 400 `0x80044331`: text from the `$batch` doc's example.
    pub fn too_long(attribute: &str, logical: &str, max: usize) -> Self {
        Self::bad_request(
            "0x80044331",
            format!(
                "A validation error occurred.  The length of the '{attribute}' attribute of the \
                 '{logical}' entity exceeded the maximum allowed length of '{max}'."
            ),
        )
    }

    /// 400 PicklistValueOutOfRange `0x8004431A` (reference A8). Text as quoted in Microsoft's
    /// Project Operations docs ("The value 5 of 'msdyn_paymentterms' on record of type ... is
    /// outside the valid range. Accepted Values: 1,2,3,192350001").
    pub fn option_out_of_range(
        value: i64,
        attribute: &str,
        logical: &str,
        accepted: &[i64],
    ) -> Self {
        let accepted: Vec<String> = accepted.iter().map(i64::to_string).collect();
        Self::bad_request(
            "0x8004431A",
            format!(
                "A validation error occurred. The value {value} of '{attribute}' on record of type \
                 '{logical}' is outside the valid range. Accepted Values: {}",
                accepted.join(",")
            ),
        )
    }

    /// 400 `0x80048408` for a status that does not belong to the state. Reference A2 (third
    /// party, account); the code's decimal form 2147779592 with this message shape was also
    /// seen for other tables ("858010001 is not a valid status code for state code
    /// cll_TaskState.Inactive").
    pub fn invalid_status(
        status: i64,
        state_enum: &str,
        state: &str,
        logical: &str,
        id: Uuid,
    ) -> Self {
        Self::bad_request(
            "0x80048408",
            format!(
                "{status} is not a valid status code for state code {state_enum}.{state} on \
                 {logical} with Id {id}."
            ),
        )
    }

    /// 400 CannotUpdateBecauseItIsReadOnly `0x8004022E` ("The object cannot be updated because
    /// it is read-only.", `PAD:includes/data-service-error-codes.md`): a closed activity.
    pub fn read_only_record() -> Self {
        Self::bad_request("0x8004022E", "The object cannot be updated because it is read-only.")
    }

    /// 400 for a column whose metadata says IsValidForCreate/IsValidForUpdate = false.
    /// UNCONFIRMED (reference C3: the service may ignore such values silently); codes from
    /// `PAD:includes/data-service-error-codes.md` (unManagedidsxmlinvalidcreate/-update).
    pub fn not_valid_for(operation: Operation, attribute: &str, logical: &str) -> Self {
        let (code, what) = match operation {
            Operation::Create => ("0x80041a01", "create"),
            Operation::Update => ("0x80041a02", "update"),
        };
        Self::bad_request(
            code,
            format!(
                "A field that is not valid for {what} was specified. Attribute '{attribute}' of \
                 entity '{logical}'."
            ),
        )
    }

    /// 400 for a missing SystemRequired column. UNCONFIRMED text; `0x80040203` is InvalidArgument.
    pub fn required(attribute: &str, logical: &str) -> Self {
        Self::bad_request(
            "0x80040203",
            format!("Attribute '{attribute}' of entity '{logical}' cannot be NULL."),
        )
    }

    /// 400 for a query option Dataverse does not support (`$skip`: `PAD:webapi/query/page-results.md`
    /// says it is unsupported; the error text is UNCONFIRMED).
    pub fn unsupported_query_option(option: &str) -> Self {
        Self::bad_request(ODATA, format!("The query parameter {option} is not supported"))
    }

    /// 405 for an operation a table does not support (activityparty: RetrieveMultiple only,
    /// `PAD-ref:activityparty.md`). UNCONFIRMED wire form; the code is left empty.
    pub fn operation_not_supported(operation: &str, logical: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "",
            format!("The '{operation}' method does not support entities of type '{logical}'."),
        )
    }

    /// 501 for something the simulator does not implement (never a silent success).
    pub fn not_implemented(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_IMPLEMENTED,
            "",
            format!("Not implemented by the Dataverse simulator: {what}"),
        )
    }
}

/// Which write a column rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// POST, or an upsert that creates.
    Create,
    /// PATCH/PUT on an existing record.
    Update,
}
