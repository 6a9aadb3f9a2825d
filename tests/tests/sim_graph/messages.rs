//! Reading and sending mail (reference 7, 8).

use base64::{Engine, engine::general_purpose::STANDARD};
use exsync_sim::graph::NewMessage;
use serde_json::{Value, json};
use time::macros::datetime;

use crate::common::*;

#[tokio::test]
async fn a_delivered_message_reads_back_with_the_reference_fields() {
    let env = Env::start().await;
    let token = env.token(READER);
    let ids = env.sim.deliver(
        ALICE,
        NewMessage::new("Quarterly numbers")
            .from("Dana Swope", "danas@fabrikam.example")
            .to(ALICE)
            .cc(BOB)
            .html("<html><body><p>Numbers attached &amp; more</p></body></html>")
            .received_at(datetime!(2026-03-01 10:00:00 UTC))
            .internet_message_id("<abc123@fabrikam.example>")
            .header("x-crm-correlation-id", "42"),
    );
    let (status, headers, m) =
        env.get(&format!("/users/{ALICE}/messages/{}", ids.id), &token).await;
    assert_eq!(status, 200, "{m}");
    assert!(headers.contains_key("request-id"));
    assert_eq!(m["id"], ids.id);
    assert!(ids.id.starts_with("AAMkA"));
    assert_eq!(m["internetMessageId"], "<abc123@fabrikam.example>");
    assert_eq!(m["subject"], "Quarterly numbers");
    assert_eq!(m["body"]["contentType"], "html");
    assert_eq!(m["bodyPreview"], "Numbers attached & more");
    assert_eq!(m["from"]["emailAddress"]["address"], "danas@fabrikam.example");
    assert_eq!(m["sender"]["emailAddress"]["name"], "Dana Swope");
    assert_eq!(m["toRecipients"][0]["emailAddress"]["address"], ALICE);
    assert_eq!(m["ccRecipients"][0]["emailAddress"]["address"], BOB);
    assert_eq!(m["receivedDateTime"], "2026-03-01T10:00:00Z");
    assert_eq!(m["sentDateTime"], "2026-03-01T09:59:00Z");
    assert_eq!(m["parentFolderId"], env.sim.folder_id(ALICE, "inbox"));
    assert_eq!(m["isRead"], false);
    assert_eq!(m["isDraft"], false);
    assert_eq!(m["importance"], "normal");
    assert_eq!(m["hasAttachments"], false);
    assert_eq!(m["@odata.etag"], format!("W/\"{}\"", m["changeKey"].as_str().unwrap()));
    assert!(STANDARD.decode(m["conversationIndex"].as_str().unwrap()).unwrap().len() >= 22);
    assert!(m["conversationId"].as_str().unwrap().starts_with("AAQkA"));
    // Headers only when selected.
    assert!(m.get("internetMessageHeaders").is_none());
    let (_, _, m) = env
        .get(
            &format!("/users/{ALICE}/messages/{}?$select=internetMessageHeaders,subject", ids.id),
            &token,
        )
        .await;
    let header = |name: &str| {
        m["internetMessageHeaders"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["name"].as_str().unwrap().eq_ignore_ascii_case(name))
            .map(|h| h["value"].as_str().unwrap().to_string())
    };
    assert_eq!(header("Message-ID").as_deref(), Some("<abc123@fabrikam.example>"));
    assert_eq!(header("x-crm-correlation-id").as_deref(), Some("42"));
    let keys: Vec<&String> = m.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 5, "only @odata.context, @odata.etag, id and the selection: {keys:?}");
}

#[tokio::test]
async fn users_resolve_by_id_and_by_upn_case_insensitively() {
    let env = Env::start().await;
    let token = env.token(READER);
    let ids = env.sim.deliver(ALICE, NewMessage::new("hi"));
    for user in [env.sim.user_id(ALICE), ALICE.to_uppercase(), ALICE.to_string()] {
        let (status, _, m) = env.get(&format!("/users/{user}/messages/{}", ids.id), &token).await;
        assert_eq!(status, 200, "{user}: {m}");
    }
    let (status, ..) =
        env.get(&format!("/users('{ALICE}')/mailFolders('Inbox')/messages"), &token).await;
    assert_eq!(status, 200);
    assert_error(
        &env.get("/users/nobody@contoso.example/messages", &token).await,
        404,
        "ErrorInvalidUser",
    );
}

#[tokio::test]
async fn select_is_strict_and_the_body_can_be_asked_for_as_text() {
    let env = Env::start().await;
    let token = env.token(READER);
    let ids = env.sim.deliver(ALICE, NewMessage::new("s").html("<p>Hello <b>there</b></p>"));
    let resp = env.get(&format!("/users/{ALICE}/messages/{}?$select=nosuch", ids.id), &token).await;
    assert_error(&resp, 400, "RequestBroker--ParseUri");
    let (_, headers, m) = env
        .get_with(
            &format!("/users/{ALICE}/messages/{}?$select=Body", ids.id),
            &token,
            "outlook.body-content-type=\"text\"",
        )
        .await;
    assert_eq!(m["body"], json!({"contentType": "text", "content": "Hello there"}));
    assert!(headers["preference-applied"].to_str().unwrap().contains("outlook.body-content-type"));
}

#[tokio::test]
async fn a_reply_threads_into_the_parents_conversation_with_in_reply_to_and_references() {
    let env = Env::start().await;
    let token = env.token(READER);
    let parent = env
        .sim
        .deliver(ALICE, NewMessage::new("Offer").internet_message_id("<p1@fabrikam.example>"));
    let reply =
        env.sim.deliver(ALICE, NewMessage::new("RE: Offer").in_reply_to("<p1@fabrikam.example>"));
    let select = "?$select=conversationId,conversationIndex,internetMessageHeaders";
    let (_, _, p) =
        env.get(&format!("/users/{ALICE}/messages/{}{select}", parent.id), &token).await;
    let (_, _, r) = env.get(&format!("/users/{ALICE}/messages/{}{select}", reply.id), &token).await;
    assert_eq!(p["conversationId"], r["conversationId"]);
    let pi = STANDARD.decode(p["conversationIndex"].as_str().unwrap()).unwrap();
    let ri = STANDARD.decode(r["conversationIndex"].as_str().unwrap()).unwrap();
    assert_eq!((pi.len(), ri.len()), (22, 27));
    assert_eq!(&ri[..22], &pi[..]);
    let headers: Vec<(String, String)> = r["internetMessageHeaders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (h["name"].as_str().unwrap().to_string(), h["value"].as_str().unwrap().to_string())
        })
        .collect();
    assert!(headers.contains(&("In-Reply-To".into(), "<p1@fabrikam.example>".into())));
    assert!(headers.contains(&("References".into(), "<p1@fabrikam.example>".into())));
}

#[tokio::test]
async fn lists_page_newest_first_with_top_and_next_link_and_filter_on_received_date() {
    let env = Env::start().await;
    let token = env.token(READER);
    for day in 1..=5 {
        let at = datetime!(2026-03-01 10:00:00 UTC) + time::Duration::days(day);
        env.sim.deliver(ALICE, NewMessage::new(&format!("day {day}")).received_at(at));
    }
    env.sim.deliver_to(ALICE, "junkemail", NewMessage::new("junk"));
    let (status, _, page) = env
        .get(&format!("/users/{ALICE}/mailFolders/inbox/messages?$top=2&$select=subject"), &token)
        .await;
    assert_eq!(status, 200, "{page}");
    let subjects = |p: &Value| {
        p["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["subject"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(subjects(&page), ["day 5", "day 4"]);
    let next = page["@odata.nextLink"].as_str().unwrap().to_string();
    assert!(next.contains("$skip=2"), "{next}");
    let (_, _, page) = env.follow(&next, &token, None).await;
    assert_eq!(subjects(&page), ["day 3", "day 2"]);
    let filter = "$filter=receivedDateTime ge 2026-03-04T00:00:00Z&$orderby=receivedDateTime asc";
    let (_, _, page) =
        env.get(&format!("/users/{ALICE}/mailFolders/inbox/messages?{filter}"), &token).await;
    assert_eq!(subjects(&page), ["day 3", "day 4", "day 5"]);
    assert!(page.get("@odata.nextLink").is_none());
    // The mailbox-wide collection includes other folders; the default page is 10.
    let (_, _, page) = env.get(&format!("/users/{ALICE}/messages"), &token).await;
    assert_eq!(page["value"].as_array().unwrap().len(), 6);
    let resp = env
        .get(&format!("/users/{ALICE}/messages?$filter=receivedDateTime ge '2026-03-04'"), &token)
        .await;
    assert_error(&resp, 400, "BadRequest");
    let resp = env.get(&format!("/users/{ALICE}/messages?$top=1001"), &token).await;
    assert_error(&resp, 400, "BadRequest");
}

#[tokio::test]
async fn attachments_list_get_and_raw_value() {
    let env = Env::start().await;
    let token = env.token(READER);
    let pdf = b"%PDF-1.4 fake".to_vec();
    let ids = env.sim.deliver(
        ALICE,
        NewMessage::new("invoice")
            .attachment("invoice.pdf", "application/pdf", &pdf)
            .inline_attachment("logo.png", "image/png", b"png", "logo@x"),
    );
    let base = format!("/users/{ALICE}/messages/{}", ids.id);
    let (_, _, m) = env.get(&base, &token).await;
    assert_eq!(m["hasAttachments"], true);
    let (status, _, list) = env.get(&format!("{base}/attachments"), &token).await;
    assert_eq!(status, 200, "{list}");
    let atts = list["value"].as_array().unwrap();
    assert_eq!(atts.len(), 2);
    let a = &atts[0];
    assert_eq!(a["@odata.type"], "#microsoft.graph.fileAttachment");
    assert_eq!(a["name"], "invoice.pdf");
    assert_eq!(a["isInline"], false);
    assert_eq!(STANDARD.decode(a["contentBytes"].as_str().unwrap()).unwrap(), pdf);
    assert_eq!(atts[1]["contentId"], "logo@x");
    let att_id = a["id"].as_str().unwrap();
    let (status, _, one) = env.get(&format!("{base}/attachments/{att_id}"), &token).await;
    assert_eq!((status.as_u16(), one["name"].as_str()), (200, Some("invoice.pdf")));
    let raw = env
        .client
        .get(env.url(&format!("{base}/attachments/{att_id}/$value")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(raw.headers()["content-type"], "application/pdf");
    assert_eq!(raw.bytes().await.unwrap().to_vec(), pdf);
    let (_, _, expanded) = env.get(&format!("{base}?$expand=attachments"), &token).await;
    assert_eq!(expanded["attachments"].as_array().unwrap().len(), 2);
    let resp = env.get(&format!("{base}?$expand=mentions"), &token).await;
    assert_error(&resp, 400, "BadRequest");
}

#[tokio::test]
async fn a_moved_message_gets_a_new_regular_id_while_its_immutable_id_still_resolves() {
    let env = Env::start().await;
    let token = env.token(READER);
    let ids = env.sim.deliver(ALICE, NewMessage::new("move me"));
    let immutable = "IdType=\"ImmutableId\"";
    let (_, _, m) =
        env.get_with(&format!("/users/{ALICE}/messages/{}", ids.id), &token, immutable).await;
    assert_eq!(m["id"], ids.immutable_id);
    let moved = env.sim.move_to(ALICE, &ids.id, "archive").unwrap();
    assert_ne!(moved.id, ids.id);
    assert_eq!(moved.immutable_id, ids.immutable_id);
    assert_error(
        &env.get(&format!("/users/{ALICE}/messages/{}", ids.id), &token).await,
        404,
        "ErrorItemNotFound",
    );
    let (status, _, m) =
        env.get(&format!("/users/{ALICE}/messages/{}", ids.immutable_id), &token).await;
    assert_eq!(status, 200);
    assert_eq!(m["id"], moved.id, "without the Prefer header the regular id comes back");
    assert_eq!(m["parentFolderId"], env.sim.folder_id(ALICE, "archive"));
    assert_error(
        &env.get(&format!("/users/{ALICE}/messages/not-an-id"), &token).await,
        400,
        "ErrorInvalidIdMalformed",
    );
    // Ids of one mailbox do not resolve in another.
    let resp = env.get(&format!("/users/{BOB}/messages/{}", moved.id), &token).await;
    assert_error(&resp, 404, "ErrorInvalidMailboxItemId");
    // Deleted is gone.
    env.sim.delete(ALICE, &moved.id);
    assert_error(
        &env.get(&format!("/users/{ALICE}/messages/{}", ids.immutable_id), &token).await,
        404,
        "ErrorItemNotFound",
    );
}

#[tokio::test]
async fn mail_folders_list_and_resolve_by_well_known_name() {
    let env = Env::start().await;
    let token = env.token(READER);
    env.sim.deliver(ALICE, NewMessage::new("unread"));
    let (_, _, folders) = env.get(&format!("/users/{ALICE}/mailFolders"), &token).await;
    let names: Vec<&str> = folders["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["displayName"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"Inbox") && names.contains(&"Sent Items") && names.contains(&"Archive"),
        "{names:?}"
    );
    let (_, _, inbox) = env.get(&format!("/users/{ALICE}/mailFolders/Inbox"), &token).await;
    assert_eq!(inbox["id"], env.sim.folder_id(ALICE, "inbox"));
    assert_eq!(
        (inbox["totalItemCount"].as_u64(), inbox["unreadItemCount"].as_u64()),
        (Some(1), Some(1))
    );
    let (_, _, again) = env
        .get(&format!("/users/{ALICE}/mailFolders/{}", inbox["id"].as_str().unwrap()), &token)
        .await;
    assert_eq!(again["displayName"], "Inbox");
}
