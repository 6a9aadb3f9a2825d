//! Table-specific rules: computed names, activity parties and attachments.

use std::collections::BTreeMap;

use base64::{Engine, engine::general_purpose::STANDARD as B64};

use super::states::is_open;
use crate::dataverse::{
    errors::ApiError,
    metadata::{Table, catalog},
    state::EnvState,
    store::{Cell, EntityRef},
};

/// Table-specific rules shared by create and update.
pub fn hooks(
    env: &EnvState,
    table: &Table,
    cells: &mut BTreeMap<&'static str, Cell>,
    parent: Option<EntityRef>,
) -> Result<(), ApiError> {
    if table.attr("fullname").is_some() {
        let name = |a: &str| cells.get(a).and_then(Cell::as_str).unwrap_or_default().to_string();
        let full = format!("{} {}", name("firstname"), name("lastname")).trim().to_string();
        if full.is_empty() {
            cells.remove("fullname");
        } else {
            cells.insert("fullname", Cell::Str(full));
        }
    }
    match table.logical {
        "activityparty" => party(table, cells, parent),
        "activitymimeattachment" => attachment(env, cells, parent),
        _ => Ok(()),
    }
}

/// A party must use a mask of its activity type (email 1-4, appointment 5-7; reference A2/A3)
/// and name a record or an address. Both refusals are UNCONFIRMED in wording; the mask one uses
/// ActivityPartyParticipationTypeMaskNotFound `0x80094006` (`PAD:includes/data-service-error-codes.md`).
fn party(
    table: &Table,
    cells: &BTreeMap<&'static str, Cell>,
    parent: Option<EntityRef>,
) -> Result<(), ApiError> {
    let activity = parent.or_else(|| cells.get("activityid").and_then(Cell::as_ref));
    let masks =
        activity.and_then(|a| catalog().by_logical(a.table)).map_or(&[][..], |t| t.party_masks);
    if let Some(mask) = cells.get("participationtypemask").and_then(Cell::as_int)
        && !masks.contains(&mask)
    {
        return Err(ApiError::bad_request(
            "0x80094006",
            format!("The Activity Party type Mask '{mask}' not found."),
        ));
    }
    if !cells.contains_key("partyid") && !cells.contains_key("addressused") {
        return Err(ApiError::bad_request(
            "0x80040203",
            format!("An {} needs a partyid binding or an addressused value.", table.logical),
        ));
    }
    Ok(())
}

/// Attachment rules: the object must exist and be open (a closed email is read-only,
/// reference A2; applying it to attachments is our reading), `objecttypecode` must name the
/// object's table, and the decoded body must fit `maxuploadfilesize` (default 5 MB,
/// reference A3; the refusal's wording is UNCONFIRMED).
fn attachment(
    env: &EnvState,
    cells: &mut BTreeMap<&'static str, Cell>,
    parent: Option<EntityRef>,
) -> Result<(), ApiError> {
    if let Some(parent) = parent {
        cells.entry("objecttypecode").or_insert(Cell::Str(parent.table.to_string()));
    } else if let Some(object) = cells.get("objectid").and_then(Cell::as_ref) {
        let (table, row) = env
            .store
            .activity(object.id)
            .ok_or_else(|| ApiError::record_not_found(object.table, object.id))?;
        if !is_open(catalog().by_logical(table).expect("activity table"), row.get("statecode")) {
            return Err(ApiError::read_only_record());
        }
    }
    if let (Some(object), Some(code)) = (
        cells.get("objectid").and_then(Cell::as_ref),
        cells.get("objecttypecode").and_then(Cell::as_str),
    ) && object.table != code
    {
        return Err(ApiError::bad_request(
            "0x80040203",
            format!(
                "The objecttypecode '{code}' does not match the type '{}' of the object.",
                object.table
            ),
        ));
    }
    if let Some(body) = cells.get("body").and_then(Cell::as_str) {
        let bytes = B64.decode(body).map_err(|_| {
            ApiError::bad_request("0x80040203", "The attachment body is not valid base64.")
        })?;
        if bytes.len() > env.max_upload_bytes {
            return Err(ApiError::bad_request(
                "",
                format!(
                    "The attachment is {} bytes, larger than the maximum allowed size of {} bytes (maxuploadfilesize).",
                    bytes.len(),
                    env.max_upload_bytes
                ),
            ));
        }
        cells.insert("filesize", Cell::Int(i64::try_from(bytes.len()).unwrap_or(i64::MAX)));
    }
    Ok(())
}
