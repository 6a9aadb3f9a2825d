//! The token endpoint's wire errors: `{error, error_description, error_codes, timestamp,
//! trace_id, correlation_id, error_uri}` with the AADSTS code in the description.
//!
//! Shape: `reference/dataverse-entra.md` B1 "Error response" and C8; texts follow
//! `ENT:reference-error-codes.md` and the wire captures cited next to each constructor.
//! `invalid_client` is answered with 401 throughout: observed for 7000215 (reference B1) and
//! for 50012 (AzureAD/azure-activedirectory-library-for-python#79, HTTP 401).

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use time::{OffsetDateTime, macros::format_description};

/// One refusal of the token endpoint, before the per-request ids are attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AadError {
    /// HTTP status.
    pub status: StatusCode,
    /// OAuth `error` value.
    pub error: &'static str,
    /// The AADSTS number (`error_codes[0]`).
    pub code: u32,
    /// The text after `AADSTSnnnn: `.
    pub message: String,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    error_description: String,
    error_codes: [u32; 1],
    timestamp: &'a str,
    trace_id: &'a str,
    correlation_id: &'a str,
    error_uri: String,
}

impl AadError {
    fn new(status: StatusCode, error: &'static str, code: u32, message: impl Into<String>) -> Self {
        Self { status, error, code, message: message.into() }
    }

    fn bad_request(error: &'static str, code: u32, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error, code, message)
    }

    pub(super) fn invalid_client(code: u32, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_client", code, message)
    }

    /// Renders the JSON body with a fresh trace id, the caller's correlation id and `now`.
    pub fn into_response_at(self, now: OffsetDateTime, correlation_id: &str) -> Response {
        let timestamp = aad_timestamp(now);
        let trace_id = uuid::Uuid::new_v4().to_string();
        let body = Body {
            error: self.error,
            error_description: format!(
                "AADSTS{}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\n\
                 Timestamp: {timestamp}",
                self.code, self.message
            ),
            error_codes: [self.code],
            timestamp: &timestamp,
            trace_id: &trace_id,
            correlation_id,
            error_uri: format!("https://login.microsoftonline.com/error?code={}", self.code),
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        no_store(headers);
        headers.insert("x-ms-request-id", HeaderValue::from_str(&trace_id).expect("uuid"));
        response
    }

    /// AADSTS900144, a required form field is absent (an empty value counts as absent).
    pub fn missing_parameter(name: &str) -> Self {
        Self::bad_request(
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    }

    /// AADSTS70003 for any grant other than `client_credentials` (text UNCONFIRMED).
    pub fn unsupported_grant_type(grant: &str) -> Self {
        Self::bad_request(
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{grant}'."),
        )
    }

    /// AADSTS9001023, client credentials on `/common` or `/consumers` (reference B1).
    pub fn tenantless_endpoint() -> Self {
        Self::bad_request(
            "invalid_request",
            9001023,
            "The grant type is not supported over the /common or /consumers endpoints. Please use \
             the /organizations or tenant-specific endpoint.",
        )
    }

    /// AADSTS900023, a tenant segment that is neither a GUID nor a DNS name (wire capture in
    /// MicrosoftDocs/azure-docs#100978).
    pub fn malformed_tenant(tenant: &str) -> Self {
        Self::bad_request(
            "invalid_request",
            900023,
            format!(
                "Specified tenant identifier '{tenant}' is neither a valid DNS name, nor a valid \
                 external domain."
            ),
        )
    }

    /// AADSTS90002. Observed as both `invalid_request` and `invalid_tenant` (reference B1, D8);
    /// we answer the newer `invalid_tenant`, 400.
    pub fn tenant_not_found(tenant: &str) -> Self {
        Self::bad_request(
            "invalid_tenant",
            90002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID \
                 and are signing into the correct cloud. Check with your subscription \
                 administrator, this may happen if there are no active subscriptions for the \
                 tenant."
            ),
        )
    }

    /// AADSTS700016, the app has no service principal in the tenant (reference B1: 400,
    /// `unauthorized_client`, Azure/azure-sdk-for-python#8314).
    pub fn app_not_found(client_id: &str, tenant: &str) -> Self {
        Self::bad_request(
            "unauthorized_client",
            700016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory \
                 '{tenant}'. This can happen if the application has not been installed by the \
                 administrator of the tenant or consented to by any user in the tenant. You may \
                 have sent your authentication request to the wrong tenant."
            ),
        )
    }

    /// AADSTS7000112 (reference B1: `unauthorized_client`, status UNCONFIRMED; we answer 400
    /// like 700016).
    pub fn app_disabled(client_id: &str) -> Self {
        Self::bad_request(
            "unauthorized_client",
            7000112,
            format!("Application '{client_id}' is disabled."),
        )
    }

    /// AADSTS7000218, neither `client_secret` nor `client_assertion`.
    pub fn no_credential() -> Self {
        Self::invalid_client(
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or \
             'client_secret'.",
        )
    }

    /// AADSTS7000215, wrong secret (text from reference B1).
    pub fn wrong_secret(client_id: &str) -> Self {
        Self::invalid_client(
            7000215,
            format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is \
                 the client secret value, not the client secret ID, for a secret added to app \
                 '{client_id}'."
            ),
        )
    }

    /// AADSTS7000222, the secret matches but has expired (reference B1; 401 UNCONFIRMED).
    pub fn expired_secret(client_id: &str) -> Self {
        Self::invalid_client(
            7000222,
            format!(
                "The provided client secret keys for app '{client_id}' are expired. Visit the \
                 Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or \
                 consider using certificate credentials for added security: \
                 https://aka.ms/certCreds."
            ),
        )
    }

    /// AADSTS90023 for requests RFC 6749 forbids: two client authentication methods at once
    /// (section 2.3), or a Basic `client_id` that contradicts the form. Code and text UNCONFIRMED.
    pub fn malformed_request(reason: &str) -> Self {
        Self::bad_request("invalid_request", 90023, format!("Invalid request. {reason}"))
    }

    /// AADSTS70011, a scope value that names no usable resource (doc example in reference B1).
    pub fn invalid_scope(scope: &str) -> Self {
        Self::bad_request(
            "invalid_scope",
            70011,
            format!(
                "The provided request must include a 'scope' input parameter. The provided value \
                 for the input parameter 'scope' is not valid. The scope {scope} is not valid."
            ),
        )
    }

    /// AADSTS700022, scopes of two resources in one request (reference B1).
    pub fn multiple_resources(scope: &str) -> Self {
        Self::bad_request(
            "invalid_scope",
            700022,
            format!(
                "The provided value for the input parameter scope is not valid because it contains \
                 more than one resource. Scope {scope} is not valid."
            ),
        )
    }

    /// AADSTS700023, only resourceless scopes such as `openid` (reference B1).
    pub fn resourceless_scope(scope: &str) -> Self {
        Self::bad_request(
            "invalid_scope",
            700023,
            format!(
                "The provided value for the input parameter scope is not valid when requesting an \
                 access token. Scope {scope} is not valid."
            ),
        )
    }

    /// AADSTS1002012, a permission instead of `/.default`. The reference (B1) gives 70011 from
    /// the 2017 docs; the service answers 1002012 since at least 2021 (MicrosoftDocs/azure-docs
    /// #99862, microsoftgraph/microsoft-graph-docs#14323, microsoft/CollectServiceFabricData#139).
    pub fn scope_not_default(scope: &str) -> Self {
        Self::bad_request(
            "invalid_scope",
            1002012,
            format!(
                "The provided value for scope {scope} is not valid. Client credential flows must \
                 have a scope value with /.default suffixed to the resource identifier \
                 (application ID URI)."
            ),
        )
    }

    /// AADSTS500011, no service principal of the resource in the tenant (reference B1).
    pub fn resource_not_found(resource: &str, tenant: &str) -> Self {
        Self::bad_request(
            "invalid_resource",
            500011,
            format!(
                "The resource principal named {resource} was not found in the tenant named \
                 {tenant}. This can happen if the application has not been installed by the \
                 administrator of the tenant or consented to by any user in the tenant. You might \
                 have sent your authentication request to the wrong tenant."
            ),
        )
    }

    /// AADSTS900561, any method but POST on the token endpoint.
    pub fn method_not_allowed(method: &str) -> Self {
        Self::bad_request(
            "invalid_request",
            900561,
            format!(
                "The endpoint only accepts POST, OPTIONS requests. Received a {method} request."
            ),
        )
    }

    /// AADSTS90006 `temporarily_unavailable` for an injected 5xx (code choice UNCONFIRMED; the
    /// `error` value is from `ENT:reference-error-codes.md`).
    pub fn unavailable(status: StatusCode) -> Self {
        Self::new(
            status,
            "temporarily_unavailable",
            90006,
            "The service is temporarily unavailable. Please try again.",
        )
    }
}

/// `Cache-Control: no-store, no-cache` and `Pragma: no-cache`, as on every token response
/// (wire capture in microsoftgraph/microsoft-graph-docs#20272).
pub fn no_store(headers: &mut axum::http::HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store, no-cache"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// `2016-01-09 02:02:12Z`, the format of `timestamp` and of the description's last line.
pub fn aad_timestamp(at: OffsetDateTime) -> String {
    at.format(format_description!("[year]-[month]-[day] [hour]:[minute]:[second]Z"))
        .expect("formattable UTC time")
}
