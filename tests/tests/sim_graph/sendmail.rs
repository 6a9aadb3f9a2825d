//! sendMail (reference 8).

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Value, json};

use crate::common::*;

#[tokio::test]
async fn send_mail_returns_202_and_delivers_one_internet_message_id_everywhere() {
    let env = Env::start().await;
    let token = env.token(READER);
    let body = json!({
        "message": {
            "subject": "Meet for lunch?",
            "body": {"contentType": "Text", "content": "The new cafeteria is open."},
            "toRecipients": [{"emailAddress": {"address": BOB}}],
            "ccRecipients": [{"emailAddress": {"address": CAROL, "name": "Carol"}}],
            "bccRecipients": [{"emailAddress": {"address": "outsider@example.net"}}],
            "internetMessageHeaders": [{"name": "x-crm-correlation-id", "value": "8f7c"}],
            "attachments": [{"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.txt", "contentType": "text/plain", "contentBytes": "SGVsbG8gV29ybGQh"}]
        },
        "saveToSentItems": true
    });
    let (status, headers, resp) =
        env.post(&format!("/users/{ALICE}/sendMail"), &token, &body).await;
    assert_eq!(status, 202, "{resp}");
    assert_eq!(resp, Value::Null, "no body");
    assert!(headers.contains_key("request-id"));
    let sent = env.sim.messages(ALICE, "sentitems");
    let bob = env.sim.messages(BOB, "inbox");
    let carol = env.sim.messages(CAROL, "inbox");
    assert_eq!((sent.len(), bob.len(), carol.len()), (1, 1, 1));
    let imid = &sent[0].ids.internet_message_id;
    assert!(imid.starts_with('<') && imid.ends_with(".prod.outlook.com>"), "{imid}");
    assert_eq!(&bob[0].ids.internet_message_id, imid);
    assert_eq!(&carol[0].ids.internet_message_id, imid, "delivered across tenants");
    assert_eq!(bob[0].from.address, ALICE);
    assert_eq!(sent[0].bcc.len(), 1);
    assert!(bob[0].bcc.is_empty(), "bcc only in the sender's copy");
    assert!(bob[0].headers.contains(&("x-crm-correlation-id".into(), "8f7c".into())));
    // saveToSentItems false (also as the docs' string form): no Sent Items copy.
    let mut body = body;
    body["saveToSentItems"] = json!("false");
    let (status, ..) = env.post(&format!("/users/{ALICE}/sendMail"), &token, &body).await;
    assert_eq!(status, 202);
    assert_eq!(env.sim.messages(ALICE, "sentitems").len(), 1);
    assert_eq!(env.sim.messages(BOB, "inbox").len(), 2);
}

#[tokio::test]
async fn send_mail_refuses_non_x_headers_unknown_properties_and_no_recipients() {
    let env = Env::start().await;
    let token = env.token(READER);
    let path = format!("/users/{ALICE}/sendMail");
    let to = json!([{"emailAddress": {"address": BOB}}]);
    let resp = env
        .post(&path, &token, &json!({"message": {"toRecipients": to, "internetMessageHeaders": [{"name": "Foo", "value": "1"}]}}))
        .await;
    assert_error(&resp, 400, "InvalidInternetMessageHeader");
    let resp =
        env.post(&path, &token, &json!({"message": {"toRecipients": to, "colour": "red"}})).await;
    assert_error(&resp, 400, "RequestBodyRead");
    let resp =
        env.post(&path, &token, &json!({"message": {"toRecipients": to}, "extra": true})).await;
    assert_error(&resp, 400, "RequestBodyRead");
    let resp = env.post(&path, &token, &json!({"message": {"subject": "nobody"}})).await;
    assert_error(&resp, 400, "ErrorInvalidRecipients");
    let mime = env
        .send(
            env.client
                .post(env.url(&path))
                .header("content-type", "text/plain")
                .body("not base64 !!!"),
            &token,
        )
        .await;
    assert_error(&mime, 400, "ErrorMimeContentInvalidBase64String");
    let raw =
        STANDARD.encode(format!("To: Bob <{BOB}>\r\nSubject: via MIME\r\nX-Trace: 7\r\n\r\nHello"));
    let (status, ..) = env
        .send(
            env.client.post(env.url(&path)).header("content-type", "text/plain").body(raw),
            &token,
        )
        .await;
    assert_eq!(status, 202);
    assert_eq!(env.sim.messages(BOB, "inbox")[0].subject, "via MIME");
    assert!(env.sim.messages(ALICE, "sentitems").len() == 1);
}
