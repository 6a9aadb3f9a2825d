//! One Graph request and response, independent of axum, so that HTTP requests and `$batch`
//! sub-requests go through the same pipeline.

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use bytes::Bytes;
use serde_json::Value;

use super::errors::GraphError;

/// A request below `/v1.0`.
#[derive(Debug, Clone)]
pub(crate) struct ApiRequest {
    pub method: Method,
    /// The path below `/v1.0`, still percent-encoded, e.g. `/users/a%40b.com/messages`.
    pub path: String,
    /// Decoded query pairs in order.
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl ApiRequest {
    /// Builds a request from a path and a raw query string.
    pub fn new(
        method: Method,
        path: &str,
        raw_query: Option<&str>,
        headers: HeaderMap,
        body: Bytes,
    ) -> Self {
        Self { method, path: path.to_string(), query: parse_query(raw_query), headers, body }
    }

    /// The path split into segments (see [`split_segments`]).
    pub fn segments(&self) -> Vec<String> {
        split_segments(&self.path)
    }

    /// The value of a query option (first occurrence), names compared case-insensitively.
    pub fn query_value(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The preferences of the `Prefer` header(s).
    pub fn prefer(&self) -> Prefer {
        let mut prefer = Prefer::default();
        for value in self.headers.get_all("prefer") {
            let Ok(value) = value.to_str() else { continue };
            for part in value.split([',', ';']) {
                let (key, val) = part.split_once('=').unwrap_or((part, ""));
                let (key, val) = (key.trim().to_ascii_lowercase(), val.trim().trim_matches('"'));
                match key.as_str() {
                    "odata.maxpagesize" => prefer.max_page_size = val.parse().ok(),
                    "idtype" => prefer.immutable_ids = val.eq_ignore_ascii_case("ImmutableId"),
                    "outlook.body-content-type" => {
                        prefer.text_body = val.eq_ignore_ascii_case("text");
                    }
                    _ => {}
                }
            }
        }
        prefer
    }

    /// The JSON body, or 400 as Graph answers an unreadable body.
    pub fn json_body(&self) -> Result<Value, GraphError> {
        serde_json::from_slice(&self.body).map_err(|_| {
            GraphError::bad_request(
                "Unable to read JSON request payload. Please ensure Content-Type header is set \
                 and payload is of valid JSON format.",
            )
        })
    }
}

/// What a client asked for in `Prefer`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Prefer {
    /// `odata.maxpagesize`.
    pub max_page_size: Option<usize>,
    /// `IdType="ImmutableId"`.
    pub immutable_ids: bool,
    /// `outlook.body-content-type="text"`.
    pub text_body: bool,
}

/// A response before it is written to the wire (or into a `$batch` response).
#[derive(Debug, Clone)]
pub(crate) struct ApiResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: ResponseBody,
}

/// A response body.
#[derive(Debug, Clone)]
pub(crate) enum ResponseBody {
    Empty,
    Json(Value),
    Bytes { content_type: String, bytes: Bytes },
}

impl ApiResponse {
    /// A JSON response.
    pub fn json(status: StatusCode, body: Value) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(
                "application/json;odata.metadata=minimal;odata.streaming=true;\
                 IEEE754Compatible=false;charset=utf-8",
            ),
        );
        Self { status, headers, body: ResponseBody::Json(body) }
    }

    /// A `200 OK` JSON response.
    pub fn ok(body: Value) -> Self {
        Self::json(StatusCode::OK, body)
    }

    /// A response without a body (202 for sendMail, 204 for DELETE).
    pub fn empty(status: StatusCode) -> Self {
        Self { status, headers: HeaderMap::new(), body: ResponseBody::Empty }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &'static str, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.insert(name, v);
        }
        self
    }
}

/// Splits a path into decoded segments with OData key syntax unfolded:
/// `mailFolders('inbox')` becomes `mailFolders`, `inbox`; `microsoft.graph.delta()` and
/// `delta()` become `delta`.
pub(crate) fn split_segments(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    for raw in path.split('/').filter(|s| !s.is_empty()) {
        let seg = percent_decode(raw);
        let seg = seg.strip_prefix("microsoft.graph.").unwrap_or(&seg).to_string();
        match (seg.find('('), seg.ends_with(')')) {
            (Some(open), true) => {
                out.push(seg[..open].to_string());
                let key = seg[open + 1..seg.len() - 1].trim().trim_matches('\'');
                if !key.is_empty() {
                    out.push(key.to_string());
                }
            }
            _ => out.push(seg),
        }
    }
    out
}

/// Splits a query string into decoded pairs (`+` is a space, as in `$filter=a+ge+b`).
pub(crate) fn parse_query(raw: Option<&str>) -> Vec<(String, String)> {
    raw.unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(&k.replace('+', " ")), percent_decode(&v.replace('+', " ")))
        })
        .collect()
}

/// Percent-decodes text (invalid escapes are kept as they are).
pub(crate) fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Percent-encodes a query value.
pub(crate) fn encode_component(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(path: &str, query: Option<&str>) -> ApiRequest {
        ApiRequest::new(Method::GET, path, query, HeaderMap::new(), Bytes::new())
    }

    #[test]
    fn odata_key_syntax_and_function_names_unfold_into_segments() {
        let r = req("/users/a%40b.com/mailFolders('Inbox')/messages/microsoft.graph.delta()", None);
        assert_eq!(r.segments(), ["users", "a@b.com", "mailFolders", "Inbox", "messages", "delta"]);
        let r = req("/users('x')/messages/AAMk-_A=", None);
        assert_eq!(r.segments(), ["users", "x", "messages", "AAMk-_A="]);
    }

    #[test]
    fn query_values_decode_plus_and_percent_escapes() {
        let r = req("/x", Some("$filter=receivedDateTime+ge+2024-01-01T00:00:00Z&$select=a%2Cb"));
        assert_eq!(r.query_value("$FILTER"), Some("receivedDateTime ge 2024-01-01T00:00:00Z"));
        assert_eq!(r.query_value("$select"), Some("a,b"));
    }

    #[test]
    fn prefer_reads_page_size_id_type_and_body_type() {
        let mut r = req("/x", None);
        r.headers.append("prefer", HeaderValue::from_static("odata.maxpagesize=2"));
        r.headers.append(
            "prefer",
            HeaderValue::from_static("IdType=\"ImmutableId\", outlook.body-content-type=\"text\""),
        );
        let p = r.prefer();
        assert_eq!(p.max_page_size, Some(2));
        assert!(p.immutable_ids && p.text_body);
    }
}
