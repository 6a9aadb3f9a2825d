//! Signing keys and OpenID Connect metadata: `/{tenant}/discovery/v2.0/keys`,
//! `/{tenant}/discovery/keys`, `/{tenant}/v2.0/.well-known/openid-configuration` and
//! `/{tenant}/.well-known/openid-configuration`, for a tenant or for `common`,
//! `organizations`, `consumers`.
//!
//! Field set of the metadata: Entra's published document for `common`, as snapshotted in
//! panva/wellknown (`issuers/entra-common/entra-common.mjs`).

use std::sync::Arc;

use axum::{
    Json,
    extract::{Path, State},
    http::{HeaderMap, Uri},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::{Shared, errors::AadError, public_base};

/// Which tenant a discovery URL names.
enum Scope {
    /// `common`, `organizations` or `consumers`: the issuer is a template.
    Multi(String),
    /// A known tenant, by id.
    Tenant(String),
}

fn resolve(sim: &Shared, segment: &str) -> Result<Scope, AadError> {
    let lower = segment.to_ascii_lowercase();
    if ["common", "organizations", "consumers"].contains(&lower.as_str()) {
        return Ok(Scope::Multi(lower));
    }
    let dir = sim.dir.lock().expect("directory lock");
    dir.tenant(segment)
        .map(|t| Scope::Tenant(t.id.clone()))
        .ok_or_else(|| AadError::tenant_not_found(segment))
}

fn refuse(sim: &Shared, error: AadError) -> Response {
    error.into_response_at(sim.clock.now(), &uuid::Uuid::new_v4().to_string())
}

/// The JWKS: every published key, so tokens signed before a rotation still verify.
pub async fn keys(State(sim): State<Arc<Shared>>, Path(tenant): Path<String>) -> Response {
    match resolve(&sim, &tenant) {
        Ok(_) => Json(json!({ "keys": sim.keys.keys() })).into_response(),
        Err(error) => refuse(&sim, error),
    }
}

/// v2.0 metadata.
pub async fn openid_v2(
    State(sim): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    metadata(&sim, &tenant, &public_base(&headers, &uri), true)
}

/// v1.0 metadata (the issuer of the v1.0 tokens this simulator mints).
pub async fn openid_v1(
    State(sim): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    metadata(&sim, &tenant, &public_base(&headers, &uri), false)
}

fn metadata(sim: &Shared, segment: &str, base: &str, v2: bool) -> Response {
    let scope = match resolve(sim, segment) {
        Ok(scope) => scope,
        Err(error) => return refuse(sim, error),
    };
    let (path_tenant, issuer_tenant) = match &scope {
        Scope::Multi(name) => (name.as_str(), "{tenantid}"),
        Scope::Tenant(id) => (id.as_str(), id.as_str()),
    };
    let at = |path: &str| format!("{base}/{path_tenant}/{path}");
    let document: Value = if v2 {
        json!({
            "token_endpoint": at("oauth2/v2.0/token"),
            "token_endpoint_auth_methods_supported":
                ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": at("discovery/v2.0/keys"),
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": format!("https://login.microsoftonline.com/{issuer_tenant}/v2.0"),
            "request_uri_parameter_supported": false,
            "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
            "authorization_endpoint": at("oauth2/v2.0/authorize"),
            "device_authorization_endpoint": at("oauth2/v2.0/devicecode"),
            "http_logout_supported": true,
            "frontchannel_logout_supported": true,
            "end_session_endpoint": at("oauth2/v2.0/logout"),
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "nonce",
                "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
            "tenant_region_scope": Value::Null,
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        })
    } else {
        json!({
            "token_endpoint": at("oauth2/token"),
            "token_endpoint_auth_methods_supported":
                ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": format!("{base}/common/discovery/keys"),
            "issuer": format!("https://sts.windows.net/{issuer_tenant}/"),
            "authorization_endpoint": at("oauth2/authorize"),
            "id_token_signing_alg_values_supported": ["RS256"],
            "tenant_region_scope": Value::Null,
            "cloud_instance_name": "microsoftonline.com",
            "msgraph_host": "graph.microsoft.com",
        })
    };
    Json(document).into_response()
}
