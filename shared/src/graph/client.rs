//! The Graph client: one request loop that every operation goes through, with the token,
//! the request slot, `Prefer: IdType="ImmutableId"`, bounded retries and error parsing.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use url::Url;

use super::{
    access::MailboxAccess,
    auth::token_roles,
    error::{ApiError, Denial, ErrorKind, GraphError, Operation},
    retry::{RetryPolicy, parse_retry_after},
};
use crate::{
    ports::{Clock, RequestLimiter, Resource, Tokens},
    secret::Secret,
};

/// Asks Graph to return immutable item ids, which survive moves between folders
/// (reference graph.md 6.1, 7). Sent on every request.
const IMMUTABLE_IDS: &str = r#"IdType="ImmutableId""#;

/// Messages per delta page. The catch-up target is at most 0.05 Graph requests per email, so
/// a page must carry more than 20; 50 leaves room for the round's last page and for Exchange
/// returning short pages, while a page of 50 full bodies stays a few MB and a crash re-reads
/// at most 50 messages. A burst of 50 into one folder then costs one or two pages.
pub const DEFAULT_PAGE_SIZE: u16 = 50;

/// A Microsoft Graph client for app-only mailbox access.
#[derive(Debug, Clone)]
pub struct GraphClient {
    inner: Arc<Inner>,
}

#[derive(Debug, Clone)]
struct Inner {
    http: reqwest::Client,
    api: Url,
    tokens: Arc<dyn Tokens>,
    limiter: Arc<dyn RequestLimiter>,
    clock: Arc<dyn Clock>,
    retry: RetryPolicy,
    page_size: u16,
}

/// One request as an operation describes it.
pub(crate) struct Call<'a> {
    pub operation: Operation,
    pub access: &'a MailboxAccess,
    pub method: Method,
    pub url: Url,
    pub body: Option<Value>,
    /// Whether sending it twice has the effect of once (a timed-out POST may have happened).
    pub idempotent: bool,
    /// Extra `Prefer` preferences.
    pub prefer: Option<String>,
}

/// A response, read to the end.
pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl GraphClient {
    /// A client for the Graph at `graph_url` (the API is under `{graph_url}/v1.0`), sharing
    /// the process's `http` client, with default retries and page size. Every request asks
    /// `tokens` for a token, so give it a caching one ([`crate::entra::CachingTokens`]).
    pub fn new(
        http: reqwest::Client,
        graph_url: &Url,
        tokens: Arc<dyn Tokens>,
        limiter: Arc<dyn RequestLimiter>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let root = graph_url.as_str().trim_end_matches('/');
        let api = Url::parse(&format!("{root}/v1.0/")).expect("graph_url is a validated URL");
        let inner = Inner {
            http,
            api,
            tokens,
            limiter,
            clock,
            retry: RetryPolicy::default(),
            page_size: DEFAULT_PAGE_SIZE,
        };
        Self { inner: Arc::new(inner) }
    }

    /// The same client with other retry bounds (tests shorten them).
    pub fn with_retry(self, retry: RetryPolicy) -> Self {
        self.rebuild(|inner| inner.retry = retry)
    }

    /// The same client with another delta page size.
    pub fn with_page_size(self, page_size: u16) -> Self {
        self.rebuild(|inner| inner.page_size = page_size.max(1))
    }

    fn rebuild(self, change: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = Inner::clone(&self.inner);
        change(&mut inner);
        Self { inner: Arc::new(inner) }
    }

    /// The delta page size in use.
    pub fn page_size(&self) -> u16 {
        self.inner.page_size
    }

    /// `{graph_url}/v1.0/` followed by `segments` (each percent-encoded as needed).
    pub(crate) fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.api.clone();
        url.path_segments_mut().expect("an https URL has a path").pop_if_empty().extend(segments);
        url
    }

    /// Parses a next/delta link, refusing one outside `graph_url`: the token goes only there.
    pub(crate) fn link(
        &self,
        call: (Operation, &MailboxAccess),
        link: &str,
    ) -> Result<Url, GraphError> {
        let api = &self.inner.api;
        match Url::parse(link) {
            Ok(url) if url.origin() == api.origin() && url.path().starts_with(api.path()) => {
                Ok(url)
            }
            _ => {
                let shown = Url::parse(link).map(|u| u.origin().ascii_serialization());
                Err(error(call.0, call.1, ErrorKind::ForeignLink(shown.unwrap_or_default())))
            }
        }
    }

    /// Sends `call`, retrying within the policy; a non-2xx final answer becomes a `GraphError`.
    pub(crate) async fn send(&self, call: Call<'_>) -> Result<Answer, GraphError> {
        let inner = &*self.inner;
        let access = call.access;
        let fail = |kind| error(call.operation, access, kind);
        let token_error = |e| fail(ErrorKind::Token(Box::new(e)));
        let credential = &access.credential;
        let mut token =
            inner.tokens.token(credential, Resource::Graph).await.map_err(token_error)?;
        let mut refreshed = false;
        let mut attempt = 1;
        loop {
            let outcome = self.attempt(&call, &token.token).await;
            let wait = match outcome {
                Ok(answer) if answer.status.is_success() => return Ok(answer),
                Ok(answer) if answer.status == StatusCode::UNAUTHORIZED && !refreshed => {
                    // Refresh once (reference graph.md 10.2), then let a second 401 stand.
                    refreshed = true;
                    inner.tokens.rejected(credential, Resource::Graph, &token).await;
                    token = inner
                        .tokens
                        .token(credential, Resource::Graph)
                        .await
                        .map_err(token_error)?;
                    continue;
                }
                Ok(answer) => {
                    let api = self.api_error(&call, &answer, &token.token);
                    let retryable = match answer.status.as_u16() {
                        // The service refused the request before doing it.
                        429 | 503 => true,
                        408 | 500 | 502 | 504 => call.idempotent,
                        _ => false,
                    };
                    let wait = api.retry_after.unwrap_or_else(|| inner.retry.backoff(attempt));
                    if !retryable
                        || attempt >= inner.retry.max_attempts
                        || wait > inner.retry.max_wait
                    {
                        return Err(fail(ErrorKind::Api(Box::new(api))));
                    }
                    tracing::debug!(status = api.status, code = %api.code, ?wait, "Graph asked to retry");
                    wait
                }
                Err(ErrorKind::Transport { message, maybe_done }) => {
                    // A request that never connected was not carried out; one that was sent
                    // may have been, so only idempotent ones go again.
                    if (maybe_done && !call.idempotent) || attempt >= inner.retry.max_attempts {
                        return Err(fail(ErrorKind::Transport { message, maybe_done }));
                    }
                    tracing::debug!(%message, "Graph request failed; retrying");
                    inner.retry.backoff(attempt)
                }
                Err(kind) => return Err(fail(kind)),
            };
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    async fn attempt(&self, call: &Call<'_>, token: &Secret) -> Result<Answer, ErrorKind> {
        let inner = &*self.inner;
        let prefer = match &call.prefer {
            Some(extra) => format!("{extra}, {IMMUTABLE_IDS}"),
            None => IMMUTABLE_IDS.to_string(),
        };
        let mut request = inner
            .http
            .request(call.method.clone(), call.url.clone())
            .bearer_auth(token.expose())
            .header("Prefer", prefer)
            .timeout(inner.retry.request_timeout);
        request = match &call.body {
            Some(body) => request.json(body),
            // reauthorize is a POST without a body; say so rather than send no length at all.
            None if call.method == Method::POST => request.header("Content-Length", "0"),
            None => request,
        };
        let _slot = inner
            .limiter
            .acquire(&call.access.limits)
            .await
            .map_err(|e| ErrorKind::Limit(Box::new(e)))?;
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.map_err(transport)?;
        Ok(Answer { status, headers, body })
    }

    /// Reads Graph's error body (reference graph.md 10.1), keyed by `code`.
    fn api_error(&self, call: &Call<'_>, answer: &Answer, token: &Secret) -> ApiError {
        let json: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
        let error = &json["error"];
        let text = |v: &Value| v.as_str().map(str::to_string);
        let inner_error = error.get("innerError").or_else(|| error.get("innererror"));
        let header = |name: &str| answer.headers.get(name).and_then(|v| v.to_str().ok());
        let request_id = header("request-id")
            .map(str::to_string)
            .or_else(|| inner_error.and_then(|i| text(&i["request-id"])));
        let code =
            text(&error["code"]).unwrap_or_else(|| format!("HTTP{}", answer.status.as_u16()));
        let retry_after =
            header("retry-after").and_then(|v| parse_retry_after(v, self.inner.clock.now()));
        let denial = (answer.status == StatusCode::FORBIDDEN
            && code.eq_ignore_ascii_case("ErrorAccessDenied"))
        .then(|| denial(call.operation, token));
        ApiError {
            status: answer.status.as_u16(),
            message: text(&error["message"]).unwrap_or_default(),
            code,
            request_id,
            retry_after,
            reset: answer.status == StatusCode::GONE && header("location").is_some(),
            denial,
        }
    }

    /// Decodes a success body.
    pub(crate) fn json<T: DeserializeOwned>(
        call: (Operation, &MailboxAccess),
        answer: &Answer,
    ) -> Result<T, GraphError> {
        serde_json::from_slice(&answer.body)
            .map_err(|e| error(call.0, call.1, ErrorKind::Decode(e.to_string())))
    }
}

/// Tells "the app lacks the role" from "a policy keeps the app out" by the token's own roles,
/// since Graph answers both with 403 `ErrorAccessDenied` (reference graph.md 10.2, 11.2).
fn denial(operation: Operation, token: &Secret) -> Denial {
    let accepted = operation.accepted_roles();
    match token_roles(token) {
        Some(roles) if roles.iter().any(|r| accepted.contains(&r.as_str())) => Denial::AccessPolicy,
        Some(_) => Denial::MissingRole { needed: accepted[0] },
        None => Denial::Other,
    }
}

fn transport(e: reqwest::Error) -> ErrorKind {
    // Without the URL: next/delta links carry state tokens that do not belong in logs.
    let e = e.without_url();
    ErrorKind::Transport { maybe_done: !e.is_connect(), message: e.to_string() }
}

pub(crate) fn error(operation: Operation, access: &MailboxAccess, kind: ErrorKind) -> GraphError {
    GraphError { operation, mailbox: access.address.clone(), app: access.limits.app.clone(), kind }
}
