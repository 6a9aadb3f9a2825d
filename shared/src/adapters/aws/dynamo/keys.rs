//! The keys of the table's items (see the table design in [`super`]).

use crate::domain::{Folder, InternetMessageId, MailboxAddress, SubscriptionId};

/// Partition key attribute.
pub const PK: &str = "pk";
/// Sort key attribute.
pub const SK: &str = "sk";

/// Longest Message-ID kept verbatim in a key; longer ones are keyed by their SHA-256.
pub const MAX_MESSAGE_ID_KEY: usize = 1024;

/// The partition of a mailbox's subscriptions, cursors and pass marks.
pub fn mailbox(mailbox: &MailboxAddress) -> String {
    format!("mbx#{mailbox}")
}

/// A subscription by id.
pub fn subscription(id: &SubscriptionId) -> (String, String) {
    (format!("sub#{id}"), "subscription".into())
}

/// A subscription under its mailbox.
pub fn subscription_of(owner: &MailboxAddress, id: &SubscriptionId) -> (String, String) {
    (mailbox(owner), format!("{SUBSCRIPTION_PREFIX}{id}"))
}

/// The sort key prefix of a mailbox's subscriptions.
pub const SUBSCRIPTION_PREFIX: &str = "sub#";

/// A folder's delta cursor.
pub fn cursor(owner: &MailboxAddress, folder: Folder) -> (String, String) {
    (mailbox(owner), format!("cursor#{folder}"))
}

/// A folder's pass mark.
pub fn pass(owner: &MailboxAddress, folder: Folder) -> (String, String) {
    (mailbox(owner), format!("pass#{folder}"))
}

/// The activity of a Message-ID.
pub fn dedupe(message_id: &InternetMessageId) -> (String, String) {
    let id = message_id.as_str();
    let pk = if id.len() <= MAX_MESSAGE_ID_KEY {
        format!("msgid#{id}")
    } else {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, id.as_bytes());
        let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        format!("msgid#sha256:{hex}")
    };
    (pk, "activity".into())
}

/// The partition of every mailbox status.
pub const STATUS_PARTITION: &str = "status";

/// A mailbox's status.
pub fn status(owner: &MailboxAddress) -> (String, String) {
    (STATUS_PARTITION.into(), mailbox(owner))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_message_id_is_keyed_by_its_digest_and_others_verbatim() {
        let short = InternetMessageId::parse("<a@b.example>").unwrap();
        assert_eq!(dedupe(&short).0, "msgid#<a@b.example>");
        let long = InternetMessageId::parse(format!("<{}@b.example>", "x".repeat(3000))).unwrap();
        let (pk, _) = dedupe(&long);
        assert!(pk.starts_with("msgid#sha256:") && pk.len() == 13 + 64, "{pk}");
        let other = InternetMessageId::parse(format!("<{}@b.example>", "y".repeat(3000))).unwrap();
        assert_ne!(dedupe(&other).0, pk);
    }
}
