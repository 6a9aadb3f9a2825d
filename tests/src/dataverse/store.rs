//! The records of one environment: rows of typed cells, with row versions for ETags.
//!
//! A changeset clones the store and puts the clone back when one of its operations fails,
//! which is what makes it atomic.

use std::collections::BTreeMap;

use serde_json::Value;
use time::{OffsetDateTime, UtcOffset, macros::format_description};
use uuid::Uuid;

/// A reference to a record: its table's logical name and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityRef {
    /// Logical name of the table, e.g. `contact`.
    pub table: &'static str,
    /// The record's primary key.
    pub id: Uuid,
}

/// A non-null column value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// String, Memo, EntityName.
    Str(String),
    /// Integer, BigInt, Picklist, State, Status.
    Int(i64),
    /// Double or Decimal.
    Float(f64),
    /// Boolean.
    Bool(bool),
    /// DateTime, always UTC.
    Date(OffsetDateTime),
    /// Uniqueidentifier.
    Guid(Uuid),
    /// Lookup.
    Ref(EntityRef),
}

impl Cell {
    /// The value as the Web API writes it.
    pub fn to_json(&self) -> Value {
        match self {
            Cell::Str(s) => Value::String(s.clone()),
            Cell::Int(i) => Value::from(*i),
            Cell::Float(f) => Value::from(*f),
            Cell::Bool(b) => Value::Bool(*b),
            Cell::Date(d) => Value::String(format_date(*d)),
            Cell::Guid(g) => Value::String(g.to_string()),
            Cell::Ref(r) => Value::String(r.id.to_string()),
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Cell::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Cell::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The lookup target, if this is a lookup.
    pub fn as_ref(&self) -> Option<EntityRef> {
        match self {
            Cell::Ref(r) => Some(*r),
            _ => None,
        }
    }
}

/// `2025-01-01T10:00:00Z`, the form the Web API returns.
pub fn format_date(date: OffsetDateTime) -> String {
    date.to_offset(UtcOffset::UTC)
        .format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z"))
        .expect("formattable date")
}

/// One record.
#[derive(Debug, Clone)]
pub struct Row {
    /// Primary key.
    pub id: Uuid,
    /// Creation order (the default order of query results).
    pub seq: u64,
    /// Row version (`versionnumber`, the weak ETag).
    pub version: u64,
    /// Non-null values by column.
    pub cells: BTreeMap<&'static str, Cell>,
    /// When it was committed, in real time (the benchmarks time creates by it).
    pub committed: std::time::Instant,
}

impl Row {
    /// A column's value.
    pub fn get(&self, attr: &str) -> Option<&Cell> {
        self.cells.get(attr)
    }

    /// `W/"<version>"`.
    pub fn etag(&self) -> String {
        format!("W/\"{}\"", self.version)
    }
}

/// Every record of one environment.
#[derive(Debug, Clone, Default)]
pub struct Store {
    tables: BTreeMap<&'static str, BTreeMap<Uuid, Row>>,
    seq: u64,
    version: u64,
}

impl Store {
    /// A record.
    pub fn get(&self, table: &str, id: Uuid) -> Option<&Row> {
        self.tables.get(table)?.get(&id)
    }

    /// A record, mutable.
    pub fn get_mut(&mut self, table: &str, id: Uuid) -> Option<&mut Row> {
        self.tables.get_mut(table)?.get_mut(&id)
    }

    /// How many records a table has.
    pub fn count(&self, table: &str) -> usize {
        self.tables.get(table).map_or(0, BTreeMap::len)
    }

    /// Every record of a table, in creation order.
    pub fn rows(&self, table: &str) -> Vec<&Row> {
        let mut rows: Vec<&Row> =
            self.tables.get(table).map(|t| t.values().collect()).unwrap_or_default();
        rows.sort_by_key(|r| r.seq);
        rows
    }

    /// Inserts a new record (the caller checked the key is free).
    pub fn insert(
        &mut self,
        table: &'static str,
        id: Uuid,
        mut cells: BTreeMap<&'static str, Cell>,
    ) {
        self.seq += 1;
        let version = self.next_version();
        cells.insert("versionnumber", Cell::Int(version as i64));
        let row = Row { id, seq: self.seq, version, cells, committed: std::time::Instant::now() };
        self.tables.entry(table).or_default().insert(id, row);
    }

    /// Replaces a record's values, giving it a new row version. Returns false if it is missing.
    pub fn replace(
        &mut self,
        table: &str,
        id: Uuid,
        mut cells: BTreeMap<&'static str, Cell>,
    ) -> bool {
        let version = self.next_version();
        let Some(row) = self.get_mut(table, id) else { return false };
        cells.insert("versionnumber", Cell::Int(version as i64));
        row.cells = cells;
        row.version = version;
        true
    }

    fn next_version(&mut self) -> u64 {
        self.version += 1;
        // Row versions are large opaque numbers in Dataverse (e.g. W/"77180907").
        77_000_000 + self.version
    }

    /// Removes a record.
    pub fn remove(&mut self, table: &str, id: Uuid) -> Option<Row> {
        self.tables.get_mut(table)?.remove(&id)
    }

    /// The activity with this id, whatever its type.
    pub fn activity(&self, id: Uuid) -> Option<(&'static str, &Row)> {
        ["email", "appointment", "task"]
            .into_iter()
            .find_map(|t| self.get(t, id).map(|row| (t, row)))
    }
}
