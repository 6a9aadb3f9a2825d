//! Retrieve and RetrieveMultiple: system query options (`$select`, `$filter`, `$orderby`,
//! `$top`, `$count`, `$expand`), paging with `Prefer: odata.maxpagesize` and `$skiptoken`
//! (`PAD:webapi/query/page-results.md`, reference A4).

use std::{cmp::Ordering, collections::HashSet};

use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{
    errors::{ApiError, ODATA},
    filter::{self, Expr},
    headers::{MAX_PAGE_SIZE, Prefer},
    metadata::{Attr, Kind, Surface, Table, catalog},
    render::{Expand, ExpandTarget, Shape, render},
    reply::Reply,
    state::Ctx,
    store::{Cell, EntityRef, Row, Store},
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
struct Options {
    shape: Shape,
    select: Vec<String>,
    filter: Option<Expr>,
    orderby: Vec<(&'static Attr, bool)>,
    top: Option<usize>,
    count: bool,
    page: usize,
    /// The options to repeat in `@odata.nextLink`, as received.
    params: Vec<(String, String)>,
}

fn options(table: &'static Table, query: &str, collection: bool) -> Result<Options, ApiError> {
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
                opts.page = page_number(&value).ok_or_else(|| {
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

/// The rows behind a table: its own, or every activity's for the `activitypointers` view.
fn rows<'s>(store: &'s Store, table: &'static Table) -> Vec<(&'static Table, &'s Row)> {
    if table.surface == Surface::View {
        let mut rows: Vec<_> = catalog()
            .activities()
            .flat_map(|t| store.rows(t.logical).into_iter().map(move |r| (t, r)))
            .collect();
        rows.sort_by_key(|(_, r)| r.seq);
        rows
    } else {
        store.rows(table.logical).into_iter().map(|r| (table, r)).collect()
    }
}

/// `GET /<set>` (or the records related through `via` to `parent`).
pub fn list(
    store: &Store,
    ctx: &Ctx,
    table: &'static Table,
    query: &str,
    prefer: &Prefer,
    parent: Option<(&'static str, Uuid)>,
) -> Result<Reply, ApiError> {
    let opts = options(table, query, true)?;
    let mut rows = rows(store, table);
    if let Some((via, id)) = parent {
        rows.retain(|(_, r)| r.get(via).and_then(Cell::as_ref).is_some_and(|t| t.id == id));
    }
    if let Some(filter) = &opts.filter {
        rows.retain(|(_, r)| filter.matches(r));
    }
    rows.sort_by(|(_, a), (_, b)| {
        for (attr, descending) in &opts.orderby {
            let o = match (a.get(attr.name), b.get(attr.name)) {
                (None, None) => Ordering::Equal,
                // Nulls first in ascending order, as SQL Server.
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(x), Some(y)) => filter::order(x, y).unwrap_or(Ordering::Equal),
            };
            let o = if *descending { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        a.seq.cmp(&b.seq)
    });
    let total = rows.len();
    // `$top` is ignored when odata.maxpagesize is sent (page-results doc).
    let (page_size, limit) = match (prefer.max_page_size, opts.top) {
        (Some(size), _) => (size, None),
        (None, Some(top)) => (MAX_PAGE_SIZE, Some(top)),
        (None, None) => (MAX_PAGE_SIZE, None),
    };
    let available = limit.map_or(total, |t| t.min(total));
    let start = (opts.page - 1).saturating_mul(page_size).min(available);
    let end = start.saturating_add(page_size).min(available);
    let page = &rows[start..end];
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        Value::String(context(ctx, table.set, &opts.select, false)),
    );
    if opts.count {
        body.insert("@odata.count".into(), json!(total));
    }
    body.insert(
        "value".into(),
        Value::Array(
            page.iter()
                .map(|(source, r)| {
                    Value::Object(render(store, table, source, r, &opts.shape, prefer))
                })
                .collect(),
        ),
    );
    if end < available && limit.is_none() {
        let (first, last) = (page.first().map(|(_, r)| r.id), page.last().map(|(_, r)| r.id));
        body.insert(
            "@odata.nextLink".into(),
            Value::String(next_link(ctx, table, &opts, first, last)),
        );
    }
    let mut reply = Reply::json(StatusCode::OK, Value::Object(body));
    if let Some(size) = prefer.max_page_size {
        reply = reply.header("preference-applied", format!("odata.maxpagesize={size}"));
    }
    if let Some(applied) = prefer.annotations_applied() {
        reply = reply.header("preference-applied", applied);
    }
    Ok(reply)
}

/// `GET /<set>(<id>)`; `If-None-Match` with the current ETag gives 304 unless `$expand` or
/// annotations are used (conditional-operations doc).
pub fn retrieve(
    store: &Store,
    ctx: &Ctx,
    table: &'static Table,
    id: Uuid,
    query: &str,
    prefer: &Prefer,
    if_none_match: &[String],
) -> Result<Reply, ApiError> {
    let opts = options(table, query, false)?;
    let (source, row) =
        find(store, table, id).ok_or_else(|| ApiError::record_not_found(table.logical, id))?;
    if if_none_match.iter().any(|t| *t == row.etag())
        && opts.shape.expand.is_empty()
        && prefer.annotations.is_none()
    {
        return Ok(Reply {
            status: StatusCode::NOT_MODIFIED,
            headers: Vec::new(),
            body: None,
            entity: None,
        });
    }
    Ok(representation(store, ctx, table, source, row, query, prefer, StatusCode::OK)?
        .entity(EntityRef { table: source.logical, id }))
}

/// A record with its own table (the real activity behind an `activitypointers` id).
pub fn find<'s>(
    store: &'s Store,
    table: &'static Table,
    id: Uuid,
) -> Option<(&'static Table, &'s Row)> {
    if table.surface == Surface::View {
        let (logical, row) = store.activity(id)?;
        Some((catalog().by_logical(logical)?, row))
    } else {
        Some((table, store.get(table.logical, id)?))
    }
}

/// The body of a single-record response (GET, or a write with `return=representation`).
#[allow(clippy::too_many_arguments)]
pub fn representation(
    store: &Store,
    ctx: &Ctx,
    table: &'static Table,
    source: &'static Table,
    row: &Row,
    query: &str,
    prefer: &Prefer,
    status: StatusCode,
) -> Result<Reply, ApiError> {
    let opts = options(table, query, false)?;
    let mut body = render(store, table, source, row, &opts.shape, prefer);
    body.insert(
        "@odata.context".into(),
        Value::String(context(ctx, table.set, &opts.select, true)),
    );
    let mut reply = Reply::json(status, Value::Object(body)).header("etag", row.etag());
    if let Some(applied) = prefer.annotations_applied() {
        reply = reply.header("preference-applied", applied);
    }
    Ok(reply)
}

/// `[root]$metadata#emails(subject,activityid)` (plus `/$entity` for one record).
fn context(ctx: &Ctx, set: &str, select: &[String], entity: bool) -> String {
    let columns = if select.is_empty() { String::new() } else { format!("({})", select.join(",")) };
    let suffix = if entity { "/$entity" } else { "" };
    format!("{}$metadata#{set}{columns}{suffix}", ctx.root())
}

/// The next page's URL: the same options and a paging cookie in `$skiptoken`, shaped like the
/// page-results doc's example.
fn next_link(
    ctx: &Ctx,
    table: &Table,
    opts: &Options,
    first: Option<Uuid>,
    last: Option<Uuid>,
) -> String {
    let braces = |id: Option<Uuid>| {
        id.map(|i| format!("%7b{}%7d", i.to_string().to_uppercase())).unwrap_or_default()
    };
    let inner = format!(
        "%3ccookie%20page%3d%22{}%22%3e%3c{}%20last%3d%22{}%22%20first%3d%22{}%22%20%2f%3e%3c%2fcookie%3e",
        opts.page,
        table.key,
        braces(last),
        braces(first)
    );
    let cookie = format!(
        "<cookie pagenumber=\"{}\" pagingcookie=\"{inner}\" istracking=\"False\" />",
        opts.page + 1
    );
    let mut query: Vec<String> =
        opts.params.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
    query.push(format!("$skiptoken={}", encode(&cookie)));
    format!("{}{}?{}", ctx.root(), table.set, query.join("&"))
}

/// The page number a paging cookie asks for.
fn page_number(cookie: &str) -> Option<usize> {
    let rest = cookie.strip_prefix("<cookie pagenumber=\"")?;
    rest[..rest.find('"')?].parse().ok().filter(|n| *n >= 1)
}

/// Percent-encodes a query value, keeping the characters OData URLs show literally.
fn encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~$,()'=:@/*".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
