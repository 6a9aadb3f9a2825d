//! Delta queries (reference 6).

use exsync_sim::graph::{GraphLimits, MessageUpdate, NewMessage};
use serde_json::Value;
use time::macros::datetime;

use crate::common::*;

type Resp = (reqwest::StatusCode, reqwest::header::HeaderMap, Value);

/// Follows next links to the end of a round; returns all pages.
async fn round(env: &Env, first: Resp, token: &str, prefer: Option<&str>) -> Vec<Value> {
    let (status, _, mut page) = first;
    assert_eq!(status, 200, "{page}");
    let mut pages = Vec::new();
    for _ in 0..100 {
        let next = page.get("@odata.nextLink").and_then(Value::as_str).map(str::to_string);
        assert!(
            next.is_some() != page.get("@odata.deltaLink").is_some(),
            "exactly one link: {page}"
        );
        pages.push(page.clone());
        let Some(next) = next else { return pages };
        let (status, _, p) = env.follow(&next, token, prefer).await;
        assert_eq!(status, 200, "{p}");
        page = p;
    }
    panic!("round did not end");
}

fn delta_link(pages: &[Value]) -> String {
    pages.last().unwrap()["@odata.deltaLink"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn delta_pages_with_max_page_size_and_ends_with_a_delta_link_only() {
    let env = Env::start().await;
    let token = env.token(READER);
    let mut delivered: Vec<String> =
        (0..5).map(|i| env.sim.deliver(ALICE, NewMessage::new(&format!("m{i}"))).id).collect();
    env.sim.deliver_to(ALICE, "sentitems", NewMessage::new("elsewhere"));
    let path =
        format!("/users/{ALICE}/mailFolders('inbox')/messages/delta?$select=subject,sender,isRead");
    let resp = env.get_with(&path, &token, "odata.maxpagesize=2").await;
    let (headers, first) = (&resp.1, &resp.2);
    assert_eq!(headers["preference-applied"], "odata.maxpagesize=2");
    assert_eq!(
        first["@odata.context"],
        format!("{}v1.0/$metadata#Collection(message)", env.server.base_url())
    );
    let m = &first["value"][0];
    assert_eq!(m["@odata.type"], "#microsoft.graph.message");
    assert!(m["@odata.etag"].as_str().unwrap().starts_with("W/\""));
    assert!(m.get("body").is_none(), "$select applies: {m}");
    let pages = round(&env, resp, &token, Some("odata.maxpagesize=2")).await;
    assert_eq!(pages.len(), 3);
    let mut seen: Vec<String> = pages.iter().flat_map(ids).collect();
    // $select was encoded in the tokens: later pages carry it too.
    assert!(
        pages[2]["value"][0].get("body").is_none() && pages[2]["value"][0]["subject"].is_string()
    );
    seen.sort();
    delivered.sort();
    assert_eq!(seen, delivered);
}

#[tokio::test]
async fn delta_default_page_size_is_ten() {
    let env = Env::start().await;
    let token = env.token(READER);
    for i in 0..12 {
        env.sim.deliver(ALICE, NewMessage::new(&format!("m{i}")));
    }
    let (_, _, page) =
        env.get(&format!("/users/{ALICE}/mailFolders/inbox/messages/delta"), &token).await;
    assert_eq!(page["value"].as_array().unwrap().len(), 10);
    assert!(page["@odata.nextLink"].as_str().unwrap().contains("$skiptoken="));
}

#[tokio::test]
async fn a_delta_link_returns_created_updated_and_removed_entries() {
    let env = Env::start().await;
    let token = env.token(READER);
    let keep = env.sim.deliver(ALICE, NewMessage::new("keep"));
    let read = env.sim.deliver(ALICE, NewMessage::new("read me"));
    let gone = env.sim.deliver(ALICE, NewMessage::new("delete me"));
    let moved = env.sim.deliver(ALICE, NewMessage::new("archive me"));
    let path = format!("/users/{ALICE}/mailFolders/inbox/messages/delta");
    let first = env.get(&path, &token).await;
    let link = delta_link(&round(&env, first, &token, None).await);
    assert!(link.contains("$deltatoken="));

    let new = env.sim.deliver(ALICE, NewMessage::new("new"));
    env.sim.update(ALICE, &read.id, MessageUpdate { is_read: Some(true), ..Default::default() });
    env.sim.delete(ALICE, &gone.id);
    env.sim.move_to(ALICE, &moved.id, "archive");
    let page = env.follow(&link, &token, None).await;
    let pages = round(&env, page, &token, None).await;
    let all: Vec<&Value> = pages.iter().flat_map(|p| p["value"].as_array().unwrap()).collect();
    let upserts: Vec<&str> = all
        .iter()
        .filter(|m| m.get("@removed").is_none())
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(upserts.contains(&new.id.as_str()) && upserts.contains(&read.id.as_str()), "{all:?}");
    assert!(!upserts.contains(&keep.id.as_str()), "unchanged items are not repeated");
    let updated = all.iter().find(|m| m["id"] == read.id).unwrap();
    assert_eq!(updated["isRead"], true);
    let mut gone_ids: Vec<String> = pages.iter().flat_map(removed).collect();
    gone_ids.sort();
    let mut expected = vec![gone.id.clone(), moved.id.clone()];
    expected.sort();
    assert_eq!(gone_ids, expected, "deleted and moved-out items are @removed");

    // The archive's own delta shows the moved message with its new id.
    let page = env.get(&format!("/users/{ALICE}/mailFolders/archive/messages/delta"), &token).await;
    let pages = round(&env, page, &token, None).await;
    let archive_ids: Vec<String> = pages.iter().flat_map(ids).collect();
    assert_eq!(archive_ids.len(), 1);
    assert_ne!(archive_ids[0], moved.id);

    // Nothing changed since: an empty page with a delta link.
    let link = delta_link(&round(&env, env.follow(&link, &token, None).await, &token, None).await);
    let (_, _, page) = env.follow(&link, &token, None).await;
    assert_eq!(page["value"].as_array().unwrap().len(), 0, "{page}");
}

#[tokio::test]
async fn immutable_ids_in_delta_stay_the_same_when_a_message_moves_out() {
    let env = Env::start().await;
    let token = env.token(READER);
    let prefer = "IdType=\"ImmutableId\"";
    let m = env.sim.deliver(ALICE, NewMessage::new("x"));
    let path = format!("/users/{ALICE}/mailFolders/inbox/messages/delta");
    let first = env.get_with(&path, &token, prefer).await;
    assert_eq!(ids(&first.2), std::slice::from_ref(&m.immutable_id));
    let link = delta_link(&round(&env, first, &token, Some(prefer)).await);
    env.sim.move_to(ALICE, &m.id, "archive");
    let (_, _, page) = env.follow(&link, &token, Some(prefer)).await;
    assert_eq!(removed(&page), [m.immutable_id]);
}

#[tokio::test]
async fn delta_query_options_belong_on_the_first_request_only() {
    let env = Env::start().await;
    let token = env.token(READER);
    for i in 0..3 {
        env.sim.deliver(ALICE, NewMessage::new(&format!("m{i}")));
    }
    let (_, _, page) = env
        .get_with(
            &format!("/users/{ALICE}/mailFolders/inbox/messages/delta?$select=subject"),
            &token,
            "odata.maxpagesize=1",
        )
        .await;
    let next = page["@odata.nextLink"].as_str().unwrap();
    let resp = env.follow(&format!("{next}&$select=body"), &token, None).await;
    assert_error(&resp, 400, "BadRequest");
    let resp = env
        .get(
            &format!("/users/{ALICE}/mailFolders/inbox/messages/delta?$filter=isRead eq false"),
            &token,
        )
        .await;
    assert_error(&resp, 400, "BadRequest");
    let resp = env
        .get(&format!("/users/{ALICE}/mailFolders/inbox/messages/delta?$orderby=subject"), &token)
        .await;
    assert_error(&resp, 400, "BadRequest");
    let resp = env
        .get(&format!("/users/{ALICE}/mailFolders/inbox/messages/delta?$search=\"x\""), &token)
        .await;
    assert_error(&resp, 400, "BadRequest");
}

#[tokio::test]
async fn a_received_date_filter_limits_the_initial_round() {
    let limits = GraphLimits { delta_filter_cap: 2, ..Default::default() };
    let env = Env::with_limits(limits).await;
    let token = env.token(READER);
    for day in 1..=4 {
        let at = datetime!(2026-03-01 00:00:00 UTC) + time::Duration::days(day);
        env.sim.deliver(ALICE, NewMessage::new(&format!("day {day}")).received_at(at));
    }
    let q = "$filter=receivedDateTime+ge+2026-03-02T00:00:00Z&$select=subject&$orderby=receivedDateTime+desc";
    let page =
        env.get(&format!("/users/{ALICE}/mailFolders/inbox/messages/delta?{q}"), &token).await;
    let pages = round(&env, page, &token, None).await;
    let subjects: Vec<String> = pages
        .iter()
        .flat_map(|p| p["value"].as_array().unwrap().clone())
        .map(|m| m["subject"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(subjects, ["day 4", "day 3"], "newest first, capped");
}

#[tokio::test]
async fn change_type_created_returns_only_new_messages_in_later_rounds() {
    let env = Env::start().await;
    let token = env.token(READER);
    let old = env.sim.deliver(ALICE, NewMessage::new("old"));
    let first = env
        .get(&format!("/users/{ALICE}/mailFolders/inbox/messages/delta?changeType=created"), &token)
        .await;
    assert_eq!(ids(&first.2), std::slice::from_ref(&old.id), "the first round returns everything");
    let link = delta_link(&round(&env, first, &token, None).await);
    env.sim.update(ALICE, &old.id, MessageUpdate { is_read: Some(true), ..Default::default() });
    let new = env.sim.deliver(ALICE, NewMessage::new("new"));
    let (_, _, page) = env.follow(&link, &token, None).await;
    assert_eq!(ids(&page), [new.id]);
}

#[tokio::test]
async fn an_expired_or_evicted_delta_token_answers_410_sync_state_not_found() {
    let limits = GraphLimits { delta_token_capacity: 2, ..Default::default() };
    let env = Env::with_limits(limits).await;
    let token = env.token(READER);
    env.sim.deliver(ALICE, NewMessage::new("m"));
    let path = format!("/users/{ALICE}/mailFolders/inbox/messages/delta");
    let (_, _, page) = env.get(&path, &token).await;
    let link = page["@odata.deltaLink"].as_str().unwrap().to_string();
    assert_eq!(env.follow(&link, &token, None).await.0, 200, "a delta link can be replayed");
    env.sim.expire_delta_tokens(ALICE);
    let resp = env.follow(&link, &token, None).await;
    assert_error(&resp, 410, "SyncStateNotFound");
    // Eviction: the cache keeps two tokens per mailbox.
    let (_, _, page) = env.get(&path, &token).await;
    let first = page["@odata.deltaLink"].as_str().unwrap().to_string();
    env.get(&path, &token).await;
    env.get(&path, &token).await;
    assert_eq!(env.sim.delta_tokens_held(ALICE), 2);
    assert_error(&env.follow(&first, &token, None).await, 410, "SyncStateNotFound");
    // Unknown tokens, and tokens of another folder.
    assert_error(
        &env.get(&format!("{path}?$deltatoken=bogus"), &token).await,
        410,
        "SyncStateNotFound",
    );
    let (_, _, page) = env.get(&path, &token).await;
    let token_value = page["@odata.deltaLink"]
        .as_str()
        .unwrap()
        .split("$deltatoken=")
        .nth(1)
        .unwrap()
        .to_string();
    let other =
        format!("/users/{ALICE}/mailFolders/sentitems/messages/delta?$deltatoken={token_value}");
    assert_error(&env.get(&other, &token).await, 410, "SyncStateNotFound");
}

#[tokio::test]
async fn a_sync_reset_answers_410_with_a_location_that_starts_over() {
    let env = Env::start().await;
    let token = env.token(READER);
    let m = env.sim.deliver(ALICE, NewMessage::new("m"));
    let (_, _, page) = env
        .get(&format!("/users/{ALICE}/mailFolders/inbox/messages/delta?$select=subject"), &token)
        .await;
    let link = page["@odata.deltaLink"].as_str().unwrap().to_string();
    env.sim.reset_sync(ALICE);
    let (status, headers, body) = env.follow(&link, &token, None).await;
    assert_eq!(status, 410, "{body}");
    let location = headers["location"].to_str().unwrap().to_string();
    assert!(location.ends_with("$deltatoken="), "{location}");
    let (status, _, page) = env.follow(&location, &token, None).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(ids(&page), [m.id], "a full resync");
    assert!(
        page["value"][0].get("body").is_none(),
        "the initial options came back with the Location"
    );
}
