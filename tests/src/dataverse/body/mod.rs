//! Reading a create/update payload against the metadata: structural properties with their
//! types and limits, `<nav>@odata.bind` references, and deep-inserted collections.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

mod bind;
mod convert;

pub use bind::{content_id_missing, read_bind};
pub use convert::{convert, parse_date};

use super::{
    errors::{ApiError, Operation},
    metadata::{Attr, Kind, Table, catalog},
    state::Ctx,
    store::{Cell, Store},
};

/// The validated content of a payload.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    /// Column values to set; `None` clears the column.
    pub cells: BTreeMap<&'static str, Option<Cell>>,
    /// Records to create with the parent (deep insert).
    pub children: Vec<Child>,
}

/// A record deep-inserted through a collection-valued navigation property.
#[derive(Debug, Clone)]
pub struct Child {
    /// The related table.
    pub table: &'static Table,
    /// Its lookup column that will point at the parent.
    pub via: &'static str,
    /// Its content.
    pub changes: Changes,
}

/// Parses a request body as a JSON object and validates it for `table`.
pub fn parse(
    table: &'static Table,
    body: &[u8],
    op: Operation,
    ctx: &Ctx,
    store: &Store,
) -> Result<Changes, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::payload(
            table.set,
            format!("Invalid JSON. The request body is not valid JSON: {e}."),
        )
    })?;
    let Value::Object(object) = value else {
        return Err(ApiError::payload(
            table.set,
            "A JSON object was expected as the request body.",
        ));
    };
    read_object(table, &object, op, ctx, store)
}

fn read_object(
    table: &'static Table,
    object: &Map<String, Value>,
    op: Operation,
    ctx: &Ctx,
    store: &Store,
) -> Result<Changes, ApiError> {
    let mut changes = Changes::default();
    for (key, value) in object {
        if let Some(annotation) = key.strip_prefix('@') {
            check_instance_annotation(table, annotation, value)?;
        } else if let Some(nav) = key.strip_suffix("@odata.bind") {
            let (attr, target) = read_bind(table, nav, value, op, ctx, store)?;
            if changes.cells.insert(attr, Some(Cell::Ref(target))).is_some() {
                return Err(ApiError::payload(
                    table.set,
                    format!("The lookup '{attr}' is bound more than once in the payload."),
                ));
            }
        } else if let Some((property, _)) = key.split_once('@') {
            // An annotation on a property: fine on a declared one, the doc's error otherwise.
            if table.attr(property).is_none() && table.collection(property).is_none() {
                return Err(ApiError::undeclared_navigation(table.set, property));
            }
        } else if let Some(collection) = table.collection(key) {
            if op != Operation::Create || !collection.deep_insert {
                // Deep update of a collection is not supported by the Web API (UNCONFIRMED text).
                return Err(ApiError::payload(
                    table.set,
                    format!(
                        "The collection-valued navigation property '{key}' can only be set when the record is created."
                    ),
                ));
            }
            let child_table = catalog().by_logical(collection.table).expect("catalog table");
            let Value::Array(items) = value else {
                return Err(ApiError::payload(
                    table.set,
                    format!("A JSON array was expected for '{key}'."),
                ));
            };
            for item in items {
                let Value::Object(item) = item else {
                    return Err(ApiError::payload(
                        table.set,
                        format!("The items of '{key}' must be JSON objects."),
                    ));
                };
                let child = read_object(child_table, item, Operation::Create, ctx, store)?;
                changes.children.push(Child {
                    table: child_table,
                    via: collection.via,
                    changes: child,
                });
            }
        } else {
            let attr = table
                .attr(key)
                .filter(|a| !matches!(a.kind, Kind::Lookup(_)))
                .ok_or_else(|| ApiError::unknown_property(key, table.logical))?;
            check_access(table, attr, op)?;
            changes.cells.insert(attr.name, convert(table, attr, value)?);
        }
    }
    Ok(changes)
}

/// `@odata.type` must name this entity type; other `@odata.*` annotations (an echoed
/// `@odata.etag`, `@odata.context`) are ignored as OData readers do.
fn check_instance_annotation(
    table: &Table,
    annotation: &str,
    value: &Value,
) -> Result<(), ApiError> {
    if annotation == "odata.type" {
        let expected = format!("Microsoft.Dynamics.CRM.{}", table.logical);
        let given = value.as_str().unwrap_or_default().trim_start_matches('#');
        if given != expected {
            return Err(ApiError::payload(
                table.set,
                format!(
                    "A resource with type '{given}' was found, but it is not assignable to the expected type '{expected}'."
                ),
            ));
        }
    }
    Ok(())
}

/// A column must be valid for the operation (IsValidForCreate / IsValidForUpdate).
pub(super) fn check_access(table: &Table, attr: &Attr, op: Operation) -> Result<(), ApiError> {
    let allowed = match op {
        Operation::Create => attr.access.create,
        Operation::Update => attr.access.update,
    };
    if allowed { Ok(()) } else { Err(ApiError::not_valid_for(op, attr.name, table.logical)) }
}
