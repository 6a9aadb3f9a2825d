//! The directory user behind a mailbox, and mail folders.

use serde_json::{Value, json};

use super::{
    errors::GraphError,
    pipeline::Ctx,
    render,
    request::ApiResponse,
    store::{FolderKind, Mailbox},
};

/// A mail folder by well-known name or id.
pub(crate) fn mail_folder(mb: &Mailbox, reference: &str) -> Result<u32, GraphError> {
    let folder = mb.folder_by_ref(reference).map_err(GraphError::from)?;
    if folder.kind == FolderKind::Mail {
        Ok(folder.index)
    } else {
        Err(GraphError::item_not_found())
    }
}

/// `GET /users/{u}`: the directory user behind the mailbox.
pub(crate) fn get_user(ctx: &Ctx, mailbox_id: &str) -> Result<ApiResponse, GraphError> {
    let state = ctx.sim.state.lock().expect("state lock");
    let mb = state.mailbox(mailbox_id);
    let (given, surname) = mb.display_name.split_once(' ').unwrap_or((&mb.display_name, ""));
    Ok(ApiResponse::ok(json!({
        "@odata.context": format!("{}/v1.0/$metadata#users/$entity", ctx.base),
        "businessPhones": [],
        "displayName": mb.display_name,
        "givenName": given,
        "jobTitle": null,
        "mail": mb.address,
        "mobilePhone": null,
        "officeLocation": null,
        "preferredLanguage": "en-US",
        "surname": surname,
        "userPrincipalName": mb.address,
        "id": mb.id,
    })))
}

/// `GET /users/{u}/mailFolders`: the folders below the root.
pub(crate) fn folders(ctx: &Ctx, mailbox_id: &str) -> Result<ApiResponse, GraphError> {
    let state = ctx.sim.state.lock().expect("state lock");
    let mb = state.mailbox(mailbox_id);
    let value: Vec<Value> = mb
        .folders
        .iter()
        .filter(|f| f.kind == FolderKind::Mail && f.index != 0)
        .map(|f| render::mail_folder(mb, f.index))
        .collect();
    Ok(ApiResponse::ok(json!({
        "@odata.context": format!("{}/v1.0/$metadata#users('{}')/mailFolders", ctx.base, mb.id),
        "value": value,
    })))
}

/// `GET /users/{u}/mailFolders/{f}`.
pub(crate) fn folder(
    ctx: &Ctx,
    mailbox_id: &str,
    reference: &str,
) -> Result<ApiResponse, GraphError> {
    let state = ctx.sim.state.lock().expect("state lock");
    let mb = state.mailbox(mailbox_id);
    let mut body = render::mail_folder(mb, mail_folder(mb, reference)?);
    body["@odata.context"] =
        format!("{}/v1.0/$metadata#users('{}')/mailFolders/$entity", ctx.base, mb.id).into();
    Ok(ApiResponse::ok(body))
}
