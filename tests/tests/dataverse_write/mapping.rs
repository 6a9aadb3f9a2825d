//! What lands in Dataverse: direction, state, status, parties, threading.

use exsync_shared::domain::{Folder, InternetMessageId};
use serde_json::json;

use super::*;

/// A party as (participation mask, (table, id) when resolved, addressused).
type Party<'a> = (i64, Option<(&'a str, RecordId)>, Option<&'a str>);

#[tokio::test]
async fn received_and_sent_emails_land_with_direction_status_and_parties() {
    let world = World::start().await;
    let boss_user = world.env.add_systemuser("boss@corp.example", "Bo", "Ss");
    world.env.add_contact("boss@corp.example", "Bo", "Ss (contact)");
    let pat_contact = world.env.add_contact("pat@customer.example", "Pat", "Lee");
    let pat_lead = world.env.add_lead("pat@customer.example", "Pat", "Lee");
    let queue = world.env.add_queue("sales@corp.example", "Sales");

    let mut inbound = email(
        Folder::Inbox,
        Some("<in-1@customer.example>"),
        "Boss@Corp.example",
        &["pat@customer.example"],
    );
    inbound.cc = addresses(&["stranger@nowhere.example", "sales@corp.example"]);
    let outbound = email(
        Folder::SentItems,
        Some("<out-1@corp.example>"),
        "sales@corp.example",
        &["pat@customer.example"],
    );
    let alice = mailbox("alice@corp.example");
    assert_done(&world.write(vec![(alice.clone(), inbound), (alice, outbound)]).await);

    let emails = world.env.emails();
    assert_eq!(emails.len(), 2);
    let received =
        emails.iter().find(|e| e.messageid.as_deref() == Some("<in-1@customer.example>")).unwrap();
    assert!(!received.directioncode, "received = incoming");
    assert_eq!((received.statecode, received.statuscode), (1, 4), "Completed / Received");
    let parties: Vec<Party> = received
        .parties
        .iter()
        .map(|p| (p.mask, p.party.as_ref().map(|r| (r.table, r.id)), p.address.as_deref()))
        .collect();
    assert!(
        parties.contains(&(1, Some(("systemuser", boss_user)), Some("Boss@Corp.example"))),
        "{parties:?}"
    );
    assert_eq!(
        parties.iter().filter(|p| p.0 == 1).count(),
        1,
        "one sender: the user, not the contact"
    );
    assert!(parties.contains(&(2, Some(("contact", pat_contact)), Some("pat@customer.example"))));
    assert!(parties.contains(&(2, Some(("lead", pat_lead)), Some("pat@customer.example"))));
    assert!(
        parties.contains(&(3, None, Some("stranger@nowhere.example"))),
        "unknown stays addressused"
    );
    assert!(parties.contains(&(3, Some(("queue", queue)), Some("sales@corp.example"))));

    let sent =
        emails.iter().find(|e| e.messageid.as_deref() == Some("<out-1@corp.example>")).unwrap();
    assert!(sent.directioncode, "sent = outgoing");
    assert_eq!((sent.statecode, sent.statuscode), (1, 3), "Completed / Sent");
    let record = world.env.record("emails", sent.id).unwrap();
    assert_eq!(record["subject"], json!("About <out-1@corp.example>"));
    assert_eq!(record["description"], json!("<html><body><p>Hello</p></body></html>"));
}

#[tokio::test]
async fn a_reply_gets_its_parent_and_the_parents_regarding() {
    let world = World::start().await;
    let account = world.env.add_account("info@customer.example", "Customer Ltd");
    // The original, tracked earlier (by server-side sync, say) and set Regarding by a user.
    let original = world
        .env
        .insert(
            "emails",
            json!({
                "subject": "Quote", "directioncode": true, "messageid": "<orig@corp.example>",
                "regardingobjectid_account_email@odata.bind": format!("/accounts({account})"),
            }),
        )
        .unwrap();
    let mut reply = email(
        Folder::Inbox,
        Some("<reply-1@customer.example>"),
        "info@customer.example",
        &["alice@corp.example"],
    );
    reply.in_reply_to = Some(InternetMessageId::parse("<orig@corp.example>").unwrap());
    // And a reply to the reply, in the same batch, ahead of it.
    let mut second = email(
        Folder::SentItems,
        Some("<reply-2@corp.example>"),
        "alice@corp.example",
        &["info@customer.example"],
    );
    second.in_reply_to = Some(InternetMessageId::parse("<reply-1@customer.example>").unwrap());
    let alice = mailbox("alice@corp.example");
    assert_done(&world.write(vec![(alice.clone(), second), (alice, reply)]).await);

    let emails = world.env.emails();
    let by_id = |id: &str| emails.iter().find(|e| e.messageid.as_deref() == Some(id)).unwrap();
    let first = by_id("<reply-1@customer.example>");
    assert_eq!(first.parent, Some(original));
    assert_eq!(first.regarding.as_ref().map(|r| (r.table, r.id)), Some(("account", account)));
    let second = by_id("<reply-2@corp.example>");
    assert_eq!(second.parent, Some(first.id), "linked to a parent written in the same batch");
    assert_eq!(
        second.regarding.as_ref().map(|r| r.id),
        Some(account),
        "regarding inherited down the thread"
    );
}
