//! The HTTP front: environment routing, the bearer token and application user check, service
//! protection, injected faults, the version headers, then one operation or a `$batch`.

use std::{sync::Arc, time::Instant};

use axum::{
    body::{Body, to_bytes},
    extract::{Request, State},
    http::{HeaderMap, Method, StatusCode, header::CONTENT_TYPE},
    response::Response,
};
use uuid::Uuid;

use super::{
    access::{Refusal, authenticate, unauthorized},
    batch,
    errors::ApiError,
    headers::{Prefer, check_versions},
    limits::Violation,
    ops::{self, Op},
    reply::Reply,
    state::{Caller, Ctx, EnvState, Shared},
};
use crate::faults::Fault;

/// Largest request body accepted (the service answers 413 above its limit).
const MAX_BODY_BYTES: usize = 128 * 1024 * 1024;

/// Handles every request of the simulator.
pub async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let Some((env_name, rest)) = split_path(parts.uri.path()) else {
        return plain(StatusCode::NOT_FOUND);
    };
    let Some(env_url) = shared.env_url(&env_name).filter(|_| shared.envs().contains_key(&env_name))
    else {
        return plain(StatusCode::NOT_FOUND);
    };
    let caller = match authenticate(&shared, &env_name, &env_url, &parts.headers) {
        Ok(caller) => caller,
        Err(Refusal::Token { tenant_id, rejection }) => {
            return unauthorized(&tenant_id, &env_url, &rejection);
        }
        Err(Refusal::User(error)) => return respond(error.into()),
    };
    let (_in_flight, _) = shared.gauge.enter(&format!("{env_name}|{}", caller.app_id));
    if let Err(error) = with_env(&shared, &env_name, |env| {
        let limits = env.limits;
        env.usage.entry(caller.user_id).or_default().enter(&limits)
    }) {
        throttled(&shared, &env_name, &caller, &error);
        return respond(Reply::from(error));
    }
    let _leave =
        Leave { shared: shared.clone(), env: env_name.clone(), user: caller.user_id, started };
    match shared.faults.pick(parts.method.as_str(), parts.uri.path()) {
        Some(Fault::Status { status, retry_after }) => {
            return injected(&shared, &env_name, &caller, status, retry_after);
        }
        Some(Fault::Latency(delay)) => tokio::time::sleep(delay).await,
        Some(Fault::Hang) => std::future::pending::<()>().await,
        None => {}
    }
    let Ok(body) = to_bytes(body, MAX_BODY_BYTES).await else {
        return respond(
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "", "The request body is too large.")
                .into(),
        );
    };
    if let Err(error) = check_versions(&parts.headers) {
        return respond(error.into());
    }
    let target = match parts.uri.query() {
        Some(q) => format!("{rest}?{q}"),
        None => rest.clone(),
    };
    if rest == "$batch" && parts.method == Method::POST {
        return run_batch(&shared, &env_name, &env_url, &caller, &parts.headers, &body);
    }
    with_env(&shared, &env_name, |env| {
        if let Err(error) = admit(&shared, env, &caller, 1) {
            return respond(error.into());
        }
        let ctx = context(&shared, env_url.clone(), &caller);
        let reply = ops::execute(
            env,
            &ctx,
            Op { method: &parts.method, target: &target, headers: &parts.headers, body: &body },
        );
        let stats = env.stats_mut(&caller.app_id);
        stats.count(parts.method.as_str(), &ops::addressed(&target));
        stats.http_requests += 1;
        with_usage_headers(respond(reply), env, &caller)
    })
}

fn run_batch(
    shared: &Shared,
    env_name: &str,
    env_url: &str,
    caller: &Caller,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let parsed =
        Prefer::parse(headers).and_then(|prefer| Ok((prefer, batch::parse(headers, body)?)));
    with_env(shared, env_name, |env| {
        let operations = parsed.as_ref().map_or(1, |(_, b)| b.operations().max(1));
        if let Err(error) = admit(shared, env, caller, operations as u64) {
            return respond(error.into());
        }
        env.stats_mut(&caller.app_id).http_requests += 1;
        let (prefer, batch) = match parsed {
            Ok(parsed) => parsed,
            Err(error) => {
                env.stats_mut(&caller.app_id).count("POST", "$batch");
                return respond(error.into());
            }
        };
        let ctx = context(shared, env_url.to_string(), caller);
        let outcome = batch::run(env, &ctx, &caller.app_id, batch, prefer.continue_on_error);
        let response = Response::builder()
            .status(outcome.status)
            .header("OData-Version", "4.0")
            .header(CONTENT_TYPE, format!("multipart/mixed; boundary={}", outcome.boundary))
            .body(Body::from(outcome.body))
            .expect("valid response");
        with_usage_headers(response, env, caller)
    })
}

/// `/api/data/v9.2/<rest>` is the environment at the base URL; `/<name>/api/data/v9.2/<rest>`
/// the named one.
fn split_path(path: &str) -> Option<(String, String)> {
    const ROOT: &str = "/api/data/v9.2/";
    let at = path.find(ROOT)?;
    let name = path[..at].trim_start_matches('/');
    if name.contains('/') {
        return None;
    }
    Some((name.to_string(), path[at + ROOT.len()..].to_string()))
}

fn with_env<T>(shared: &Shared, name: &str, f: impl FnOnce(&mut EnvState) -> T) -> T {
    let mut envs = shared.envs();
    f(envs.get_mut(name).expect("environment checked on entry"))
}

fn context(shared: &Shared, env_url: String, caller: &Caller) -> Ctx {
    Ctx {
        env_url,
        user_id: caller.user_id,
        now: shared.clock.now(),
        content_ids: Default::default(),
    }
}

fn admit(
    shared: &Shared,
    env: &mut EnvState,
    caller: &Caller,
    operations: u64,
) -> Result<(), ApiError> {
    let limits = env.limits;
    let now_ms = now_ms(shared);
    let result = env.usage.entry(caller.user_id).or_default().admit(&limits, now_ms, operations);
    result.map_err(|(violation, error)| {
        *env.stats_mut(&caller.app_id)
            .throttled
            .entry(violation.code().to_string())
            .or_default() += 1;
        error
    })
}

fn throttled(shared: &Shared, env_name: &str, caller: &Caller, error: &ApiError) {
    with_env(shared, env_name, |env| {
        *env.stats_mut(&caller.app_id).throttled.entry(error.code.clone()).or_default() += 1;
    });
}

/// An injected status: a 429 carries the request-limit body, other statuses a generic one.
fn injected(
    shared: &Shared,
    env_name: &str,
    caller: &Caller,
    status: u16,
    retry_after: Option<u64>,
) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut error = if status == StatusCode::TOO_MANY_REQUESTS {
        let limits = with_env(shared, env_name, |env| env.limits);
        let error = Violation::Requests.error(&limits, retry_after.unwrap_or(1));
        throttled(shared, env_name, caller, &error);
        return respond(error.into());
    } else {
        ApiError::new(status, "", status.canonical_reason().unwrap_or("Error"))
    };
    if let Some(secs) = retry_after {
        error = error.with_header("retry-after", secs.to_string());
    }
    respond(error.into())
}

/// The diagnostic headers of reference A7.
fn with_usage_headers(mut response: Response, env: &EnvState, caller: &Caller) -> Response {
    if let Some(usage) = env.usage.get(&caller.user_id) {
        let (requests, ms) = usage.remaining(&env.limits);
        let headers = response.headers_mut();
        headers.insert("x-ms-ratelimit-burst-remaining-xrm-requests", requests.into());
        headers.insert("x-ms-ratelimit-time-remaining-xrm-requests", ms.into());
    }
    response
}

/// A reply as an HTTP response (`OData-Version: 4.0` on every one).
fn respond(reply: Reply) -> Response {
    let mut builder = Response::builder().status(reply.status).header("OData-Version", "4.0");
    for (name, value) in &reply.headers {
        builder = builder.header(*name, value);
    }
    let body = match reply.body {
        Some(json) => {
            builder = builder.header(CONTENT_TYPE, "application/json; odata.metadata=minimal");
            Body::from(json.to_string())
        }
        None => Body::empty(),
    };
    builder.body(body).expect("valid response")
}

fn plain(status: StatusCode) -> Response {
    Response::builder().status(status).body(Body::empty()).expect("valid response")
}

fn now_ms(shared: &Shared) -> i64 {
    i64::try_from(shared.clock.now().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Ends a request's concurrency slot and books its execution time, however it ends.
struct Leave {
    shared: Arc<Shared>,
    env: String,
    user: Uuid,
    started: Instant,
}

impl Drop for Leave {
    fn drop(&mut self) {
        let elapsed = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let now = now_ms(&self.shared);
        if let Some(env) = self.shared.envs().get_mut(&self.env)
            && let Some(usage) = env.usage.get_mut(&self.user)
        {
            usage.leave(now, elapsed);
        }
    }
}
