use std::sync::Mutex as StdMutex;

use serde_json::json;

use super::*;

#[derive(Debug)]
struct FixedClock(StdMutex<OffsetDateTime>);

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap()
    }
}

fn resolver() -> (PartyResolver, Arc<FixedClock>) {
    let clock = Arc::new(FixedClock(StdMutex::new(OffsetDateTime::UNIX_EPOCH)));
    (PartyResolver::new(clock.clone(), Duration::from_secs(300)), clock)
}

fn id(n: u128) -> String {
    crate::domain::RecordId::from_u128(n).to_string()
}

/// Rows for each of the plan's queries, in order, from (table, row) pairs.
fn rows_for(lookup: &PartyLookup, rows: &[(PartyTable, Value)]) -> Vec<Vec<Value>> {
    lookup
        .queries
        .iter()
        .map(|(table, _)| rows.iter().filter(|(t, _)| t == table).map(|(_, r)| r.clone()).collect())
        .collect()
}

#[test]
fn a_sender_resolves_to_the_first_table_and_a_recipient_to_every_match() {
    let (resolver, _) = resolver();
    let lookup = resolver.plan(["Boss@Corp.example", "pat@x.example", "nobody@y.example"]);
    assert_eq!(lookup.queries().count(), 5, "one query per table");
    let rows = rows_for(
        &lookup,
        &[
            (
                PartyTable::Contact,
                json!({"contactid": id(2), "emailaddress2": "boss@corp.example"}),
            ),
            (
                PartyTable::SystemUser,
                json!({"systemuserid": id(1), "internalemailaddress": "BOSS@corp.example"}),
            ),
            (PartyTable::Lead, json!({"leadid": id(4), "emailaddress1": "pat@x.example"})),
            (
                PartyTable::Contact,
                json!({"contactid": id(3), "emailaddress1": "pat@x.example", "emailaddress3": "PAT@x.example"}),
            ),
        ],
    );
    let matches = resolver.complete(lookup, rows).unwrap();
    let boss = matches.sender("boss@corp.example").unwrap();
    assert_eq!((boss.table, boss.id.to_string()), (PartyTable::SystemUser, id(1)));
    let pat: Vec<PartyTable> = matches.all("Pat@X.example").iter().map(|p| p.table).collect();
    assert_eq!(pat, vec![PartyTable::Contact, PartyTable::Lead], "each record once, table order");
    assert!(matches.all("nobody@y.example").is_empty());
    assert_eq!(matches.sender("nobody@y.example"), None);
}

#[test]
fn known_addresses_and_misses_are_not_looked_up_again_until_the_ttl_passes() {
    let (resolver, clock) = resolver();
    let lookup = resolver.plan(["a@x.example", "miss@x.example"]);
    let rows = rows_for(
        &lookup,
        &[(PartyTable::Account, json!({"accountid": id(5), "emailaddress1": "a@x.example"}))],
    );
    resolver.complete(lookup, rows).unwrap();

    let again = resolver.plan(["A@x.example", "miss@x.example"]);
    assert_eq!(again.queries().count(), 0);
    let matches = resolver.complete(again, Vec::new()).unwrap();
    assert_eq!(matches.sender("a@x.example").unwrap().table, PartyTable::Account);

    resolver.forget(["A@X.example"]);
    assert_eq!(resolver.plan(["a@x.example", "miss@x.example"]).queries().count(), 5);
    *clock.0.lock().unwrap() += Duration::from_secs(301);
    assert_eq!(resolver.plan(["miss@x.example"]).queries().count(), 5);
}

#[test]
fn addresses_are_queried_in_bulk_chunks_with_in() {
    let (resolver, _) = resolver();
    let addresses: Vec<String> = (0..120).map(|n| format!("u{n}@x.example")).collect();
    let lookup = resolver.plan(addresses.iter().map(String::as_str));
    assert_eq!(lookup.queries().count(), 15, "3 chunks of at most 50, 5 tables each");
    let contacts = lookup.queries().find(|q| q.entity_set() == "contacts").unwrap().relative_url();
    assert!(contacts.contains("PropertyName='emailaddress3'"), "{contacts}");
    assert!(contacts.starts_with(
        "contacts?$select=contactid,emailaddress1,emailaddress2,emailaddress3&$filter="
    ));
}

#[test]
fn an_address_with_too_many_matches_stays_unresolved() {
    let (resolver, _) = resolver();
    let lookup = resolver.plan(["info@x.example"]);
    let many: Vec<(PartyTable, Value)> = (0..=MAX_MATCHES as u128)
        .map(|n| {
            (
                PartyTable::Contact,
                json!({"contactid": id(n + 1), "emailaddress1": "info@x.example"}),
            )
        })
        .collect();
    let matches = resolver.complete(lookup.clone(), rows_for(&lookup, &many)).unwrap();
    assert!(matches.all("info@x.example").is_empty());
    let bad = vec![(PartyTable::Contact, json!({"emailaddress1": "info@x.example"}))];
    assert!(resolver.complete(lookup.clone(), rows_for(&lookup, &bad)).is_err());
}
