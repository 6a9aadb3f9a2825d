//! State and status: the default state on create, SetState through PATCH, and which
//! activities are closed (reference A2, A3).

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::dataverse::{body::Changes, errors::ApiError, metadata::Table, state::Ctx, store::Cell};

/// `statecode` is not valid for create (reference A2): a record starts in the default state,
/// and a status of another state is refused with `0x80048408`.
pub fn initial_state(
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

/// Open activities are editable; completed and canceled ones are read-only (CED `statecode`
/// description, reference A2). A scheduled appointment is still open.
pub fn is_open(table: &Table, statecode: Option<&Cell>) -> bool {
    match statecode.and_then(Cell::as_int) {
        Some(0) | None => true,
        Some(3) => table.logical == "appointment",
        Some(_) => !table.activity,
    }
}

/// Applies a state change: a PATCH of `statecode`/`statuscode` is SetState (CED `email.md`).
/// A status must belong to its state (`0x80048408`); a state alone takes its default status.
pub fn transition(
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
