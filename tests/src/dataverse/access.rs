//! Who may call an environment: a valid token for it (`aud` = its URL) from its tenant,
//! whose app has an enabled application user there (reference A1).

use axum::{
    body::Body,
    http::{HeaderMap, StatusCode},
    response::Response,
};

use super::{
    errors::ApiError,
    state::{Caller, Shared},
    store::Cell,
};
use crate::auth::{Rejection, TokenValidator};

/// Why a request was not let in.
pub enum Refusal {
    /// The bearer token is missing or not valid here (401).
    Token { tenant_id: String, rejection: Rejection },
    /// The token is fine but its app has no usable application user.
    User(ApiError),
}

/// The token must be for this environment (`aud` = its URL), from its tenant, and its app must
/// have an enabled application user here (reference A1).
pub fn authenticate(
    shared: &Shared,
    env_name: &str,
    env_url: &str,
    headers: &HeaderMap,
) -> Result<Caller, Refusal> {
    let validator =
        TokenValidator::new(shared.keys.clone(), shared.clock.clone(), vec![env_url.to_string()]);
    let envs = shared.envs();
    let env = envs.get(env_name).expect("environment checked on entry");
    let refuse = |rejection| Refusal::Token { tenant_id: env.tenant_id.clone(), rejection };
    let token = validator.validate_headers(headers).map_err(refuse)?;
    if token.tenant_id != env.tenant_id {
        return Err(refuse(Rejection::WrongIssuer));
    }
    let user = env.store.rows("systemuser").into_iter().find(|u| {
        matches!(u.get("applicationid"), Some(Cell::Guid(g)) if g.to_string().eq_ignore_ascii_case(&token.app_id))
    });
    let Some(user) = user else {
        // A valid token for an app without an application user: 403 (the identity "does not
        // exist ... throws a 403", microsoft/PowerPlatform-DataverseServiceClient#5) with
        // UserNotMemberOfOrg `0x80072560` (`PAD:includes/data-service-error-codes.md`).
        return Err(Refusal::User(ApiError::new(
            StatusCode::FORBIDDEN,
            "0x80072560",
            "The user is not a member of the organization.",
        )));
    };
    if user.get("isdisabled") == Some(&Cell::Bool(true)) {
        // microsoft/PowerPlatform-DataverseServiceClient#71: "The user with SystemUserId=... in
        // OrganizationContext=... is disabled" answered with BadRequest; code
        // unManagedidsusernotenabled `0x80040225`; the sentences after "is disabled." are
        // UNCONFIRMED.
        return Err(Refusal::User(ApiError::bad_request(
            "0x80040225",
            format!(
                "The user with SystemUserId={} in OrganizationContext={} is disabled. Disabled users cannot access the system. Consider enabling this user.",
                user.id, env.organization_id
            ),
        )));
    }
    Ok(Caller { app_id: token.app_id, user_id: user.id })
}

/// 401 with an empty body and a Bearer challenge naming the tenant's authority and this
/// resource. The body and challenge are UNCONFIRMED (reference A8); the challenge follows the
/// `authorization_uri`/`resource_id` form Azure resource servers use.
pub fn unauthorized(tenant_id: &str, env_url: &str, rejection: &Rejection) -> Response {
    tracing::debug!(%rejection, "dataverse token refused");
    Response::builder()
        .status(StatusCode::UNAUTHORIZED)
        .header(
            "WWW-Authenticate",
            format!("Bearer authorization_uri=https://login.microsoftonline.com/{tenant_id}/oauth2/authorize, resource_id={env_url}/"),
        )
        .body(Body::empty())
        .expect("valid response")
}
