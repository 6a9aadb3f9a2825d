//! Reading a `$batch` answer (A6): `multipart/mixed` with one part per item; a changeset's
//! results nested in a `changesetresponse` part; each part an HTTP response (status line,
//! headers, JSON body). Anything else is an error, not a guess.

use serde_json::Value;

use super::{Batch, BatchItem};
use crate::{
    dataverse::error::{ApiError, parse_retry_after},
    domain::RecordId,
};

/// One HTTP response inside a `$batch` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartResponse {
    /// The `Content-ID` echoed for a changeset's part.
    pub content_id: Option<u32>,
    /// HTTP status.
    pub status: u16,
    /// Headers, in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body (JSON or empty).
    pub body: String,
}

impl PartResponse {
    /// A header by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The JSON body.
    pub fn json(&self) -> Result<Value, String> {
        serde_json::from_str(&self.body)
            .map_err(|e| format!("HTTP {} body is not JSON: {e}", self.status))
    }

    /// The error this response carries.
    pub fn error(&self) -> ApiError {
        ApiError::parse(self.status, parse_retry_after(self.header("Retry-After")), &self.body)
    }

    /// The id in `OData-EntityId` (a create's answer without representation, A2).
    pub fn entity_id(&self) -> Option<RecordId> {
        self.header("OData-EntityId").and_then(super::super::client::entity_id_of)
    }
}

/// One top-level part of a `$batch` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseItem {
    /// A single response (a read's, or a changeset's failure).
    Single(PartResponse),
    /// A changeset's responses.
    ChangeSet(Vec<PartResponse>),
}

/// What happened to one item of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemResult {
    /// It ran: the response of each of its requests, in order.
    Succeeded(Vec<PartResponse>),
    /// It failed with this response (a changeset rolled back as a whole).
    Failed(PartResponse),
    /// The batch stopped before it.
    NotRun,
}

/// Parses a `$batch` answer whose `Content-Type` is `content_type`.
pub fn parse(content_type: &str, body: &str) -> Result<Vec<ResponseItem>, String> {
    let boundary = boundary_of(content_type)?;
    let mut items = Vec::new();
    for part in split(body, &boundary)? {
        let (headers, content) = split_head(&part);
        let part_type = header(&headers, "Content-Type").unwrap_or_default();
        if part_type.to_ascii_lowercase().starts_with("multipart/mixed") {
            let inner = boundary_of(part_type)?;
            let responses = split(content, &inner)?
                .iter()
                .map(|p| http_part(p))
                .collect::<Result<Vec<_>, _>>()?;
            items.push(ResponseItem::ChangeSet(responses));
        } else {
            items.push(ResponseItem::Single(http_part(&part)?));
        }
    }
    Ok(items)
}

/// Matches an answer's items to the batch's, by `Content-ID` where echoed, else by order.
pub fn assign(batch: &Batch, answer: Vec<ResponseItem>) -> Result<Vec<ItemResult>, String> {
    let requests = batch.items();
    let mut results = vec![ItemResult::NotRun; requests.len()];
    let mut next = 0;
    for item in answer {
        let first = match &item {
            ResponseItem::Single(part) => part.content_id,
            ResponseItem::ChangeSet(parts) => parts.first().and_then(|p| p.content_id),
        };
        let index = match first {
            Some(id) => {
                batch.item_of(id).ok_or(format!("unknown Content-ID {id} in the answer"))?
            }
            None => next,
        };
        if index < next || index >= requests.len() {
            return Err(format!("answer part for item {index} out of order or unexpected"));
        }
        results[index] = match (item, &requests[index]) {
            (ResponseItem::ChangeSet(parts), BatchItem::ChangeSet(writes)) => {
                match parts.iter().find(|p| !p.is_success()) {
                    Some(failed) => ItemResult::Failed(failed.clone()),
                    None if parts.len() == writes.len() => ItemResult::Succeeded(parts),
                    None => {
                        return Err(format!(
                            "changeset of {} answered with {}",
                            writes.len(),
                            parts.len()
                        ));
                    }
                }
            }
            (ResponseItem::Single(part), _) if !part.is_success() => ItemResult::Failed(part),
            (ResponseItem::Single(part), BatchItem::Query(_)) => ItemResult::Succeeded(vec![part]),
            (ResponseItem::Single(part), BatchItem::ChangeSet(writes)) if writes.len() == 1 => {
                ItemResult::Succeeded(vec![part])
            }
            _ => return Err(format!("answer part for item {index} does not fit its request")),
        };
        next = index + 1;
    }
    Ok(results)
}

fn boundary_of(content_type: &str) -> Result<String, String> {
    content_type
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, value)| value.trim().trim_matches('"').to_string())
        .filter(|b| !b.is_empty())
        .ok_or(format!("no boundary in Content-Type {content_type:?}"))
}

/// The parts between `--boundary` lines, up to the closing `--boundary--` (which must exist).
fn split(body: &str, boundary: &str) -> Result<Vec<String>, String> {
    let open = format!("--{boundary}");
    let close = format!("--{boundary}--");
    let mut parts = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in body.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)) {
        if line.trim_end() == close {
            parts.extend(current.take().map(|lines| lines.join("\n")));
            return Ok(parts);
        }
        if line.trim_end() == open {
            parts.extend(current.replace(Vec::new()).map(|lines| lines.join("\n")));
        } else if let Some(lines) = current.as_mut() {
            lines.push(line);
        }
    }
    Err(format!("multipart body has no closing --{boundary}--"))
}

type Headers<'a> = Vec<(&'a str, &'a str)>;

/// Headers up to the first blank line, and the rest. A line that opens JSON also ends the
/// headers (the A6 doc example shows a body right under `REQ_ID:`).
fn split_head(text: &str) -> (Headers<'_>, &str) {
    let mut headers = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let content = line.trim_end_matches('\n');
        if content.trim().is_empty() {
            return (headers, &text[offset + line.len()..]);
        }
        match content.split_once(':') {
            Some((name, value)) if !content.starts_with(['{', '[']) => {
                headers.push((name.trim(), value.trim()));
            }
            _ => return (headers, &text[offset..]),
        }
        offset += line.len();
    }
    (headers, "")
}

fn header<'a>(headers: &Headers<'a>, name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
}

/// An `application/http` part: MIME headers, then `HTTP/1.1 <status> <reason>`, headers, body.
fn http_part(part: &str) -> Result<PartResponse, String> {
    let (mime, http) = split_head(part);
    let kind = header(&mime, "Content-Type").unwrap_or_default();
    if !kind.to_ascii_lowercase().starts_with("application/http") {
        return Err(format!("batch part has Content-Type {kind:?}, expected application/http"));
    }
    let http = http.trim_start_matches('\n');
    let (status_line, rest) = http.split_once('\n').unwrap_or((http, ""));
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .or_else(|| status_line.strip_prefix("HTTP/1.0 "))
        .and_then(|s| s.get(..3))
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or(format!("batch part has no HTTP status line: {status_line:?}"))?;
    let (headers, body) = split_head(rest);
    let content_id = header(&mime, "Content-ID")
        .or_else(|| header(&headers, "Content-ID"))
        .map(|v| v.parse::<u32>().map_err(|_| format!("Content-ID {v:?} is not a number")))
        .transpose()?;
    Ok(PartResponse {
        content_id,
        status,
        headers: headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
        body: body.trim().to_string(),
    })
}
