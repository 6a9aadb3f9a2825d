//! `multipart/mixed` framing for `$batch` (RFC 2046; OData 4.0 §11.7): splitting a body at its
//! boundary, reading the embedded `application/http` requests and writing responses.

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};

use super::reply::Reply;

/// One body part: its headers and content.
#[derive(Debug, Clone)]
pub struct Part {
    headers: Vec<(String, String)>,
    /// The content after the blank line.
    pub body: String,
}

impl Part {
    /// A header by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// The `boundary` of a `multipart/mixed` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    let mut params = content_type.split(';');
    if !params.next()?.trim().eq_ignore_ascii_case("multipart/mixed") {
        return None;
    }
    params.find_map(|p| {
        let (name, value) = p.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| value.trim().trim_matches('"').to_string())
    })
}

/// Splits a multipart body into its parts. Lines may end in CRLF or LF.
pub fn split(body: &str, boundary: &str) -> Result<Vec<Part>, String> {
    let delimiter = format!("--{boundary}");
    let close = format!("--{boundary}--");
    let mut parts = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    let mut closed = false;
    for line in body.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim_end() == close {
            parts.extend(current.take());
            closed = true;
            break;
        }
        if line.trim_end() == delimiter {
            parts.extend(current.replace(Vec::new()));
        } else if let Some(lines) = current.as_mut() {
            lines.push(line);
        }
    }
    if !closed {
        return Err(format!("The multipart body has no closing delimiter '{close}'."));
    }
    parts.into_iter().map(|lines| part(&lines)).collect()
}

fn part(lines: &[&str]) -> Result<Part, String> {
    let blank = lines.iter().position(|l| l.trim().is_empty()).unwrap_or(lines.len());
    let headers = lines[..blank]
        .iter()
        .map(|l| {
            l.split_once(':')
                .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| format!("The part header line '{l}' is not valid."))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let body = lines.get(blank + 1..).unwrap_or_default().join("\r\n").trim_end().to_string();
    Ok(Part { headers, body })
}

/// An HTTP request embedded in an `application/http` part.
#[derive(Debug, Clone)]
pub struct Request {
    /// Method.
    pub method: Method,
    /// Request target as written (absolute URL, absolute path, relative, or `$n...`).
    pub target: String,
    /// Headers.
    pub headers: HeaderMap,
    /// Body.
    pub body: String,
}

/// Reads `METHOD target HTTP/1.1`, headers, a blank line and the body.
pub fn request(text: &str) -> Result<Request, String> {
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let request_line = lines.next().unwrap_or_default();
    let words: Vec<&str> = request_line.split_whitespace().collect();
    let [method, target, "HTTP/1.1"] = words.as_slice() else {
        return Err(format!("The request line '{request_line}' is not 'METHOD URL HTTP/1.1'."));
    };
    let method = Method::from_bytes(method.as_bytes())
        .map_err(|_| format!("'{method}' is not an HTTP method."))?;
    let mut headers = HeaderMap::new();
    for line in lines.by_ref() {
        if line.trim().is_empty() {
            break;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("The header line '{line}' is not valid."))?;
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| format!("'{name}' is not a header name."))?;
        let value = HeaderValue::from_str(value.trim())
            .map_err(|_| format!("The value of '{name}' is not valid."))?;
        headers.append(name, value);
    }
    let body = lines.collect::<Vec<_>>().join("\r\n").trim().to_string();
    Ok(Request { method, target: target.to_string(), headers, body })
}

/// Writes one response part (`application/http`), echoing `Content-ID` inside changesets, in
/// the layout of the `$batch` doc's examples.
pub fn write_response(out: &mut String, boundary: &str, reply: &Reply, content_id: Option<&str>) {
    out.push_str(&format!(
        "--{boundary}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
    ));
    if let Some(id) = content_id {
        out.push_str(&format!("Content-ID: {id}\r\n"));
    }
    out.push_str(&format!("\r\nHTTP/1.1 {}\r\n", status_line(reply.status)));
    if reply.failed() {
        out.push_str(&format!("REQ_ID: {}\r\n", uuid::Uuid::new_v4()));
    }
    if reply.body.is_some() {
        out.push_str("Content-Type: application/json; odata.metadata=minimal\r\n");
    }
    out.push_str("OData-Version: 4.0\r\n");
    for (name, value) in &reply.headers {
        if *name == "odata-entityid" {
            out.push_str(&format!("Location: {value}\r\n"));
        }
        out.push_str(&format!("{}: {value}\r\n", canonical(name)));
    }
    out.push_str("\r\n");
    if let Some(body) = &reply.body {
        out.push_str(&body.to_string());
    }
    out.push_str("\r\n");
}

fn status_line(status: StatusCode) -> String {
    format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or_default())
}

/// The header spelling the service uses.
fn canonical(name: &str) -> String {
    match name {
        "odata-entityid" => "OData-EntityId".into(),
        "preference-applied" => "Preference-Applied".into(),
        "etag" => "ETag".into(),
        "retry-after" => "Retry-After".into(),
        other => other
            .split('-')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("-"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_split_at_the_boundary_with_crlf_or_lf_lines() {
        let body = "preamble\r\n--b1\r\nContent-Type: application/http\r\n\r\nGET /x HTTP/1.1\r\n\r\n\r\n--b1\nContent-Type: application/http\n\nPOST /y HTTP/1.1\nContent-Type: application/json\n\n{\"a\":1}\n--b1--\r\n";
        let parts = split(body, "b1").unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].header("content-type"), Some("application/http"));
        let post = request(&parts[1].body).unwrap();
        assert_eq!(
            (post.method, post.target.as_str(), post.body.as_str()),
            (Method::POST, "/y", "{\"a\":1}")
        );
        assert!(split("--b1\r\n\r\n", "b1").is_err(), "no closing delimiter");
        assert_eq!(boundary("multipart/mixed; boundary=\"batch_1\""), Some("batch_1".into()));
        assert_eq!(boundary("application/json"), None);
        assert!(request("GET /x").is_err());
    }
}
