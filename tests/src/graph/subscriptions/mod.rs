//! `/subscriptions` (reference 1): list, get, renew, delete, reauthorize, and the checks
//! creation shares with them.

mod create;

pub(crate) use create::create;

use axum::http::{Method, StatusCode};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::{
    crypto, dates,
    errors::GraphError,
    pipeline::{Ctx, apply_fault},
    request::ApiResponse,
    subscription::{SubKind, Subscription},
    throttle::Permit,
};

/// The camelCase complaint Graph gives for payloads it cannot read
/// (microsoftgraph/microsoft-graph-docs#2231).
pub(super) fn unreadable() -> GraphError {
    GraphError::invalid_request(
        "Could not process subscription creation payload. Are all property names spelled \
         and camelCased properly?",
    )
}

/// Read roles a subscription needs; write roles are no substitute (reference 1.1, 11.1).
pub(super) fn read_roles(kind: SubKind) -> &'static [&'static str] {
    match kind {
        SubKind::Messages => &["Mail.ReadBasic", "Mail.ReadBasic.All", "Mail.Read"],
        SubKind::Events => &["Calendars.ReadBasic", "Calendars.Read"],
        SubKind::Contacts => &["Contacts.Read"],
    }
}

/// Roles `POST /subscriptions/{id}/reauthorize` lists (docs:
/// api-reference/v1.0/api/subscription-reauthorize.md: `Mail.Read` for messages).
fn reauthorize_roles(kind: SubKind) -> &'static [&'static str] {
    match kind {
        SubKind::Messages => &["Mail.Read"],
        SubKind::Events => &["Calendars.Read"],
        SubKind::Contacts => &["Contacts.Read"],
    }
}

/// Checks `expirationDateTime` against now and the resource's cap (reference 1.3: over the
/// cap is refused with "Subscription expiration can only be {N} minutes in the future.",
/// microsoftgraph/microsoft-graph-docs#2988).
pub(super) fn expiration(
    ctx: &Ctx,
    value: Option<&Value>,
    rich: bool,
) -> Result<OffsetDateTime, GraphError> {
    let raw = value.and_then(Value::as_str).ok_or_else(|| {
        GraphError::invalid_request(
            "expirationDateTime is a required property for subscription creation",
        )
    })?;
    let at = dates::parse(raw).ok_or_else(unreadable)?;
    let limits = &ctx.sim.config.limits;
    let max =
        if rich { limits.rich_subscription_max_minutes } else { limits.subscription_max_minutes };
    if at <= ctx.now {
        // UNCONFIRMED wording.
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "ExtensionError",
            "Subscription expiration time must be in the future.",
        ));
    }
    if at > ctx.now + time::Duration::minutes(max) {
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "ExtensionError",
            format!("Subscription expiration can only be {max} minutes in the future."),
        ));
    }
    Ok(at)
}

/// Resolves the mailbox of a resource for the caller: user in the token's tenant, role,
/// access policy, throttling.
pub(super) fn admit(ctx: &Ctx, user: &str, roles: &[&str]) -> Result<(String, Permit), GraphError> {
    let mailbox_id = {
        let state = ctx.sim.state.lock().expect("state lock");
        let mailbox_id = state.find_mailbox(&ctx.token.tenant_id, user)?;
        if !ctx.has_any(roles) {
            return Err(GraphError::access_denied());
        }
        // Out-of-scope mailboxes refuse subscriptions too (reference 11.2).
        if !state.policy_allows(&ctx.token.tenant_id, &ctx.token.app_id, &mailbox_id) {
            return Err(GraphError::odata_disabled());
        }
        mailbox_id
    };
    let permit = ctx.sim.throttle.admit(&ctx.token.app_id, &mailbox_id)?;
    Ok((mailbox_id, permit))
}

/// `GET /subscriptions`: the calling app's subscriptions in the token's tenant.
pub(crate) fn list(ctx: &Ctx) -> ApiResponse {
    let mut state = ctx.sim.state.lock().expect("state lock");
    state.purge_expired(ctx.now);
    let value: Vec<Value> = state
        .subscriptions
        .values()
        .filter(|s| {
            s.app_id.eq_ignore_ascii_case(&ctx.token.app_id) && s.tenant == ctx.token.tenant_id
        })
        .map(|s| {
            let mut v = s.to_json(&ctx.base);
            v.as_object_mut().map(|o| o.remove("@odata.context"));
            v
        })
        .collect();
    ApiResponse::ok(json!({
        "@odata.context": format!("{}/v1.0/$metadata#subscriptions", ctx.base),
        "value": value,
    }))
}

/// The caller's live subscription `id`, or 404 (reference 10.2: `ResourceNotFound`).
fn owned(ctx: &Ctx, id: &str) -> Result<Subscription, GraphError> {
    let mut state = ctx.sim.state.lock().expect("state lock");
    state.purge_expired(ctx.now);
    state
        .subscriptions
        .get(id)
        .filter(|s| {
            s.app_id.eq_ignore_ascii_case(&ctx.token.app_id) && s.tenant == ctx.token.tenant_id
        })
        .cloned()
        .ok_or_else(|| GraphError::resource_not_found(format!("The object '{id}' was not found.")))
}

/// `GET`, `PATCH` (renew), `DELETE /subscriptions/{id}`.
pub(crate) async fn by_id(ctx: &Ctx<'_>, id: &str) -> Result<ApiResponse, GraphError> {
    let sub = owned(ctx, id)?;
    let (_, _permit) = admit(ctx, &sub.mailbox_id, read_roles(sub.kind))?;
    apply_fault(ctx.sim, ctx.req).await?;
    match ctx.req.method {
        Method::GET => Ok(ApiResponse::ok(sub.to_json(&ctx.base))),
        Method::DELETE => {
            ctx.sim.state.lock().expect("state lock").subscriptions.remove(id);
            Ok(ApiResponse::empty(StatusCode::NO_CONTENT))
        }
        _ => renew(ctx, sub),
    }
}

/// `PATCH /subscriptions/{id}`: a new `expirationDateTime` (with the creation caps) and, for
/// rich subscriptions, a rotated certificate (reference 5.1). Renewing also reauthorizes
/// (reference 1.2). No new handshake (reference 1.2: UNCONFIRMED, so not done).
fn renew(ctx: &Ctx, mut sub: Subscription) -> Result<ApiResponse, GraphError> {
    let body = ctx.req.json_body()?;
    let obj: &Map<String, Value> = body.as_object().ok_or_else(unreadable)?;
    for k in obj.keys() {
        if !["expirationDateTime", "encryptionCertificate", "encryptionCertificateId"]
            .contains(&k.as_str())
        {
            return Err(GraphError::invalid_request(format!(
                "The property '{k}' cannot be updated."
            )));
        }
    }
    if obj.contains_key("expirationDateTime") {
        sub.expiration = expiration(ctx, obj.get("expirationDateTime"), sub.include_resource_data)?;
    }
    if let Some(cert) = obj.get("encryptionCertificate").and_then(Value::as_str) {
        let id = obj.get("encryptionCertificateId").and_then(Value::as_str).map(str::to_string);
        sub.encryption = Some(crypto::parse_certificate(cert, id)?);
    }
    sub.reauthorization_requested = None;
    let json = sub.to_json(&ctx.base);
    let mut state = ctx.sim.state.lock().expect("state lock");
    if !state.subscriptions.contains_key(&sub.id) {
        return Err(GraphError::resource_not_found(format!(
            "The object '{}' was not found.",
            sub.id
        )));
    }
    state.subscriptions.insert(sub.id.clone(), sub);
    Ok(ApiResponse::ok(json))
}

/// `POST /subscriptions/{id}/reauthorize`: no body, 204 (reference 1.2).
pub(crate) async fn reauthorize(ctx: &Ctx<'_>, id: &str) -> Result<ApiResponse, GraphError> {
    let sub = owned(ctx, id)?;
    let (_, _permit) = admit(ctx, &sub.mailbox_id, reauthorize_roles(sub.kind))?;
    apply_fault(ctx.sim, ctx.req).await?;
    let mut state = ctx.sim.state.lock().expect("state lock");
    if let Some(s) = state.subscriptions.get_mut(id) {
        s.reauthorization_requested = None;
    }
    Ok(ApiResponse::empty(StatusCode::NO_CONTENT))
}
