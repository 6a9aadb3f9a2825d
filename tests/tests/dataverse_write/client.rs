//! The client's own contract: safe filters, create and read back, errors, token refresh.

use exsync_shared::dataverse::{
    ErrorClass,
    batch::Batch,
    query::{Filter, Literal, Query},
};
use serde_json::json;

use super::*;

#[tokio::test]
async fn filters_survive_quotes_and_plus_signs_and_in_takes_many_values() {
    let world = World::start().await;
    let tricky = world.env.add_contact("o'brien+news@customer.example", "Pat", "O'Brien");
    let plain = world.env.add_contact("plain@customer.example", "Sam", "Plain");
    let one = Query::new("contacts")
        .select(&["contactid"])
        .filter(Filter::eq("emailaddress1", Literal::Text("O'Brien+News@customer.example".into())));
    let rows = world.client.query(&one).await.unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["contactid"], json!(tricky.to_string()));

    let many = Query::new("contacts").select(&["contactid"]).filter(Filter::is_in(
        "emailaddress1",
        ["o'brien+news@customer.example", "plain@customer.example", "nobody@x.example"],
    ));
    let mut ids: Vec<String> = world
        .client
        .query(&many)
        .await
        .unwrap()
        .iter()
        .map(|r| r["contactid"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    let mut expected = vec![tricky.to_string(), plain.to_string()];
    expected.sort();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn a_created_record_is_read_back_updated_and_a_missing_one_is_not_found() {
    let world = World::start().await;
    let id = world
        .client
        .create(
            "contacts",
            &json!({"firstname": "Ann", "lastname": "Lee", "emailaddress1": "ann@x.example"}),
        )
        .await
        .unwrap();
    let row = world.client.get("contacts", id, &["emailaddress1"]).await.unwrap().unwrap();
    assert_eq!(row["emailaddress1"], "ann@x.example");
    let stored =
        world.client.create_returning("contacts", &json!({"lastname": "Roe"})).await.unwrap();
    assert!(stored["@odata.etag"].as_str().unwrap().starts_with("W/\""), "{stored}");

    world.client.update("contacts", id, &json!({"emailaddress2": "ann@y.example"})).await.unwrap();
    let row = world.client.get("contacts", id, &["emailaddress2"]).await.unwrap().unwrap();
    assert_eq!(row["emailaddress2"], "ann@y.example");
    let missing = RecordId::from_u128(99);
    assert_eq!(world.client.get("contacts", missing, &[]).await.unwrap(), None);
    let error =
        world.client.update("contacts", missing, &json!({"lastname": "X"})).await.unwrap_err();
    assert_eq!(error.class(), ErrorClass::NotFound, "update never creates: {error}");
}

#[tokio::test]
async fn a_validation_error_names_the_field() {
    let world = World::start().await;
    let error =
        world.client.create("emails", &json!({"subject": "x".repeat(801)})).await.unwrap_err();
    assert_eq!(error.class(), ErrorClass::Invalid, "{error}");
    assert_eq!(error.api().unwrap().field(), Some("subject"), "{error}");

    // In a batch that stops at the first failure: 400 with only the failing part (A6).
    let mut batch = Batch::new();
    batch.changeset().create("emails", json!({"subject": "y".repeat(801)}));
    batch.query(Query::new("contacts").select(&["contactid"]));
    let error = world.client.batch(&batch).await.unwrap_err();
    assert_eq!(error.api().and_then(|api| api.field()), Some("subject"), "{error}");
}

#[tokio::test]
async fn a_refused_token_is_replaced_once() {
    let world = World::start().await;
    // Expire the next token by making the simulator's clock run ahead of the minted one.
    let rows = world.client.query(&Query::new("contacts").select(&["contactid"]).top(1)).await;
    assert!(rows.is_ok());
    let minted = world.tokens.minted.load(Ordering::SeqCst);
    world.tokens.expire_next.store(true, Ordering::SeqCst);
    world.client.query(&Query::new("contacts").select(&["contactid"]).top(1)).await.unwrap();
    assert_eq!(world.tokens.rejected.load(Ordering::SeqCst), 1);
    assert_eq!(world.tokens.minted.load(Ordering::SeqCst), minted + 2);
}
