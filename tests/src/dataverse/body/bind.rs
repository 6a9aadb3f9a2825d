//! Entity references: `<nav>@odata.bind` values, `$ref` bodies and `$n` Content-ID
//! references (`PAD:webapi/create-entity-web-api.md`, support article on undeclared
//! properties; reference A2, A6).

use serde_json::Value;
use uuid::Uuid;

use super::check_access;
use crate::dataverse::{
    errors::{ApiError, ODATA, Operation},
    metadata::{Table, catalog},
    state::Ctx,
    store::{EntityRef, Store},
};

/// Resolves `"<nav>@odata.bind": "/<set>(<id>)"` (or a `$ref` body's `@odata.id`) to the
/// lookup column and its target.
pub fn read_bind(
    table: &'static Table,
    nav: &str,
    value: &Value,
    op: Operation,
    ctx: &Ctx,
    store: &Store,
) -> Result<(&'static str, EntityRef), ApiError> {
    if table.collection(nav).is_some() {
        return Err(ApiError::not_implemented(
            "binding existing records to a collection-valued navigation property",
        ));
    }
    let nav = table.nav(nav).ok_or_else(|| ApiError::undeclared_navigation(table.set, nav))?;
    let attr = table.attr(nav.attr).expect("navigation property of a declared lookup");
    check_access(table, attr, op)?;
    let Some(reference) = value.as_str() else {
        return Err(ApiError::payload(
            table.set,
            format!("The value of '{}@odata.bind' must be a string with an entity URI.", nav.name),
        ));
    };
    let target = match resolve_reference(reference, ctx, table.set)? {
        EntityRef { table: "activitypointer", id } => store
            .activity(id)
            .map(|(table, _)| EntityRef { table, id })
            .ok_or_else(|| ApiError::record_not_found("activitypointer", id))?,
        target => target,
    };
    let compatible = target.table == nav.target
        || (nav.target == "activitypointer"
            && catalog().by_logical(target.table).is_some_and(|t| t.activity));
    if !compatible {
        // ODataLib's text for an entity of the wrong type (UNCONFIRMED for @odata.bind).
        return Err(ApiError::payload(
            table.set,
            format!(
                "A resource with type 'Microsoft.Dynamics.CRM.{}' was found, but it is not assignable to the expected type 'Microsoft.Dynamics.CRM.{}'. The type specified in the resource must be equal to either the expected type or a derived type.",
                target.table, nav.target
            ),
        ));
    }
    if store.get(target.table, target.id).is_none() {
        return Err(ApiError::record_not_found(target.table, target.id));
    }
    Ok((nav.attr, target))
}

/// Turns an entity URI into a reference: `/contacts(<id>)`, `contacts(<id>)`, an absolute URL
/// under this environment's Web API root, or a `$n` Content-ID reference inside a changeset.
fn resolve_reference(reference: &str, ctx: &Ctx, entity_set: &str) -> Result<EntityRef, ApiError> {
    if let Some(id) = reference.strip_prefix('$') {
        return ctx.content_ids.get(id).copied().ok_or_else(|| content_id_missing(reference));
    }
    let root = ctx.root();
    let path = if reference.starts_with("http://") || reference.starts_with("https://") {
        reference.strip_prefix(root.as_str()).ok_or_else(|| {
            ApiError::payload(
                entity_set,
                format!("The URI '{reference}' is not valid because it is not based on '{root}'."),
            )
        })?
    } else {
        let root_path = url::Url::parse(&root).map(|u| u.path().to_string()).unwrap_or_default();
        reference.strip_prefix(root_path.as_str()).unwrap_or(reference).trim_start_matches('/')
    };
    let malformed = || {
        ApiError::payload(
            entity_set,
            format!("The entity reference '{reference}' is not a valid entity URI."),
        )
    };
    let (set, rest) = path.split_once('(').ok_or_else(malformed)?;
    let id = rest.strip_suffix(')').and_then(|k| Uuid::parse_str(k).ok()).ok_or_else(malformed)?;
    let table = catalog().by_set(set).ok_or_else(|| {
        ApiError::payload(
            entity_set,
            format!("The entity set '{set}' named in '{reference}' does not exist."),
        )
    })?;
    // `activitypointer` stands for whichever activity has this id; the caller resolves it.
    Ok(EntityRef { table: table.logical, id })
}

/// `$batch` doc: "Content-ID Reference: '$1' does not exist in the batch context." (HTTP 400).
pub fn content_id_missing(reference: &str) -> ApiError {
    ApiError::bad_request(
        ODATA,
        format!("Content-ID Reference: '{reference}' does not exist in the batch context."),
    )
}
