//! Writing a record as the Web API does: `@odata.etag`, columns (every readable one, or the
//! `$select`ed ones), lookups as `_<name>_value`, annotations when `Prefer` asks for them,
//! and `$expand`ed related records.

use serde_json::{Map, Value};

use super::{
    headers::Prefer,
    metadata::{Attr, Kind, Table, catalog},
    store::{Cell, EntityRef, Row, Store},
};

const FORMATTED: &str = "OData.Community.Display.V1.FormattedValue";
const NAVIGATION: &str = "Microsoft.Dynamics.CRM.associatednavigationproperty";
const LOGICAL: &str = "Microsoft.Dynamics.CRM.lookuplogicalname";

/// Which columns and related records to write.
#[derive(Debug, Clone, Default)]
pub struct Shape {
    /// `$select`ed columns; `None` = every readable column.
    pub columns: Option<Vec<&'static Attr>>,
    /// `$expand`ed navigation properties.
    pub expand: Vec<Expand>,
}

/// One `$expand` item.
#[derive(Debug, Clone)]
pub struct Expand {
    /// The navigation property name (the key in the output).
    pub name: String,
    /// What it leads to.
    pub target: ExpandTarget,
    /// The related records' shape (`$select` inside the parentheses).
    pub shape: Shape,
}

/// Where an `$expand` leads.
#[derive(Debug, Clone, Copy)]
pub enum ExpandTarget {
    /// The records of `table` whose lookup `via` points at this one.
    Collection { table: &'static Table, via: &'static str },
    /// The record a lookup column points at, when it is of the navigation property's table.
    Single { attr: &'static str, target: &'static str },
}

/// The JSON name of a column: `_<name>_value` for lookups.
pub fn json_name(attr: &Attr) -> String {
    match attr.kind {
        Kind::Lookup(_) => format!("_{}_value", attr.name),
        _ => attr.name.to_string(),
    }
}

/// Writes `row` of `source` as seen through `view` (they differ only for `activitypointers`).
pub fn render(
    store: &Store,
    view: &Table,
    source: &Table,
    row: &Row,
    shape: &Shape,
    prefer: &Prefer,
) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("@odata.etag".into(), Value::String(row.etag()));
    let all: Vec<&Attr>;
    let columns: &[&Attr] = match &shape.columns {
        Some(c) => c,
        None => {
            all = view.attrs.iter().filter(|a| a.access.read).collect();
            &all
        }
    };
    for attr in
        columns.iter().copied().chain(view.attr(view.key).filter(|_| shape.columns.is_some()))
    {
        let name = json_name(attr);
        let cell = computed(store, source, row, attr).or_else(|| row.get(attr.name).cloned());
        out.insert(name.clone(), cell.as_ref().map_or(Value::Null, Cell::to_json));
        if let Some(cell) = &cell {
            annotate(&mut out, &name, store, source, attr, cell, prefer);
        }
    }
    for expand in &shape.expand {
        out.insert(expand.name.clone(), expanded(store, row, expand, prefer));
    }
    out
}

/// Columns the platform computes on read.
fn computed(store: &Store, source: &Table, row: &Row, attr: &Attr) -> Option<Cell> {
    (source.logical == "email" && attr.name == "attachmentcount").then(|| {
        let n = related(store, "activitymimeattachment", "objectid", row).len();
        Cell::Int(i64::try_from(n).unwrap_or(i64::MAX))
    })
}

fn annotate(
    out: &mut Map<String, Value>,
    name: &str,
    store: &Store,
    source: &Table,
    attr: &Attr,
    cell: &Cell,
    prefer: &Prefer,
) {
    let mut put = |annotation: &str, value: Value| {
        if prefer.wants(annotation) {
            out.insert(format!("{name}@{annotation}"), value);
        }
    };
    // Option labels come from the record's own table (an activitypointer row is an email...).
    let source_attr = source.attr(attr.name).unwrap_or(attr);
    let label = match (&source_attr.kind, cell) {
        (Kind::Picklist(options, _), Cell::Int(v)) => {
            options.iter().find(|(o, _)| o == v).map(|(_, l)| *l)
        }
        (Kind::State, Cell::Int(v)) => source.state(*v).map(|s| s.label),
        (Kind::Status, Cell::Int(v)) => source
            .states
            .iter()
            .flat_map(|s| s.statuses.iter())
            .find(|(o, _)| o == v)
            .map(|(_, l)| *l),
        (Kind::Boolean(no, yes, _), Cell::Bool(b)) => Some(if *b { *yes } else { *no }),
        _ => None,
    };
    if let Some(label) = label {
        put(FORMATTED, Value::String(label.to_string()));
    }
    if let Cell::Ref(target) = cell {
        if let Some(name) = primary_name(store, *target) {
            put(FORMATTED, Value::String(name));
        }
        if let Some(nav) = source.nav_for(attr.name, target.table) {
            put(NAVIGATION, Value::String(nav.name.clone()));
        }
        put(LOGICAL, Value::String(target.table.to_string()));
    }
}

/// The primary name of a record (a lookup's formatted value).
fn primary_name(store: &Store, target: EntityRef) -> Option<String> {
    let table = catalog().by_logical(target.table)?;
    store.get(target.table, target.id)?.get(table.primary_name)?.as_str().map(str::to_string)
}

/// The records of `table` whose lookup `via` points at `row`.
pub fn related<'s>(store: &'s Store, table: &str, via: &str, row: &Row) -> Vec<&'s Row> {
    store
        .rows(table)
        .into_iter()
        .filter(|r| r.get(via).and_then(Cell::as_ref).is_some_and(|t| t.id == row.id))
        .collect()
}

fn expanded(store: &Store, row: &Row, expand: &Expand, prefer: &Prefer) -> Value {
    match expand.target {
        ExpandTarget::Collection { table, via } => Value::Array(
            related(store, table.logical, via, row)
                .into_iter()
                .map(|r| Value::Object(render(store, table, table, r, &expand.shape, prefer)))
                .collect(),
        ),
        ExpandTarget::Single { attr, target } => {
            let found = row
                .get(attr)
                .and_then(Cell::as_ref)
                .filter(|t| t.table == target || target == "activitypointer")
                .and_then(|t| Some((catalog().by_logical(t.table)?, store.get(t.table, t.id)?)));
            match found {
                Some((table, r)) => {
                    Value::Object(render(store, table, table, r, &expand.shape, prefer))
                }
                None => Value::Null,
            }
        }
    }
}
