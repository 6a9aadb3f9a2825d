//! Events, contacts and To Do tasks: reads and their delta queries (reference 6.3, 6.4).

use serde_json::{Value, json};

use super::{
    dates,
    delta::{self, Options, Scope},
    errors::GraphError,
    messages::serve_delta,
    odata,
    pipeline::Ctx,
    render::{self, CONTACT_PROPS},
    request::{ApiResponse, encode_component},
    store::{FolderKind, Item, ItemData, Mailbox},
};

/// Which kind of item a single-item GET expects.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Event,
    Contact,
}

fn unsupported_option(k: &str) -> GraphError {
    GraphError::bad_request(format!("Query option '{k}' is not supported on this resource."))
}

/// Refuses `$` options other than `allowed`.
fn only_options(ctx: &Ctx, allowed: &[&str]) -> Result<(), GraphError> {
    match ctx
        .req
        .query
        .iter()
        .find(|(k, _)| k.starts_with('$') && !allowed.iter().any(|a| a.eq_ignore_ascii_case(k)))
    {
        Some((k, _)) => Err(unsupported_option(k)),
        None => Ok(()),
    }
}

/// A page of a list, with `$top`/`$skip` paging as Outlook does.
fn paged(ctx: &Ctx, context: &str, all: Vec<Value>) -> Result<ApiResponse, GraphError> {
    let limits = &ctx.sim.config.limits;
    let size = odata::parse_top(ctx.req.query_value("$top"), limits.max_page_size)?
        .unwrap_or(limits.default_page_size);
    let skip: usize = match ctx.req.query_value("$skip") {
        Some(v) => v.parse().map_err(|_| GraphError::bad_request("Invalid $skip value."))?,
        None => 0,
    };
    let total = all.len();
    let value: Vec<Value> = all.into_iter().skip(skip).take(size).collect();
    let mut body =
        json!({"@odata.context": format!("{}/v1.0/$metadata#{context}", ctx.base), "value": value});
    if total > skip + size {
        let mut query: Vec<String> = ctx
            .req
            .query
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("$skip") && !k.eq_ignore_ascii_case("$top"))
            .map(|(k, v)| format!("{k}={}", encode_component(v)))
            .collect();
        query.push(format!("$top={size}"));
        query.push(format!("$skip={}", skip + size));
        body["@odata.nextLink"] =
            format!("{}/v1.0{}?{}", ctx.base, ctx.req.path, query.join("&")).into();
    }
    Ok(ApiResponse::ok(body))
}

fn in_folder(mb: &Mailbox, folder: u32) -> impl Iterator<Item = &Item> {
    mb.items.values().filter(move |i| i.folder == folder)
}

/// `GET /users/{u}/events`.
pub(crate) fn events(ctx: &Ctx, mailbox_id: &str) -> Result<ApiResponse, GraphError> {
    only_options(ctx, &["$top", "$skip"])?;
    let state = ctx.sim.state.lock().expect("state lock");
    let mb = state.mailbox(mailbox_id);
    let cal = mb.well_known("calendar").index;
    let all = in_folder(mb, cal)
        .map(|i| Value::Object(render::event(mb, i, ctx.prefer.immutable_ids)))
        .collect();
    paged(ctx, &format!("users('{}')/events", mb.id), all)
}

/// `GET /users/{u}/events/{id}` and `/contacts/{id}`.
pub(crate) fn item(
    ctx: &Ctx,
    mailbox_id: &str,
    id: &str,
    kind: Kind,
) -> Result<ApiResponse, GraphError> {
    let state = ctx.sim.state.lock().expect("state lock");
    let mb = state.mailbox(mailbox_id);
    let item = mb.resolve(id).map_err(GraphError::from)?;
    let (mut body, set) = match (kind, &item.data) {
        (Kind::Event, ItemData::Event(_)) => {
            (render::event(mb, item, ctx.prefer.immutable_ids), "events")
        }
        (Kind::Contact, ItemData::Contact(_)) => {
            (render::contact(mb, item, ctx.prefer.immutable_ids, None), "contacts")
        }
        _ => return Err(GraphError::item_not_found()),
    };
    body.insert(
        "@odata.context".into(),
        format!("{}/v1.0/$metadata#users('{}')/{set}/$entity", ctx.base, mb.id).into(),
    );
    Ok(ApiResponse::ok(Value::Object(body)))
}

/// The `startDateTime`/`endDateTime` window calendar view requires.
fn window(ctx: &Ctx) -> Result<(time::OffsetDateTime, time::OffsetDateTime), GraphError> {
    let get = |name: &str| ctx.req.query_value(name).and_then(dates::parse);
    match (get("startDateTime"), get("endDateTime")) {
        (Some(s), Some(e)) if s < e => Ok((s, e)),
        // UNCONFIRMED code; the message is the one Exchange gives for a missing window.
        _ => Err(GraphError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "ErrorInvalidParameter",
            "This request requires a time window specified by the query string parameters \
             StartDateTime and EndDateTime.",
        )),
    }
}

/// `GET /users/{u}/calendarView?startDateTime&endDateTime`.
pub(crate) fn calendar_view(ctx: &Ctx, mailbox_id: &str) -> Result<ApiResponse, GraphError> {
    only_options(ctx, &["$top", "$skip"])?;
    let (start, end) = window(ctx)?;
    let state = ctx.sim.state.lock().expect("state lock");
    let mb = state.mailbox(mailbox_id);
    let cal = mb.well_known("calendar").index;
    let all = in_folder(mb, cal)
        .filter(|i| matches!(&i.data, ItemData::Event(e) if e.start < end && e.end > start))
        .map(|i| Value::Object(render::event(mb, i, ctx.prefer.immutable_ids)))
        .collect();
    paged(ctx, &format!("users('{}')/calendarView", mb.id), all)
}

/// `GET /users/{u}/calendarView/delta`: primary calendar, a fixed window, no OData options
/// (reference 6.3).
pub(crate) fn calendar_view_delta(ctx: &Ctx, mailbox_id: &str) -> Result<ApiResponse, GraphError> {
    let mut state = ctx.sim.state.lock().expect("state lock");
    let mb = state.mailbox_mut(mailbox_id);
    let folder = mb.well_known("calendar").index;
    // A token carries its window; the placeholder only names the calendar.
    let epoch = time::OffsetDateTime::UNIX_EPOCH;
    let placeholder = Scope::CalendarView { folder, start: epoch, end: epoch };
    let start = match delta::start(ctx.req, placeholder, || {
        only_options(ctx, &["$deltatoken"])?;
        Ok(Options { initial_query: without_token(ctx), ..Options::default() })
    })? {
        delta::Start::Initial(_, options) => {
            let (start, end) = window(ctx)?;
            delta::Start::Initial(Scope::CalendarView { folder, start, end }, options)
        }
        token => token,
    };
    serve_delta(ctx, mb, start)
}

fn without_token(ctx: &Ctx) -> Vec<(String, String)> {
    ctx.req.query.iter().filter(|(k, _)| !k.eq_ignore_ascii_case("$deltatoken")).cloned().collect()
}

fn contact_folder(mb: &Mailbox, folder: Option<&str>) -> Result<u32, GraphError> {
    let Some(reference) = folder else { return Ok(mb.well_known("contacts").index) };
    let f = mb.folder_by_ref(reference).map_err(GraphError::from)?;
    if f.kind == FolderKind::Contacts { Ok(f.index) } else { Err(GraphError::item_not_found()) }
}

fn contact_select(ctx: &Ctx) -> Result<Option<Vec<String>>, GraphError> {
    ctx.req
        .query_value("$select")
        .map(|raw| odata::parse_select(raw, CONTACT_PROPS, "microsoft.graph.contact"))
        .transpose()
}

/// `GET /users/{u}/contacts` and `/contactFolders/{f}/contacts`.
pub(crate) fn contacts(
    ctx: &Ctx,
    mailbox_id: &str,
    folder: Option<&str>,
) -> Result<ApiResponse, GraphError> {
    only_options(ctx, &["$top", "$skip", "$select"])?;
    let select = contact_select(ctx)?;
    let state = ctx.sim.state.lock().expect("state lock");
    let mb = state.mailbox(mailbox_id);
    let folder = contact_folder(mb, folder)?;
    let all = in_folder(mb, folder)
        .map(|i| Value::Object(render::contact(mb, i, ctx.prefer.immutable_ids, select.as_deref())))
        .collect();
    paged(ctx, &format!("users('{}')/contacts", mb.id), all)
}

/// `GET /users/{u}/contactFolders/{f}/contacts/delta` (and the default folder's
/// `/contacts/delta`), with `$select` (reference 6.4).
pub(crate) fn contacts_delta(
    ctx: &Ctx,
    mailbox_id: &str,
    folder: Option<&str>,
) -> Result<ApiResponse, GraphError> {
    let mut state = ctx.sim.state.lock().expect("state lock");
    let mb = state.mailbox_mut(mailbox_id);
    let scope = Scope::Contacts { folder: contact_folder(mb, folder)? };
    let start = delta::start(ctx.req, scope, || {
        only_options(ctx, &["$select", "$deltatoken"])?;
        Ok(Options {
            select: contact_select(ctx)?,
            initial_query: without_token(ctx),
            ..Options::default()
        })
    })?;
    serve_delta(ctx, mb, start)
}

fn task_list(mb: &Mailbox, list: &str) -> Result<u32, GraphError> {
    let f = mb.folder_by_ref(list).map_err(GraphError::from)?;
    if f.kind == FolderKind::TaskList { Ok(f.index) } else { Err(GraphError::item_not_found()) }
}

/// `GET /users/{u}/todo/lists`.
pub(crate) fn task_lists(ctx: &Ctx, mailbox_id: &str) -> Result<ApiResponse, GraphError> {
    let state = ctx.sim.state.lock().expect("state lock");
    let mb = state.mailbox(mailbox_id);
    let value: Vec<Value> = mb
        .folders
        .iter()
        .filter(|f| f.kind == FolderKind::TaskList)
        .map(|f| {
            json!({
                "@odata.etag": format!("W/\"{}\"", super::ids::change_key(&mb.tag, 0, f.index)),
                "displayName": f.display_name,
                "isOwner": true,
                "isShared": false,
                "wellknownListName": if f.well_known.is_some() { "defaultList" } else { "none" },
                "id": f.id,
            })
        })
        .collect();
    Ok(ApiResponse::ok(json!({
        "@odata.context": format!("{}/v1.0/$metadata#users('{}')/todo/lists", ctx.base, mb.id),
        "value": value,
    })))
}

/// `GET /users/{u}/todo/lists/{l}/tasks`.
pub(crate) fn tasks(ctx: &Ctx, mailbox_id: &str, list: &str) -> Result<ApiResponse, GraphError> {
    only_options(ctx, &["$top", "$skip"])?;
    let state = ctx.sim.state.lock().expect("state lock");
    let mb = state.mailbox(mailbox_id);
    let folder = task_list(mb, list)?;
    let all = in_folder(mb, folder)
        .map(|i| Value::Object(render::task(mb, i, ctx.prefer.immutable_ids)))
        .collect();
    paged(ctx, &format!("users('{}')/todo/lists('{list}')/tasks", mb.id), all)
}

/// `GET /users/{u}/todo/lists/{l}/tasks/{id}`.
pub(crate) fn task(
    ctx: &Ctx,
    mailbox_id: &str,
    list: &str,
    id: &str,
) -> Result<ApiResponse, GraphError> {
    let state = ctx.sim.state.lock().expect("state lock");
    let mb = state.mailbox(mailbox_id);
    let folder = task_list(mb, list)?;
    let item = mb.resolve(id).map_err(GraphError::from)?;
    if item.folder != folder || !matches!(item.data, ItemData::Task(_)) {
        return Err(GraphError::item_not_found());
    }
    let mut body = render::task(mb, item, ctx.prefer.immutable_ids);
    body.insert(
        "@odata.context".into(),
        format!(
            "{}/v1.0/$metadata#users('{}')/todo/lists('{list}')/tasks/$entity",
            ctx.base, mb.id
        )
        .into(),
    );
    Ok(ApiResponse::ok(Value::Object(body)))
}

/// `GET /users/{u}/todo/lists/{l}/tasks/delta`.
pub(crate) fn tasks_delta(
    ctx: &Ctx,
    mailbox_id: &str,
    list: &str,
) -> Result<ApiResponse, GraphError> {
    let mut state = ctx.sim.state.lock().expect("state lock");
    let mb = state.mailbox_mut(mailbox_id);
    let scope = Scope::Tasks { folder: task_list(mb, list)? };
    let start = delta::start(ctx.req, scope, || {
        only_options(ctx, &["$deltatoken"])?;
        Ok(Options { initial_query: without_token(ctx), ..Options::default() })
    })?;
    serve_delta(ctx, mb, start)
}
