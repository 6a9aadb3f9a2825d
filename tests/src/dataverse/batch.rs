//! `$batch` (`PAD:webapi/execute-batch-operations-using-web-api.md`, reference A6):
//! multipart/mixed only, at most 1000 requests, no nesting, no GET inside a changeset,
//! atomic changesets with `Content-ID` references, and the two error modes.

use std::collections::HashMap;

use axum::http::{HeaderMap, Method, StatusCode};
use uuid::Uuid;

use super::{
    body::content_id_missing,
    errors::{ApiError, ODATA},
    headers::header,
    metadata::catalog,
    multipart::{self, Request, write_response},
    ops::{self, Op},
    reply::Reply,
    state::{Ctx, EnvState},
    store::EntityRef,
};

/// Most requests one batch may hold (the `$batch` doc).
pub const MAX_REQUESTS: usize = 1000;

/// A parsed batch.
#[derive(Debug)]
pub struct Batch {
    items: Vec<Item>,
}

#[derive(Debug)]
enum Item {
    Single(Request),
    ChangeSet(Vec<(Option<String>, Request)>),
}

impl Batch {
    /// The number of operations (each counts for the limits, reference A7).
    pub fn operations(&self) -> usize {
        self.items
            .iter()
            .map(|i| match i {
                Item::Single(_) => 1,
                Item::ChangeSet(parts) => parts.len(),
            })
            .sum()
    }
}

/// What the batch answers: status and multipart body.
#[derive(Debug)]
pub struct Outcome {
    /// 200, or 400 when it stopped at a failure.
    pub status: StatusCode,
    /// The `batchresponse_<guid>` boundary.
    pub boundary: String,
    /// The multipart body.
    pub body: String,
}

fn malformed(message: impl Into<String>) -> ApiError {
    ApiError::bad_request(ODATA, message)
}

/// Reads a `$batch` request. The doc describes multipart/mixed only; a JSON batch (OData
/// 4.01) is refused (reference A6: "assume unsupported"; the refusal's text is ours).
pub fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Batch, ApiError> {
    let content_type = header(headers, "content-type").unwrap_or_default();
    let boundary = multipart::boundary(content_type).ok_or_else(|| {
        malformed(format!(
            "The content type '{content_type}' is not supported for $batch; send multipart/mixed with a boundary."
        ))
    })?;
    let text =
        std::str::from_utf8(body).map_err(|_| malformed("The batch body is not valid UTF-8."))?;
    let parts = multipart::split(text, &boundary).map_err(malformed)?;
    let mut items = Vec::new();
    for part in parts {
        let ct = part.header("content-type").unwrap_or_default();
        if let Some(changeset) = multipart::boundary(ct) {
            let inner = multipart::split(&part.body, &changeset).map_err(malformed)?;
            let requests = inner
                .iter()
                .map(|p| {
                    if multipart::boundary(p.header("content-type").unwrap_or_default()).is_some() {
                        return Err(malformed("Change sets cannot be nested."));
                    }
                    let request = http_part(p)?;
                    if request.method == Method::GET {
                        return Err(malformed("GET requests are not allowed in a change set."));
                    }
                    Ok((p.header("content-id").map(str::to_string), request))
                })
                .collect::<Result<Vec<_>, _>>()?;
            items.push(Item::ChangeSet(requests));
        } else {
            items.push(Item::Single(http_part(&part)?));
        }
    }
    let batch = Batch { items };
    if batch.operations() > MAX_REQUESTS {
        // The limit is documented; the refusal's text is UNCONFIRMED.
        return Err(malformed(format!(
            "The batch contains {} requests; a batch can contain at most {MAX_REQUESTS}.",
            batch.operations()
        )));
    }
    Ok(batch)
}

/// An `application/http` part with `Content-Transfer-Encoding: binary` (the doc requires both).
fn http_part(part: &multipart::Part) -> Result<Request, ApiError> {
    let ct = part.header("content-type").unwrap_or_default();
    if !ct.trim().eq_ignore_ascii_case("application/http") {
        return Err(malformed(format!(
            "A batch part has the content type '{ct}'; expected application/http."
        )));
    }
    if !part.header("content-transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("binary")) {
        return Err(malformed("A batch part is missing 'Content-Transfer-Encoding: binary'."));
    }
    let request = multipart::request(&part.body).map_err(malformed)?;
    if request.target.split('?').next().unwrap_or_default().ends_with("$batch") {
        return Err(malformed("A batch request cannot contain another batch request."));
    }
    Ok(request)
}

/// Runs a batch. Without `continue_on_error` it stops at the first failure and answers 400
/// with only that response; with it, 200 and every response. A failed changeset is rolled
/// back and answered by its failing response alone.
pub fn run(
    env: &mut EnvState,
    ctx: &Ctx,
    app_id: &str,
    batch: Batch,
    continue_on_error: bool,
) -> Outcome {
    let boundary = format!("batchresponse_{}", Uuid::new_v4());
    let mut out = String::new();
    let stopped = |boundary: String, reply: &Reply| {
        let mut body = String::new();
        write_response(&mut body, &boundary, reply, None);
        body.push_str(&format!("--{boundary}--\r\n"));
        Outcome { status: StatusCode::BAD_REQUEST, boundary, body }
    };
    for item in batch.items {
        match item {
            Item::Single(request) => {
                let reply = execute(env, ctx, app_id, &request, &HashMap::new());
                if reply.failed() && !continue_on_error {
                    return stopped(boundary, &reply);
                }
                write_response(&mut out, &boundary, &reply, None);
            }
            Item::ChangeSet(requests) => {
                let snapshot = env.store.clone();
                let mut ids = HashMap::new();
                let mut replies = Vec::new();
                let mut failure = None;
                for (content_id, request) in requests {
                    let reply = execute(env, ctx, app_id, &request, &ids);
                    if reply.failed() {
                        failure = Some(reply);
                        break;
                    }
                    if let (Some(id), Some(entity)) = (&content_id, reply.entity) {
                        ids.insert(id.clone(), entity);
                    }
                    replies.push((content_id, reply));
                }
                if let Some(failure) = failure {
                    env.store = snapshot;
                    if !continue_on_error {
                        return stopped(boundary, &failure);
                    }
                    write_response(&mut out, &boundary, &failure, None);
                    continue;
                }
                let changeset = format!("changesetresponse_{}", Uuid::new_v4());
                out.push_str(&format!(
                    "--{boundary}\r\nContent-Type: multipart/mixed; boundary={changeset}\r\n\r\n"
                ));
                for (content_id, reply) in &replies {
                    write_response(&mut out, &changeset, reply, content_id.as_deref());
                }
                out.push_str(&format!("--{changeset}--\r\n"));
            }
        }
    }
    out.push_str(&format!("--{boundary}--\r\n"));
    Outcome { status: StatusCode::OK, boundary, body: out }
}

/// Runs one part, counting it in the caller's statistics.
fn execute(
    env: &mut EnvState,
    ctx: &Ctx,
    app_id: &str,
    request: &Request,
    ids: &HashMap<String, EntityRef>,
) -> Reply {
    let target = match target(&request.target, ctx, ids) {
        Ok(t) => t,
        Err(e) => {
            env.stats_mut(app_id).count(request.method.as_str(), &ops::addressed(&request.target));
            return e.into();
        }
    };
    let ctx = Ctx { content_ids: ids.clone(), ..ctx.clone() };
    let op = Op {
        method: &request.method,
        target: &target,
        headers: &request.headers,
        body: request.body.as_bytes(),
    };
    let reply = ops::execute(env, &ctx, op);
    env.stats_mut(app_id).count(request.method.as_str(), &ops::addressed(&target));
    reply
}

/// A part's URL relative to the service root: absolute URL, absolute path, relative, or
/// starting with a `$n` Content-ID reference (`PATCH $1`, `PUT $1/lastname`).
fn target(raw: &str, ctx: &Ctx, ids: &HashMap<String, EntityRef>) -> Result<String, ApiError> {
    if let Some(rest) = raw.strip_prefix('$') {
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let entity = ids.get(&rest[..end]).ok_or_else(|| content_id_missing(&raw[..=end]))?;
        let set = catalog().by_logical(entity.table).expect("catalog table").set;
        return Ok(format!("{set}({}){}", entity.id, &rest[end..]));
    }
    let root = ctx.root();
    let root_path = url::Url::parse(&root).map(|u| u.path().to_string()).unwrap_or_default();
    let relative = if raw.starts_with("http://") || raw.starts_with("https://") {
        raw.strip_prefix(root.as_str())
    } else if raw.starts_with('/') {
        raw.strip_prefix(root_path.as_str())
    } else {
        Some(raw)
    };
    relative.map(str::to_string).ok_or_else(|| {
        malformed(format!("The request URL '{raw}' is not under the service root '{root}'."))
    })
}
