//! Reading mail: the user, mail folders, messages (get, list with `$filter`, `$orderby`,
//! `$top`, paging), attachments, and per-folder message delta.

use axum::http::StatusCode;
use bytes::Bytes;
use serde_json::{Value, json};

use super::{
    delta::{self, Options, PageSettings, Scope},
    errors::GraphError,
    folders::mail_folder,
    ids::{self, ItemRef},
    odata,
    pipeline::Ctx,
    render::{self, FULL_READ_PROPS, MESSAGE_PROPS, View},
    request::{ApiResponse, ResponseBody, encode_component},
    store::{Item, Mailbox},
};

/// The item `id` of mailbox `mb` if it is a message.
fn message<'a>(mb: &'a Mailbox, id: &str) -> Result<&'a Item, GraphError> {
    let item = mb.resolve(id).map_err(GraphError::from)?;
    item.message().map(|_| item).ok_or_else(GraphError::item_not_found)
}

/// `$select` of a message request; an app with only `Mail.ReadBasic` may not select bodies
/// or headers (UNCONFIRMED that Graph refuses rather than omits).
fn message_select(ctx: &Ctx) -> Result<Option<Vec<String>>, GraphError> {
    let Some(raw) = ctx.req.query_value("$select") else { return Ok(None) };
    let select = odata::parse_select(raw, MESSAGE_PROPS, "microsoft.graph.message")?;
    if ctx.basic_only() && select.iter().any(|p| FULL_READ_PROPS.contains(&p.as_str())) {
        return Err(GraphError::access_denied());
    }
    Ok(Some(select))
}

fn view<'a>(ctx: &Ctx, select: Option<&'a [String]>) -> View<'a> {
    View { select, immutable: ctx.prefer.immutable_ids, text_body: ctx.prefer.text_body }
}

fn render_message(
    ctx: &Ctx,
    mb: &Mailbox,
    item: &Item,
    view: &View,
) -> serde_json::Map<String, Value> {
    let mut m = render::message(mb, item, view);
    if ctx.basic_only() {
        for p in FULL_READ_PROPS {
            m.remove(*p);
        }
    }
    m
}

fn with_preferences(ctx: &Ctx, mut resp: ApiResponse, page: Option<usize>) -> ApiResponse {
    let mut applied = Vec::new();
    if let Some(n) = page {
        applied.push(format!("odata.maxpagesize={n}"));
    }
    if ctx.prefer.text_body {
        applied.push("outlook.body-content-type=\"text\"".to_string());
    }
    if ctx.prefer.immutable_ids {
        applied.push("IdType=\"ImmutableId\"".to_string());
    }
    if !applied.is_empty() {
        resp = resp.with_header("preference-applied", &applied.join(", "));
    }
    resp
}

/// `GET /users/{u}/messages/{id}`, with `$select` and `$expand=attachments`.
pub(crate) fn get(ctx: &Ctx, mailbox_id: &str, id: &str) -> Result<ApiResponse, GraphError> {
    let select = message_select(ctx)?;
    let mut expand_attachments = false;
    for (k, v) in &ctx.req.query {
        match k.to_ascii_lowercase().as_str() {
            "$select" => {}
            "$expand" if v.eq_ignore_ascii_case("attachments") => expand_attachments = true,
            other if other.starts_with('$') => {
                return Err(GraphError::bad_request(format!(
                    "Query option '{k}={v}' is not supported by this simulator."
                )));
            }
            _ => {}
        }
    }
    if expand_attachments && ctx.basic_only() {
        return Err(GraphError::access_denied());
    }
    let state = ctx.sim.state.lock().expect("state lock");
    let mb = state.mailbox(mailbox_id);
    let item = message(mb, id)?;
    let mut body = serde_json::Map::new();
    body.insert(
        "@odata.context".into(),
        format!("{}/v1.0/$metadata#users('{}')/messages/$entity", ctx.base, mb.id).into(),
    );
    body.extend(render_message(ctx, mb, item, &view(ctx, select.as_deref())));
    if expand_attachments {
        let m = item.message().expect("a message");
        let attachments = m.attachments.iter().map(|a| render::attachment(mb, item.key, a));
        body.insert("attachments".into(), Value::Array(attachments.collect()));
    }
    Ok(with_preferences(ctx, ApiResponse::ok(Value::Object(body)), None))
}

/// `GET /users/{u}/messages` and `/mailFolders/{f}/messages`: newest first unless
/// `$orderby` says otherwise; `@odata.nextLink` pages with `$skip`, as Outlook does.
pub(crate) fn list(
    ctx: &Ctx,
    mailbox_id: &str,
    folder: Option<&str>,
) -> Result<ApiResponse, GraphError> {
    let select = message_select(ctx)?;
    let mut filter = None;
    let mut order = ("receivedDateTime", true);
    let limits = &ctx.sim.config.limits;
    let top = odata::parse_top(ctx.req.query_value("$top"), limits.max_page_size)?;
    let mut skip = 0usize;
    for (k, v) in &ctx.req.query {
        match k.to_ascii_lowercase().as_str() {
            "$filter" => filter = Some(odata::parse_filter(v)?),
            "$orderby" => order = odata::parse_orderby(v)?,
            "$skip" => {
                skip = v.parse().map_err(|_| GraphError::bad_request("Invalid $skip value."))?;
            }
            "$select" | "$top" => {}
            other if other.starts_with('$') => {
                return Err(GraphError::bad_request(format!(
                    "Query option '{k}' is not supported by this simulator."
                )));
            }
            _ => {}
        }
    }
    let state = ctx.sim.state.lock().expect("state lock");
    let mb = state.mailbox(mailbox_id);
    let folder = folder.map(|f| mail_folder(mb, f)).transpose()?;
    let mut items: Vec<&Item> = mb
        .items
        .values()
        .filter(|i| i.message().is_some())
        .filter(|i| folder.is_none_or(|f| i.folder == f))
        .filter(|i| filter.as_ref().is_none_or(|f| f.matches(i)))
        .collect();
    let date = |i: &Item| {
        let m = i.message().expect("messages only");
        match order.0 {
            "sentDateTime" => m.sent,
            "createdDateTime" => i.created,
            "lastModifiedDateTime" => i.modified,
            _ => m.received,
        }
    };
    items.sort_by_key(|i| (date(i), i.key));
    if order.1 {
        items.reverse();
    }
    let size = top.unwrap_or(limits.default_page_size);
    let v = view(ctx, select.as_deref());
    let value: Vec<Value> = items
        .iter()
        .skip(skip)
        .take(size)
        .map(|i| Value::Object(render_message(ctx, mb, i, &v)))
        .collect();
    let mut body = json!({
        "@odata.context": format!("{}/v1.0/$metadata#users('{}')/messages", ctx.base, mb.id),
        "value": value,
    });
    if items.len() > skip + size {
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
    Ok(with_preferences(ctx, ApiResponse::ok(body), None))
}

/// `GET /users/{u}/messages/{id}/attachments`.
pub(crate) fn attachments(
    ctx: &Ctx,
    mailbox_id: &str,
    id: &str,
) -> Result<ApiResponse, GraphError> {
    let state = ctx.sim.state.lock().expect("state lock");
    let mb = state.mailbox(mailbox_id);
    let item = message(mb, id)?;
    let m = item.message().expect("a message");
    let value: Vec<Value> =
        m.attachments.iter().map(|a| render::attachment(mb, item.key, a)).collect();
    Ok(ApiResponse::ok(json!({
        "@odata.context": format!(
            "{}/v1.0/$metadata#users('{}')/messages('{}')/attachments",
            ctx.base, mb.id, id
        ),
        "value": value,
    })))
}

/// `GET .../attachments/{id}` and `.../attachments/{id}/$value` (the raw bytes).
pub(crate) fn attachment(
    ctx: &Ctx,
    mailbox_id: &str,
    id: &str,
    attachment_id: &str,
    raw: bool,
) -> Result<ApiResponse, GraphError> {
    let state = ctx.sim.state.lock().expect("state lock");
    let mb = state.mailbox(mailbox_id);
    let item = message(mb, id)?;
    let ItemRef::Attachment { key, index } =
        ids::parse_item(&mb.tag, attachment_id).map_err(GraphError::from)?
    else {
        return Err(GraphError::id_malformed());
    };
    let a = item
        .message()
        .and_then(|m| m.attachments.iter().find(|a| a.index == index))
        .filter(|_| key == item.key)
        .ok_or_else(GraphError::item_not_found)?;
    if raw {
        return Ok(ApiResponse {
            status: StatusCode::OK,
            headers: Default::default(),
            body: ResponseBody::Bytes {
                content_type: a.content_type.clone(),
                bytes: Bytes::from(a.bytes.clone()),
            },
        });
    }
    let mut body = render::attachment(mb, item.key, a);
    body["@odata.context"] = format!(
        "{}/v1.0/$metadata#users('{}')/messages('{}')/attachments/$entity",
        ctx.base, mb.id, id
    )
    .into();
    Ok(ApiResponse::ok(body))
}

/// The options of an initial message delta request (reference 6.1).
fn message_delta_options(ctx: &Ctx) -> Result<Options, GraphError> {
    let limits = &ctx.sim.config.limits;
    let mut options = Options {
        select: message_select(ctx)?,
        top: odata::parse_top(ctx.req.query_value("$top"), limits.max_page_size)?,
        ..Options::default()
    };
    for (k, v) in &ctx.req.query {
        match k.to_ascii_lowercase().as_str() {
            "$filter" => {
                let f = odata::parse_filter(v)?;
                if !f.is_delta_form() {
                    return Err(GraphError::bad_request(
                        "The only supported $filter for message delta is \
                         receivedDateTime ge|gt {value}.",
                    ));
                }
                options.filter = Some(f);
            }
            "$orderby" => match odata::parse_orderby(v)? {
                ("receivedDateTime", true) => options.order_desc = true,
                _ => {
                    return Err(GraphError::bad_request(
                        "The only supported $orderby for message delta is receivedDateTime desc.",
                    ));
                }
            },
            "changetype" => match v.as_str() {
                "created" | "updated" | "deleted" => options.change_type = Some(v.clone()),
                _ => {
                    return Err(GraphError::bad_request(format!("Invalid changeType '{v}'.")));
                }
            },
            "$select" | "$top" | "$deltatoken" => {}
            other if other.starts_with('$') => {
                return Err(GraphError::bad_request(format!(
                    "Query option '{k}' is not supported for message delta."
                )));
            }
            _ => {}
        }
    }
    options.initial_query = ctx
        .req
        .query
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("$deltatoken"))
        .cloned()
        .collect();
    Ok(options)
}

/// `GET /users/{u}/mailFolders/{f}/messages/delta`.
pub(crate) fn delta(ctx: &Ctx, mailbox_id: &str, folder: &str) -> Result<ApiResponse, GraphError> {
    let mut state = ctx.sim.state.lock().expect("state lock");
    let mb = state.mailbox_mut(mailbox_id);
    let scope = Scope::Messages { folder: mail_folder(mb, folder)? };
    let start = delta::start(ctx.req, scope, || message_delta_options(ctx))?;
    serve_delta(ctx, mb, start)
}

/// Serves a delta request of any scope with this request's page settings.
pub(crate) fn serve_delta(
    ctx: &Ctx,
    mb: &mut Mailbox,
    start: delta::Start,
) -> Result<ApiResponse, GraphError> {
    let limits = &ctx.sim.config.limits;
    let settings = PageSettings {
        base: &ctx.base,
        prefer: ctx.prefer,
        default_page: limits.default_page_size,
        max_page: limits.max_page_size,
        filter_cap: limits.delta_filter_cap,
        basic_only: ctx.basic_only(),
    };
    let (body, page) = delta::serve(mb, start, &settings)?;
    Ok(with_preferences(ctx, ApiResponse::ok(body), page))
}
