//! JSON values to typed cells: EDM type, string length, integer range, option sets.

use serde_json::Value;
use time::{OffsetDateTime, UtcOffset, format_description::well_known::Rfc3339};
use uuid::Uuid;

use crate::dataverse::{
    errors::ApiError,
    metadata::{Attr, Kind, Table},
    store::Cell,
};

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
