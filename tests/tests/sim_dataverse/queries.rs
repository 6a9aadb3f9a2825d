//! RetrieveMultiple: the `$filter` subset, ordering, `$top`, `$count`, annotations and paging
//! (reference A4).

use std::collections::HashSet;

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::world::World;

fn ids(resp: &Value, key: &str) -> HashSet<Uuid> {
    resp["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| Uuid::parse_str(r[key].as_str().unwrap()).unwrap())
        .collect()
}

/// GET with `$filter` (encoded as a client must: `+` as `%2B`, quotes doubled).
async fn filter(w: &World, set: &str, filter: &str) -> Value {
    let encoded: String = url::form_urlencoded::byte_serialize(filter.as_bytes()).collect();
    let resp = w.get(&format!("{set}?$filter={encoded}")).await;
    assert_eq!(resp.status, 200, "{filter}: {}", resp.text);
    resp.json()
}

#[tokio::test]
async fn filters_match_case_insensitively_with_operators_functions_in_and_lookups() {
    let w = World::new().await;
    let account = w.env.add_account("info@fabrikam.example", "Fabrikam");
    let ann = w.env.add_contact("Ann.Lee@Fabrikam.example", "Ann", "O'Bryan");
    let bo = w.create("contacts", json!({"emailaddress2": "bo+news@contoso.example", "lastname": "Chen", "parentcustomerid_account@odata.bind": format!("/accounts({account})")})).await;
    let cy = w.env.add_contact("cy@contoso.example", "Cy", "Diaz");

    let by_email = filter(&w, "contacts", "emailaddress1 eq 'ann.lee@fabrikam.example' or emailaddress2 eq 'ann.lee@fabrikam.example'").await;
    assert_eq!(ids(&by_email, "contactid"), HashSet::from([ann]));
    assert_eq!(
        ids(&filter(&w, "contacts", "lastname eq 'o''bryan'").await, "contactid"),
        HashSet::from([ann])
    );
    assert_eq!(
        ids(
            &filter(&w, "contacts", "emailaddress2 eq 'bo+news@contoso.example'").await,
            "contactid"
        ),
        HashSet::from([bo])
    );
    assert_eq!(
        ids(
            &filter(&w, "contacts", &format!("_parentcustomerid_value eq {account}")).await,
            "contactid"
        ),
        HashSet::from([bo])
    );
    assert_eq!(
        ids(
            &filter(&w, "contacts", "_parentcustomerid_value eq null and emailaddress1 ne null")
                .await,
            "contactid"
        ),
        HashSet::from([ann, cy])
    );
    let domain = filter(
        &w,
        "contacts",
        "endswith(emailaddress1,'@CONTOSO.example') or contains(emailaddress2,'contoso')",
    )
    .await;
    assert_eq!(ids(&domain, "contactid"), HashSet::from([bo, cy]));
    let in_list = filter(&w, "contacts", "Microsoft.Dynamics.CRM.In(PropertyName='emailaddress1',PropertyValues=['cy@contoso.example','ann.lee@fabrikam.example'])").await;
    assert_eq!(ids(&in_list, "contactid"), HashSet::from([ann, cy]));
    let not = filter(
        &w,
        "contacts",
        "not (startswith(lastname,'o') or lastname eq 'Chen') and statecode eq 0",
    )
    .await;
    assert_eq!(ids(&not, "contactid"), HashSet::from([cy]));

    // A raw `+` decodes to a space: a client that does not encode it finds nothing.
    let raw = w.get("contacts?$filter=emailaddress2 eq 'bo+news@contoso.example'").await;
    assert_eq!(raw.json()["value"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn emails_are_found_by_message_id_and_ordered_topped_and_counted() {
    let w = World::new().await;
    for (i, subject) in ["b", "C", "a"].iter().enumerate() {
        w.create("emails", json!({"subject": subject, "messageid": format!("<{i}@x.example>")}))
            .await;
    }
    let one = w.get("emails?$select=activityid,statecode&$filter=messageid%20eq%20'%3C1@x.example%3E'&$top=1").await.json();
    assert_eq!(one["value"].as_array().unwrap().len(), 1);
    assert_eq!(one["value"][0]["statecode"], 0);
    assert_eq!(one["@odata.context"], w.url("$metadata#emails(activityid,statecode)"));
    let ordered = w.get("emails?$select=subject&$orderby=subject desc&$count=true").await.json();
    let subjects: Vec<&str> = ordered["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["C", "b", "a"], "ordering is case-insensitive");
    assert_eq!(ordered["@odata.count"], 3);
    let top = w.get("emails?$select=subject&$orderby=subject&$top=2").await.json();
    assert_eq!(top["value"].as_array().unwrap().len(), 2);
    assert!(top.get("@odata.nextLink").is_none());
}

#[tokio::test]
async fn lookups_and_options_carry_annotations_only_when_asked_for() {
    let w = World::new().await;
    let account = w.env.add_account("info@fabrikam.example", "Fabrikam");
    w.create("emails", json!({"subject": "s", "regardingobjectid_account_email@odata.bind": format!("/accounts({account})")})).await;
    let plain = w.get("emails?$select=_regardingobjectid_value,prioritycode").await.json();
    let row = plain["value"][0].as_object().unwrap();
    assert_eq!(row["_regardingobjectid_value"], account.to_string());
    assert!(row.keys().all(|k| !k.contains("@OData") && !k.contains("@Microsoft")), "{row:?}");

    let only_names = w
        .send(
            w.request(Method::GET, "emails?$select=_regardingobjectid_value,prioritycode").header(
                "Prefer",
                "odata.include-annotations=\"OData.Community.Display.V1.FormattedValue\"",
            ),
        )
        .await;
    assert_eq!(
        only_names.header("preference-applied"),
        Some("odata.include-annotations=\"OData.Community.Display.V1.FormattedValue\"")
    );
    let row = only_names.json()["value"][0].clone();
    assert_eq!(
        row["_regardingobjectid_value@OData.Community.Display.V1.FormattedValue"],
        "Fabrikam"
    );
    assert_eq!(row["prioritycode@OData.Community.Display.V1.FormattedValue"], "Normal");
    assert!(row.get("_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname").is_none());
}

#[tokio::test]
async fn pages_follow_next_links_under_maxpagesize_and_top_is_then_ignored() {
    let w = World::new().await;
    let mut created = HashSet::new();
    for i in 0..5 {
        created.insert(w.env.add_contact(&format!("c{i}@x.example"), "C", &i.to_string()));
    }
    let mut seen = HashSet::new();
    let mut next = Some(w.url("contacts?$select=fullname&$top=1"));
    let mut pages = 0;
    while let Some(url) = next.take() {
        pages += 1;
        assert!(pages <= 3, "too many pages");
        let resp = w
            .send(
                w.http
                    .get(&url)
                    .bearer_auth(w.token())
                    .header("Accept", "application/json")
                    .header("OData-MaxVersion", "4.0")
                    .header("OData-Version", "4.0")
                    .header("Prefer", "odata.maxpagesize=2"),
            )
            .await;
        assert_eq!(resp.status, 200, "{}", resp.text);
        assert_eq!(resp.header("preference-applied"), Some("odata.maxpagesize=2"));
        let body = resp.json();
        seen.extend(ids(&body, "contactid"));
        next = body.get("@odata.nextLink").and_then(Value::as_str).map(str::to_string);
        if let Some(link) = &next {
            assert!(link.starts_with(&w.url("contacts?$select=fullname")), "{link}");
            assert!(link.contains("$skiptoken=%3Ccookie%20pagenumber=%22"), "{link}");
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, created);
}
