//! `$batch` (reference A6): framing, changesets with Content-ID references, atomicity and the
//! two error modes, malformed batches and the 1000-request limit.

use exsync_sim::dataverse::EntityRef;
use reqwest::Method;
use serde_json::json;

use crate::world::{APP, World};

/// One `application/http` part.
fn part(
    method: &str,
    url: &str,
    body: Option<serde_json::Value>,
    content_id: Option<u32>,
) -> String {
    let mut out =
        String::from("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n");
    if let Some(id) = content_id {
        out.push_str(&format!("Content-ID: {id}\r\n"));
    }
    out.push_str(&format!("\r\n{method} {url} HTTP/1.1\r\n"));
    match body {
        Some(body) => {
            out.push_str(&format!("Content-Type: application/json; type=entry\r\n\r\n{body}\r\n"))
        }
        None => out.push_str("\r\n"),
    }
    out
}

enum Item {
    Single(String),
    ChangeSet(Vec<String>),
}

fn batch(items: Vec<Item>) -> String {
    let mut out = String::new();
    for (n, item) in items.into_iter().enumerate() {
        match item {
            Item::Single(p) => out.push_str(&format!("--batch_AAA123\r\n{p}")),
            Item::ChangeSet(parts) => {
                out.push_str(&format!("--batch_AAA123\r\nContent-Type: multipart/mixed; boundary=changeset_{n}\r\n\r\n"));
                for p in parts {
                    out.push_str(&format!("--changeset_{n}\r\n{p}"));
                }
                out.push_str(&format!("--changeset_{n}--\r\n"));
            }
        }
    }
    out.push_str("--batch_AAA123--\r\n");
    out
}

async fn send(w: &World, body: String, continue_on_error: bool) -> crate::world::Resp {
    let mut request = w
        .request(Method::POST, "$batch")
        .header("Content-Type", "multipart/mixed; boundary=\"batch_AAA123\"")
        .body(body);
    if continue_on_error {
        request = request.header("Prefer", "odata.continue-on-error");
    }
    w.send(request).await
}

fn status_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.starts_with("HTTP/1.1 ")).collect()
}

#[tokio::test]
async fn a_changeset_creates_related_records_through_content_id_references() {
    let w = World::new().await;
    let root = "/api/data/v9.2/";
    let body = batch(vec![
        Item::ChangeSet(vec![
            part(
                "POST",
                &format!("{root}contacts"),
                Some(json!({"firstname": "Ann", "lastname": "Lee"})),
                Some(1),
            ),
            part(
                "POST",
                &w.url("emails"),
                Some(json!({"subject": "hi", "regardingobjectid_contact_email@odata.bind": "$1",
                "email_activity_parties": [{"participationtypemask": 1, "partyid_contact@odata.bind": "$1"}]})),
                Some(2),
            ),
            part(
                "POST",
                "activitymimeattachments",
                Some(
                    json!({"objectid_activitypointer@odata.bind": "$2", "objecttypecode": "email", "filename": "a.txt", "body": "aGk="}),
                ),
                Some(3),
            ),
            part("PUT", "$1/lastname", Some(json!({"value": "Lee-Smith"})), Some(4)),
            part("PATCH", "$2", Some(json!({"statecode": 1, "statuscode": 4})), Some(5)),
        ]),
        Item::Single(part("GET", &format!("{root}emails?$select=subject,statecode"), None, None)),
    ]);
    let resp = send(&w, body, false).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    let content_type = resp.header("content-type").unwrap();
    assert!(content_type.starts_with("multipart/mixed; boundary=batchresponse_"), "{content_type}");
    let boundary = content_type.split("boundary=").nth(1).unwrap();
    assert!(resp.text.starts_with(&format!(
        "--{boundary}\r\nContent-Type: multipart/mixed; boundary=changesetresponse_"
    )));
    assert!(resp.text.trim_end().ends_with(&format!("--{boundary}--")));
    assert_eq!(
        status_lines(&resp.text),
        ["HTTP/1.1 204 No Content"; 5].into_iter().chain(["HTTP/1.1 200 OK"]).collect::<Vec<_>>()
    );
    for id in 1..=5 {
        assert!(resp.text.contains(&format!("Content-ID: {id}\r\n")), "Content-ID {id} is echoed");
    }
    assert!(resp.text.contains(&format!("Location: {}", w.url("contacts("))));
    assert!(resp.text.contains(&format!("OData-EntityId: {}", w.url("emails("))));

    let email = &w.env.emails()[0];
    let contact = w.env.records("contacts")[0].clone();
    assert_eq!(contact["lastname"], "Lee-Smith");
    let contact_id = uuid::Uuid::parse_str(contact["contactid"].as_str().unwrap()).unwrap();
    assert_eq!(email.regarding, Some(EntityRef { table: "contact", id: contact_id }));
    assert_eq!(
        (email.statecode, email.statuscode, email.attachments.len(), email.parties.len()),
        (1, 4, 1, 1)
    );
    assert!(resp.text.contains("\"statecode\":1"), "the GET after the changeset sees its effects");

    let stats = w.env.requests(APP);
    assert_eq!(stats.total, 6, "every operation counts, the batch itself does not");
    assert_eq!(stats.by_entity_set["emails"], 3, "POST, PATCH $2 and the GET");
    assert_eq!(stats.by_method["POST"], 3);
}

#[tokio::test]
async fn a_failing_changeset_is_rolled_back_as_a_whole() {
    let w = World::new().await;
    let body = batch(vec![Item::ChangeSet(vec![
        part("POST", "accounts", Some(json!({"name": "kept?"})), Some(1)),
        part(
            "POST",
            "contacts",
            Some(json!({"lastname": "x", "parentcustomerid_account@odata.bind": "$1"})),
            Some(2),
        ),
        part("POST", "contacts", Some(json!({"nosuch": 1})), Some(3)),
    ])]);
    let resp = send(&w, body.clone(), false).await;
    assert_eq!(resp.status, 400);
    assert_eq!(status_lines(&resp.text), ["HTTP/1.1 400 Bad Request"]);
    assert!(resp.text.contains("\"code\":\"0x80060888\""));
    assert!(w.env.records("accounts").is_empty() && w.env.records("contacts").is_empty());

    let resp = send(&w, body, true).await;
    assert_eq!(resp.status, 200);
    assert_eq!(
        status_lines(&resp.text),
        ["HTTP/1.1 400 Bad Request"],
        "a failed changeset answers with its failure only"
    );
    assert!(w.env.records("accounts").is_empty());
}

#[tokio::test]
async fn without_continue_on_error_the_batch_stops_at_the_first_failure_with_400() {
    let w = World::new().await;
    let items = || {
        vec![
            Item::Single(part("POST", "tasks", Some(json!({"subject": "Task 1 in batch"})), None)),
            Item::Single(part("POST", "tasks", Some(json!({"subject": "x".repeat(201)})), None)),
            Item::Single(part("POST", "tasks", Some(json!({"subject": "Task 3 in batch"})), None)),
        ]
    };
    let resp = send(&w, batch(items()), false).await;
    assert_eq!(resp.status, 400);
    assert_eq!(status_lines(&resp.text), ["HTTP/1.1 400 Bad Request"]);
    assert!(resp.text.contains("REQ_ID: "));
    assert!(resp.text.contains(
        "{\"error\":{\"code\":\"0x80044331\",\"message\":\"A validation error occurred.  The length of the 'subject' attribute of the 'task' entity exceeded the maximum allowed length of '200'.\"}}"
    ));
    let subjects: Vec<_> =
        w.env.records("tasks").iter().map(|t| t["subject"].as_str().unwrap().to_string()).collect();
    assert_eq!(
        subjects,
        ["Task 1 in batch"],
        "work before the failure stays; work after it never runs"
    );

    let resp = send(&w, batch(items()), true).await;
    assert_eq!(resp.status, 200);
    assert_eq!(
        status_lines(&resp.text),
        ["HTTP/1.1 204 No Content", "HTTP/1.1 400 Bad Request", "HTTP/1.1 204 No Content"]
    );
    assert_eq!(w.env.records("tasks").len(), 3);
}

#[tokio::test]
async fn malformed_batches_are_refused_whole() {
    let w = World::new().await;
    let json_batch = w
        .send(
            w.request(Method::POST, "$batch")
                .json(&json!({"requests": [{"id": "1", "method": "GET", "url": "accounts"}]})),
        )
        .await;
    assert_eq!(
        (json_batch.status, json_batch.code().as_str()),
        (400, "0x80060888"),
        "JSON batches are not supported"
    );

    let unclosed = batch(vec![Item::Single(part("GET", "accounts", None, None))])
        .replace("--batch_AAA123--\r\n", "");
    assert_eq!(send(&w, unclosed, false).await.status, 400);
    let get_in_changeset =
        batch(vec![Item::ChangeSet(vec![part("GET", "accounts", None, Some(1))])]);
    assert_eq!(send(&w, get_in_changeset, false).await.status, 400);
    let nested = batch(vec![Item::Single(part("POST", "$batch", Some(json!({})), None))]);
    assert_eq!(send(&w, nested, false).await.status, 400);
    let no_encoding = batch(vec![Item::Single(
        part("GET", "accounts", None, None).replace("Content-Transfer-Encoding: binary\r\n", ""),
    )]);
    assert_eq!(send(&w, no_encoding, false).await.status, 400);

    let undeclared = batch(vec![Item::ChangeSet(vec![
        part("POST", "phonecalls", Some(json!({})), Some(2))
            .replace("phonecalls", "tasks")
            .replace("{}", "{\"regardingobjectid_account_task@odata.bind\":\"$1\"}"),
    ])]);
    let resp = send(&w, undeclared, false).await;
    assert_eq!(resp.status, 400);
    assert!(
        resp.text.contains("Content-ID Reference: '$1' does not exist in the batch context."),
        "{}",
        resp.text
    );

    let too_many =
        batch((0..1001).map(|_| Item::Single(part("GET", "WhoAmI", None, None))).collect());
    let resp = send(&w, too_many, false).await;
    assert_eq!(resp.status, 400);
    assert_eq!(
        send(
            &w,
            batch((0..1000).map(|_| Item::Single(part("GET", "WhoAmI", None, None))).collect()),
            false
        )
        .await
        .status,
        200
    );
    assert!(w.env.records("tasks").is_empty());
}
