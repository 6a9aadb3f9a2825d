//! Reading a create/update payload against the metadata: structural properties with their
//! types and limits, `<nav>@odata.bind` references, and deep-inserted collections.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use time::{OffsetDateTime, UtcOffset, format_description::well_known::Rfc3339};
use uuid::Uuid;

use super::{
    errors::{ApiError, ODATA, Operation},
    metadata::{Attr, Kind, Table, catalog},
    state::Ctx,
    store::{Cell, EntityRef, Store},
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

fn check_access(table: &Table, attr: &Attr, op: Operation) -> Result<(), ApiError> {
    let allowed = match op {
        Operation::Create => attr.access.create,
        Operation::Update => attr.access.update,
    };
    if allowed { Ok(()) } else { Err(ApiError::not_valid_for(op, attr.name, table.logical)) }
}

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
pub fn resolve_reference(
    reference: &str,
    ctx: &Ctx,
    entity_set: &str,
) -> Result<EntityRef, ApiError> {
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

/// Converts a JSON value to a cell of the column's type, checking limits and option sets.
pub fn convert(table: &Table, attr: &Attr, value: &Value) -> Result<Option<Cell>, ApiError> {
    if value.is_null() {
        return Ok(None);
    }
    let wrong_type = |edm: &str| {
        ApiError::payload(
            table.set,
            format!("Cannot convert the literal '{value}' to the expected type '{edm}'."),
        )
    };
    let int = |edm: &str| value.as_i64().filter(|_| !value.is_f64()).ok_or_else(|| wrong_type(edm));
    let cell = match &attr.kind {
        Kind::String(max) | Kind::Memo(max) => {
            let s = value.as_str().ok_or_else(|| wrong_type("Edm.String"))?;
            // .NET string length: UTF-16 code units.
            if s.encode_utf16().count() > *max {
                return Err(ApiError::too_long(attr.name, table.logical, *max));
            }
            Cell::Str(s.to_string())
        }
        Kind::Integer(min, max) => {
            let n = int("Edm.Int32")?;
            if n < *min || n > *max {
                // Range errors reuse the option-set wording without the accepted list (UNCONFIRMED).
                return Err(ApiError::bad_request(
                    "0x8004431A",
                    format!(
                        "A validation error occurred. The value {n} of '{}' on record of type '{}' is outside the valid range.",
                        attr.name, table.logical
                    ),
                ));
            }
            Cell::Int(n)
        }
        Kind::BigInt => Cell::Int(int("Edm.Int64")?),
        Kind::Boolean(..) => Cell::Bool(value.as_bool().ok_or_else(|| wrong_type("Edm.Boolean"))?),
        Kind::DateTime => {
            let s = value.as_str().ok_or_else(|| wrong_type("Edm.DateTimeOffset"))?;
            Cell::Date(parse_date(s).ok_or_else(|| wrong_type("Edm.DateTimeOffset"))?)
        }
        Kind::Guid | Kind::PrimaryKey => {
            let s = value.as_str().ok_or_else(|| wrong_type("Edm.Guid"))?;
            Cell::Guid(Uuid::parse_str(s).map_err(|_| wrong_type("Edm.Guid"))?)
        }
        Kind::Picklist(options, _) => {
            let n = int("Edm.Int32")?;
            let accepted: Vec<i64> = options.iter().map(|(v, _)| *v).collect();
            check_option(n, &accepted, attr, table)?
        }
        Kind::State => check_option(
            int("Edm.Int32")?,
            &table.states.iter().map(|s| s.value).collect::<Vec<_>>(),
            attr,
            table,
        )?,
        Kind::Status => check_option(int("Edm.Int32")?, &table.all_statuses(), attr, table)?,
        Kind::EntityName(names) => {
            let s = value.as_str().ok_or_else(|| wrong_type("Edm.String"))?;
            if !names.contains(&s) {
                // UNCONFIRMED text; InvalidArgument code.
                return Err(ApiError::bad_request(
                    "0x80040203",
                    format!(
                        "'{s}' is not a valid entity name for attribute '{}' of entity '{}'.",
                        attr.name, table.logical
                    ),
                ));
            }
            Cell::Str(s.to_string())
        }
        Kind::Lookup(_) => return Err(ApiError::unknown_property(attr.name, table.logical)),
    };
    Ok(Some(cell))
}

fn check_option(n: i64, accepted: &[i64], attr: &Attr, table: &Table) -> Result<Cell, ApiError> {
    if accepted.contains(&n) {
        Ok(Cell::Int(n))
    } else {
        Err(ApiError::option_out_of_range(n, attr.name, table.logical, accepted))
    }
}

/// An `Edm.DateTimeOffset` literal (RFC 3339), normalised to UTC.
pub fn parse_date(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok().map(|d| d.to_offset(UtcOffset::UTC))
}
