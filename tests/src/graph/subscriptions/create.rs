//! `POST /subscriptions` (reference 1.1, 1.4, 2): body validation, the caller's rights on the
//! mailbox, the quota, then the validation handshake of each endpoint.

use axum::http::StatusCode;
use serde_json::Value;

use super::{admit, expiration, read_roles, unreadable};
use crate::graph::{
    crypto,
    errors::GraphError,
    folders::mail_folder,
    handshake,
    pipeline::{Ctx, apply_fault},
    request::ApiResponse,
    store::FolderKind,
    subscription::{self, ChangeTypes, SubKind, Subscription},
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
    required("notificationUrl")?;
    let notification_url =
        https_url(obj.get("notificationUrl"), "notificationUrl")?.unwrap_or_default();
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
                "encryptionCertificate and encryptionCertificateId are required when \
                 includeResourceData is true.",
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
            (Some(f), _) => {
                let folder = mb.folder_by_ref(f).map_err(GraphError::from)?;
                if folder.kind != FolderKind::Contacts {
                    return Err(GraphError::item_not_found());
                }
                Some(folder.index)
            }
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
                "Operation: Create; Exception: [Status Code: Forbidden; Reason: The maximum \
                 number of subscriptions ({limit}) for this mailbox has been reached.]"
            ),
        ));
    }
    Ok(())
}
