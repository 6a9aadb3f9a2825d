//! Activity parties as the tests compare them: (role, record, address used), in a stable order.

use exsync_sim::dataverse::{EmailView, Env};
use uuid::Uuid;

/// The outside world of the demo organisation (see `exsync_sim::scenario::CORRESPONDENTS`).
pub const MARIA: &str = "maria.garcia@adventure-works.example"; // a contact
pub const LITWARE: &str = "orders@litware.example"; // an account
pub const RAVI: &str = "ravi.patel@wingtip.example"; // a lead
pub const TAILSPIN: &str = "info@tailspin.example"; // an account and a contact
pub const SUPPORT: &str = "support@northwind.example"; // a queue
pub const DIGEST: &str = "digest@newsletter.example"; // unknown to Dataverse

/// `participationtypemask` values (reference A2).
pub const SENDER: i64 = 1;
pub const TO: i64 = 2;
pub const CC: i64 = 3;

/// One activity party: role, `(table, id)` it resolved to (none: unresolved), address used.
pub type Party = (i64, Option<(&'static str, Uuid)>, String);

/// The parties of an email, sorted.
pub fn parties(email: &EmailView) -> Vec<Party> {
    let mut parties: Vec<Party> = email
        .parties
        .iter()
        .map(|p| {
            (
                p.mask,
                p.party.as_ref().map(|r| (r.table, r.id)),
                p.address.clone().unwrap_or_default().to_lowercase(),
            )
        })
        .collect();
    parties.sort();
    parties
}

/// Sorts an expected list the same way.
pub fn sorted(mut parties: Vec<Party>) -> Vec<Party> {
    for p in &mut parties {
        p.2 = p.2.to_lowercase();
    }
    parties.sort();
    parties
}

/// A party resolved to a record of `table` found by address.
pub fn resolved(env: &Env, mask: i64, table: &'static str, address: &str) -> Party {
    (mask, Some((table, id_of(env, table, address))), address.to_string())
}

/// A party nobody matched: only the address.
pub fn unresolved(mask: i64, address: &str) -> Party {
    (mask, None, address.to_string())
}

/// The id of the record of `table` whose primary email is `address`.
pub fn id_of(env: &Env, table: &str, address: &str) -> Uuid {
    let (set, column) = match table {
        "systemuser" => ("systemusers", "internalemailaddress"),
        "contact" => ("contacts", "emailaddress1"),
        "account" => ("accounts", "emailaddress1"),
        "lead" => ("leads", "emailaddress1"),
        "queue" => ("queues", "emailaddress"),
        other => panic!("no party table {other}"),
    };
    let key = format!("{table}id");
    let matches: Vec<Uuid> = env
        .records(set)
        .iter()
        .filter(|r| r[column].as_str().is_some_and(|a| a.eq_ignore_ascii_case(address)))
        .map(|r| r[key.as_str()].as_str().expect("a primary key").parse().expect("a GUID"))
        .collect();
    assert_eq!(matches.len(), 1, "one {table} with {address}");
    matches[0]
}
