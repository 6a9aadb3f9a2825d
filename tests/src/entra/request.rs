//! Reading a token request: the form body and how the client authenticates.

use axum::http::{HeaderMap, header};
use base64::{Engine, engine::general_purpose::STANDARD};
use url::form_urlencoded;

use super::{assertion::JWT_BEARER, errors::AadError};

/// The form fields of a token request.
#[derive(Debug, Default)]
pub struct Form(Vec<(String, String)>);

impl Form {
    /// Parses the body. Only `application/x-www-form-urlencoded` is read: any other content type
    /// reads as an empty form, so a JSON body is refused for its missing `grant_type`
    /// (AADSTS900144 in the wire capture of microsoftgraph/microsoft-graph-docs#20272). Query
    /// parameters never count ("grant_type must be in body", microsoft-graph-docs#9207).
    pub fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Self, AadError> {
        let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let is_form = content_type.is_some_and(|ct| {
            let essence = ct.split(';').next().unwrap_or_default().trim();
            essence.eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
        if !is_form {
            return Ok(Self::default());
        }
        let mut fields: Vec<(String, String)> = Vec::new();
        for (name, value) in form_urlencoded::parse(body) {
            if fields.iter().any(|(n, _)| *n == name) {
                // A repeated parameter is ambiguous; refused (code and text UNCONFIRMED).
                return Err(AadError::malformed_request(&format!(
                    "The request parameter '{name}' is duplicated."
                )));
            }
            fields.push((name.into_owned(), value.into_owned()));
        }
        Ok(Self(fields))
    }

    /// A field's value; an empty value counts as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, v)| n == name && !v.is_empty()).map(|(_, v)| v.as_str())
    }

    /// A field that must be present (AADSTS900144 otherwise).
    pub fn required(&self, name: &str) -> Result<&str, AadError> {
        self.get(name).ok_or_else(|| AadError::missing_parameter(name))
    }
}

/// The credential a request presents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presented {
    /// A client secret, in the form or through HTTP Basic.
    Secret(String),
    /// A signed JWT (`client_assertion`).
    Assertion(String),
}

/// Who the client says it is and how it proves it.
#[derive(Debug)]
pub struct ClientAuth {
    /// `client_id` from the form or the Basic user name.
    pub client_id: String,
    /// `None` when the request carries no credential at all.
    pub presented: Option<Presented>,
}

impl ClientAuth {
    /// Reads `client_secret`, `client_assertion` or HTTP Basic (RFC 6749 section 2.3.1, accepted
    /// per reference B1; Entra's metadata lists `client_secret_post`, `private_key_jwt` and
    /// `client_secret_basic`, panva/wellknown `issuers/entra-common`).
    pub fn read(headers: &HeaderMap, form: &Form) -> Result<Self, AadError> {
        let basic = basic_credentials(headers)?;
        let secret = form.get("client_secret");
        let assertion = form.get("client_assertion");
        let methods = usize::from(basic.is_some())
            + usize::from(secret.is_some())
            + usize::from(assertion.is_some());
        if methods > 1 {
            // RFC 6749 section 2.3: "The client MUST NOT use more than one authentication method
            // in each request."
            return Err(AadError::malformed_request(
                "Only one client authentication method may be used in a request.",
            ));
        }
        let client_id = match (basic.as_ref().map(|(id, _)| id.as_str()), form.get("client_id")) {
            (Some(b), Some(f)) if b != f => {
                return Err(AadError::malformed_request(
                    "The client_id in the Authorization header differs from the one in the body.",
                ));
            }
            (Some(id), _) | (None, Some(id)) => id.to_string(),
            (None, None) => return Err(AadError::missing_parameter("client_id")),
        };
        let presented = if let Some(assertion) = assertion {
            match form.required("client_assertion_type")? {
                JWT_BEARER => Some(Presented::Assertion(assertion.to_string())),
                other => {
                    return Err(AadError::malformed_request(&format!(
                        "The client_assertion_type '{other}' is not supported."
                    )));
                }
            }
        } else {
            secret.map(str::to_string).or(basic.map(|(_, s)| s)).map(Presented::Secret)
        };
        Ok(Self { client_id, presented })
    }
}

/// `Authorization: Basic base64(urlencode(client_id) ":" urlencode(secret))`.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, AadError> {
    let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let Some(encoded) = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic "))
    else {
        return Ok(None);
    };
    let malformed = || AadError::malformed_request("The Authorization header is not valid Basic.");
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let text = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = text.split_once(':').ok_or_else(malformed)?;
    Ok(Some((form_decode(id), form_decode(secret))))
}

/// Undoes the application/x-www-form-urlencoded encoding RFC 6749 section 2.3.1 applies to both
/// halves (`+` is a space, `%XX` a byte).
fn form_decode(part: &str) -> String {
    // A raw `&` or `=` is not form syntax inside a header; keep it literal.
    let escaped = part.replace('&', "%26").replace('=', "%3D");
    form_urlencoded::parse(escaped.as_bytes())
        .next()
        .map(|(k, _)| k.into_owned())
        .unwrap_or_default()
}
