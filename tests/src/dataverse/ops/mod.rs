//! One Web API operation, addressed by a path under the service root: the resource it names
//! and what each method does to it. Used for plain requests and for `$batch` parts alike.

use axum::http::{HeaderMap, Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

mod members;

use members::{get_member, set_member};

use super::{
    body::{self, Changes},
    errors::{ApiError, ODATA, Operation},
    headers::{Prefer, check_json_content_type, etags, matches_etag},
    metadata::{Surface, Table, catalog},
    query,
    reply::Reply,
    state::{Ctx, EnvState},
    store::EntityRef,
    write,
};

/// One operation: method, target relative to the service root (with its query), headers, body.
#[derive(Debug, Clone, Copy)]
pub struct Op<'a> {
    /// HTTP method.
    pub method: &'a Method,
    /// E.g. `emails(<id>)?$select=subject`.
    pub target: &'a str,
    /// Request headers.
    pub headers: &'a HeaderMap,
    /// Request body.
    pub body: &'a [u8],
}

/// What a path names.
#[derive(Debug, Clone)]
enum Resource {
    WhoAmI,
    Set(&'static Table),
    Record(&'static Table, Uuid),
    /// `<set>(<id>)/<property>`, or with `$ref` for a navigation property.
    Member(&'static Table, Uuid, String, bool),
}

/// The entity set (or function) an operation addresses, for request statistics.
pub fn addressed(target: &str) -> String {
    let path = target.split('?').next().unwrap_or_default();
    let first = path.split('/').next().unwrap_or_default();
    first.split('(').next().unwrap_or_default().to_string()
}

/// Runs one operation.
pub fn execute(env: &mut EnvState, ctx: &Ctx, op: Op<'_>) -> Reply {
    run(env, ctx, op).unwrap_or_else(Reply::from)
}

fn run(env: &mut EnvState, ctx: &Ctx, op: Op<'_>) -> Result<Reply, ApiError> {
    let (path, query) = op.target.split_once('?').unwrap_or((op.target, ""));
    let resource = resolve(path)?;
    let prefer = Prefer::parse(op.headers)?;
    let method = op.method;
    match resource {
        Resource::WhoAmI if method == Method::GET => Ok(who_am_i(env, ctx)),
        // A function called with the wrong method (support article "No HTTP resource was
        // found that matches the request URI", POST WhoAmI).
        Resource::WhoAmI => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "",
            format!(
                "No HTTP resource was found that matches the request URI '{}{path}'.",
                ctx.root()
            ),
        )),
        Resource::Set(table) if method == Method::GET => {
            query::list(&env.store, ctx, table, query, &prefer, None)
        }
        Resource::Set(table) if method == Method::POST => {
            surface(table, Surface::Full, "Create")?;
            let changes = payload(table, op, Operation::Create, ctx, env)?;
            let id = write::create(env, ctx, table, None, changes)?;
            written(env, ctx, table, id, query, &prefer, StatusCode::CREATED)
        }
        Resource::Record(table, id) if method == Method::GET => {
            if table.surface == Surface::RetrieveMultipleOnly {
                return Err(ApiError::operation_not_supported("Retrieve", table.logical));
            }
            query::retrieve(
                &env.store,
                ctx,
                table,
                id,
                query,
                &prefer,
                &etags(op.headers, "if-none-match"),
            )
        }
        Resource::Record(table, id) if method == Method::PATCH => {
            surface(table, Surface::Full, "Update")?;
            upsert(env, ctx, table, id, op, query, &prefer)
        }
        Resource::Record(table, id) if method == Method::DELETE => {
            surface(table, Surface::Full, "Delete")?;
            delete(env, table, id, op)
        }
        Resource::Member(table, id, name, false) if method == Method::GET => {
            get_member(env, ctx, table, id, &name, query, &prefer)
        }
        Resource::Member(table, id, name, is_ref)
            if method == Method::PUT || method == Method::DELETE =>
        {
            surface(table, Surface::Full, "Update")?;
            set_member(env, ctx, table, id, &name, is_ref, op)
        }
        _ => Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "",
            format!("The requested resource does not support http method '{method}'."),
        )),
    }
}

fn resolve(path: &str) -> Result<Resource, ApiError> {
    let mut segments = path.trim_start_matches('/').split('/');
    let first = segments.next().unwrap_or_default();
    if first == "WhoAmI" || first == "WhoAmI()" {
        return Ok(Resource::WhoAmI);
    }
    if first.is_empty() || first == "$metadata" {
        return Err(ApiError::not_implemented("the service and $metadata documents"));
    }
    let (name, key) = match first.split_once('(') {
        Some((name, rest)) => (name, Some(rest.strip_suffix(')').unwrap_or(rest))),
        None => (first, None),
    };
    let table = catalog().by_set(name).ok_or_else(|| ApiError::unknown_segment(name))?;
    let Some(key) = key else {
        return match segments.next() {
            None | Some("") => Ok(Resource::Set(table)),
            Some(next) => Err(ApiError::unknown_segment(next)),
        };
    };
    let id = Uuid::parse_str(key).map_err(|_| {
        if key.contains('=') {
            // Alternate keys must be defined on the table first (reference A5); none are here.
            ApiError::bad_request(
                ODATA,
                format!(
                    "No alternate key matching '{key}' is defined on the entity '{}'.",
                    table.logical
                ),
            )
        } else {
            ApiError::bad_request(
                ODATA,
                format!(
                    "The key value '{key}' is not a valid Edm.Guid for the key property '{}'.",
                    table.key
                ),
            )
        }
    })?;
    match segments.collect::<Vec<_>>().as_slice() {
        [] => Ok(Resource::Record(table, id)),
        [member] => Ok(Resource::Member(table, id, member.to_string(), false)),
        [member, "$ref"] => Ok(Resource::Member(table, id, member.to_string(), true)),
        [_, extra, ..] => Err(ApiError::unknown_segment(extra)),
    }
}

fn surface(table: &Table, needed: Surface, operation: &str) -> Result<(), ApiError> {
    if table.surface == needed {
        Ok(())
    } else {
        Err(ApiError::operation_not_supported(operation, table.logical))
    }
}

fn payload(
    table: &'static Table,
    op: Op<'_>,
    operation: Operation,
    ctx: &Ctx,
    env: &EnvState,
) -> Result<Changes, ApiError> {
    check_json_content_type(op.headers)?;
    body::parse(table, op.body, operation, ctx, &env.store)
}

/// 204 with `OData-EntityId`, or with `return=representation` the record (201 on create, 200
/// on update) without `OData-EntityId` (reference A2, A5, D2, D3).
fn written(
    env: &EnvState,
    ctx: &Ctx,
    table: &'static Table,
    id: Uuid,
    query: &str,
    prefer: &Prefer,
    status: StatusCode,
) -> Result<Reply, ApiError> {
    let entity = EntityRef { table: table.logical, id };
    if prefer.representation {
        let row = env.store.get(table.logical, id).expect("record just written");
        let reply =
            query::representation(&env.store, ctx, table, table, row, query, prefer, status)?;
        return Ok(reply.header("preference-applied", "return=representation").entity(entity));
    }
    Ok(Reply::no_content().header("odata-entityid", ctx.entity_url(table.set, id)).entity(entity))
}

/// PATCH: an upsert unless `If-Match` forbids the create or `If-None-Match: *` the update
/// (`PAD:use-upsert-insert-update-record.md`, conditional-operations doc; reference A5).
fn upsert(
    env: &mut EnvState,
    ctx: &Ctx,
    table: &'static Table,
    id: Uuid,
    op: Op<'_>,
    query: &str,
    prefer: &Prefer,
) -> Result<Reply, ApiError> {
    let if_match = etags(op.headers, "if-match");
    let if_none_match = etags(op.headers, "if-none-match");
    let Some(etag) = env.store.get(table.logical, id).map(|r| r.etag()) else {
        if !if_match.is_empty() {
            return Err(ApiError::record_not_found(table.logical, id));
        }
        let changes = payload(table, op, Operation::Create, ctx, env)?;
        write::create(env, ctx, table, Some(id), changes)?;
        return written(env, ctx, table, id, query, prefer, StatusCode::CREATED);
    };
    if if_none_match.iter().any(|t| t == "*" || *t == etag) {
        return Err(ApiError::duplicate());
    }
    if !if_match.is_empty() && !matches_etag(&if_match, &etag) {
        return Err(ApiError::version_mismatch());
    }
    let changes = payload(table, op, Operation::Update, ctx, env)?;
    write::update(env, ctx, table, id, changes)?;
    written(env, ctx, table, id, query, prefer, StatusCode::OK)
}

fn delete(
    env: &mut EnvState,
    table: &'static Table,
    id: Uuid,
    op: Op<'_>,
) -> Result<Reply, ApiError> {
    let etag = env
        .store
        .get(table.logical, id)
        .map(|r| r.etag())
        .ok_or_else(|| ApiError::record_not_found(table.logical, id))?;
    let if_match = etags(op.headers, "if-match");
    if !if_match.is_empty() && !matches_etag(&if_match, &etag) {
        return Err(ApiError::version_mismatch());
    }
    write::delete(env, table, id)?;
    Ok(Reply::no_content())
}

/// `WhoAmI` (GET): the caller's user, business unit and organization.
fn who_am_i(env: &EnvState, ctx: &Ctx) -> Reply {
    Reply::json(
        StatusCode::OK,
        json!({
            "@odata.context": format!("{}$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse", ctx.root()),
            "BusinessUnitId": env.business_unit_id,
            "UserId": ctx.user_id,
            "OrganizationId": env.organization_id,
        }),
    )
}
