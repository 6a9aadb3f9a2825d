//! Parsing the system query options of a request: `$select`, `$expand`, `$filter`,
//! `$orderby`, `$top`, `$count`, `$skiptoken`; refusing `$skip` and unknown `$` options.

use std::collections::HashSet;

use crate::dataverse::{
    errors::{ApiError, ODATA},
    filter::{self, Expr},
    metadata::{Attr, Kind, Table, catalog},
    render::{Expand, ExpandTarget, Shape},
};

/// A column as named in a query: `name`, or `_<lookup>_value` for a lookup. Properties are
/// case sensitive; an unknown one is refused (support article "Could not find a property").
pub fn column(table: &'static Table, name: &str) -> Result<&'static Attr, ApiError> {
    let found = match name.strip_prefix('_').and_then(|n| n.strip_suffix("_value")) {
        Some(lookup) => table.attr(lookup).filter(|a| matches!(a.kind, Kind::Lookup(_))),
        None => table.attr(name).filter(|a| !matches!(a.kind, Kind::Lookup(_))),
    };
    found.filter(|a| a.access.read).ok_or_else(|| ApiError::unknown_property(name, table.logical))
}

/// The parsed query options of one request.
#[derive(Debug, Default)]
pub struct Options {
    /// `$select` and `$expand`.
    pub shape: Shape,
    /// The `$select`ed names as written (for `@odata.context`).
    pub select: Vec<String>,
    /// `$filter`.
    pub filter: Option<Expr>,
    /// `$orderby`: column and descending.
    pub orderby: Vec<(&'static Attr, bool)>,
    /// `$top`.
    pub top: Option<usize>,
    /// `$count=true`.
    pub count: bool,
    /// The page a `$skiptoken` asks for (1 = first).
    pub page: usize,
    /// The options to repeat in `@odata.nextLink`, as received.
    pub params: Vec<(String, String)>,
}

/// Parses a query string; `collection` allows the options that only apply to sets.
pub fn parse(table: &'static Table, query: &str, collection: bool) -> Result<Options, ApiError> {
    let mut opts = Options { page: 1, ..Options::default() };
    let mut seen = HashSet::new();
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let (key, value) = (key.into_owned(), value.into_owned());
        if key.starts_with('$') && !seen.insert(key.clone()) {
            return Err(ApiError::bad_request(
                ODATA,
                format!(
                    "Query option '{key}' was specified more than once, but it must be specified at most once."
                ),
            ));
        }
        let collection_only =
            matches!(key.as_str(), "$filter" | "$orderby" | "$top" | "$count" | "$skiptoken");
        if collection_only && !collection {
            return Err(ApiError::bad_request(
                ODATA,
                format!("The query option '{key}' is not allowed on a single record."),
            ));
        }
        match key.as_str() {
            "$select" => {
                opts.shape.columns = Some(columns(table, &value)?);
                opts.select = value.split(',').map(|s| s.trim().to_string()).collect();
            }
            "$expand" => opts.shape.expand = expand(table, &value)?,
            "$filter" => opts.filter = Some(filter::parse(table, &value)?),
            "$orderby" => opts.orderby = orderby(table, &value)?,
            "$top" => {
                opts.top = Some(value.parse().map_err(|_| {
                    ApiError::bad_request(
                        ODATA,
                        format!("Invalid value '{value}' for $top query option found. The $top query option requires a non-negative integer value."),
                    )
                })?);
            }
            "$count" => {
                opts.count = match value.as_str() {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(ApiError::bad_request(
                            ODATA,
                            format!("'{value}' is not a valid count option."),
                        ));
                    }
                };
            }
            "$skiptoken" => {
                opts.page = super::paging::page_number(&value).ok_or_else(|| {
                    ApiError::bad_request(
                        ODATA,
                        "The $skiptoken value is not a valid paging cookie.",
                    )
                })?;
                continue;
            }
            "$skip" => return Err(ApiError::unsupported_query_option("$skip")),
            "fetchXml" | "savedQuery" | "userQuery" => {
                return Err(ApiError::not_implemented(&format!("the {key} parameter")));
            }
            k if k.starts_with('$') => {
                return Err(ApiError::bad_request(
                    ODATA,
                    format!("The query parameter '{k}' is not supported."),
                ));
            }
            _ => {}
        }
        opts.params.push((key, value));
    }
    Ok(opts)
}

fn columns(table: &'static Table, value: &str) -> Result<Vec<&'static Attr>, ApiError> {
    value.split(',').map(|name| column(table, name.trim())).collect()
}

fn orderby(table: &'static Table, value: &str) -> Result<Vec<(&'static Attr, bool)>, ApiError> {
    value
        .split(',')
        .map(|item| {
            let mut words = item.split_whitespace();
            let attr = column(table, words.next().unwrap_or_default())?;
            let descending = match words.next() {
                None | Some("asc") => false,
                Some("desc") => true,
                Some(other) => {
                    return Err(ApiError::bad_request(
                        ODATA,
                        format!("Syntax error: character '{other}' is not valid in $orderby."),
                    ));
                }
            };
            Ok((attr, descending))
        })
        .collect()
}

/// `$expand=nav($select=a,b),other`: only `$select` is supported inside the parentheses.
fn expand(table: &'static Table, value: &str) -> Result<Vec<Expand>, ApiError> {
    split_top_level(value)
        .into_iter()
        .map(|item| {
            let (name, inner) = match item.split_once('(') {
                Some((n, rest)) => (
                    n.trim(),
                    rest.strip_suffix(')').ok_or_else(|| {
                        ApiError::bad_request(
                            ODATA,
                            format!("Syntax error in the $expand item '{item}'."),
                        )
                    })?,
                ),
                None => (item.trim(), ""),
            };
            let (target, related) = if let Some(c) = table.collection(name) {
                let related = catalog().by_logical(c.table).expect("catalog table");
                (ExpandTarget::Collection { table: related, via: c.via }, related)
            } else if let Some(nav) = table.nav(name) {
                let related = catalog().by_logical(nav.target).expect("catalog table");
                (ExpandTarget::Single { attr: nav.attr, target: nav.target }, related)
            } else {
                return Err(ApiError::unknown_property(name, table.logical));
            };
            let mut shape = Shape::default();
            for option in inner.split(';').map(str::trim).filter(|o| !o.is_empty()) {
                match option.split_once('=') {
                    Some(("$select", cols)) => shape.columns = Some(columns(related, cols)?),
                    _ => {
                        return Err(ApiError::not_implemented(&format!(
                            "the $expand option '{option}'"
                        )));
                    }
                }
            }
            Ok(Expand { name: name.to_string(), target, shape })
        })
        .collect()
}

fn split_top_level(value: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0usize, 0);
    for (i, c) in value.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                parts.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&value[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}
