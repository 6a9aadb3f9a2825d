//! The tracking rule: which mail of a mailbox becomes an email activity, as server-side sync
//! decides it (reference dataverse-entra.md A9, A10; anchors.md 2.4).
//!
//! Server-side sync filters incoming mail per user or queue with "Track email messages"
//! (`incomingemailfilteringmethod`: 0 all, 1 responses to Dynamics 365 email, 2 from leads,
//! contacts and accounts, 3 from email-enabled records, 4 none) and applies the same filter to
//! Sent Items only when the organisation setting `AutoTrackSentFolderItems` is on. exsync
//! reads both from the configuration ([`TrackingRule`]), per profile and per mailbox.
//!
//! A rule is decided in two steps, so that untracked mail costs as little as possible:
//! - [`TrackingRule::first_look`] needs only the folder: "all", "none" and Sent Items off are
//!   decided at once (in `notify` for rich notifications, in the folder pass otherwise);
//! - what is left is a [`TrackIf`] condition that needs Dataverse (the parties an address
//!   resolves to, or whether the email it answers is tracked). It travels with the job and is
//!   decided where those lookups are made anyway: `write`, or the `screen` job of a rich
//!   notification.

use serde::{Deserialize, Serialize};

use crate::{
    dataverse::{model::PartyTable, parties::PartyMatches},
    domain::{Folder, InternetMessageId},
    model::EmailRecord,
};

/// Server-side sync's "Track email messages" option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TrackFilter {
    /// 0: all email messages (exsync's default, its behaviour before the rule existed).
    #[default]
    All,
    /// 1: messages in response to Dynamics 365 email: the email it replies to is tracked.
    Responses,
    /// 2: messages from Dynamics 365 leads, contacts and accounts.
    CrmRecords,
    /// 3: messages from Dynamics 365 records that are email enabled (users and queues too).
    EmailEnabled,
    /// 4: no email messages.
    None,
}

impl TrackFilter {
    /// Every option, in server-side sync's order.
    pub const ALL: [TrackFilter; 5] = [
        TrackFilter::All,
        TrackFilter::Responses,
        TrackFilter::CrmRecords,
        TrackFilter::EmailEnabled,
        TrackFilter::None,
    ];

    /// The configuration's name of the option.
    pub fn as_str(self) -> &'static str {
        match self {
            TrackFilter::All => "all",
            TrackFilter::Responses => "responses",
            TrackFilter::CrmRecords => "crm-records",
            TrackFilter::EmailEnabled => "email-enabled",
            TrackFilter::None => "none",
        }
    }

    /// The option named `name` in the configuration.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == name.trim())
    }

    /// Server-side sync's value of the option (`incomingemailfilteringmethod`, A9).
    pub fn incoming_email_filtering_method(self) -> u8 {
        match self {
            TrackFilter::All => 0,
            TrackFilter::Responses => 1,
            TrackFilter::CrmRecords => 2,
            TrackFilter::EmailEnabled => 3,
            TrackFilter::None => 4,
        }
    }
}

/// A mailbox's tracking rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TrackingRule {
    /// Which messages are tracked.
    pub filter: TrackFilter,
    /// Whether Sent Items are tracked too, with the same filter (`AutoTrackSentFolderItems`).
    pub sent_items: bool,
}

impl Default for TrackingRule {
    /// Everything, Sent Items included: exsync's behaviour before the rule existed.
    fn default() -> Self {
        Self { filter: TrackFilter::All, sent_items: true }
    }
}

/// What the folder alone says about a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstLook {
    /// Tracked, whatever it says.
    Tracked,
    /// Not tracked, whatever it says; the reason is for logs.
    Untracked(&'static str),
    /// Tracked if the condition holds.
    If(TrackIf),
}

/// A condition that needs Dataverse to be decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackIf {
    /// The email it replies to (In-Reply-To) is tracked ("responses").
    Responds,
    /// Its counterpart is a contact, account or lead ("crm-records").
    FromCrmRecord,
    /// Its counterpart is any email-enabled record: user, queue, contact, account, lead
    /// ("email-enabled").
    FromEmailEnabled,
}

impl TrackingRule {
    /// Decides what the folder alone can decide.
    pub fn first_look(&self, folder: Folder) -> FirstLook {
        if folder == Folder::SentItems && !self.sent_items {
            return FirstLook::Untracked("Sent Items are not tracked");
        }
        match self.filter {
            TrackFilter::All => FirstLook::Tracked,
            TrackFilter::None => FirstLook::Untracked("the rule tracks no email"),
            TrackFilter::Responses => FirstLook::If(TrackIf::Responds),
            TrackFilter::CrmRecords => FirstLook::If(TrackIf::FromCrmRecord),
            TrackFilter::EmailEnabled => FirstLook::If(TrackIf::FromEmailEnabled),
        }
    }
}

/// The facts of an email a condition looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correspondence<'a> {
    /// Inbox: received, so the sender counts; Sent Items: sent, so the recipients count.
    pub folder: Folder,
    /// The sender's address.
    pub sender: Option<&'a str>,
    /// To, Cc and Bcc addresses.
    pub recipients: Vec<&'a str>,
    /// The Message-ID it replies to.
    pub in_reply_to: Option<&'a str>,
}

impl<'a> Correspondence<'a> {
    /// The facts of a mapped email.
    pub fn of(email: &'a EmailRecord) -> Self {
        Self {
            folder: email.folder,
            sender: email.from.as_ref().map(|a| a.address.as_str()),
            recipients: email
                .to
                .iter()
                .chain(&email.cc)
                .chain(&email.bcc)
                .map(|a| a.address.as_str())
                .collect(),
            in_reply_to: email.in_reply_to.as_ref().map(InternetMessageId::as_str),
        }
    }

    /// The addresses whose records decide "from a record": the sender of received mail, the
    /// recipients of sent mail.
    pub fn counterparts(&self) -> Vec<&'a str> {
        match self.folder {
            Folder::Inbox => self.sender.into_iter().collect(),
            Folder::SentItems => self.recipients.clone(),
        }
    }
}

impl TrackIf {
    /// Whether the condition holds for `email`, given the records its addresses resolved to
    /// and whether the email it replies to is tracked (in Dataverse, or written with it).
    pub fn holds(
        self,
        email: &Correspondence,
        parties: &PartyMatches,
        parent_tracked: bool,
    ) -> bool {
        let counterpart_in = |tables: &[PartyTable]| {
            email
                .counterparts()
                .iter()
                .any(|address| parties.all(address).iter().any(|p| tables.contains(&p.table)))
        };
        match self {
            TrackIf::Responds => email.in_reply_to.is_some() && parent_tracked,
            TrackIf::FromCrmRecord => {
                counterpart_in(&[PartyTable::Contact, PartyTable::Account, PartyTable::Lead])
            }
            TrackIf::FromEmailEnabled => counterpart_in(&PartyTable::RESOLUTION_ORDER),
        }
    }

    /// The configuration's name of the filter this condition comes from.
    pub fn filter(self) -> TrackFilter {
        match self {
            TrackIf::Responds => TrackFilter::Responses,
            TrackIf::FromCrmRecord => TrackFilter::CrmRecords,
            TrackIf::FromEmailEnabled => TrackFilter::EmailEnabled,
        }
    }
}

/// What a rich notification told about a message, for a `screen` job to decide its
/// condition before any Graph read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Screening {
    /// The condition to decide.
    pub track_if: TrackIf,
    /// The sender's address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
    /// To, Cc and Bcc addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<String>,
    /// The Message-ID it replies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<InternetMessageId>,
}

impl Screening {
    /// The facts, for a message of `folder`.
    pub fn correspondence(&self, folder: Folder) -> Correspondence<'_> {
        Correspondence {
            folder,
            sender: self.sender.as_deref(),
            recipients: self.recipients.iter().map(String::as_str).collect(),
            in_reply_to: self.in_reply_to.as_ref().map(InternetMessageId::as_str),
        }
    }
}

#[cfg(test)]
mod tests;
