//! What tests read back from the simulator: emails with their parties, request counts.

use std::collections::BTreeMap;

use uuid::Uuid;

use super::store::EntityRef;

/// Requests one application made to one environment. Every operation inside a `$batch`
/// counts on its own (reference A6/A7).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestStats {
    /// Operations executed (a `$batch` counts its operations, not itself).
    pub total: u64,
    /// HTTP requests admitted (a `$batch` is one, whatever it carries).
    pub http_requests: u64,
    /// Operations by HTTP method.
    pub by_method: BTreeMap<String, u64>,
    /// Operations by entity set (or `$batch`, `WhoAmI` for those that address none).
    pub by_entity_set: BTreeMap<String, u64>,
    /// Refused with 429, by error code (`0x80072322`, `0x80072321`, `0x80072326`).
    pub throttled: BTreeMap<String, u64>,
}

impl RequestStats {
    /// Counts one executed operation.
    pub fn count(&mut self, method: &str, entity_set: &str) {
        self.total += 1;
        *self.by_method.entry(method.to_string()).or_default() += 1;
        *self.by_entity_set.entry(entity_set.to_string()).or_default() += 1;
    }

    /// All 429 refusals.
    pub fn throttled_total(&self) -> u64 {
        self.throttled.values().sum()
    }
}

/// An email activity as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct EmailView {
    /// `activityid`.
    pub id: Uuid,
    /// `subject`.
    pub subject: Option<String>,
    /// `description` (HTML body).
    pub description: Option<String>,
    /// `messageid`.
    pub messageid: Option<String>,
    /// `directioncode`: true = outgoing.
    pub directioncode: bool,
    /// `statecode`: 0 Open, 1 Completed, 2 Canceled.
    pub statecode: i64,
    /// `statuscode`.
    pub statuscode: i64,
    /// `regardingobjectid`.
    pub regarding: Option<EntityRef>,
    /// `parentactivityid`.
    pub parent: Option<Uuid>,
    /// The activity parties, in creation order.
    pub parties: Vec<PartyView>,
    /// The attachments, in creation order.
    pub attachments: Vec<AttachmentView>,
}

/// One activity party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartyView {
    /// `participationtypemask`: 1 Sender, 2 To, 3 Cc, 4 Bcc, 5-7 attendees/organizer.
    pub mask: i64,
    /// `partyid`, none for an unresolved address.
    pub party: Option<EntityRef>,
    /// `addressused`.
    pub address: Option<String>,
}

/// One attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentView {
    /// `activitymimeattachmentid`.
    pub id: Uuid,
    /// `filename`.
    pub filename: Option<String>,
    /// `mimetype`.
    pub mimetype: Option<String>,
    /// `filesize` (decoded bytes).
    pub filesize: i64,
}
