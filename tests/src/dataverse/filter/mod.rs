//! The `$filter` subset Dataverse supports for our queries (`PAD:webapi/query/filter-rows.md`,
//! reference A4): `eq ne gt ge lt le`, `and or not`, parentheses, `contains`, `startswith`,
//! `endswith`, `null`, lookups as `_<lookup>_value`, and
//! `Microsoft.Dynamics.CRM.In(PropertyName='x',PropertyValues=['a','b'])`.
//! String comparisons are case-insensitive, as the service's.

mod lex;
mod parse;

use std::cmp::Ordering;

pub use parse::parse;

use super::{
    metadata::{Attr, Kind},
    store::{Cell, Row},
};

/// A parsed filter.
#[derive(Debug, Clone)]
pub enum Expr {
    /// Both.
    And(Box<Expr>, Box<Expr>),
    /// Either.
    Or(Box<Expr>, Box<Expr>),
    /// Negation.
    Not(Box<Expr>),
    /// `<column> <op> <literal>`; a `None` literal is `null`.
    Compare(&'static Attr, Op, Option<Cell>),
    /// `contains|startswith|endswith(<column>, '<text>')`.
    Text(&'static Attr, TextFn, String),
    /// `Microsoft.Dynamics.CRM.In`.
    In(&'static Attr, Vec<Cell>),
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `eq`.
    Eq,
    /// `ne`.
    Ne,
    /// `gt`.
    Gt,
    /// `ge`.
    Ge,
    /// `lt`.
    Lt,
    /// `le`.
    Le,
}

impl Op {
    /// ODataLib's name of the operator kind (for type errors).
    fn kind_name(self) -> &'static str {
        match self {
            Op::Eq => "Equal",
            Op::Ne => "NotEqual",
            Op::Gt => "GreaterThan",
            Op::Ge => "GreaterThanOrEqual",
            Op::Lt => "LessThan",
            Op::Le => "LessThanOrEqual",
        }
    }
}

/// The string functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFn {
    /// `contains`.
    Contains,
    /// `startswith`.
    StartsWith,
    /// `endswith`.
    EndsWith,
}

impl Expr {
    /// Whether a row matches.
    pub fn matches(&self, row: &Row) -> bool {
        match self {
            Expr::And(a, b) => a.matches(row) && b.matches(row),
            Expr::Or(a, b) => a.matches(row) || b.matches(row),
            Expr::Not(e) => !e.matches(row),
            Expr::Compare(attr, op, literal) => compare(row.get(attr.name), *op, literal.as_ref()),
            Expr::Text(attr, f, needle) => {
                let Some(Cell::Str(s)) = row.get(attr.name) else { return false };
                let (s, needle) = (s.to_lowercase(), needle.to_lowercase());
                match f {
                    TextFn::Contains => s.contains(&needle),
                    TextFn::StartsWith => s.starts_with(&needle),
                    TextFn::EndsWith => s.ends_with(&needle),
                }
            }
            Expr::In(attr, values) => {
                let cell = row.get(attr.name);
                values.iter().any(|v| compare(cell, Op::Eq, Some(v)))
            }
        }
    }
}

/// SQL semantics, as FetchXML underneath: `eq null` / `ne null` test for null; any other
/// comparison with a null column is false.
fn compare(cell: Option<&Cell>, op: Op, literal: Option<&Cell>) -> bool {
    match (cell, literal) {
        (None, None) => op == Op::Eq,
        (Some(_), None) => op == Op::Ne,
        (None, Some(_)) => false,
        (Some(cell), Some(literal)) => match order(cell, literal) {
            Some(o) => match op {
                Op::Eq => o == Ordering::Equal,
                Op::Ne => o != Ordering::Equal,
                Op::Gt => o == Ordering::Greater,
                Op::Ge => o != Ordering::Less,
                Op::Lt => o == Ordering::Less,
                Op::Le => o != Ordering::Greater,
            },
            None => false,
        },
    }
}

/// Orders two values of compatible types; strings case-insensitively.
pub fn order(a: &Cell, b: &Cell) -> Option<Ordering> {
    use Cell::*;
    match (a, b) {
        (Str(a), Str(b)) => Some(a.to_lowercase().cmp(&b.to_lowercase())),
        (Int(a), Int(b)) => Some(a.cmp(b)),
        (Int(a), Float(b)) => (*a as f64).partial_cmp(b),
        (Float(a), Int(b)) => a.partial_cmp(&(*b as f64)),
        (Float(a), Float(b)) => a.partial_cmp(b),
        (Bool(a), Bool(b)) => Some(a.cmp(b)),
        (Date(a), Date(b)) => Some(a.cmp(b)),
        (Guid(a), Guid(b)) => Some(a.cmp(b)),
        (Ref(a), Guid(b)) | (Guid(b), Ref(a)) => Some(a.id.cmp(b)),
        (Ref(a), Ref(b)) => Some(a.id.cmp(&b.id)),
        _ => None,
    }
}

/// The EDM type name of a column, for type errors.
pub fn edm(kind: &Kind) -> &'static str {
    match kind {
        Kind::String(_) | Kind::Memo(_) | Kind::EntityName(_) => "Edm.String",
        Kind::Integer(..) | Kind::Picklist(..) | Kind::State | Kind::Status => "Edm.Int32",
        Kind::BigInt => "Edm.Int64",
        Kind::Boolean(..) => "Edm.Boolean",
        Kind::DateTime => "Edm.DateTimeOffset",
        Kind::Guid | Kind::PrimaryKey | Kind::Lookup(_) => "Edm.Guid",
    }
}

#[cfg(test)]
mod tests;
