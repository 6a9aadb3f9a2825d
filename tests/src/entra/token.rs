//! `POST /{tenant}/oauth2/v2.0/token`, the client credentials grant (reference B1).
//!
//! Order of checks (the service's own order is not documented): form and grant type, tenant
//! segment, client authentication fields, scope syntax, tenant, app, credential, resource.

use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use time::OffsetDateTime;

use super::{
    Shared, assertion,
    errors::{AadError, no_store},
    model::{App, Directory, Tenant, is_dns_name, is_guid},
    public_base,
    records::{Credential, TokenOutcome, TokenRequest},
    request::{ClientAuth, Form, Presented},
    scope,
};
use crate::auth::{TokenSpec, mint};

/// The success body (reference B1: numbers, `ext_expires_in`, optional `refresh_in`).
#[derive(Debug, Serialize)]
struct TokenResponse {
    token_type: &'static str,
    expires_in: i64,
    ext_expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_in: Option<i64>,
    access_token: String,
}

/// What a request named, filled in as far as it got.
#[derive(Debug, Default)]
struct Seen {
    tenant_id: Option<String>,
    client_id: Option<String>,
    resource: Option<String>,
}

/// The token endpoint handler.
pub async fn token(
    State(sim): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = sim.clock.now();
    let mut seen = Seen::default();
    let result = if method == Method::POST {
        issue(&sim, &tenant, &public_base(&headers, &uri), &headers, &body, now, &mut seen)
    } else {
        Err(AadError::method_not_allowed(method.as_str()))
    };
    let (response, outcome) = match result {
        Ok((body, credential, roles)) => {
            let mut response = (StatusCode::OK, axum::Json(body)).into_response();
            no_store(response.headers_mut());
            (response, TokenOutcome::Issued { credential, roles })
        }
        Err(error) => {
            let outcome = TokenOutcome::Refused {
                status: error.status.as_u16(),
                error: error.error.to_string(),
                code: error.code,
            };
            (error.into_response_at(now, &correlation_id(&headers)), outcome)
        }
    };
    sim.log.lock().expect("log lock").push(TokenRequest {
        at: now,
        tenant,
        tenant_id: seen.tenant_id,
        client_id: seen.client_id,
        resource: seen.resource,
        outcome,
    });
    with_json_charset(response)
}

fn issue(
    sim: &Shared,
    tenant_segment: &str,
    base: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: OffsetDateTime,
    seen: &mut Seen,
) -> Result<(TokenResponse, Credential, Vec<String>), AadError> {
    let form = Form::parse(headers, body)?;
    let grant = form.required("grant_type")?;
    if grant != "client_credentials" {
        return Err(AadError::unsupported_grant_type(grant));
    }
    let organizations = match tenant_segment.to_ascii_lowercase().as_str() {
        "common" | "consumers" => return Err(AadError::tenantless_endpoint()),
        "organizations" => true,
        _ if is_guid(tenant_segment) || is_dns_name(tenant_segment) => false,
        _ => return Err(AadError::malformed_tenant(tenant_segment)),
    };
    let auth = ClientAuth::read(headers, &form)?;
    seen.client_id = Some(auth.client_id.clone());
    let requested = scope::requested_resource(form.required("scope")?)?;

    let dir = sim.dir.lock().expect("directory lock");
    let tenant = resolve_tenant(&dir, tenant_segment, organizations, &auth.client_id)?;
    seen.tenant_id = Some(tenant.id.clone());
    let (app, object_id) = dir
        .apps
        .get(&auth.client_id.to_ascii_lowercase())
        .and_then(|app| Some((app, dir.service_principal(&tenant.id, &app.client_id)?)))
        .ok_or_else(|| AadError::app_not_found(&auth.client_id, tenant_segment))?;
    if app.disabled {
        return Err(AadError::app_disabled(&app.client_id));
    }
    let credential =
        authenticate(app, auth.presented, &audiences(base, tenant, tenant_segment), now)?;

    let resource = dir
        .resource(&requested)
        .filter(|r| dir.service_principal(&tenant.id, &r.app_id).is_some())
        .ok_or_else(|| AadError::resource_not_found(&requested, tenant_segment))?;
    seen.resource = Some(resource.identifier_uri.clone());
    let roles = dir.granted_roles(&tenant.id, &app.client_id, &resource.app_id);
    let (lifetime, refresh_in) = (dir.token_lifetime_secs, dir.refresh_in_secs);
    let spec = TokenSpec {
        tenant_id: tenant.id.clone(),
        app_id: app.client_id.clone(),
        object_id: object_id.clone(),
        // "In v1.0 tokens, it can be the client ID or the resource URI used in the request"
        // (`ENT:access-tokens.md`, `aud`).
        audience: if is_guid(&requested) {
            resource.app_id.clone()
        } else {
            resource.identifier_uri.clone()
        },
        roles: roles.clone(),
        issued_at: now.unix_timestamp(),
        lifetime_secs: lifetime,
        appidacr: match credential {
            Credential::Secret => "1",
            Credential::Certificate => "2",
        },
    };
    drop(dir);
    let access_token = mint(&sim.signer.read().expect("signer lock"), &spec);
    let body = TokenResponse {
        token_type: "Bearer",
        expires_in: lifetime,
        ext_expires_in: lifetime,
        refresh_in,
        access_token,
    };
    Ok((body, credential, roles))
}

/// The tenant a request addresses. `/organizations` lets the service pick; it picks the
/// app's home tenant (MSAL.NET#1384: a tenantless authority "fetches a token, for tenant T1";
/// Microsoft asks apps to name the tenant instead).
fn resolve_tenant<'d>(
    dir: &'d Directory,
    segment: &str,
    organizations: bool,
    client_id: &str,
) -> Result<&'d Tenant, AadError> {
    if organizations {
        let home = dir.apps.get(&client_id.to_ascii_lowercase()).map(|a| a.home_tenant.as_str());
        home.and_then(|t| dir.tenant(t)).ok_or_else(|| AadError::app_not_found(client_id, segment))
    } else {
        dir.tenant(segment).ok_or_else(|| AadError::tenant_not_found(segment))
    }
}

/// Checks the presented secret or assertion against the app's credentials.
fn authenticate(
    app: &App,
    presented: Option<Presented>,
    audiences: &[String],
    now: OffsetDateTime,
) -> Result<Credential, AadError> {
    match presented {
        None => Err(AadError::no_credential()),
        Some(Presented::Secret(value)) => {
            let matching: Vec<_> = app.secrets.iter().filter(|s| s.value == value).collect();
            if matching.iter().any(|s| s.expires_at > now) {
                Ok(Credential::Secret)
            } else if matching.is_empty() {
                Err(AadError::wrong_secret(&app.client_id))
            } else {
                Err(AadError::expired_secret(&app.client_id))
            }
        }
        Some(Presented::Assertion(jwt)) => {
            assertion::verify(&jwt, app, audiences, now).map(|()| Credential::Certificate)
        }
    }
}

/// The `aud` values a client assertion may carry: this tenant's token endpoint, v2.0 or v1.0
/// (the encoded example in `ENT:certificate-credentials.md` uses `/oauth2/token` with a domain),
/// at the simulator's own address (what azure_identity puts there: its authority host joined
/// with `/{tenant}/oauth2/v2.0/token`) or at login.microsoftonline.com (the documented value),
/// with the tenant as id, verified domain, or the segment the request used.
fn audiences(base: &str, tenant: &Tenant, segment: &str) -> Vec<String> {
    let names = std::iter::once(tenant.id.as_str())
        .chain(tenant.domains.iter().map(String::as_str))
        .chain(std::iter::once(segment));
    let mut out = Vec::new();
    for name in names {
        for host in [base, "https://login.microsoftonline.com"] {
            for path in ["oauth2/v2.0/token", "oauth2/token"] {
                out.push(format!("{host}/{name}/{path}"));
            }
        }
    }
    out
}

/// MSAL sends `client-request-id`; the service reports it back as the correlation id.
fn correlation_id(headers: &HeaderMap) -> String {
    headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_guid(v))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// `Content-Type: application/json; charset=utf-8`, as the service sends it.
fn with_json_charset(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    response
}
