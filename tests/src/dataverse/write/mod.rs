//! The platform rules of create, update and delete: keys, state and status, required
//! columns, defaults, closed activities, parties and attachments.

use std::collections::BTreeMap;

use uuid::Uuid;

mod rules;
mod states;

use rules::hooks;
use states::{initial_state, is_open, transition};

use super::{
    body::{Changes, Child},
    errors::{ApiError, ODATA},
    metadata::{Kind, Table},
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
