//! Every payload and URL refusal, with its status and code (reference A8 and the sources
//! cited in the simulator).

use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use crate::world::World;

#[tokio::test]
async fn unknown_and_misplaced_properties_are_refused_with_their_codes() {
    let w = World::new().await;
    let unknown = w.post("emails", json!({"subject": "x", "Subject": "y"})).await;
    assert_eq!((unknown.status, unknown.code().as_str()), (400, "0x80060888"));
    assert_eq!(
        unknown.message(),
        "Could not find a property named 'Subject' on type 'Microsoft.Dynamics.CRM.email'."
    );
    // Lookups are written through navigation properties only; partylists through parties.
    assert_eq!(
        w.post("emails", json!({"regardingobjectid": Uuid::new_v4()})).await.code(),
        "0x80060888"
    );
    assert_eq!(w.post("emails", json!({"to": "a@b.example"})).await.code(), "0x80060888");
    // Read-only columns (reference A2, D1).
    for column in ["senton", "conversationindex", "inreplyto", "correlationmethod"] {
        let value = if column == "senton" {
            json!("2025-01-01T00:00:00Z")
        } else if column == "correlationmethod" {
            json!(3)
        } else {
            json!("x")
        };
        let resp = w.post("emails", json!({column: value})).await;
        assert_eq!((resp.status, resp.code().as_str()), (400, "0x80041a01"), "{column}");
    }
    // `parentactivityid` can be set on create only.
    let parent = w.create("emails", json!({"subject": "parent"})).await;
    let child = w.create("emails", json!({"subject": "child", "parentactivityid@odata.bind": format!("/emails({parent})")})).await;
    assert_eq!(w.env.email(child).unwrap().parent, Some(parent));
    let update = w
        .patch(
            &format!("emails({child})"),
            json!({"parentactivityid@odata.bind": format!("/emails({child})")}),
        )
        .await;
    assert_eq!((update.status, update.code().as_str()), (400, "0x80041a02"));
}

#[tokio::test]
async fn values_are_checked_against_type_length_and_option_set() {
    let w = World::new().await;
    let long = w.post("emails", json!({"subject": "x".repeat(801)})).await;
    assert_eq!((long.status, long.code().as_str()), (400, "0x80044331"));
    assert_eq!(
        long.message(),
        "A validation error occurred.  The length of the 'subject' attribute of the 'email' entity exceeded the maximum allowed length of '800'."
    );
    assert_eq!(w.post("emails", json!({"subject": "x".repeat(800)})).await.status, 204);
    assert_eq!(w.post("tasks", json!({"subject": "x".repeat(201)})).await.code(), "0x80044331");
    assert_eq!(w.post("emails", json!({"messageid": "m".repeat(321)})).await.code(), "0x80044331");

    let option = w.post("emails", json!({"prioritycode": 7})).await;
    assert_eq!((option.status, option.code().as_str()), (400, "0x8004431A"));
    assert_eq!(
        option.message(),
        "A validation error occurred. The value 7 of 'prioritycode' on record of type 'email' is outside the valid range. Accepted Values: 0,1,2"
    );
    let mask = w.post("emails", json!({"email_activity_parties": [{"participationtypemask": 13, "addressused": "a@b.example"}]})).await;
    assert_eq!(mask.code(), "0x8004431A");

    for (column, value) in [
        ("subject", json!(5)),
        ("directioncode", json!("false")),
        ("actualstart", json!("yesterday")),
        ("prioritycode", json!(1.5)),
    ] {
        let resp = w.post("emails", json!({column: value})).await;
        assert_eq!(
            (resp.status, resp.code().as_str()),
            (400, "0x80048d19"),
            "{column}: {}",
            resp.text
        );
    }
}

#[tokio::test]
async fn bodies_must_be_json_objects_declared_as_json() {
    let w = World::new().await;
    let not_json = w
        .send(
            w.request(Method::POST, "emails")
                .header("Content-Type", "application/json")
                .body("subject=x"),
        )
        .await;
    assert_eq!((not_json.status, not_json.code().as_str()), (400, "0x80048d19"));
    let array = w.post("emails", json!([{"subject": "x"}])).await;
    assert_eq!(array.status, 400);
    let text = w
        .send(
            w.request(Method::POST, "emails")
                .header("Content-Type", "text/plain")
                .body("{\"subject\":\"x\"}"),
        )
        .await;
    assert_eq!(text.status, 415);
    let typed = w
        .send(
            w.request(Method::POST, "emails")
                .header("Content-Type", "application/json; type=entry")
                .body("{\"subject\":\"x\"}"),
        )
        .await;
    assert_eq!(typed.status, 204, "parameters of application/json are fine");
}

#[tokio::test]
async fn bindings_must_name_a_declared_navigation_property_and_an_existing_record_of_its_table() {
    let w = World::new().await;
    let (contact, account, _) = w.seed_people();
    let undeclared = w
        .post("emails", json!({"regardingobjectid@odata.bind": format!("/accounts({account})")}))
        .await;
    assert_eq!((undeclared.status, undeclared.code().as_str()), (400, "0x80048d19"));
    assert!(undeclared.message().contains(
        "An undeclared property 'regardingobjectid' which only has property annotations"
    ));
    let wrong_table = w
        .post(
            "emails",
            json!({"regardingobjectid_contact_email@odata.bind": format!("/accounts({account})")}),
        )
        .await;
    assert_eq!((wrong_table.status, wrong_table.code().as_str()), (400, "0x80048d19"));
    let malformed = w
        .post(
            "emails",
            json!({"regardingobjectid_contact_email@odata.bind": "/contacts(not-a-guid)"}),
        )
        .await;
    assert_eq!((malformed.status, malformed.code().as_str()), (400, "0x80048d19"));
    let unknown_set = w
        .post(
            "emails",
            json!({"regardingobjectid_contact_email@odata.bind": format!("/people({contact})")}),
        )
        .await;
    assert_eq!(unknown_set.status, 400);
    let missing = Uuid::new_v4();
    let gone = w
        .post(
            "emails",
            json!({"regardingobjectid_contact_email@odata.bind": format!("/contacts({missing})")}),
        )
        .await;
    assert_eq!((gone.status, gone.code().as_str()), (404, "0x80040217"));
    assert_eq!(gone.message(), format!("contact With Id = {missing} Does Not Exist"));
    // The accepted reference forms: with or without the slash, or the absolute URL.
    for reference in [
        format!("contacts({contact})"),
        format!("/contacts({contact})"),
        w.url(&format!("contacts({contact})")),
    ] {
        let resp = w
            .post("emails", json!({"regardingobjectid_contact_email@odata.bind": reference}))
            .await;
        assert_eq!(resp.status, 204, "{reference}: {}", resp.text);
    }
    let other_host = w.post("emails", json!({"regardingobjectid_contact_email@odata.bind": format!("https://org.crm.dynamics.com/api/data/v9.2/contacts({contact})")})).await;
    assert_eq!(other_host.status, 400);
}

#[tokio::test]
async fn resources_and_query_options_outside_the_service_are_refused() {
    let w = World::new().await;
    let segment = w.get("Account").await;
    assert_eq!((segment.status, segment.code().as_str()), (404, "0x8006088a"));
    assert_eq!(segment.message(), "Resource not found for the segment 'Account'.");
    let select = w.get("accounts?$select=Name").await;
    assert_eq!((select.status, select.code().as_str()), (400, "0x80060888"));
    assert_eq!(
        select.message(),
        "Could not find a property named 'Name' on type 'Microsoft.Dynamics.CRM.account'."
    );
    assert_eq!(w.get("accounts?$filter=nosuch eq 1").await.code(), "0x80060888");
    assert_eq!(w.get("accounts?$orderby=nosuch").await.code(), "0x80060888");
    assert_eq!(
        w.get("accounts?$select=primarycontactid").await.status,
        400,
        "a lookup is selected as _x_value"
    );
    let skip = w.get("accounts?$skip=10").await;
    assert_eq!(skip.status, 400, "$skip is not supported");
    assert_eq!(w.get("accounts?$top=-1").await.status, 400);
    assert_eq!(w.get("accounts?$apply=groupby((name))").await.status, 400);
    assert_eq!(w.get("accounts(name='x')").await.status, 400, "no alternate key is defined");
    assert_eq!(w.get(&format!("accounts({})", Uuid::new_v4())).await.code(), "0x80040217");
    let paging =
        w.send(w.request(Method::GET, "accounts").header("Prefer", "odata.maxpagesize=5001")).await;
    assert_eq!(paging.status, 400);
}
