//! The platform rules of create, update and delete: keys, state and status, required
//! columns, defaults, closed activities, parties and attachments.

use std::collections::BTreeMap;

use base64::{Engine, engine::general_purpose::STANDARD as B64};
use uuid::Uuid;

use super::{
    body::{Changes, Child},
    errors::{ApiError, ODATA},
    metadata::{Kind, Table, catalog},
    state::{Ctx, EnvState},
    store::{Cell, EntityRef, Store},
};

/// A create that passed every check, ready to be stored with its deep-inserted children.
#[derive(Debug)]
struct Prepared {
    table: &'static Table,
    id: Uuid,
    cells: BTreeMap<&'static str, Cell>,
    children: Vec<Prepared>,
}

/// Creates a record (and its deep-inserted children) and returns its id. `url_id` is the key
/// of an upsert's URL.
pub fn create(
    env: &mut EnvState,
    ctx: &Ctx,
    table: &'static Table,
    url_id: Option<Uuid>,
    changes: Changes,
) -> Result<Uuid, ApiError> {
    let prepared = prepare(env, ctx, table, url_id, changes, None)?;
    let id = prepared.id;
    commit(&mut env.store, prepared);
    Ok(id)
}

/// Whether a record with this key exists (activities share one key space, `activitypointer`).
pub fn exists(store: &Store, table: &Table, id: Uuid) -> bool {
    if table.activity {
        store.activity(id).is_some()
    } else {
        store.get(table.logical, id).is_some()
    }
}

fn prepare(
    env: &EnvState,
    ctx: &Ctx,
    table: &'static Table,
    url_id: Option<Uuid>,
    mut changes: Changes,
    parent: Option<(EntityRef, &'static str)>,
) -> Result<Prepared, ApiError> {
    let body_id = match changes.cells.remove(table.key) {
        Some(Some(Cell::Guid(id))) => Some(id),
        _ => None,
    };
    if let (Some(url), Some(body)) = (url_id, body_id)
        && url != body
    {
        return Err(ApiError::bad_request(
            ODATA,
            format!(
                "The key value {body} in the payload does not match the key value {url} in the URL."
            ),
        ));
    }
    // A client may choose the primary key (reference A2).
    let id = url_id.or(body_id).unwrap_or_else(Uuid::new_v4);
    if exists(&env.store, table, id) {
        return Err(ApiError::duplicate());
    }
    let mut cells: BTreeMap<&'static str, Cell> =
        changes.cells.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect();
    cells.insert(table.key, Cell::Guid(id));
    if let Some((parent, via)) = parent {
        cells.insert(via, Cell::Ref(parent));
    }
    initial_state(table, &mut cells, id)?;
    defaults(table, &mut cells, ctx);
    hooks(env, table, &mut cells, parent.map(|(p, _)| p))?;
    for attr in table.attrs.iter().filter(|a| a.required) {
        if !cells.contains_key(attr.name) {
            return Err(ApiError::required(attr.name, table.logical));
        }
    }
    let me = EntityRef { table: table.logical, id };
    let children = changes
        .children
        .into_iter()
        .map(|Child { table: child, via, changes }| {
            prepare(env, ctx, child, None, changes, Some((me, via)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Prepared { table, id, cells, children })
}

fn commit(store: &mut Store, prepared: Prepared) {
    store.insert(prepared.table.logical, prepared.id, prepared.cells);
    for child in prepared.children {
        commit(store, child);
    }
}

/// `statecode` is not valid for create (reference A2): a record starts in the default state,
/// and a status of another state is refused with `0x80048408`.
fn initial_state(
    table: &Table,
    cells: &mut BTreeMap<&'static str, Cell>,
    id: Uuid,
) -> Result<(), ApiError> {
    let Some(open) = table.states.first() else { return Ok(()) };
    let status = cells.get("statuscode").and_then(Cell::as_int);
    if let Some(state) = cells.get("statecode").and_then(Cell::as_int)
        && state != open.value
    {
        let status = status.unwrap_or_else(|| table.state(state).map_or(0, |s| s.default_status));
        return Err(ApiError::invalid_status(
            status,
            table.state_enum,
            open.label,
            table.logical,
            id,
        ));
    }
    match status {
        Some(s) if !open.statuses.iter().any(|(v, _)| *v == s) => {
            return Err(ApiError::invalid_status(
                s,
                table.state_enum,
                open.label,
                table.logical,
                id,
            ));
        }
        Some(_) => {}
        None => {
            cells.insert("statuscode", Cell::Int(open.default_status));
        }
    }
    cells.insert("statecode", Cell::Int(open.value));
    Ok(())
}

/// Column defaults and the columns the platform fills in on create.
fn defaults(table: &Table, cells: &mut BTreeMap<&'static str, Cell>, ctx: &Ctx) {
    for attr in &table.attrs {
        let default = match attr.kind {
            Kind::Boolean(_, _, Some(d)) => Cell::Bool(d),
            Kind::Picklist(_, Some(d)) => Cell::Int(d),
            _ => continue,
        };
        cells.entry(attr.name).or_insert(default);
    }
    cells.insert("createdon", Cell::Date(ctx.now));
    cells.insert("modifiedon", Cell::Date(ctx.now));
    if table.attr("ownerid").is_some() {
        cells
            .entry("ownerid")
            .or_insert(Cell::Ref(EntityRef { table: "systemuser", id: ctx.user_id }));
    }
    if table.activity {
        cells.insert("activitytypecode", Cell::Str(table.logical.to_string()));
    }
}

/// Table-specific rules shared by create and update.
fn hooks(
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

/// Open activities are editable; completed and canceled ones are read-only (CED `statecode`
/// description, reference A2). A scheduled appointment is still open.
pub fn is_open(table: &Table, statecode: Option<&Cell>) -> bool {
    match statecode.and_then(Cell::as_int) {
        Some(0) | None => true,
        Some(3) => table.logical == "appointment",
        Some(_) => !table.activity,
    }
}

/// Updates an existing record.
pub fn update(
    env: &mut EnvState,
    ctx: &Ctx,
    table: &'static Table,
    id: Uuid,
    changes: Changes,
) -> Result<(), ApiError> {
    let row = env
        .store
        .get(table.logical, id)
        .ok_or_else(|| ApiError::record_not_found(table.logical, id))?;
    if !is_open(table, row.get("statecode")) {
        // A closed activity is read-only; changing Regarding stays possible on a completed
        // email (itaintboring.com, "I am a readonly record, but I am still updatable", 2019),
        // and a task or appointment can be reopened with a state change.
        let allowed: &[&str] = if table.logical == "email" {
            &["regardingobjectid"]
        } else {
            &["regardingobjectid", "statecode", "statuscode"]
        };
        if changes.cells.keys().any(|k| !allowed.contains(k)) {
            return Err(ApiError::read_only_record());
        }
    }
    let mut cells = row.cells.clone();
    for (name, value) in &changes.cells {
        match value {
            Some(v) => cells.insert(name, v.clone()),
            None => cells.remove(name),
        };
    }
    transition(table, row.get("statecode"), row.get("statuscode"), &changes, &mut cells, id, ctx)?;
    for attr in table.attrs.iter().filter(|a| a.required) {
        if !cells.contains_key(attr.name) {
            return Err(ApiError::required(attr.name, table.logical));
        }
    }
    hooks(env, table, &mut cells, None)?;
    cells.insert("modifiedon", Cell::Date(ctx.now));
    env.store.replace(table.logical, id, cells);
    Ok(())
}

/// Applies a state change: a PATCH of `statecode`/`statuscode` is SetState (CED `email.md`).
/// A status must belong to its state (`0x80048408`); a state alone takes its default status.
fn transition(
    table: &Table,
    current_state: Option<&Cell>,
    current_status: Option<&Cell>,
    changes: &Changes,
    cells: &mut BTreeMap<&'static str, Cell>,
    id: Uuid,
    ctx: &Ctx,
) -> Result<(), ApiError> {
    if table.states.is_empty() {
        return Ok(());
    }
    let given = |name: &str| changes.cells.get(name).map(|v| v.as_ref().and_then(Cell::as_int));
    let (given_state, given_status) = (given("statecode"), given("statuscode"));
    if matches!(given_state, Some(None)) || matches!(given_status, Some(None)) {
        // "Email.StatusCode cannot be null" (`PAD:email-activity-entities.md`).
        return Err(ApiError::bad_request(
            "0x80040203",
            format!("{}.StatusCode cannot be null", table.state_enum),
        ));
    }
    let current = current_state.and_then(Cell::as_int).unwrap_or(0);
    let state = given_state.flatten().unwrap_or(current);
    let option = table.state(state).expect("state validated against the option set");
    let status = match given_status.flatten() {
        Some(s) => s,
        None if state != current => option.default_status,
        None => current_status.and_then(Cell::as_int).unwrap_or(option.default_status),
    };
    if !option.statuses.iter().any(|(v, _)| *v == status) {
        return Err(ApiError::invalid_status(
            status,
            table.state_enum,
            option.label,
            table.logical,
            id,
        ));
    }
    cells.insert("statecode", Cell::Int(state));
    cells.insert("statuscode", Cell::Int(status));
    // The platform stamps `senton` when an email becomes Sent (reference A2: "Set by the
    // platform"; which transitions set it is UNCONFIRMED).
    if table.logical == "email" && current == 0 && status == 3 {
        cells.entry("senton").or_insert(Cell::Date(ctx.now));
    }
    Ok(())
}

/// Deletes a record; an activity takes its parties and attachments with it.
pub fn delete(env: &mut EnvState, table: &'static Table, id: Uuid) -> Result<(), ApiError> {
    env.store
        .remove(table.logical, id)
        .ok_or_else(|| ApiError::record_not_found(table.logical, id))?;
    if table.activity {
        for (child, via) in
            [("activityparty", "activityid"), ("activitymimeattachment", "objectid")]
        {
            let ids: Vec<Uuid> = env
                .store
                .rows(child)
                .into_iter()
                .filter(|r| r.get(via).and_then(Cell::as_ref).is_some_and(|r| r.id == id))
                .map(|r| r.id)
                .collect();
            for child_id in ids {
                env.store.remove(child, child_id);
            }
        }
    }
    Ok(())
}
