use serde_json::json;

use super::*;
use crate::dataverse::query::{Filter, Literal};

fn email_batch() -> (Batch, ContentId, ContentId) {
    let mut batch = Batch::new().continue_on_error();
    let (created, closed) = {
        let mut changeset = batch.changeset();
        let created = changeset.create("emails", json!({"subject": "Hi"}));
        let closed =
            changeset.update(Target::Created(created), json!({"statecode": 1, "statuscode": 4}));
        (created, closed)
    };
    batch.query(
        Query::new("contacts")
            .select(&["contactid"])
            .filter(Filter::eq("emailaddress1", Literal::Text("a+b@x.com".into())))
            .annotations("*"),
    );
    (batch, created, closed)
}

#[test]
fn a_changeset_references_its_create_as_dollar_n() {
    let (batch, created, closed) = email_batch();
    assert_eq!((created.value(), closed.value()), (1, 2));
    assert_eq!(batch.operations(), 3);
    assert_eq!(batch.item_of(2), Some(0));
    assert_eq!(batch.item_of(3), None);

    let encoded = batch.encode("/api/data/v9.2/");
    let boundary = encoded
        .content_type
        .strip_prefix("multipart/mixed; boundary=\"")
        .and_then(|b| b.strip_suffix('"'))
        .unwrap();
    let body = &encoded.body;
    assert!(body.starts_with(&format!(
        "--{boundary}\r\nContent-Type: multipart/mixed; boundary=changeset_"
    )));
    assert!(body.ends_with(&format!("--{boundary}--\r\n")));
    assert!(body.contains(
        "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\n\
         POST /api/data/v9.2/emails HTTP/1.1\r\nContent-Type: application/json; type=entry\r\n\r\n\
         {\"subject\":\"Hi\"}\r\n"
    ));
    assert!(body.contains("Content-ID: 2\r\n\r\nPATCH $1 HTTP/1.1\r\n"));
    assert!(body.contains(
        "GET /api/data/v9.2/contacts?$select=contactid&$filter=emailaddress1%20eq%20'a%2Bb@x.com' HTTP/1.1\r\n"
    ));
    assert!(body.contains("Prefer: odata.include-annotations=\"*\"\r\n"));
    // The changeset closes before the GET part opens.
    let closes = body.find("--changeset_").map(|_| body.rfind("--\r\n--batch_").unwrap());
    assert!(closes.unwrap() < body.find("GET ").unwrap());
}

const ANSWER: &str = "--batchresponse_c1bd45c1\r\n\
Content-Type: multipart/mixed; boundary=changesetresponse_ff83b4f1\r\n\
\r\n\
--changesetresponse_ff83b4f1\r\n\
Content-Type: application/http\r\n\
Content-Transfer-Encoding: binary\r\n\
Content-ID: 1\r\n\
\r\n\
HTTP/1.1 204 No Content\r\n\
OData-Version: 4.0\r\n\
Location: https://org.crm.dynamics.com/api/data/v9.2/emails(a59c24e3-fe2f-4b12-8b9d-2b0a1e6b8c67)\r\n\
OData-EntityId: https://org.crm.dynamics.com/api/data/v9.2/emails(a59c24e3-fe2f-4b12-8b9d-2b0a1e6b8c67)\r\n\
\r\n\
\r\n\
--changesetresponse_ff83b4f1\r\n\
Content-Type: application/http\r\n\
Content-Transfer-Encoding: binary\r\n\
Content-ID: 2\r\n\
\r\n\
HTTP/1.1 204 No Content\r\n\
OData-Version: 4.0\r\n\
\r\n\
\r\n\
--changesetresponse_ff83b4f1--\r\n\
--batchresponse_c1bd45c1\r\n\
Content-Type: application/http\r\n\
Content-Transfer-Encoding: binary\r\n\
\r\n\
HTTP/1.1 200 OK\r\n\
Content-Type: application/json; odata.metadata=minimal\r\n\
OData-Version: 4.0\r\n\
\r\n\
{\"value\":[{\"contactid\":\"00000000-0000-0000-0000-000000000009\"}]}\r\n\
--batchresponse_c1bd45c1--\r\n";

#[test]
fn an_answer_with_a_nested_changeset_response_is_read_part_by_part() {
    let (batch, _, _) = email_batch();
    let items = parse("multipart/mixed; boundary=batchresponse_c1bd45c1", ANSWER).unwrap();
    let results = assign(&batch, items).unwrap();
    let [ItemResult::Succeeded(writes), ItemResult::Succeeded(read)] = results.as_slice() else {
        panic!("{results:?}");
    };
    assert_eq!(writes.len(), 2);
    assert_eq!(writes[0].content_id, Some(1));
    assert_eq!(writes[0].status, 204);
    assert_eq!(writes[0].entity_id().unwrap().to_string(), "a59c24e3-fe2f-4b12-8b9d-2b0a1e6b8c67");
    assert_eq!(
        read[0].json().unwrap()["value"][0]["contactid"],
        "00000000-0000-0000-0000-000000000009"
    );
}

#[test]
fn a_failed_changeset_with_continue_on_error_fails_alone() {
    let (batch, _, _) = email_batch();
    // LF line ends, a bare failure part for the changeset, then the read.
    let answer = "--b\nContent-Type: application/http\nContent-Transfer-Encoding: binary\n\n\
        HTTP/1.1 412 Precondition Failed\nContent-Type: application/json\n\n\
        {\"error\":{\"code\":\"0x80040237\",\"message\":\"A record with matching key values already exists.\"}}\n\
        --b\nContent-Type: application/http\n\nHTTP/1.1 200 OK\n\n{\"value\":[]}\n--b--\n";
    let results = assign(&batch, parse("multipart/mixed; boundary=b", answer).unwrap()).unwrap();
    match &results[0] {
        ItemResult::Failed(part) => assert_eq!(part.error().code, "0x80040237"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(&results[1], ItemResult::Succeeded(_)));
}

#[test]
fn the_400_form_carries_only_the_failing_response() {
    // The A6 doc example: a body directly under the headers, no Content-ID.
    let answer = "--batchresponse_1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n\
        HTTP/1.1 400 Bad Request\r\nREQ_ID: 5ecd1cb3-1730-4ffc-909c-d44c22270026\r\n\
        {\"error\":{\"code\":\"0x80044331\",\"message\":\"A validation error occurred.  The length of the 'subject' attribute of the 'task' entity exceeded the maximum allowed length of '200'.\"}}\r\n\
        --batchresponse_1--\r\n";
    let items = parse("multipart/mixed; boundary=batchresponse_1", answer).unwrap();
    let [ResponseItem::Single(part)] = items.as_slice() else { panic!("{items:?}") };
    assert_eq!(part.status, 400);
    assert_eq!(part.header("REQ_ID"), Some("5ecd1cb3-1730-4ffc-909c-d44c22270026"));
    assert_eq!(part.error().field(), Some("subject"));
    let (batch, _, _) = email_batch();
    let results = assign(&batch, items).unwrap();
    assert!(matches!(results[0], ItemResult::Failed(_)));
    assert_eq!(results[1], ItemResult::NotRun);
}

#[test]
fn malformed_answers_are_refused_not_guessed() {
    let unclosed = "--b\nContent-Type: application/http\n\nHTTP/1.1 204 No Content\n\n";
    assert!(parse("multipart/mixed; boundary=b", unclosed).unwrap_err().contains("closing"));
    let no_status = "--b\nContent-Type: application/http\n\nhello\n--b--\n";
    assert!(parse("multipart/mixed; boundary=b", no_status).unwrap_err().contains("status line"));
    assert!(parse("application/json", "{}").unwrap_err().contains("boundary"));
    let wrong_type = "--b\nContent-Type: text/plain\n\nHTTP/1.1 200 OK\n--b--\n";
    assert!(parse("multipart/mixed; boundary=b", wrong_type).is_err());
    let (batch, _, _) = email_batch();
    let unknown_id =
        "--b\nContent-Type: application/http\nContent-ID: 9\n\nHTTP/1.1 204 No Content\n\n--b--\n";
    let items = parse("multipart/mixed; boundary=b", unknown_id).unwrap();
    assert!(assign(&batch, items).unwrap_err().contains("Content-ID 9"));
}
