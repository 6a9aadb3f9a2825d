use std::{sync::Arc, time::Duration};

use serde_json::json;
use time::macros::datetime;

use super::*;
use crate::{
    dataverse::parties::PartyResolver,
    domain::{GraphItemId, InternetMessageId},
    ports::SystemClock,
};

fn address(a: &str) -> EmailAddress {
    EmailAddress { address: a.into(), name: None }
}

fn received() -> EmailRecord {
    EmailRecord {
        graph_id: GraphItemId::parse("AAMk1").unwrap(),
        folder: Folder::Inbox,
        internet_message_id: Some(InternetMessageId::parse("<m1@mail.example>").unwrap()),
        subject: "Quote".into(),
        body_html: "<p>Hi</p>".into(),
        body_omitted: false,
        from: Some(address("pat@x.example")),
        to: vec![address("boss@corp.example"), address("Boss@Corp.example")],
        cc: vec![address("nobody@y.example")],
        bcc: vec![],
        received_at: datetime!(2025-01-01 10:00:05 +01:00),
        sent_at: Some(datetime!(2025-01-01 10:00:00.250 +01:00)),
        in_reply_to: None,
        conversation_id: None,
        conversation_index: None,
        importance: Importance::High,
        has_attachments: false,
    }
}

/// Resolution results without a Dataverse: pat is a contact, boss a user and a contact.
fn parties() -> PartyMatches {
    let resolver = PartyResolver::new(Arc::new(SystemClock), Duration::from_secs(60));
    let lookup = resolver.plan(["pat@x.example", "boss@corp.example", "nobody@y.example"]);
    let rows = lookup
        .queries()
        .map(|q| match q.entity_set() {
            "contacts" => vec![
                json!({"contactid": RecordId::from_u128(1).to_string(), "emailaddress1": "pat@x.example"}),
                json!({"contactid": RecordId::from_u128(2).to_string(), "emailaddress2": "boss@corp.example"}),
            ],
            "systemusers" => vec![
                json!({"systemuserid": RecordId::from_u128(3).to_string(), "internalemailaddress": "boss@corp.example"}),
            ],
            _ => vec![],
        })
        .collect();
    resolver.complete(lookup, rows).unwrap()
}

#[test]
fn a_received_email_is_incoming_and_closes_as_received() {
    let id = RecordId::from_u128(42);
    let activity = email_activity(&received(), id, &parties(), None);
    let body = &activity.create;
    assert_eq!(body["activityid"], id.to_string());
    assert_eq!(body["directioncode"], false);
    assert_eq!(body["messageid"], "<m1@mail.example>");
    assert_eq!(body["description"], "<p>Hi</p>");
    assert_eq!(body["actualstart"], "2025-01-01T09:00:00Z");
    assert_eq!(body["actualend"], "2025-01-01T09:00:05Z");
    assert_eq!(body["prioritycode"], 2);
    assert_eq!(body["sender"], "pat@x.example");
    assert_eq!(body["torecipients"], "boss@corp.example;Boss@Corp.example;");
    assert!(body.get("statecode").is_none(), "statecode is not valid on create");
    assert!(body.get("senton").is_none(), "senton is read-only");
    assert_eq!(activity.close, json!({"statecode": 1, "statuscode": 4}));
}

#[test]
fn parties_follow_server_side_sync_resolution() {
    let activity = email_activity(&received(), RecordId::from_u128(1), &parties(), None);
    let parties = activity.create["email_activity_parties"].as_array().unwrap().clone();
    let contact = |n| format!("/contacts({})", RecordId::from_u128(n));
    let user = format!("/systemusers({})", RecordId::from_u128(3));
    assert_eq!(
        parties,
        vec![
            json!({"participationtypemask": 1, "addressused": "pat@x.example", "partyid_contact@odata.bind": contact(1)}),
            json!({"participationtypemask": 2, "addressused": "boss@corp.example", "partyid_systemuser@odata.bind": user}),
            json!({"participationtypemask": 2, "addressused": "boss@corp.example", "partyid_contact@odata.bind": contact(2)}),
            json!({"participationtypemask": 3, "addressused": "nobody@y.example"}),
        ],
        "a repeated recipient appears once; an unknown address stays addressused only"
    );
}

#[test]
fn a_sender_that_is_a_user_and_a_contact_is_the_user() {
    let mut email = received();
    email.folder = Folder::SentItems;
    email.from = Some(address("boss@corp.example"));
    let activity = email_activity(&email, RecordId::from_u128(1), &parties(), None);
    let sender = &activity.create["email_activity_parties"][0];
    assert_eq!(
        sender["partyid_systemuser@odata.bind"],
        format!("/systemusers({})", RecordId::from_u128(3))
    );
    assert!(sender.get("partyid_contact@odata.bind").is_none());
    assert_eq!(activity.create["directioncode"], true);
    assert_eq!(activity.create["actualend"], "2025-01-01T09:00:00Z");
    assert_eq!(activity.close, json!({"statecode": 1, "statuscode": 3}));
}

#[test]
fn a_reply_links_its_parent_and_inherits_its_regarding() {
    let mut reply = received();
    reply.in_reply_to = Some(InternetMessageId::parse("<m0@mail.example>").unwrap());
    let regarding = RecordRef { logical_name: "opportunity".into(), id: RecordId::from_u128(8) };
    let parent = Parent { activity_id: RecordId::from_u128(7), regarding: Some(regarding.clone()) };
    let activity = email_activity(&reply, RecordId::from_u128(1), &parties(), Some(&parent));
    assert_eq!(
        activity.create["parentactivityid@odata.bind"],
        format!("/emails({})", RecordId::from_u128(7))
    );
    assert_eq!(
        activity.create["regardingobjectid_opportunity_email@odata.bind"],
        format!("/opportunities({})", RecordId::from_u128(8))
    );
    assert_eq!(activity.regarding, Some(regarding));
}

#[test]
fn the_activity_id_depends_on_the_message_not_the_mailbox() {
    let alice = MailboxAddress::parse("alice@corp.example").unwrap();
    let bob = MailboxAddress::parse("bob@corp.example").unwrap();
    let mut email = received();
    let mut bobs_copy = received();
    bobs_copy.graph_id = GraphItemId::parse("AAMk-other").unwrap();
    assert_eq!(activity_id(&alice, &email), activity_id(&bob, &bobs_copy));
    email.internet_message_id = None;
    bobs_copy.internet_message_id = None;
    assert_ne!(activity_id(&alice, &email), activity_id(&bob, &email));
    assert_ne!(activity_id(&alice, &email), activity_id(&alice, &bobs_copy));
    assert_eq!(activity_id(&alice, &email), activity_id(&alice, &email.clone()));
}

#[test]
fn long_texts_are_cut_to_their_column_in_utf16_units() {
    let mut email = received();
    email.subject = "é".repeat(SUBJECT_MAX + 5);
    email.to = (0..40).map(|n| address(&format!("recipient{n:02}@example.org"))).collect();
    email.internet_message_id =
        Some(InternetMessageId::parse(format!("<{}@x>", "a".repeat(400))).unwrap());
    let body =
        email_activity(&email, RecordId::from_u128(1), &PartyMatches::default(), None).create;
    assert_eq!(body["subject"].as_str().unwrap().encode_utf16().count(), SUBJECT_MAX);
    let to = body["torecipients"].as_str().unwrap();
    assert!(to.len() <= TO_RECIPIENTS_MAX && to.ends_with(';'), "{to}");
    assert!(body.get("messageid").is_none(), "an overlong Message-ID is left out, not cut");
    assert_eq!(truncate("a😀b", 2), "a");
}

#[test]
fn a_sent_date_before_1753_gives_way_to_the_received_date() {
    let mut email = received();
    email.sent_at = Some(datetime!(0001-01-01 00:00:00 UTC));
    let body =
        email_activity(&email, RecordId::from_u128(1), &PartyMatches::default(), None).create;
    assert_eq!(body["actualstart"], "2025-01-01T09:00:05Z");
}

#[test]
fn a_body_that_could_not_be_read_is_flagged_truncated_and_a_read_one_is_not() {
    let email = received();
    let activity = email_activity(&email, RecordId::nil(), &parties(), None);
    assert!(activity.create.get("notifications").is_none());
    let without = EmailRecord { body_html: String::new(), body_omitted: true, ..email };
    let activity = email_activity(&without, RecordId::nil(), &parties(), None);
    assert_eq!(activity.create["notifications"], 2);
    assert_eq!(activity.create["description"], "");
}
