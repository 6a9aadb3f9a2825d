//! Request headers: the OData version headers every request must send, `Accept`,
//! `Content-Type`, and the `Prefer` preferences (reference A1).

use axum::http::{HeaderMap, StatusCode};

use super::errors::{ApiError, ODATA};

/// Largest `odata.maxpagesize` (and the default page size): `PAD:webapi/query/page-results.md`.
pub const MAX_PAGE_SIZE: usize = 5000;

/// The preferences of one request (`Prefer`, RFC 7240: comma separated, may repeat).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prefer {
    /// `return=representation`.
    pub representation: bool,
    /// `odata.include-annotations="..."`: `*`, names, or `Namespace.*` patterns.
    pub annotations: Option<Vec<String>>,
    /// `odata.maxpagesize=N`.
    pub max_page_size: Option<usize>,
    /// `odata.continue-on-error` (only meaningful on `$batch`).
    pub continue_on_error: bool,
}

impl Prefer {
    /// Parses every `Prefer` header. Unknown preferences are ignored, as RFC 7240 requires.
    pub fn parse(headers: &HeaderMap) -> Result<Self, ApiError> {
        let mut prefer = Prefer::default();
        for value in headers.get_all("prefer") {
            let value = value.to_str().map_err(|_| bad("The Prefer header is not valid text."))?;
            for item in split_outside_quotes(value) {
                let item = item.split(';').next().unwrap_or_default().trim();
                let (name, arg) = match item.split_once('=') {
                    Some((n, v)) => (n.trim(), Some(v.trim().trim_matches('"'))),
                    None => (item, None),
                };
                match (name.to_ascii_lowercase().as_str(), arg) {
                    ("return", Some(v)) => prefer.representation = v == "representation",
                    ("odata.include-annotations", Some(v)) => {
                        prefer.annotations = Some(
                            v.split(',')
                                .map(|s| s.trim().to_string())
                                .filter(|s| !s.is_empty())
                                .collect(),
                        );
                    }
                    ("odata.maxpagesize", Some(v)) => prefer.max_page_size = Some(page_size(v)?),
                    ("odata.continue-on-error", None) => prefer.continue_on_error = true,
                    ("odata.continue-on-error", Some(v)) => prefer.continue_on_error = v != "false",
                    _ => {}
                }
            }
        }
        Ok(prefer)
    }

    /// Whether the client asked for this annotation (e.g.
    /// `OData.Community.Display.V1.FormattedValue`).
    pub fn wants(&self, annotation: &str) -> bool {
        self.annotations.as_ref().is_some_and(|patterns| {
            patterns.iter().any(|p| {
                p == "*"
                    || p == annotation
                    || p.strip_suffix('*').is_some_and(|prefix| annotation.starts_with(prefix))
            })
        })
    }

    /// The `Preference-Applied` value for the annotations preference.
    pub fn annotations_applied(&self) -> Option<String> {
        self.annotations.as_ref().map(|a| format!("odata.include-annotations=\"{}\"", a.join(",")))
    }
}

fn page_size(value: &str) -> Result<usize, ApiError> {
    match value.parse::<usize>() {
        // "You can't request a page size larger than 5,000" (page-results doc); refusing it
        // rather than capping is our choice (UNCONFIRMED).
        Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(n),
        _ => Err(bad(format!(
            "The value '{value}' of the odata.maxpagesize preference is not valid; it must be between 1 and {MAX_PAGE_SIZE}."
        ))),
    }
}

/// Splits on commas that are not inside double quotes.
fn split_outside_quotes(value: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in value.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&value[start..]);
    parts.into_iter().map(str::trim).filter(|p| !p.is_empty()).collect()
}

/// Checks the headers every top-level Web API request must send (reference A1:
/// `Accept: application/json`, `OData-MaxVersion: 4.0`, `OData-Version: 4.0`). The real
/// service tolerates some omissions; the simulator insists, so a client cannot come to
/// depend on the tolerance (our choice).
pub fn check_versions(headers: &HeaderMap) -> Result<(), ApiError> {
    for name in ["OData-MaxVersion", "OData-Version"] {
        match header(headers, name) {
            Some("4.0") | Some("4.01") => {}
            Some(other) => {
                return Err(bad(format!(
                    "The value '{other}' of the {name} HTTP header is invalid."
                )));
            }
            None => return Err(bad(format!("The {name} header is missing; send '{name}: 4.0'."))),
        }
    }
    let accept = header(headers, "accept").unwrap_or_default();
    if !accept.split(',').any(|m| {
        let m = m.split(';').next().unwrap_or_default().trim();
        m == "application/json" || m == "*/*" || m == "application/*"
    }) {
        return Err(ApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            ODATA,
            format!("The Accept header '{accept}' does not allow application/json."),
        ));
    }
    Ok(())
}

/// A request with a body must declare it as JSON (`Content-Type: application/json`,
/// parameters such as `; type=entry` allowed). The 415 status is UNCONFIRMED.
pub fn check_json_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let ct = header(headers, "content-type").unwrap_or_default();
    let media = ct.split(';').next().unwrap_or_default().trim();
    if media.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ODATA,
            format!(
                "The content type '{ct}' is not supported; send 'Content-Type: application/json'."
            ),
        ))
    }
}

/// The ETags of every `If-Match` or `If-None-Match` header (comma-separated lists allowed).
/// `null`, which the docs' samples send as `If-None-Match: null`, means no condition.
pub fn etags(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty() && v != "null")
        .collect()
}

/// Whether an `If-Match` list admits a record with this ETag.
pub fn matches_etag(list: &[String], etag: &str) -> bool {
    list.iter().any(|t| t == "*" || t == etag)
}

/// A header's value as text.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::bad_request(ODATA, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefer(values: &[&str]) -> Result<Prefer, ApiError> {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append("prefer", v.parse().unwrap());
        }
        Prefer::parse(&headers)
    }

    #[test]
    fn comma_separated_preferences_and_quoted_annotation_lists_are_parsed() {
        let p = prefer(&[
            "return=representation,odata.include-annotations=\"OData.Community.Display.V1.FormattedValue,Microsoft.Dynamics.CRM.*\"",
            "odata.maxpagesize=2",
        ])
        .unwrap();
        assert!(p.representation);
        assert_eq!(p.max_page_size, Some(2));
        assert!(p.wants("OData.Community.Display.V1.FormattedValue"));
        assert!(p.wants("Microsoft.Dynamics.CRM.lookuplogicalname"));
        assert!(!p.continue_on_error);
        assert!(prefer(&["odata.continue-on-error"]).unwrap().continue_on_error);
        assert!(prefer(&["odata.include-annotations=\"*\""]).unwrap().wants("anything"));
    }

    #[test]
    fn page_sizes_outside_one_to_5000_are_refused() {
        assert!(prefer(&["odata.maxpagesize=5001"]).is_err());
        assert!(prefer(&["odata.maxpagesize=0"]).is_err());
        assert!(prefer(&["odata.maxpagesize=ten"]).is_err());
        assert_eq!(prefer(&["odata.maxpagesize=5000"]).unwrap().max_page_size, Some(5000));
    }
}
