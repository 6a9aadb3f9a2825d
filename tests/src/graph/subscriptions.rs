//! `/subscriptions` (reference 1): create with validation and the handshake, list, get,
//! renew, delete, reauthorize.

use axum::http::{Method, StatusCode};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::{
    crypto, dates,
    errors::GraphError,
    handshake,
    messages::{id_error, mail_folder},
    pipeline::{Ctx, apply_fault},
    request::ApiResponse,
    subscription::{self, ChangeTypes, SubKind, Subscription},
    throttle::Permit,
};

const CREATE_PROPS: &[&str] = &[
    "changeType",
    "notificationUrl",
    "resource",
    "expirationDateTime",
    "clientState",
    "lifecycleNotificationUrl",
    "latestSupportedTlsVersion",
    "includeResourceData",
    "encryptionCertificate",
    "encryptionCertificateId",
    "notificationUrlAppId",
    "notificationQueryOptions",
    "notificationContentType",
    "@odata.type",
];

/// The camelCase complaint Graph gives for payloads it cannot read
/// (microsoftgraph/microsoft-graph-docs#2231).
fn unreadable() -> GraphError {
    GraphError::invalid_request(
        "Could not process subscription creation payload. Are all property names spelled and camelCased properly?",
    )
}

/// Read roles a subscription needs; write roles are no substitute (reference 1.1, 11.1).
fn read_roles(kind: SubKind) -> &'static [&'static str] {
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

fn https_url(value: Option<&Value>, field: &str) -> Result<Option<String>, GraphError> {
    let Some(value) = value.filter(|v| !v.is_null()) else { return Ok(None) };
    let url = value.as_str().and_then(|s| url::Url::parse(s).ok());
    match url {
        Some(u) if u.scheme() == "https" => {
            Ok(Some(value.as_str().unwrap_or_default().to_string()))
        }
        // HTTPS only (reference 1.1); wording UNCONFIRMED.
        _ => {
            Err(GraphError::invalid_request(format!("The {field} must be an absolute https URL.")))
        }
    }
}

/// Checks `expirationDateTime` against now and the resource's cap (reference 1.3: over the
/// cap is refused with "Subscription expiration can only be {N} minutes in the future.",
/// microsoftgraph/microsoft-graph-docs#2988).
fn expiration(ctx: &Ctx, value: Option<&Value>, rich: bool) -> Result<OffsetDateTime, GraphError> {
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
fn admit(ctx: &Ctx, user: &str, roles: &[&str]) -> Result<(String, Permit), GraphError> {
    let mailbox_id = {
        let state = ctx.sim.state.lock().expect("state lock");
        let mailbox_id = state.find_user(&ctx.token.tenant_id, user)?;
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

/// `POST /subscriptions`.
pub(crate) async fn create(ctx: &Ctx<'_>) -> Result<ApiResponse, GraphError> {
    let body = ctx.req.json_body().map_err(|_| unreadable())?;
    let obj = body.as_object().ok_or_else(unreadable)?;
    if obj.keys().any(|k| !CREATE_PROPS.contains(&k.as_str())) {
        return Err(unreadable());
    }
    let text = |k: &str| obj.get(k).and_then(Value::as_str);
    let required = |k: &str| {
        text(k).filter(|v| !v.is_empty()).ok_or_else(|| {
            GraphError::invalid_request(format!(
                "{k} is a required property for subscription creation"
            ))
        })
    };
    let change_type = required("changeType")?;
    let change_types = ChangeTypes::parse(change_type).ok_or_else(|| {
        GraphError::invalid_request(format!("Invalid changeType '{change_type}'."))
    })?;
    let notification_url = https_url(obj.get("notificationUrl"), "notificationUrl")?
        .ok_or_else(|| required("notificationUrl").err().unwrap_or_else(unreadable))?;
    let lifecycle_url = https_url(obj.get("lifecycleNotificationUrl"), "lifecycleNotificationUrl")?;
    let resource = required("resource")?.to_string();
    let client_state = text("clientState").map(str::to_string);
    if client_state.as_ref().is_some_and(|s| s.chars().count() > 128) {
        return Err(GraphError::invalid_request("clientState must be at most 128 characters."));
    }
    let latest_tls = text("latestSupportedTlsVersion").unwrap_or("v1_2").to_string();
    if !["v1_0", "v1_1", "v1_2", "v1_3"].contains(&latest_tls.as_str()) {
        return Err(GraphError::invalid_request(format!(
            "Invalid latestSupportedTlsVersion '{latest_tls}'."
        )));
    }
    let rich = obj.get("includeResourceData").and_then(Value::as_bool).unwrap_or(false);
    let encryption = if rich {
        let (Some(cert), Some(id)) =
            (text("encryptionCertificate"), text("encryptionCertificateId"))
        else {
            return Err(GraphError::invalid_request(
                "encryptionCertificate and encryptionCertificateId are required when includeResourceData is true.",
            ));
        };
        if id.chars().count() > 128 {
            return Err(GraphError::invalid_request(
                "encryptionCertificateId must be at most 128 characters.",
            ));
        }
        Some(crypto::parse_certificate(cert, Some(id.to_string()))?)
    } else {
        None
    };
    let parsed = subscription::parse_resource(&resource)?;
    let (filter, select) = subscription::resource_options(&parsed, rich)?;
    let expiration = expiration(ctx, obj.get("expirationDateTime"), rich)?;
    let (mailbox_id, _permit) = admit(ctx, &parsed.user, read_roles(parsed.kind))?;
    apply_fault(ctx.sim, ctx.req).await?;
    let folder = {
        let state = ctx.sim.state.lock().expect("state lock");
        let mb = state.mailbox(&mailbox_id);
        match (&parsed.folder, parsed.kind) {
            (None, _) => None,
            (Some(f), SubKind::Messages) => Some(mail_folder(mb, f)?),
            (Some(f), _) => Some(mb.folder_by_ref(f).map_err(id_error)?.index),
        }
    };
    check_quota(ctx, &mailbox_id)?;
    let timeout = ctx.sim.config.limits.handshake_timeout;
    let client = &ctx.sim.config.webhook_client;
    handshake::validate(client, &notification_url, timeout).await?;
    // Both endpoints are validated, twice if they are the same URL (reference 2).
    if let Some(url) = &lifecycle_url {
        handshake::validate(client, url, timeout).await?;
    }
    let sub = Subscription {
        id: uuid::Uuid::new_v4().to_string(),
        tenant: ctx.token.tenant_id.clone(),
        app_id: ctx.token.app_id.clone(),
        creator_id: ctx.token.object_id.clone(),
        mailbox_id: mailbox_id.clone(),
        resource,
        kind: parsed.kind,
        folder,
        filter,
        select,
        change_type: change_type.to_string(),
        change_types,
        notification_url,
        lifecycle_url,
        expiration,
        client_state,
        include_resource_data: rich,
        encryption,
        latest_tls,
        immutable_ids: ctx.prefer.immutable_ids,
        reauthorization_requested: None,
    };
    check_quota(ctx, &mailbox_id)?;
    let json = sub.to_json(&ctx.base);
    ctx.sim.state.lock().expect("state lock").subscriptions.insert(sub.id.clone(), sub);
    Ok(ApiResponse::json(StatusCode::CREATED, json))
}

/// 1,000 active subscriptions per mailbox for all apps (reference 1.4): 403 with a message
/// that names the limit (exact body UNCONFIRMED).
fn check_quota(ctx: &Ctx, mailbox_id: &str) -> Result<(), GraphError> {
    let mut state = ctx.sim.state.lock().expect("state lock");
    state.purge_expired(ctx.now);
    let limit = ctx.sim.config.limits.subscriptions_per_mailbox;
    let active = state.subscriptions.values().filter(|s| s.mailbox_id == mailbox_id).count();
    if active >= limit {
        return Err(GraphError::new(
            StatusCode::FORBIDDEN,
            "ExtensionError",
            format!(
                "Operation: Create; Exception: [Status Code: Forbidden; Reason: The maximum number of subscriptions ({limit}) for this mailbox has been reached.]"
            ),
        ));
    }
    Ok(())
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
    let mailbox = ctx.sim.state.lock().expect("state lock").mailbox(&sub.mailbox_id).id.clone();
    let (_, _permit) = admit(ctx, &mailbox, read_roles(sub.kind))?;
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
    let mailbox = ctx.sim.state.lock().expect("state lock").mailbox(&sub.mailbox_id).id.clone();
    let (_, _permit) = admit(ctx, &mailbox, reauthorize_roles(sub.kind))?;
    apply_fault(ctx.sim, ctx.req).await?;
    let mut state = ctx.sim.state.lock().expect("state lock");
    if let Some(s) = state.subscriptions.get_mut(id) {
        s.reauthorization_requested = None;
    }
    Ok(ApiResponse::empty(StatusCode::NO_CONTENT))
}
