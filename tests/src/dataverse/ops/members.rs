//! Single properties and references of a record: `GET`/`PUT`/`DELETE <set>(<id>)/<column>`,
//! `PUT`/`DELETE <set>(<id>)/<nav>/$ref`, and the records of a collection-valued navigation
//! property.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use super::Op;
use crate::dataverse::{
    body::{self, Changes},
    errors::{ApiError, Operation},
    headers::{Prefer, check_json_content_type},
    metadata::{Kind, Table, catalog},
    query,
    reply::Reply,
    state::{Ctx, EnvState},
    store::Cell,
    write,
};

/// `GET <set>(<id>)/<column>` gives `{"value": ...}`; a collection-valued navigation property
/// lists the related records.
pub fn get_member(
    env: &EnvState,
    ctx: &Ctx,
    table: &'static Table,
    id: Uuid,
    name: &str,
    query: &str,
    prefer: &Prefer,
) -> Result<Reply, ApiError> {
    let (_, row) = query::find(&env.store, table, id)
        .ok_or_else(|| ApiError::record_not_found(table.logical, id))?;
    if let Some(collection) = table.collection(name) {
        let related = catalog().by_logical(collection.table).expect("catalog table");
        return query::list(&env.store, ctx, related, query, prefer, Some((collection.via, id)));
    }
    let attr = query::column(table, name)?;
    match row.get(attr.name) {
        None => Ok(Reply::no_content()),
        Some(cell) => Ok(Reply::json(
            StatusCode::OK,
            json!({"@odata.context": format!("{}$metadata#{}({id})/{name}", ctx.root(), table.set), "value": cell.to_json()}),
        )),
    }
}

/// `PUT <set>(<id>)/<column>` with `{"value": ...}`, `DELETE` of a column, and
/// `PUT`/`DELETE <set>(<id>)/<nav>/$ref` (`{"@odata.id": ...}`), as in the `$batch` doc.
pub fn set_member(
    env: &mut EnvState,
    ctx: &Ctx,
    table: &'static Table,
    id: Uuid,
    name: &str,
    is_ref: bool,
    op: Op<'_>,
) -> Result<Reply, ApiError> {
    if env.store.get(table.logical, id).is_none() {
        return Err(ApiError::record_not_found(table.logical, id));
    }
    let put = *op.method == Method::PUT;
    let value = if put {
        check_json_content_type(op.headers)?;
        let body: Value = serde_json::from_slice(op.body).map_err(|e| {
            ApiError::payload(
                table.set,
                format!("Invalid JSON. The request body is not valid JSON: {e}."),
            )
        })?;
        Some(body)
    } else {
        None
    };
    let mut changes = Changes::default();
    if is_ref {
        let nav = table.nav(name).ok_or_else(|| ApiError::unknown_property(name, table.logical))?;
        let cell = match &value {
            Some(v) => Some(Cell::Ref(
                body::read_bind(table, name, &v["@odata.id"], Operation::Update, ctx, &env.store)?
                    .1,
            )),
            None => None,
        };
        changes.cells.insert(nav.attr, cell);
    } else {
        let attr = table
            .attr(name)
            .filter(|a| !matches!(a.kind, Kind::Lookup(_)))
            .ok_or_else(|| ApiError::unknown_property(name, table.logical))?;
        if !attr.access.update {
            return Err(ApiError::not_valid_for(Operation::Update, attr.name, table.logical));
        }
        let cell = match &value {
            Some(v) => body::convert(table, attr, &v["value"])?,
            None => None,
        };
        changes.cells.insert(attr.name, cell);
    }
    write::update(env, ctx, table, id, changes)?;
    Ok(Reply::no_content())
}
