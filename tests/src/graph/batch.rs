//! JSON batching, `POST /v1.0/$batch` (reference 9.3; docs: concepts/json-batching.md): at
//! most 20 requests with unique ids (case-insensitive), relative URLs, `Content-Type` with
//! every body, `dependsOn` on earlier ids with 424 for dependents of a failed request, and
//! responses in any order. Each sub-request is authorized, throttled and counted on its own;
//! the requests of one parallel wave are in flight together, so a batch cannot get around the
//! per-mailbox concurrency limit.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use base64::{Engine, engine::general_purpose::STANDARD};
use bytes::Bytes;
use rand::seq::SliceRandom;
use serde_json::{Map, Value, json};
use tokio::sync::Notify;

use super::{
    Inner,
    errors::GraphError,
    pipeline,
    request::{ApiRequest, ApiResponse, ResponseBody},
};
use crate::auth::AppToken;

/// Requests per batch (docs: concepts/json-batching.md).
const MAX_REQUESTS: usize = 20;

/// The requests of one wave: each waits after admission until all have been admitted.
#[derive(Debug)]
pub(crate) struct Wave {
    left: Mutex<usize>,
    notify: Notify,
}

/// One request's place in a wave; arrives at most once, at the latest when dropped.
#[derive(Debug)]
pub(crate) struct Arrival {
    wave: Arc<Wave>,
    arrived: AtomicBool,
}

impl Arrival {
    /// Counts this request as admitted (or finished without admission).
    pub fn arrive(&self) {
        if !self.arrived.swap(true, Ordering::SeqCst) {
            let mut left = self.wave.left.lock().expect("wave lock");
            *left -= 1;
            if *left == 0 {
                self.wave.notify.notify_waiters();
            }
        }
    }

    /// Arrives, then waits for the rest of the wave.
    pub async fn arrive_and_wait(&self) {
        let notified = self.wave.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        self.arrive();
        if *self.wave.left.lock().expect("wave lock") == 0 {
            return;
        }
        notified.await;
    }
}

impl Drop for Arrival {
    fn drop(&mut self) {
        self.arrive();
    }
}

#[derive(Debug)]
struct Sub {
    id: String,
    depends_on: Vec<String>,
    request: Result<ApiRequest, GraphError>,
}

fn invalid(message: impl Into<String>) -> GraphError {
    // UNCONFIRMED code for malformed batches; 400 per docs.
    GraphError::bad_request(message)
}

/// Validates the envelope; any fault fails the whole batch with 400.
fn parse(body: &Value) -> Result<Vec<Sub>, GraphError> {
    let requests = body
        .get("requests")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("Invalid batch payload format."))?;
    if requests.is_empty() {
        return Err(invalid("Invalid batch payload format."));
    }
    if requests.len() > MAX_REQUESTS {
        // Graph's wording, as reported in microsoftgraph/microsoftgraph-postman-collections#9.
        return Err(invalid("Number of requests inside batch exceeds the limit."));
    }
    let mut seen = HashSet::new();
    let mut subs = Vec::new();
    for r in requests {
        let field = |k: &str| r.get(k).and_then(Value::as_str).filter(|v| !v.is_empty());
        let (Some(id), Some(method), Some(url)) = (field("id"), field("method"), field("url"))
        else {
            return Err(invalid("Every request needs an id, a method and a url."));
        };
        if !seen.insert(id.to_ascii_lowercase()) {
            return Err(invalid(format!("Batch request contains duplicate id '{id}'.")));
        }
        let depends_on: Vec<String> = match r.get("dependsOn") {
            None => Vec::new(),
            Some(Value::Array(a)) => {
                a.iter().filter_map(Value::as_str).map(str::to_string).collect()
            }
            Some(_) => return Err(invalid("dependsOn must be an array of request ids.")),
        };
        // A dependency must be an earlier request (microsoftgraph/msgraph-sdk-dotnet-core#891:
        // "Invalid dependency for request Id").
        if depends_on
            .iter()
            .any(|d| d.eq_ignore_ascii_case(id) || !seen.contains(&d.to_ascii_lowercase()))
        {
            return Err(invalid(format!("Invalid dependency for request Id {id}.")));
        }
        let mut headers = HeaderMap::new();
        if let Some(h) = r.get("headers").and_then(Value::as_object) {
            for (k, v) in h {
                let (Ok(name), Some(Ok(value))) =
                    (HeaderName::from_bytes(k.as_bytes()), v.as_str().map(HeaderValue::from_str))
                else {
                    return Err(invalid(format!("Invalid header '{k}' in request {id}.")));
                };
                headers.insert(name, value);
            }
        }
        let body = match r.get("body") {
            None => Bytes::new(),
            Some(b) => {
                if !headers.contains_key("content-type") {
                    return Err(invalid(format!(
                        "Write request id : {id} does not contain Content-Type header or body."
                    )));
                }
                match b {
                    Value::String(s) => Bytes::from(s.clone()),
                    other => Bytes::from(other.to_string()),
                }
            }
        };
        let request = sub_request(method, url, headers, body);
        subs.push(Sub { id: id.to_string(), depends_on, request });
    }
    Ok(subs)
}

fn sub_request(
    method: &str,
    url: &str,
    headers: HeaderMap,
    body: Bytes,
) -> Result<ApiRequest, GraphError> {
    if url.contains("://") {
        return Err(GraphError::bad_request("The url of a batch request must be relative."));
    }
    let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes())
        .map_err(|_| GraphError::bad_request(format!("Invalid method '{method}'.")))?;
    let (path, query) = url.split_once('?').map_or((url, None), |(p, q)| (p, Some(q)));
    let path = if path.starts_with('/') { path.to_string() } else { format!("/{path}") };
    Ok(ApiRequest::new(method, &path, query, headers, body))
}

fn sub_response(sim: &Inner, id: &str, result: Result<ApiResponse, GraphError>) -> (bool, Value) {
    let (status, headers, body) = match result {
        Ok(r) => (r.status, r.headers, r.body),
        Err(e) => {
            let request_id = uuid::Uuid::new_v4().to_string();
            let mut headers = HeaderMap::new();
            headers.insert("content-type", HeaderValue::from_static("application/json"));
            if let Some(s) = e.retry_after {
                headers.insert("retry-after", HeaderValue::from(s));
            }
            if let Some(l) = e.location.as_deref().and_then(|l| HeaderValue::from_str(l).ok()) {
                headers.insert("location", l);
            }
            let body = e.body(&request_id, &request_id, sim.config.clock.now());
            (e.status, headers, ResponseBody::Json(body))
        }
    };
    let mut h = Map::new();
    for (k, v) in &headers {
        h.insert(header_case(k.as_str()), v.to_str().unwrap_or_default().into());
    }
    let mut out = json!({"id": id, "status": status.as_u16(), "headers": h});
    match body {
        ResponseBody::Empty => {}
        ResponseBody::Json(v) => out["body"] = v,
        ResponseBody::Bytes { content_type, bytes } => {
            out["headers"]["Content-Type"] = content_type.into();
            out["body"] = STANDARD.encode(bytes).into();
        }
    }
    (status.is_success(), out)
}

/// `content-type` -> `Content-Type`, as the docs' batch responses spell headers.
fn header_case(name: &str) -> String {
    name.split('-')
        .map(|p| {
            let mut c = p.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// Runs a batch for an authenticated caller.
pub(crate) async fn run(
    sim: &Arc<Inner>,
    token: &AppToken,
    req: &ApiRequest,
    base: &str,
) -> Result<ApiResponse, GraphError> {
    if req.method != Method::POST {
        return Err(GraphError::method_not_allowed());
    }
    pipeline::apply_fault(sim, req).await?;
    let json = req
        .header("content-type")
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("application/json"));
    if !json {
        return Err(invalid("The batch request needs Content-Type: application/json."));
    }
    let body: Value =
        serde_json::from_slice(&req.body).map_err(|_| invalid("Invalid batch payload format."))?;
    let mut pending = parse(&body)?;
    let mut outcome: HashMap<String, bool> = HashMap::new();
    let mut responses = Vec::new();
    while !pending.is_empty() {
        let (ready, rest): (Vec<Sub>, Vec<Sub>) = pending.into_iter().partition(|s| {
            s.depends_on.iter().all(|d| outcome.contains_key(&d.to_ascii_lowercase()))
        });
        pending = rest;
        let mut runnable = Vec::new();
        for sub in ready {
            if sub.depends_on.iter().any(|d| !outcome[&d.to_ascii_lowercase()]) {
                // UNCONFIRMED body; the status is documented.
                let e = GraphError::new(
                    StatusCode::FAILED_DEPENDENCY,
                    "FailedDependency",
                    "The request could not be executed because a request it depends on failed.",
                );
                let (ok, v) = sub_response(sim, &sub.id, Err(e));
                outcome.insert(sub.id.to_ascii_lowercase(), ok);
                responses.push(v);
            } else {
                runnable.push(sub);
            }
        }
        let wave = Arc::new(Wave { left: Mutex::new(runnable.len()), notify: Notify::new() });
        let futures = runnable.into_iter().map(|sub| {
            let arrival = Arrival { wave: wave.clone(), arrived: AtomicBool::new(false) };
            async move {
                let result = match &sub.request {
                    Ok(r) => pipeline::run_in_wave(sim, token, r, base, Some(&arrival)).await,
                    Err(e) => Err(e.clone()),
                };
                drop(arrival);
                (sub.id, result)
            }
        });
        for (id, result) in futures::future::join_all(futures).await {
            let (ok, v) = sub_response(sim, &id, result);
            outcome.insert(id.to_ascii_lowercase(), ok);
            responses.push(v);
        }
    }
    // Responses may come in any order (docs): shuffle so clients match by id.
    responses.shuffle(&mut rand::rng());
    Ok(ApiResponse::ok(json!({"responses": responses})))
}
