//! Table metadata: the columns, types, limits, option sets, navigation properties and state
//! models the simulator validates against, taken from the entity reference pages
//! (`PAD-ref:*.md`, `CED:*.md`; reference A2, A3, A9).

mod activities;
mod email;
mod mail;
mod records;

use std::sync::LazyLock;

/// A column's type and its limits.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// The table's primary key (Uniqueidentifier).
    PrimaryKey,
    /// Single line of text with its MaxLength.
    String(usize),
    /// Multiple lines of text with its MaxLength.
    Memo(usize),
    /// Whole number within a range.
    Integer(i64, i64),
    /// BigInt (`versionnumber`).
    BigInt,
    /// Two options: (false label, true label) and the default.
    Boolean(&'static str, &'static str, Option<bool>),
    /// Date and time (UTC).
    DateTime,
    /// A Uniqueidentifier that is not the key.
    Guid,
    /// Choice: value, label; and the default value.
    Picklist(&'static [(i64, &'static str)], Option<i64>),
    /// `statecode`: options come from the table's state model.
    State,
    /// `statuscode`: options come from the table's state model.
    Status,
    /// EntityName (a table logical name, e.g. `objecttypecode`).
    EntityName(&'static [&'static str]),
    /// Lookup to one of these tables.
    Lookup(&'static [&'static str]),
}

/// Whether a column may be written on create or update and read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// IsValidForCreate.
    pub create: bool,
    /// IsValidForUpdate.
    pub update: bool,
    /// IsValidForRead.
    pub read: bool,
}

/// Writable and readable.
pub const RW: Access = Access { create: true, update: true, read: true };
/// Read-only (set by the platform).
pub const RO: Access = Access { create: false, update: false, read: true };
/// Settable on create only.
pub const CREATE_ONLY: Access = Access { create: true, update: false, read: true };
/// Writable on update only (e.g. mailbox `enabledforincomingemail`).
pub const UPDATE_ONLY: Access = Access { create: false, update: true, read: true };
/// Writable but never returned (secrets).
pub const WRITE_ONLY: Access = Access { create: true, update: true, read: false };

/// One column.
#[derive(Debug, Clone)]
pub struct Attr {
    /// Logical name.
    pub name: &'static str,
    /// Type and limits.
    pub kind: Kind,
    /// Create/update/read validity.
    pub access: Access,
    /// SystemRequired (ApplicationRequired is not enforced by the platform for API calls).
    pub required: bool,
}

/// A single-valued navigation property (`<name>@odata.bind`) for a lookup column.
#[derive(Debug, Clone)]
pub struct Nav {
    /// The navigation property name, e.g. `regardingobjectid_account_email`.
    pub name: String,
    /// The lookup column it sets, e.g. `regardingobjectid`.
    pub attr: &'static str,
    /// The target table's logical name (`activitypointer` accepts every activity).
    pub target: &'static str,
}

/// A collection-valued navigation property (e.g. `email_activity_parties`).
#[derive(Debug, Clone)]
pub struct Collection {
    /// The navigation property name.
    pub name: &'static str,
    /// The related table.
    pub table: &'static str,
    /// The related table's lookup column pointing back at this record.
    pub via: &'static str,
    /// Whether the records can be created inline (deep insert) with the parent.
    pub deep_insert: bool,
}

/// One `statecode` option with its status reasons.
#[derive(Debug, Clone)]
pub struct StateOption {
    /// `statecode` value.
    pub value: i64,
    /// Label used in `<Table>State.<Label>` messages and formatted values.
    pub label: &'static str,
    /// Default `statuscode` for this state.
    pub default_status: i64,
    /// Valid `statuscode` values and labels.
    pub statuses: &'static [(i64, &'static str)],
}

/// What operations the Web API offers on a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// Create, Retrieve, RetrieveMultiple, Update, Upsert, Delete.
    Full,
    /// RetrieveMultiple only (activityparty).
    RetrieveMultipleOnly,
    /// Read-only view over other tables (activitypointer).
    View,
}

/// A table (entity) and its entity set.
#[derive(Debug, Clone)]
pub struct Table {
    /// Logical name, e.g. `email`.
    pub logical: &'static str,
    /// Entity set name, e.g. `emails`.
    pub set: &'static str,
    /// Primary key column.
    pub key: &'static str,
    /// Primary name column (used for lookup formatted values).
    pub primary_name: &'static str,
    /// `<Table>State` enum name used in state/status errors.
    pub state_enum: &'static str,
    /// State model; empty for tables without `statecode`.
    pub states: &'static [StateOption],
    /// Columns.
    pub attrs: Vec<Attr>,
    /// Single-valued navigation properties.
    pub navs: Vec<Nav>,
    /// Collection-valued navigation properties.
    pub collections: Vec<Collection>,
    /// Allowed operations.
    pub surface: Surface,
    /// Whether this is an activity (closed activities are read-only).
    pub activity: bool,
    /// Activity party participation masks this activity type uses.
    pub party_masks: &'static [i64],
}

impl Table {
    /// A column by logical name.
    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.name == name)
    }

    /// A single-valued navigation property by name.
    pub fn nav(&self, name: &str) -> Option<&Nav> {
        self.navs.iter().find(|n| n.name == name)
    }

    /// The navigation property of a lookup column that points at `target`.
    pub fn nav_for(&self, attr: &str, target: &str) -> Option<&Nav> {
        self.navs
            .iter()
            .find(|n| n.attr == attr && (n.target == target || n.target == "activitypointer"))
    }

    /// A collection-valued navigation property by name.
    pub fn collection(&self, name: &str) -> Option<&Collection> {
        self.collections.iter().find(|c| c.name == name)
    }

    /// The state option with this value.
    pub fn state(&self, value: i64) -> Option<&StateOption> {
        self.states.iter().find(|s| s.value == value)
    }

    /// Every valid `statuscode` value.
    pub fn all_statuses(&self) -> Vec<i64> {
        self.states.iter().flat_map(|s| s.statuses.iter().map(|(v, _)| *v)).collect()
    }
}

/// Every table the simulator knows.
#[derive(Debug)]
pub struct Catalog {
    tables: Vec<Table>,
}

impl Catalog {
    /// A table by entity set name (case sensitive, as the service).
    pub fn by_set(&self, set: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.set == set)
    }

    /// A table by logical name.
    pub fn by_logical(&self, logical: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.logical == logical)
    }

    /// The activity tables (the rows behind the `activitypointers` view).
    pub fn activities(&self) -> impl Iterator<Item = &Table> {
        self.tables.iter().filter(|t| t.activity)
    }
}

/// The catalog, built once.
pub fn catalog() -> &'static Catalog {
    static CATALOG: LazyLock<Catalog> = LazyLock::new(|| {
        let mut tables = activities::tables();
        tables.extend(records::tables());
        Catalog { tables }
    });
    &CATALOG
}

/// A column.
fn attr(name: &'static str, kind: Kind, access: Access) -> Attr {
    Attr { name, kind, access, required: false }
}

/// A SystemRequired column.
fn required(name: &'static str, kind: Kind, access: Access) -> Attr {
    Attr { name, kind, access, required: true }
}

/// The columns every table has: key, `createdon`, `modifiedon`, `versionnumber`.
fn system_columns(key: &'static str) -> Vec<Attr> {
    vec![
        attr(key, Kind::PrimaryKey, CREATE_ONLY),
        attr("createdon", Kind::DateTime, RO),
        attr("modifiedon", Kind::DateTime, RO),
        attr("versionnumber", Kind::BigInt, RO),
    ]
}

/// `ownerid` (to a user) with its navigation property.
fn owner(attrs: &mut Vec<Attr>, navs: &mut Vec<Nav>) {
    attrs.push(attr("ownerid", Kind::Lookup(&["systemuser"]), RW));
    navs.push(Nav { name: "ownerid".into(), attr: "ownerid", target: "systemuser" });
}

/// `statecode` and `statuscode`.
fn state_columns(attrs: &mut Vec<Attr>) {
    attrs.push(attr("statecode", Kind::State, RW));
    attrs.push(attr("statuscode", Kind::Status, RW));
}

/// Two-state tables (Active 0 / Inactive 1, status 1 / 2), as contact, account, queue,
/// mailbox and emailserverprofile (`PAD-ref:*.md`).
const ACTIVE_INACTIVE: &[StateOption] = &[
    StateOption { value: 0, label: "Active", default_status: 1, statuses: &[(1, "Active")] },
    StateOption { value: 1, label: "Inactive", default_status: 2, statuses: &[(2, "Inactive")] },
];
