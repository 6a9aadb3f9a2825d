//! The rule on a small matrix of messages, against what server-side sync's options do (A9).

use std::{sync::Arc, time::Duration};

use serde_json::{Value, json};

use super::*;
use crate::{dataverse::parties::PartyResolver, ports::SystemClock};

const CONTACT: &str = "maria@adventure-works.example";
const ACCOUNT: &str = "orders@litware.example";
const LEAD: &str = "ravi@wingtip.example";
const USER: &str = "bob@fabrikam.example";
const QUEUE: &str = "support@northwind.example";
const STRANGER: &str = "digest@newsletter.example";

/// What Dataverse knows, as the resolver would answer.
fn parties() -> PartyMatches {
    let known = [
        (CONTACT, PartyTable::Contact),
        (ACCOUNT, PartyTable::Account),
        (LEAD, PartyTable::Lead),
        (USER, PartyTable::SystemUser),
        (QUEUE, PartyTable::Queue),
    ];
    let resolver = PartyResolver::new(Arc::new(SystemClock), Duration::from_secs(60));
    let lookup = resolver.plan(known.iter().map(|(a, _)| *a).chain([STRANGER]));
    let rows: Vec<Vec<Value>> = PartyTable::RESOLUTION_ORDER
        .iter()
        .map(|table| {
            known
                .iter()
                .filter(|(_, t)| t == table)
                .map(|(address, _)| {
                    json!({
                        table.id_column(): uuid::Uuid::new_v4().to_string(),
                        table.email_columns()[0]: address,
                    })
                })
                .collect()
        })
        .collect();
    resolver.complete(lookup, rows).unwrap()
}

/// One message of the matrix: its facts, and whether the email it answers is tracked.
struct Case {
    name: &'static str,
    email: Correspondence<'static>,
    parent_tracked: bool,
}

fn received(name: &'static str, from: &'static str) -> Case {
    let email = Correspondence {
        folder: Folder::Inbox,
        sender: Some(from),
        recipients: vec!["alice@fabrikam.example"],
        in_reply_to: None,
    };
    Case { name, email, parent_tracked: false }
}

fn sent(name: &'static str, to: &'static str) -> Case {
    let email = Correspondence {
        folder: Folder::SentItems,
        sender: Some("alice@fabrikam.example"),
        recipients: vec![to],
        in_reply_to: None,
    };
    Case { name, email, parent_tracked: false }
}

fn reply(name: &'static str, folder: Folder, parent_tracked: bool) -> Case {
    let email = Correspondence {
        folder,
        sender: Some(STRANGER),
        recipients: vec![STRANGER],
        in_reply_to: Some("<parent@fabrikam.example>"),
    };
    Case { name, email, parent_tracked }
}

fn matrix() -> Vec<Case> {
    vec![
        received("from a contact", CONTACT),
        received("from an account", ACCOUNT),
        received("from a lead", LEAD),
        received("from a user", USER),
        received("from a queue", QUEUE),
        received("from a stranger", STRANGER),
        reply("a stranger's reply to tracked mail", Folder::Inbox, true),
        reply("a stranger's reply to untracked mail", Folder::Inbox, false),
        sent("sent to a contact", CONTACT),
        sent("sent to a user", USER),
        sent("sent to a stranger", STRANGER),
        reply("a reply sent to a stranger on tracked mail", Folder::SentItems, true),
    ]
}

/// The names of the matrix's messages `rule` tracks.
fn tracked(rule: TrackingRule) -> Vec<&'static str> {
    let parties = parties();
    matrix()
        .into_iter()
        .filter(|case| match rule.first_look(case.email.folder) {
            FirstLook::Tracked => true,
            FirstLook::Untracked(_) => false,
            FirstLook::If(condition) => condition.holds(&case.email, &parties, case.parent_tracked),
        })
        .map(|case| case.name)
        .collect()
}

fn rule(filter: TrackFilter) -> TrackingRule {
    TrackingRule { filter, sent_items: true }
}

#[test]
fn all_tracks_every_message_and_none_tracks_nothing() {
    assert_eq!(tracked(rule(TrackFilter::All)).len(), matrix().len());
    assert!(tracked(rule(TrackFilter::None)).is_empty());
}

#[test]
fn responses_tracks_only_replies_to_tracked_mail_in_either_direction() {
    assert_eq!(
        tracked(rule(TrackFilter::Responses)),
        ["a stranger's reply to tracked mail", "a reply sent to a stranger on tracked mail"]
    );
}

#[test]
fn crm_records_tracks_mail_from_or_to_contacts_accounts_and_leads() {
    assert_eq!(
        tracked(rule(TrackFilter::CrmRecords)),
        ["from a contact", "from an account", "from a lead", "sent to a contact"]
    );
}

#[test]
fn email_enabled_adds_users_and_queues() {
    assert_eq!(
        tracked(rule(TrackFilter::EmailEnabled)),
        [
            "from a contact",
            "from an account",
            "from a lead",
            "from a user",
            "from a queue",
            "sent to a contact",
            "sent to a user"
        ]
    );
}

#[test]
fn sent_items_off_leaves_out_sent_mail_whatever_the_filter() {
    let inbox_only = TrackingRule { filter: TrackFilter::All, sent_items: false };
    assert_eq!(tracked(inbox_only).len(), 8);
    let crm_inbox_only = TrackingRule { filter: TrackFilter::CrmRecords, sent_items: false };
    assert_eq!(tracked(crm_inbox_only), ["from a contact", "from an account", "from a lead"]);
}

#[test]
fn a_received_message_is_judged_by_its_sender_not_its_recipients() {
    let email = Correspondence {
        folder: Folder::Inbox,
        sender: Some(STRANGER),
        recipients: vec![CONTACT],
        in_reply_to: None,
    };
    assert!(!TrackIf::FromCrmRecord.holds(&email, &parties(), false));
    let no_reply = Correspondence { in_reply_to: None, ..email };
    assert!(!TrackIf::Responds.holds(&no_reply, &parties(), true), "not a reply at all");
}

#[test]
fn options_parse_by_name_and_map_to_server_side_syncs_values() {
    for (filter, value) in TrackFilter::ALL.into_iter().zip(0..) {
        assert_eq!(TrackFilter::parse(filter.as_str()), Some(filter));
        assert_eq!(filter.incoming_email_filtering_method(), value);
    }
    assert_eq!(TrackFilter::parse("everything"), None);
    assert_eq!(TrackingRule::default(), rule(TrackFilter::All));
}
