//! The tables, columns and codes exsync writes: email, activity parties, the party tables
//! (reference A2, A3, A10).

use crate::domain::RecordId;

/// The entity set of email activities.
pub const EMAILS: &str = "emails";

/// Email `statecode` Completed (A2; not valid on create, set by a later update).
pub const EMAIL_STATE_COMPLETED: i64 = 1;

/// The final `statuscode` of a synced email (both belong to state Completed, A2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailStatus {
    /// 3: sent from a synced mailbox.
    Sent = 3,
    /// 4: received by a synced mailbox.
    Received = 4,
}

/// `activityparty.participationtypemask` values an email uses (A2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParticipationType {
    /// 1: From.
    Sender = 1,
    /// 2: To.
    To = 2,
    /// 3: Cc.
    Cc = 3,
    /// 4: Bcc.
    Bcc = 4,
}

/// A table whose records an email address can resolve to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PartyTable {
    /// `systemuser.internalemailaddress`.
    SystemUser,
    /// `contact.emailaddress1/2/3`.
    Contact,
    /// `account.emailaddress1/2/3`.
    Account,
    /// `lead.emailaddress1`.
    Lead,
    /// `queue.emailaddress`.
    Queue,
}

impl PartyTable {
    /// Every party table, in the order server-side sync resolves a sender: the first table
    /// with a match wins (A10, `PPD:associate-email-address.md`).
    pub const RESOLUTION_ORDER: [PartyTable; 5] = [
        PartyTable::SystemUser,
        PartyTable::Contact,
        PartyTable::Account,
        PartyTable::Lead,
        PartyTable::Queue,
    ];

    /// Logical name.
    pub fn logical_name(self) -> &'static str {
        match self {
            Self::SystemUser => "systemuser",
            Self::Contact => "contact",
            Self::Account => "account",
            Self::Lead => "lead",
            Self::Queue => "queue",
        }
    }

    /// Entity set.
    pub fn entity_set(self) -> &'static str {
        match self {
            Self::SystemUser => "systemusers",
            Self::Contact => "contacts",
            Self::Account => "accounts",
            Self::Lead => "leads",
            Self::Queue => "queues",
        }
    }

    /// Primary key column.
    pub fn id_column(self) -> &'static str {
        match self {
            Self::SystemUser => "systemuserid",
            Self::Contact => "contactid",
            Self::Account => "accountid",
            Self::Lead => "leadid",
            Self::Queue => "queueid",
        }
    }

    /// The columns holding its email addresses (A3).
    pub fn email_columns(self) -> &'static [&'static str] {
        match self {
            Self::SystemUser => &["internalemailaddress"],
            Self::Contact | Self::Account => &["emailaddress1", "emailaddress2", "emailaddress3"],
            Self::Lead => &["emailaddress1"],
            Self::Queue => &["emailaddress"],
        }
    }
}

/// A record an address resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartyRef {
    /// Its table.
    pub table: PartyTable,
    /// Its id.
    pub id: RecordId,
}

impl PartyRef {
    /// The activity party property that binds it: `partyid_contact@odata.bind` (A2).
    pub fn bind_property(&self) -> String {
        format!("partyid_{}@odata.bind", self.table.logical_name())
    }

    /// The bind value: `/contacts(<id>)`.
    pub fn bind_value(&self) -> String {
        format!("/{}({})", self.table.entity_set(), self.id)
    }
}

/// A record of any table, e.g. what an email is Regarding.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecordRef {
    /// Logical name (`account`, `opportunity`).
    pub logical_name: String,
    /// Its id.
    pub id: RecordId,
}

impl RecordRef {
    /// The email property that sets it as Regarding: `regardingobjectid_account_email@odata.bind`
    /// (A2: navigation properties follow `regardingobjectid_<table>_email`).
    pub fn regarding_bind_property(&self) -> String {
        format!("regardingobjectid_{}_email@odata.bind", self.logical_name)
    }

    /// The bind value: `/accounts(<id>)`.
    pub fn bind_value(&self) -> String {
        format!("/{}({})", entity_set_name(&self.logical_name), self.id)
    }
}

/// The entity set of a table from its logical name, by the English plural Dataverse gives
/// entity sets by default (`account` -> `accounts`, `opportunity` -> `opportunities`,
/// `customeraddress` -> `customeraddresses`). A table renamed by its maker is not covered.
pub fn entity_set_name(logical_name: &str) -> String {
    let vowel_before_y = logical_name
        .strip_suffix('y')
        .and_then(|stem| stem.chars().last())
        .is_some_and(|c| "aeiou".contains(c));
    if let Some(stem) = logical_name.strip_suffix('y').filter(|_| !vowel_before_y) {
        format!("{stem}ies")
    } else if ["s", "x", "z", "ch", "sh"].iter().any(|end| logical_name.ends_with(end)) {
        format!("{logical_name}es")
    } else {
        format!("{logical_name}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_sets_follow_the_default_plural() {
        assert_eq!(entity_set_name("account"), "accounts");
        assert_eq!(entity_set_name("opportunity"), "opportunities");
        assert_eq!(entity_set_name("customeraddress"), "customeraddresses");
        assert_eq!(entity_set_name("new_survey"), "new_surveys");
        assert_eq!(entity_set_name("new_key"), "new_keys");
        for table in PartyTable::RESOLUTION_ORDER {
            assert_eq!(entity_set_name(table.logical_name()), table.entity_set());
        }
    }

    #[test]
    fn parties_and_regarding_bind_by_navigation_property() {
        let id = RecordId::from_u128(7);
        let party = PartyRef { table: PartyTable::Lead, id };
        assert_eq!(party.bind_property(), "partyid_lead@odata.bind");
        assert_eq!(party.bind_value(), format!("/leads({id})"));
        let regarding = RecordRef { logical_name: "account".into(), id };
        assert_eq!(
            regarding.regarding_bind_property(),
            "regardingobjectid_account_email@odata.bind"
        );
        assert_eq!(regarding.bind_value(), format!("/accounts({id})"));
    }
}
