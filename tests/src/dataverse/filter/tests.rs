use std::collections::BTreeMap;

use uuid::Uuid;

use super::parse;
use crate::dataverse::{
    metadata::catalog,
    store::{Cell, EntityRef, Row},
};

fn contact(email: &str, last: Option<&str>, parent: Option<Uuid>) -> Row {
    let mut cells = BTreeMap::new();
    cells.insert("emailaddress1", Cell::Str(email.into()));
    if let Some(last) = last {
        cells.insert("lastname", Cell::Str(last.into()));
    }
    if let Some(id) = parent {
        cells.insert("parentcustomerid", Cell::Ref(EntityRef { table: "account", id }));
    }
    cells.insert("statecode", Cell::Int(0));
    Row { id: Uuid::new_v4(), seq: 1, version: 1, cells, committed: std::time::Instant::now() }
}

fn matches(filter: &str, row: &Row) -> bool {
    parse(catalog().by_set("contacts").unwrap(), filter).unwrap().matches(row)
}

#[test]
fn comparisons_are_case_insensitive_and_combine_with_and_or_not_and_parentheses() {
    let row = contact("A@X.com", Some("O'Bryan"), None);
    assert!(matches("emailaddress1 eq 'a@x.com'", &row));
    assert!(matches("lastname eq 'o''bryan'", &row));
    assert!(matches("emailaddress1 eq 'no' or (statecode eq 0 and not (lastname eq 'x'))", &row));
    assert!(!matches("emailaddress1 ne 'a@x.COM'", &row));
    assert!(matches(
        "startswith(emailaddress1,'a@') and endswith(emailaddress1, '.COM') and contains(lastname,'bry')",
        &row
    ));
    assert!(matches(
        "statecode lt 1 and statecode ge 0 and statecode le 0 and not (statecode gt 0)",
        &row
    ));
}

#[test]
fn null_lookups_and_the_in_function_follow_the_service() {
    let account = Uuid::new_v4();
    let row = contact("b@y.com", None, Some(account));
    assert!(matches("lastname eq null", &row));
    assert!(!matches("lastname ne 'x'", &row), "a null column matches no comparison but eq null");
    assert!(matches(&format!("_parentcustomerid_value eq {account}"), &row));
    assert!(matches("_parentcustomerid_value ne null", &row));
    assert!(matches(
        "Microsoft.Dynamics.CRM.In(PropertyName='emailaddress1',PropertyValues=['a@x.com','B@Y.com'])",
        &row
    ));
    assert!(!matches(
        "Microsoft.Dynamics.CRM.In(PropertyName='emailaddress1',PropertyValues=['a@x.com'])",
        &row
    ));
}

#[test]
fn unknown_columns_bad_syntax_and_mistyped_literals_are_refused_with_odata_errors() {
    let contacts = catalog().by_set("contacts").unwrap();
    let err = parse(contacts, "Name eq 'x'").unwrap_err();
    assert_eq!(
        err.message,
        "Could not find a property named 'Name' on type 'Microsoft.Dynamics.CRM.contact'."
    );
    assert_eq!(err.code, "0x80060888");
    assert!(
        parse(contacts, "emailaddress1 eq")
            .unwrap_err()
            .message
            .starts_with("Syntax error at position")
    );
    assert!(parse(contacts, "emailaddress1 eq 'open").is_err());
    let mistyped = parse(contacts, "statecode eq 'x'").unwrap_err();
    assert!(mistyped.message.contains("incompatible types"), "{}", mistyped.message);
    assert!(
        parse(contacts, "parentcustomerid eq null").is_err(),
        "a lookup is filtered as _x_value"
    );
    assert!(parse(contacts, "substringof('a',emailaddress1)").is_err());
    let emails = catalog().by_set("emails").unwrap();
    assert!(
        parse(emails, "contains(description,'x')").is_err(),
        "the email body cannot be filtered"
    );
}

#[test]
fn dates_compare_as_instants_and_a_date_literal_is_midnight_utc() {
    let mut row = contact("d@x.com", None, None);
    let noon = crate::dataverse::body::parse_date("2025-01-01T12:00:00+02:00").unwrap();
    row.cells.insert("createdon", Cell::Date(noon));
    assert!(matches("createdon gt 2025-01-01", &row));
    assert!(matches("createdon eq 2025-01-01T10:00:00Z", &row));
    assert!(matches(
        "createdon lt 2025-01-01T10:00:01Z and createdon ge 2025-01-01T10:00:00Z",
        &row
    ));
}
