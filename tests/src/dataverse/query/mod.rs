//! Retrieve and RetrieveMultiple: system query options (`$select`, `$filter`, `$orderby`,
//! `$top`, `$count`, `$expand`), paging with `Prefer: odata.maxpagesize` and `$skiptoken`
//! (`PAD:webapi/query/page-results.md`, reference A4).

use std::cmp::Ordering;

use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use uuid::Uuid;

mod options;
mod paging;

pub use options::column;
use paging::{context, next_link};

use super::{
    errors::ApiError,
    filter,
    headers::{MAX_PAGE_SIZE, Prefer},
    metadata::{Surface, Table, catalog},
    render::render,
    reply::Reply,
    state::Ctx,
    store::{Cell, EntityRef, Row, Store},
};
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
    let opts = options::parse(table, query, true)?;
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
    let opts = options::parse(table, query, false)?;
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
    let opts = options::parse(table, query, false)?;
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
