//! `POST /users/{u}/sendMail` (reference 8): the JSON form with strict property checks, and
//! the base64 MIME form.

use axum::http::StatusCode;
use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Map, Value};

use super::{
    errors::GraphError,
    mailflow,
    model::{NewAttachment, NewMessage, Recipient},
    pipeline::Ctx,
    request::ApiResponse,
};

const MESSAGE_INPUT_PROPS: &[&str] = &[
    "subject",
    "body",
    "toRecipients",
    "ccRecipients",
    "bccRecipients",
    "replyTo",
    "internetMessageHeaders",
    "attachments",
    "importance",
    "from",
    "sender",
    "isReadReceiptRequested",
    "isDeliveryReceiptRequested",
    "categories",
    "flag",
];

/// OData's refusal of a property the type does not define (the message is OData's; the
/// code is UNCONFIRMED).
fn unknown_property(name: &str, type_name: &str) -> GraphError {
    GraphError::new(
        StatusCode::BAD_REQUEST,
        "RequestBodyRead",
        format!(
            "The property '{name}' does not exist on type '{type_name}'. Make sure to only use \
             property names that are defined by the type or mark the type as open type."
        ),
    )
}

fn invalid_recipients(message: &str) -> GraphError {
    // UNCONFIRMED wording; ErrorInvalidRecipients is Exchange's code for bad recipients.
    GraphError::new(StatusCode::BAD_REQUEST, "ErrorInvalidRecipients", message)
}

/// `POST /users/{u}/sendMail`: 202 with no body; nothing identifies the sent message.
pub(crate) fn send_mail(ctx: &Ctx, mailbox_id: &str) -> Result<ApiResponse, GraphError> {
    let content_type = ctx.req.header("content-type").unwrap_or_default().to_ascii_lowercase();
    let (message, save) = if content_type.starts_with("text/plain") {
        (from_mime(&ctx.req.body)?, true)
    } else if content_type.starts_with("application/json") {
        from_json(&ctx.req.json_body()?)?
    } else {
        return Err(GraphError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            "The Content-Type header must be application/json or text/plain.",
        ));
    };
    let mut state = ctx.sim.state.lock().expect("state lock");
    let (_, changes) = mailflow::send(&mut state, mailbox_id, message, save, ctx.now);
    ctx.sim.publish(&state, &changes);
    Ok(ApiResponse::empty(StatusCode::ACCEPTED))
}

fn from_json(body: &Value) -> Result<(NewMessage, bool), GraphError> {
    let obj = body
        .as_object()
        .ok_or_else(|| GraphError::bad_request("Empty Payload. JSON content expected."))?;
    let mut save = true;
    let mut message = None;
    for (k, v) in obj {
        match k.as_str() {
            "message" => message = Some(v),
            // Docs' example sends "false" as a string; Graph reads both forms (reference 8).
            "saveToSentItems" => {
                save = match v {
                    Value::Bool(b) => *b,
                    Value::String(s) if s.eq_ignore_ascii_case("true") => true,
                    Value::String(s) if s.eq_ignore_ascii_case("false") => false,
                    _ => {
                        return Err(GraphError::bad_request(
                            "Invalid value for 'saveToSentItems'.",
                        ));
                    }
                };
            }
            other => {
                return Err(GraphError::new(
                    StatusCode::BAD_REQUEST,
                    "RequestBodyRead",
                    format!(
                        "The parameter '{other}' in the request payload is not a valid parameter \
                         for the operation 'sendMail'."
                    ),
                ));
            }
        }
    }
    let m = message
        .and_then(Value::as_object)
        .ok_or_else(|| GraphError::bad_request("The 'message' parameter is required."))?;
    Ok((parse_message(m)?, save))
}

fn parse_message(m: &Map<String, Value>) -> Result<NewMessage, GraphError> {
    if let Some(k) = m.keys().find(|k| !MESSAGE_INPUT_PROPS.contains(&k.as_str())) {
        return Err(unknown_property(k, "microsoft.graph.message"));
    }
    let text = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let mut new = NewMessage::new(&text("subject"));
    new.to = recipients(m.get("toRecipients"))?;
    new.cc = recipients(m.get("ccRecipients"))?;
    new.bcc = recipients(m.get("bccRecipients"))?;
    new.reply_to = recipients(m.get("replyTo"))?;
    if new.to.is_empty() && new.cc.is_empty() && new.bcc.is_empty() {
        return Err(invalid_recipients("At least one recipient is required."));
    }
    let body = m.get("body").and_then(Value::as_object);
    let body_type =
        body.and_then(|b| b.get("contentType")).and_then(Value::as_str).unwrap_or("text");
    let content = body.and_then(|b| b.get("content")).and_then(Value::as_str).unwrap_or_default();
    new =
        if body_type.eq_ignore_ascii_case("html") { new.html(content) } else { new.text(content) };
    if let Some(importance) = m.get("importance").and_then(Value::as_str) {
        let lower = importance.to_ascii_lowercase();
        if !["low", "normal", "high"].contains(&lower.as_str()) {
            return Err(GraphError::bad_request(format!("Invalid importance '{importance}'.")));
        }
        new.importance = lower;
    }
    new.categories = m
        .get("categories")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    for h in m.get("internetMessageHeaders").and_then(Value::as_array).into_iter().flatten() {
        let name = h.get("name").and_then(Value::as_str).unwrap_or_default();
        let value = h.get("value").and_then(Value::as_str).unwrap_or_default();
        // Only custom `x-` headers may be set (reference 8; wording UNCONFIRMED).
        if !name.to_ascii_lowercase().starts_with("x-") {
            return Err(GraphError::new(
                StatusCode::BAD_REQUEST,
                "InvalidInternetMessageHeader",
                format!(
                    "The internet message header name '{name}' should start with 'x-' or 'X-'."
                ),
            ));
        }
        new.headers.push((name.to_string(), value.to_string()));
    }
    for a in m.get("attachments").and_then(Value::as_array).into_iter().flatten() {
        new.attachments.push(attachment(a)?);
    }
    Ok(new)
}

fn recipients(v: Option<&Value>) -> Result<Vec<Recipient>, GraphError> {
    let Some(v) = v else { return Ok(Vec::new()) };
    let list =
        v.as_array().ok_or_else(|| GraphError::bad_request("Recipients must be an array."))?;
    list.iter()
        .map(|r| {
            let email = r.get("emailAddress").and_then(Value::as_object);
            let address =
                email.and_then(|e| e.get("address")).and_then(Value::as_str).unwrap_or_default();
            if !address.contains('@') {
                return Err(invalid_recipients(&format!(
                    "At least one recipient is not valid., Recipient '{address}' is not resolved. \
                     All recipients must be resolved before a message can be submitted."
                )));
            }
            let name = email.and_then(|e| e.get("name")).and_then(Value::as_str).unwrap_or(address);
            Ok(Recipient::new(name, address))
        })
        .collect()
}

fn attachment(a: &Value) -> Result<NewAttachment, GraphError> {
    let kind = a.get("@odata.type").and_then(Value::as_str).unwrap_or_default();
    if !kind.eq_ignore_ascii_case("#microsoft.graph.fileAttachment") {
        return Err(GraphError::bad_request(
            "An attachment needs \"@odata.type\": \"#microsoft.graph.fileAttachment\".",
        ));
    }
    let text = |k: &str| a.get(k).and_then(Value::as_str).map(str::to_string);
    let bytes = STANDARD
        .decode(text("contentBytes").unwrap_or_default())
        .map_err(|_| GraphError::bad_request("contentBytes is not valid base64."))?;
    Ok(NewAttachment {
        name: text("name").unwrap_or_else(|| "attachment".into()),
        content_type: text("contentType").unwrap_or_else(|| "application/octet-stream".into()),
        bytes,
        is_inline: a.get("isInline").and_then(Value::as_bool).unwrap_or(false),
        content_id: text("contentId"),
    })
}

/// The MIME form: base64 of an RFC 822 message (reference 8).
fn from_mime(body: &[u8]) -> Result<NewMessage, GraphError> {
    let compact: Vec<u8> = body.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    let raw = STANDARD.decode(compact).map_err(|_| {
        GraphError::new(
            StatusCode::BAD_REQUEST,
            "ErrorMimeContentInvalidBase64String",
            "Invalid base64 string for MIME content.",
        )
    })?;
    let text = String::from_utf8_lossy(&raw).replace("\r\n", "\n");
    let (head, content) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut new = NewMessage::new("").text(content);
    for line in head.lines() {
        let Some((name, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "subject" => new.subject = value.to_string(),
            "to" => new.to = mime_recipients(value),
            "cc" => new.cc = mime_recipients(value),
            "bcc" => new.bcc = mime_recipients(value),
            "content-type" if value.to_ascii_lowercase().starts_with("text/html") => {
                new = new.html(content);
            }
            n if n.starts_with("x-") => {
                new.headers.push((name.trim().to_string(), value.to_string()))
            }
            _ => {}
        }
    }
    if new.to.is_empty() && new.cc.is_empty() && new.bcc.is_empty() {
        return Err(invalid_recipients("At least one recipient is required."));
    }
    Ok(new)
}

fn mime_recipients(value: &str) -> Vec<Recipient> {
    value
        .split(',')
        .filter_map(|part| {
            let part = part.trim();
            match (part.find('<'), part.rfind('>')) {
                (Some(a), Some(b)) if a < b => {
                    Some(Recipient::new(part[..a].trim().trim_matches('"'), &part[a + 1..b]))
                }
                _ if part.contains('@') => Some(Recipient::address(part)),
                _ => None,
            }
        })
        .collect()
}
