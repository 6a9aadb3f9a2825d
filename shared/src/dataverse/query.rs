//! Queries: `$select` and a `$filter` built safely (reference A4), as a URL relative to the
//! Web API root, usable in a plain GET and inside a `$batch`.
//!
//! A string literal doubles its single quotes (`'O''Bryan'`); the whole option is then
//! percent-encoded, so `+` travels as `%2B` (it would otherwise arrive as a space and
//! `a+b@x.com` would match nothing), and `#`, `&` and `[` `]` cannot cut the URL.

use std::fmt::Write;

use crate::domain::RecordId;

/// A value compared with a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    /// A string, quoted and escaped.
    Text(String),
    /// A GUID, bare (as `_<lookup>_value eq <guid>` wants it).
    Guid(RecordId),
    /// An integer.
    Int(i64),
}

/// A `$filter` expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// `column eq literal` (string comparisons are case-insensitive in Dataverse).
    Eq(String, Literal),
    /// `Microsoft.Dynamics.CRM.In(PropertyName='column',PropertyValues=['a','b'])`: one
    /// request for many values.
    In(String, Vec<String>),
    /// Any of the expressions.
    Or(Vec<Filter>),
    /// All of the expressions.
    And(Vec<Filter>),
}

impl Filter {
    /// `column eq value`.
    pub fn eq(column: &str, value: Literal) -> Self {
        Self::Eq(column.to_string(), value)
    }

    /// `column` is one of `values` (which must not be empty: `In` needs a value).
    pub fn is_in(column: &str, values: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let values: Vec<String> = values.into_iter().map(Into::into).collect();
        debug_assert!(!values.is_empty(), "In() over no values");
        Self::In(column.to_string(), values)
    }

    /// The OData text, before URL encoding.
    pub fn to_odata(&self) -> String {
        match self {
            Self::Eq(column, value) => format!("{column} eq {}", literal(value)),
            Self::In(column, values) => {
                let values: Vec<String> = values.iter().map(|v| quote(v)).collect();
                format!(
                    "Microsoft.Dynamics.CRM.In(PropertyName={},PropertyValues=[{}])",
                    quote(column),
                    values.join(",")
                )
            }
            Self::Or(parts) => join(parts, " or "),
            Self::And(parts) => join(parts, " and "),
        }
    }
}

fn join(parts: &[Filter], operator: &str) -> String {
    let parts: Vec<String> = parts.iter().map(|p| format!("({})", p.to_odata())).collect();
    parts.join(operator)
}

fn literal(value: &Literal) -> String {
    match value {
        Literal::Text(text) => quote(text),
        Literal::Guid(id) => id.hyphenated().to_string(),
        Literal::Int(n) => n.to_string(),
    }
}

/// A string literal: single-quoted, inner quotes doubled.
pub fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Percent-encodes a query option value: everything but RFC 3986 unreserved characters and
/// the OData punctuation that is safe in a query (`'(),=:@$/`).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        let safe = byte.is_ascii_alphanumeric() || b"-._~'(),=:@$/".contains(&byte);
        if safe {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// A GET of one entity set: which columns, which rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    entity_set: String,
    select: Vec<String>,
    filter: Option<Filter>,
    top: Option<u32>,
    annotations: Option<String>,
}

impl Query {
    /// All rows of `entity_set` (e.g. `emails`), all columns, until narrowed.
    pub fn new(entity_set: &str) -> Self {
        Self {
            entity_set: entity_set.to_string(),
            select: Vec::new(),
            filter: None,
            top: None,
            annotations: None,
        }
    }

    /// Only these columns (always ask for the columns you read: it is much cheaper).
    pub fn select(mut self, columns: &[&str]) -> Self {
        self.select = columns.iter().map(|c| c.to_string()).collect();
        self
    }

    /// Only rows matching `filter`.
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filter = Some(filter);
        self
    }

    /// At most `n` rows.
    pub fn top(mut self, n: u32) -> Self {
        self.top = Some(n);
        self
    }

    /// Asks for annotations, e.g. `Microsoft.Dynamics.CRM.lookuplogicalname` (sent as
    /// `Prefer: odata.include-annotations="..."`, A1).
    pub fn annotations(mut self, names: &str) -> Self {
        self.annotations = Some(names.to_string());
        self
    }

    /// The entity set queried.
    pub fn entity_set(&self) -> &str {
        &self.entity_set
    }

    /// The `Prefer` value this query needs, if any.
    pub fn prefer(&self) -> Option<String> {
        self.annotations.as_ref().map(|names| format!("odata.include-annotations=\"{names}\""))
    }

    /// `emails?$select=...&$filter=...`, relative to the Web API root, encoded.
    pub fn relative_url(&self) -> String {
        let mut options = Vec::new();
        if !self.select.is_empty() {
            options.push(format!("$select={}", encode(&self.select.join(","))));
        }
        if let Some(filter) = &self.filter {
            options.push(format!("$filter={}", encode(&filter.to_odata())));
        }
        if let Some(top) = self.top {
            options.push(format!("$top={top}"));
        }
        if options.is_empty() {
            self.entity_set.clone()
        } else {
            format!("{}?{}", self.entity_set, options.join("&"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_doubled_and_plus_hash_ampersand_are_encoded() {
        let q = Query::new("contacts")
            .select(&["contactid", "emailaddress1"])
            .filter(Filter::eq("emailaddress1", Literal::Text("o'bryan+news@x.com#&".into())));
        assert_eq!(
            q.relative_url(),
            "contacts?$select=contactid,emailaddress1\
             &$filter=emailaddress1%20eq%20'o''bryan%2Bnews@x.com%23%26'"
        );
    }

    #[test]
    fn many_values_become_one_in_function() {
        let f = Filter::Or(vec![
            Filter::is_in("emailaddress1", ["a@x.com", "b@y.com"]),
            Filter::is_in("emailaddress2", ["a@x.com"]),
        ]);
        assert_eq!(
            f.to_odata(),
            "(Microsoft.Dynamics.CRM.In(PropertyName='emailaddress1',PropertyValues=['a@x.com','b@y.com'])) \
             or (Microsoft.Dynamics.CRM.In(PropertyName='emailaddress2',PropertyValues=['a@x.com']))"
        );
        let url = Query::new("contacts").filter(f).top(5).relative_url();
        assert!(url.contains("PropertyValues=%5B'a@x.com','b@y.com'%5D"), "{url}");
        assert!(url.ends_with("&$top=5"), "{url}");
    }

    #[test]
    fn guids_are_bare_and_annotations_go_in_prefer() {
        let id = RecordId::from_u128(0x1234);
        let q = Query::new("emails")
            .filter(Filter::eq("_parentactivityid_value", Literal::Guid(id)))
            .annotations("Microsoft.Dynamics.CRM.lookuplogicalname");
        assert!(q.relative_url().ends_with("eq%2000000000-0000-0000-0000-000000001234"));
        assert_eq!(
            q.prefer().unwrap(),
            "odata.include-annotations=\"Microsoft.Dynamics.CRM.lookuplogicalname\""
        );
        assert_eq!(Query::new("emails").relative_url(), "emails");
        assert_eq!(Filter::eq("n", Literal::Int(-3)).to_odata(), "n eq -3");
    }
}
