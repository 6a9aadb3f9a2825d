//! The rule on decrypted messages: what `notify` decides without Graph or Dataverse.

use serde_json::json;
use time::macros::datetime;

use super::*;

fn message(value: serde_json::Value) -> Message {
    let mut value = value;
    value["id"] = "AAMk1".into();
    serde_json::from_value(value).unwrap()
}

fn from(address: &str) -> serde_json::Value {
    json!({"emailAddress": {"address": address}})
}

fn received(sender: &str) -> Message {
    message(json!({
        "receivedDateTime": "2026-06-01T10:00:00Z",
        "from": from(sender),
        "toRecipients": [from("alice@fabrikam.example")],
        "internetMessageHeaders": [{"name": "Subject", "value": "x"}],
    }))
}

fn judge(rule: FirstLook, folder: Folder, message: &Message) -> Judgement {
    judge_message(None, rule, folder, message)
}

#[test]
fn a_rule_that_needs_dataverse_screens_only_the_counterpart() {
    let j = judge(FirstLook::If(TrackIf::FromCrmRecord), Folder::Inbox, &received("m@x.example"));
    let Judgement::Screen(s) = j else { panic!("{j:?}") };
    assert_eq!((s.sender.as_deref(), s.recipients.len()), (Some("m@x.example"), 0));
    let sent = message(json!({
        "receivedDateTime": "2026-06-01T10:00:00Z",
        "from": from("alice@fabrikam.example"),
        "toRecipients": [from("a@x.example")],
        "ccRecipients": [from("b@x.example")],
    }));
    let j = judge(FirstLook::If(TrackIf::FromEmailEnabled), Folder::SentItems, &sent);
    let Judgement::Screen(s) = j else { panic!("{j:?}") };
    assert_eq!((s.sender, s.recipients), (None, vec!["a@x.example".into(), "b@x.example".into()]));
}

#[test]
fn decided_without_dataverse_all_none_drafts_and_old_mail() {
    let m = received("m@x.example");
    assert_eq!(judge(FirstLook::Tracked, Folder::Inbox, &m), Judgement::Pass);
    let none = FirstLook::Untracked("the rule tracks no email");
    assert_eq!(judge(none, Folder::Inbox, &m), Judgement::Untracked("the rule tracks no email"));
    let draft = message(json!({"receivedDateTime": "2026-06-01T10:00:00Z", "isDraft": true}));
    assert_eq!(judge(FirstLook::Tracked, Folder::Inbox, &draft), Judgement::Untracked("a draft"));
    let later = Some(datetime!(2026-07-01 0:00 UTC));
    assert!(matches!(
        judge_message(later, FirstLook::Tracked, Folder::Inbox, &m),
        Judgement::Untracked(_)
    ));
}

#[test]
fn responses_need_an_in_reply_to_and_headers_to_tell() {
    let rule = FirstLook::If(TrackIf::Responds);
    assert_eq!(
        judge(rule, Folder::Inbox, &received("m@x.example")),
        Judgement::Untracked("not a reply")
    );
    let no_headers =
        message(json!({"receivedDateTime": "2026-06-01T10:00:00Z", "from": from("m@x.example")}));
    assert_eq!(judge(rule, Folder::Inbox, &no_headers), Judgement::Pass, "cannot tell: read it");
    let reply = message(json!({
        "receivedDateTime": "2026-06-01T10:00:00Z",
        "from": from("m@x.example"),
        "internetMessageHeaders": [{"name": "In-Reply-To", "value": "<p@fabrikam.example>"}],
    }));
    let Judgement::Screen(s) = judge(rule, Folder::Inbox, &reply) else { panic!() };
    assert_eq!(s.in_reply_to.unwrap().as_str(), "<p@fabrikam.example>");
    assert_eq!((s.sender, s.recipients.len()), (None, 0), "a response carries no addresses");
}

#[test]
fn what_the_content_leaves_out_is_read_rather_than_guessed() {
    let no_sender = message(json!({"receivedDateTime": "2026-06-01T10:00:00Z"}));
    let rule = FirstLook::If(TrackIf::FromCrmRecord);
    assert_eq!(judge(rule, Folder::Inbox, &no_sender), Judgement::Pass);
    let no_date = message(json!({"from": from("m@x.example")}));
    assert_eq!(judge(rule, Folder::Inbox, &no_date), Judgement::Pass);
    let crowd: Vec<_> =
        (0..=MAX_SCREENED_ADDRESSES).map(|i| from(&format!("r{i}@x.example"))).collect();
    let mass = message(json!({"receivedDateTime": "2026-06-01T10:00:00Z", "toRecipients": crowd}));
    assert_eq!(judge(rule, Folder::SentItems, &mass), Judgement::Pass);
}
