//! The nouns of exsync as types that cannot be wrong: ids are parsed once, at the edge.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a value could not become one of the domain types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} {value:?} is not valid: {why}")]
pub struct InvalidId {
    what: &'static str,
    value: String,
    why: &'static str,
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $what:literal, $check:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses and normalises `value`.
            pub fn parse(value: impl Into<String>) -> Result<Self, InvalidId> {
                let value: String = value.into();
                let check: fn(&str) -> Result<String, &'static str> = $check;
                check(value.trim())
                    .map(Self)
                    .map_err(|why| InvalidId { what: $what, value, why })
            }

            /// The normalised text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(value: String) -> Result<Self, InvalidId> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

fn guid_or_domain(v: &str) -> Result<String, &'static str> {
    // Entra accepts a tenant GUID or a verified domain; azure_identity allows only
    // alphanumerics, '.' and '-' (crates.md section 2).
    if v.is_empty() {
        return Err("it is empty");
    }
    if !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-') {
        return Err("use the directory (tenant) GUID or a verified domain name");
    }
    if ["common", "organizations", "consumers"].contains(&v.to_ascii_lowercase().as_str()) {
        return Err("client credentials need a specific tenant, not a multi-tenant alias");
    }
    Ok(v.to_ascii_lowercase())
}

fn guid(v: &str) -> Result<String, &'static str> {
    uuid::Uuid::parse_str(v)
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| "expected a GUID such as 00000000-0000-0000-0000-000000000000")
}

fn address(v: &str) -> Result<String, &'static str> {
    let (local, domain) = v.rsplit_once('@').ok_or("an email address needs an '@'")?;
    if local.is_empty() || domain.is_empty() || !domain.contains('.') && domain != "localhost" {
        return Err("expected local@domain");
    }
    if v.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>') {
        return Err("an email address has no spaces or angle brackets");
    }
    Ok(v.to_ascii_lowercase())
}

fn non_empty(v: &str) -> Result<String, &'static str> {
    if v.is_empty() { Err("it is empty") } else { Ok(v.to_string()) }
}

string_id!(
    /// A Microsoft Entra tenant: directory GUID or verified domain, lower case.
    TenantId, "tenant id", guid_or_domain
);
string_id!(
    /// An application (client) id: a GUID.
    ClientId, "client id", guid
);
string_id!(
    /// A mailbox's primary SMTP address (or UPN), lower case: the key of a synced mailbox.
    MailboxAddress, "mailbox address", address
);
string_id!(
    /// The name of an email server profile in the configuration.
    ProfileName, "profile name", non_empty
);
string_id!(
    /// A Graph subscription id.
    SubscriptionId, "subscription id", non_empty
);
string_id!(
    /// A Graph item id (immutable: requested with `Prefer: IdType="ImmutableId"`).
    GraphItemId, "Graph item id", non_empty
);
string_id!(
    /// An RFC 5322 Message-ID as Graph gives it (`<...@...>`), kept verbatim: the key that
    /// makes one email seen by several mailboxes one activity.
    InternetMessageId, "Internet Message-ID", non_empty
);

/// A Dataverse record id (GUID).
pub type RecordId = uuid::Uuid;

/// The mail folders exsync tracks, as server-side sync does (root Inbox, Sent Items).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Folder {
    /// Received mail.
    Inbox,
    /// Mail sent from the mailbox.
    SentItems,
}

impl Folder {
    /// Every tracked folder.
    pub const ALL: [Folder; 2] = [Folder::Inbox, Folder::SentItems];

    /// Graph's well-known folder name.
    pub fn well_known_name(self) -> &'static str {
        match self {
            Folder::Inbox => "inbox",
            Folder::SentItems => "sentitems",
        }
    }

    /// Parses a well-known folder name (case-insensitive).
    pub fn from_well_known_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.well_known_name().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Folder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.well_known_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_tenants_are_normalised_and_checked() {
        assert_eq!(
            MailboxAddress::parse(" Alice@Fabrikam.Example ").unwrap().as_str(),
            "alice@fabrikam.example"
        );
        assert!(MailboxAddress::parse("alice").is_err());
        assert!(MailboxAddress::parse("a b@x.com").is_err());
        assert_eq!(
            TenantId::parse("Fabrikam.onmicrosoft.com").unwrap().as_str(),
            "fabrikam.onmicrosoft.com"
        );
        assert!(TenantId::parse("common").is_err());
        assert!(TenantId::parse("a/b").is_err());
        let err = ClientId::parse("nope").unwrap_err().to_string();
        assert!(err.contains("client id \"nope\" is not valid"), "{err}");
    }

    #[test]
    fn ids_round_trip_through_serde_and_refuse_bad_input() {
        let id: MailboxAddress = serde_json::from_str("\"Bob@Contoso.Example\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"bob@contoso.example\"");
        assert!(serde_json::from_str::<ClientId>("\"x\"").is_err());
    }
}
