use time::OffsetDateTime;

use super::*;
use crate::{
    dataverse::ApiError,
    domain::{Folder, GraphItemId, InternetMessageId},
    model::Importance,
};

fn email() -> EmailRecord {
    EmailRecord {
        graph_id: GraphItemId::parse("AAMk1").unwrap(),
        folder: Folder::Inbox,
        internet_message_id: Some(InternetMessageId::parse("<m@x>").unwrap()),
        subject: String::new(),
        body_html: String::new(),
        body_omitted: false,
        from: None,
        to: vec![],
        cc: vec![],
        bcc: vec![],
        received_at: OffsetDateTime::UNIX_EPOCH,
        sent_at: None,
        in_reply_to: None,
        conversation_id: None,
        conversation_index: None,
        importance: Importance::Normal,
        has_attachments: false,
    }
}

fn api(status: u16, body: &str) -> DataverseError {
    let retry_after = Some(std::time::Duration::from_secs(3));
    DataverseError::Api {
        operation: "create email".into(),
        api: ApiError::parse(status, retry_after, body),
    }
}

#[test]
fn a_refused_email_is_poison_and_its_reason_names_the_field() {
    let mailbox = MailboxAddress::parse("alice@corp.example").unwrap();
    let refused = api(
        400,
        r#"{"error":{"code":"0x80044331","message":"A validation error occurred.  The length of the 'subject' attribute of the 'email' entity exceeded the maximum allowed length of '800'."}}"#,
    );
    let Outcome::Failed { reason, retryable: false } = failure(&mailbox, &email(), &refused) else {
        panic!("not poison");
    };
    assert!(
        reason.starts_with(
            "Dataverse refused email <m@x> of mailbox alice@corp.example (field subject): "
        ),
        "{reason}"
    );
}

#[test]
fn throttling_waits_and_outages_and_missing_privileges_are_retried() {
    let mailbox = MailboxAddress::parse("alice@corp.example").unwrap();
    let throttled = failure(&mailbox, &email(), &api(429, r#"{"error":{"code":"0x80072326"}}"#));
    assert!(matches!(throttled, Outcome::Throttled { after, .. } if after.as_secs() == 3));
    let outage = failure(&mailbox, &email(), &api(503, ""));
    assert!(matches!(outage, Outcome::Failed { retryable: true, .. }));
    let Outcome::Failed { reason, retryable: true } = failure(&mailbox, &email(), &api(403, "{}"))
    else {
        panic!("an email blocked on a privilege is kept for retry");
    };
    assert!(reason.contains("security role"), "{reason}");
}
