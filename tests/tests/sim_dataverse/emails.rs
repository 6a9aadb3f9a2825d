//! Creating, closing, reading and deleting email activities (reference A2, A5, D1-D3).

use exsync_sim::dataverse::{EntityRef, PartyView};
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use crate::world::World;

fn received_email(contact: Uuid, user: Uuid, account: Uuid) -> serde_json::Value {
    json!({
        "subject": "Re: Quote",
        "description": "<html><body>Hi</body></html>",
        "directioncode": false,
        "messageid": "<CAF1@mail.example.com>",
        "actualstart": "2025-01-01T10:00:00Z",
        "regardingobjectid_account_email@odata.bind": format!("/accounts({account})"),
        "email_activity_parties": [
            {"participationtypemask": 1, "partyid_contact@odata.bind": format!("/contacts({contact})"), "addressused": "ann@fabrikam.example"},
            {"participationtypemask": 2, "partyid_systemuser@odata.bind": format!("/systemusers({user})")},
            {"participationtypemask": 3, "addressused": "unknown@y.example"}
        ]
    })
}

#[tokio::test]
async fn an_email_created_with_parties_and_closed_as_received_is_read_only_afterwards() {
    let w = World::new().await;
    let (contact, account, user) = w.seed_people();
    let created = w.post("emails", received_email(contact, user, account)).await;
    assert_eq!(created.status, 204, "{}", created.text);
    assert!(created.text.is_empty());
    let id = created.entity_id();
    assert_eq!(created.header("odata-entityid").unwrap(), w.url(&format!("emails({id})")));

    let email = w.env.email(id).unwrap();
    assert_eq!((email.statecode, email.statuscode, email.directioncode), (0, 1, false));
    assert_eq!(email.regarding, Some(EntityRef { table: "account", id: account }));
    assert_eq!(
        email.parties,
        vec![
            PartyView {
                mask: 1,
                party: Some(EntityRef { table: "contact", id: contact }),
                address: Some("ann@fabrikam.example".into())
            },
            PartyView {
                mask: 2,
                party: Some(EntityRef { table: "systemuser", id: user }),
                address: None
            },
            PartyView { mask: 3, party: None, address: Some("unknown@y.example".into()) },
        ]
    );

    let close = w.patch(&format!("emails({id})"), json!({"statecode": 1, "statuscode": 4})).await;
    assert_eq!(close.status, 204, "{}", close.text);
    let closed = w.env.email(id).unwrap();
    assert_eq!((closed.statecode, closed.statuscode), (1, 4));

    // A completed email is read-only: CannotUpdateBecauseItIsReadOnly.
    let edit = w.patch(&format!("emails({id})"), json!({"subject": "changed"})).await;
    assert_eq!((edit.status, edit.code().as_str()), (400, "0x8004022E"));
    assert_eq!(edit.message(), "The object cannot be updated because it is read-only.");
    let reopen = w.patch(&format!("emails({id})"), json!({"statecode": 0, "statuscode": 1})).await;
    assert_eq!((reopen.status, reopen.code().as_str()), (400, "0x8004022E"));
    // ... except its Regarding.
    let regarding = w
        .patch(
            &format!("emails({id})"),
            json!({"regardingobjectid_contact_email@odata.bind": format!("/contacts({contact})")}),
        )
        .await;
    assert_eq!(regarding.status, 204, "{}", regarding.text);

    let read = w
        .send(
            w.request(
                Method::GET,
                &format!(
                    "emails({id})?$select=subject,statecode,statuscode,_regardingobjectid_value"
                ),
            )
            .header("Prefer", "odata.include-annotations=\"*\""),
        )
        .await;
    assert_eq!(read.status, 200);
    let body = read.json();
    assert_eq!(body["statecode@OData.Community.Display.V1.FormattedValue"], "Completed");
    assert_eq!(body["statuscode@OData.Community.Display.V1.FormattedValue"], "Received");
    assert_eq!(body["_regardingobjectid_value"], contact.to_string());
    assert_eq!(
        body["_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname"],
        "contact"
    );
    assert_eq!(
        body["_regardingobjectid_value@Microsoft.Dynamics.CRM.associatednavigationproperty"],
        "regardingobjectid_contact_email"
    );
    assert_eq!(
        body["_regardingobjectid_value@OData.Community.Display.V1.FormattedValue"],
        "Ann Lee"
    );
    assert_eq!(
        body["@odata.context"],
        w.url("$metadata#emails(subject,statecode,statuscode,_regardingobjectid_value)/$entity")
    );
    assert_eq!(body["activityid"], id.to_string(), "the key is always returned");
}

#[tokio::test]
async fn a_sent_email_gets_senton_and_a_canceled_one_is_read_only_too() {
    let w = World::new().await;
    let id = w.create("emails", json!({"subject": "out"})).await;
    assert_eq!(w.env.record("emails", id).unwrap()["senton"], serde_json::Value::Null);
    assert_eq!(
        w.patch(&format!("emails({id})"), json!({"statecode": 1, "statuscode": 3})).await.status,
        204
    );
    assert!(w.env.record("emails", id).unwrap()["senton"].is_string());

    let other = w.create("emails", json!({"subject": "drop"})).await;
    // A state alone takes its default status (Canceled: 5).
    assert_eq!(w.patch(&format!("emails({other})"), json!({"statecode": 2})).await.status, 204);
    assert_eq!(w.env.email(other).unwrap().statuscode, 5);
    assert_eq!(
        w.patch(&format!("emails({other})"), json!({"description": "x"})).await.code(),
        "0x8004022E"
    );
}

#[tokio::test]
async fn representation_answers_201_with_the_record_and_without_odata_entityid() {
    let w = World::new().await;
    let resp = w
        .send(
            w.request(Method::POST, "emails?$select=subject,directioncode")
                .header("Prefer", "return=representation")
                .json(&json!({"subject": "hello"})),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.text);
    assert!(resp.header("odata-entityid").is_none());
    assert_eq!(resp.header("preference-applied"), Some("return=representation"));
    let body = resp.json();
    assert_eq!(body["@odata.context"], w.url("$metadata#emails(subject,directioncode)/$entity"));
    assert!(body["@odata.etag"].as_str().unwrap().starts_with("W/\""));
    assert_eq!(
        (body["subject"].as_str(), body["directioncode"].as_bool()),
        (Some("hello"), Some(true)),
        "directioncode defaults to outgoing"
    );
    assert!(Uuid::parse_str(body["activityid"].as_str().unwrap()).is_ok());
}

#[tokio::test]
async fn a_client_supplied_key_is_used_and_a_duplicate_is_412_duplicate_record() {
    let w = World::new().await;
    let id = Uuid::new_v4();
    assert_eq!(w.create("emails", json!({"activityid": id, "subject": "a"})).await, id);
    let again = w.post("emails", json!({"activityid": id, "subject": "b"})).await;
    assert_eq!((again.status, again.code().as_str()), (412, "0x80040237"));
    assert_eq!(again.message(), "A record with matching key values already exists.");
    // Activities share one key space (activitypointer).
    let task = w.post("tasks", json!({"activityid": id, "subject": "t"})).await;
    assert_eq!(task.status, 412);
}

#[tokio::test]
async fn create_starts_in_the_default_state_and_status_must_belong_to_the_state() {
    let w = World::new().await;
    let id = Uuid::new_v4();
    let closed = w
        .post("emails", json!({"activityid": id, "subject": "x", "statecode": 1, "statuscode": 4}))
        .await;
    assert_eq!((closed.status, closed.code().as_str()), (400, "0x80048408"));
    assert_eq!(
        closed.message(),
        format!(
            "4 is not a valid status code for state code EmailState.Open on email with Id {id}."
        )
    );
    let wrong = w.post("emails", json!({"subject": "x", "statuscode": 3})).await;
    assert_eq!(wrong.code(), "0x80048408");
    let failed = w.create("emails", json!({"subject": "x", "statuscode": 8})).await;
    let pair =
        w.patch(&format!("emails({failed})"), json!({"statecode": 1, "statuscode": 5})).await;
    assert_eq!((pair.status, pair.code().as_str()), (400, "0x80048408"));
    assert!(
        pair.message()
            .starts_with("5 is not a valid status code for state code EmailState.Completed")
    );
    let unknown = w.patch(&format!("emails({failed})"), json!({"statuscode": 99})).await;
    assert_eq!(unknown.code(), "0x8004431A");
}

#[tokio::test]
async fn upsert_answers_204_both_ways_and_only_representation_tells_create_from_update() {
    let w = World::new().await;
    let id = Uuid::new_v4();
    let created = w.patch(&format!("contacts({id})"), json!({"lastname": "New"})).await;
    assert_eq!(created.status, 204, "{}", created.text);
    assert_eq!(created.entity_id(), id);
    let updated = w.patch(&format!("contacts({id})"), json!({"lastname": "Newer"})).await;
    assert_eq!((updated.status, updated.entity_id()), (204, id));

    let repr = |path: String, body| {
        w.send(
            w.request(Method::PATCH, &path).header("Prefer", "return=representation").json(&body),
        )
    };
    let other = Uuid::new_v4();
    let created = repr(format!("contacts({other})"), json!({"lastname": "A"})).await;
    assert_eq!(created.status, 201);
    let updated = repr(format!("contacts({other})"), json!({"firstname": "B"})).await;
    assert_eq!(updated.status, 200);
    assert_eq!(updated.json()["fullname"], "B A");
}

#[tokio::test]
async fn conditional_headers_restrict_upsert_and_etags_are_weak_row_versions() {
    let w = World::new().await;
    let missing = Uuid::new_v4();
    let update_only = w
        .send(
            w.request(Method::PATCH, &format!("accounts({missing})"))
                .header("If-Match", "*")
                .json(&json!({"name": "x"})),
        )
        .await;
    assert_eq!((update_only.status, update_only.code().as_str()), (404, "0x80040217"));
    assert_eq!(update_only.message(), format!("account With Id = {missing} Does Not Exist"));

    let id = w.create("accounts", json!({"name": "Fabrikam"})).await;
    let create_only = w
        .send(
            w.request(Method::PATCH, &format!("accounts({id})"))
                .header("If-None-Match", "*")
                .json(&json!({"name": "x"})),
        )
        .await;
    assert_eq!((create_only.status, create_only.code().as_str()), (412, "0x80040237"));

    let etag =
        w.get(&format!("accounts({id})")).await.json()["@odata.etag"].as_str().unwrap().to_string();
    assert!(etag.starts_with("W/\""));
    let unchanged = w
        .send(w.request(Method::GET, &format!("accounts({id})")).header("If-None-Match", &etag))
        .await;
    assert_eq!(unchanged.status, 304);
    let annotated = w
        .send(
            w.request(Method::GET, &format!("accounts({id})"))
                .header("If-None-Match", &etag)
                .header("Prefer", "odata.include-annotations=\"*\""),
        )
        .await;
    assert_eq!(annotated.status, 200, "annotations never give 304");
    let matched = w
        .send(
            w.request(Method::PATCH, &format!("accounts({id})"))
                .header("If-Match", &etag)
                .json(&json!({"name": "F2"})),
        )
        .await;
    assert_eq!(matched.status, 204);
    let stale = w
        .send(
            w.request(Method::PATCH, &format!("accounts({id})"))
                .header("If-Match", &etag)
                .json(&json!({"name": "F3"})),
        )
        .await;
    assert_eq!(stale.status, 412);
    assert_eq!(
        stale.message(),
        "The version of the existing record doesn't match the RowVersion property provided."
    );
    let stale_delete = w
        .send(w.request(Method::DELETE, &format!("accounts({id})")).header("If-Match", &etag))
        .await;
    assert_eq!(stale_delete.status, 412);
}

#[tokio::test]
async fn delete_answers_204_then_404_and_takes_the_parties_and_attachments_along() {
    let w = World::new().await;
    let (contact, account, user) = w.seed_people();
    let id = w.create("emails", received_email(contact, user, account)).await;
    w.create("activitymimeattachments", json!({"objectid_email@odata.bind": format!("/emails({id})"), "objecttypecode": "email", "filename": "a.txt", "body": "aGk="})).await;
    assert_eq!(w.env.records("activityparties").len(), 3);
    assert_eq!(w.delete(&format!("emails({id})")).await.status, 204);
    assert!(w.env.records("activityparties").is_empty());
    assert!(w.env.records("activitymimeattachments").is_empty());
    let again = w.delete(&format!("emails({id})")).await;
    assert_eq!((again.status, again.code().as_str()), (404, "0x80040217"));
}

#[tokio::test]
async fn attachments_bind_through_activitypointers_count_on_the_email_and_respect_the_rules() {
    let w = World::new().await;
    let id = w.create("emails", json!({"subject": "with file"})).await;
    let attachment = json!({
        "objectid_activitypointer@odata.bind": format!("/activitypointers({id})"),
        "objecttypecode": "email", "filename": "a.pdf", "mimetype": "application/pdf", "body": "JVBERi0xLjQ="
    });
    let att = w.create("activitymimeattachments", attachment.clone()).await;
    let view = w.env.email(id).unwrap();
    assert_eq!(
        (view.attachments.len(), view.attachments[0].id, view.attachments[0].filesize),
        (1, att, 8)
    );
    assert_eq!(
        w.get(&format!("emails({id})?$select=attachmentcount")).await.json()["attachmentcount"],
        1
    );

    let mismatch = w.post("activitymimeattachments", json!({"objectid_email@odata.bind": format!("/emails({id})"), "objecttypecode": "appointment", "body": "aGk="})).await;
    assert_eq!(mismatch.status, 400);
    let orphan =
        w.post("activitymimeattachments", json!({"objecttypecode": "email", "body": "aGk="})).await;
    assert_eq!(
        (orphan.status, orphan.code().as_str()),
        (400, "0x80040203"),
        "objectid is SystemRequired"
    );
    w.env.set_max_upload_bytes(4);
    let big = w.post("activitymimeattachments", attachment.clone()).await;
    assert_eq!(big.status, 400, "larger than maxuploadfilesize");
    w.env.set_max_upload_bytes(5 * 1024 * 1024);
    w.patch(&format!("emails({id})"), json!({"statecode": 1, "statuscode": 4})).await;
    let late = w.post("activitymimeattachments", attachment).await;
    assert_eq!(late.code(), "0x8004022E", "a closed email takes no new attachment");

    let pointers = w.get("activitypointers?$select=subject,activitytypecode").await.json();
    assert_eq!(pointers["value"][0]["activitytypecode"], "email");
    assert_eq!(w.post("activitypointers", json!({"subject": "x"})).await.status, 405);
}

#[tokio::test]
async fn appointments_use_attendee_masks_and_expand_their_parties() {
    let w = World::new().await;
    let (contact, _, user) = w.seed_people();
    let id = w
        .create(
            "appointments",
            json!({
                "subject": "Review", "scheduledstart": "2025-02-01T09:00:00Z", "scheduledend": "2025-02-01T10:00:00Z",
                "globalobjectid": "040000008200E00074C5B7101A82E008",
                "appointment_activity_parties": [
                    {"participationtypemask": 7, "partyid_systemuser@odata.bind": format!("/systemusers({user})")},
                    {"participationtypemask": 5, "partyid_contact@odata.bind": format!("/contacts({contact})")}
                ]
            }),
        )
        .await;
    let wrong = w.post("emails", json!({"email_activity_parties": [{"participationtypemask": 5, "addressused": "a@b.example"}]})).await;
    assert_eq!((wrong.status, wrong.code().as_str()), (400, "0x80094006"));
    let read = w.get(&format!("appointments({id})?$select=subject&$expand=appointment_activity_parties($select=participationtypemask,_partyid_value)")).await;
    assert_eq!(read.status, 200, "{}", read.text);
    let parties = read.json()["appointment_activity_parties"].as_array().unwrap().clone();
    assert_eq!(parties.len(), 2);
    assert_eq!(parties[0]["participationtypemask"], 7);
    assert_eq!(parties[1]["_partyid_value"], contact.to_string());
    let listed = w
        .get(&format!(
            "activityparties?$filter=_activityid_value eq {id} and participationtypemask eq 5"
        ))
        .await;
    assert_eq!(listed.json()["value"].as_array().unwrap().len(), 1);
    let direct = w.post("activityparties", json!({"participationtypemask": 1})).await;
    assert_eq!(direct.status, 405, "activityparty supports RetrieveMultiple only");
}

#[tokio::test]
async fn single_properties_and_references_are_read_and_written_through_their_urls() {
    let w = World::new().await;
    let (contact, account, user) = w.seed_people();
    let id = w.create("emails", received_email(contact, user, account)).await;
    let subject = w.get(&format!("emails({id})/subject")).await.json();
    assert_eq!(subject["value"], "Re: Quote");
    let put = w
        .send(
            w.request(Method::PUT, &format!("emails({id})/subject"))
                .json(&json!({"value": "Re: Quote 2"})),
        )
        .await;
    assert_eq!(put.status, 204, "{}", put.text);
    assert_eq!(w.env.email(id).unwrap().subject.as_deref(), Some("Re: Quote 2"));

    let unset = w.delete(&format!("emails({id})/regardingobjectid_account_email/$ref")).await;
    assert_eq!(unset.status, 204, "{}", unset.text);
    assert_eq!(w.env.email(id).unwrap().regarding, None);
    let set = w
        .send(
            w.request(Method::PUT, &format!("emails({id})/regardingobjectid_contact_email/$ref"))
                .json(&json!({"@odata.id": w.url(&format!("contacts({contact})"))})),
        )
        .await;
    assert_eq!(set.status, 204, "{}", set.text);
    assert_eq!(
        w.env.email(id).unwrap().regarding,
        Some(EntityRef { table: "contact", id: contact })
    );

    let parties =
        w.get(&format!("emails({id})/email_activity_parties?$select=participationtypemask")).await;
    assert_eq!(parties.status, 200, "{}", parties.text);
    assert_eq!(parties.json()["value"].as_array().unwrap().len(), 3);
    assert_eq!(w.get(&format!("emails({id})/nosuch")).await.code(), "0x80060888");
}
