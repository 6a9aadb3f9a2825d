//! Queue messages: one versioned serde enum. Handling a job twice has the effect of once.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    domain::{Folder, MailboxAddress, SubscriptionId},
    model::EmailRecord,
    tracking::{Screening, TrackIf},
};

/// The queues that connect the functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QueueName {
    /// Folder passes for `sync` (from notifications, polls and sweeps).
    Changes,
    /// Emails for `write` to put in Dataverse, and rich notifications to screen against
    /// Dataverse before their folder is read (both need Dataverse, not Graph).
    Writes,
    /// Subscription upkeep and lifecycle events for `subscribe`.
    Subscriptions,
}

impl QueueName {
    /// Every queue.
    pub const ALL: [QueueName; 3] =
        [QueueName::Changes, QueueName::Writes, QueueName::Subscriptions];

    /// Stable name, used in tables and resource names.
    pub fn as_str(self) -> &'static str {
        match self {
            QueueName::Changes => "changes",
            QueueName::Writes => "writes",
            QueueName::Subscriptions => "subscriptions",
        }
    }
}

/// Why a folder pass runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// A change notification for the folder.
    Notification,
    /// The poll timer (no public URL for webhooks).
    Poll,
    /// The safety-net sweep, or `sync --once`.
    Sweep,
    /// A lifecycle event (`missed`, `subscriptionRemoved`) asked for a catch-up.
    Lifecycle,
}

/// A Graph lifecycle event (reference graph.md section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum LifecycleEvent {
    /// Reauthorize (or renew) the subscription.
    ReauthorizationRequired,
    /// The subscription is gone: recreate it and catch up.
    SubscriptionRemoved,
    /// Notifications were lost: catch up.
    Missed,
}

/// Work for one of the functions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Job {
    /// Run the delta pass of one folder of one mailbox.
    SyncFolder {
        /// The mailbox.
        mailbox: MailboxAddress,
        /// The folder.
        folder: Folder,
        /// Why.
        trigger: Trigger,
        /// The pass-mark ticket this pass answers (`PassStore`); 0: none (a pass no trigger
        /// waits for, or a job of an earlier version).
        #[serde(default, skip_serializing_if = "is_zero")]
        ticket: u64,
    },
    /// Write one email into Dataverse (once, whichever mailboxes saw it).
    WriteEmail {
        /// The mailbox it was found in.
        mailbox: MailboxAddress,
        /// The email.
        email: Box<EmailRecord>,
        /// The tracking condition left for `write` to decide with its Dataverse lookups;
        /// none: tracked (absent in jobs of earlier versions, which tracked everything).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        track_if: Option<TrackIf>,
    },
    /// Decide with Dataverse whether a message a rich notification announced is tracked, and
    /// only then ask for its folder's pass: untracked mail costs no Graph read.
    Screen {
        /// The mailbox.
        mailbox: MailboxAddress,
        /// The folder the notification's subscription covers.
        folder: Folder,
        /// What the notification told, and the condition to decide.
        screening: Box<Screening>,
    },
    /// Make sure a mailbox's subscriptions exist and are fresh.
    EnsureSubscriptions {
        /// The mailbox.
        mailbox: MailboxAddress,
    },
    /// React to a lifecycle notification.
    Lifecycle {
        /// The subscription it is about.
        subscription: SubscriptionId,
        /// What happened.
        event: LifecycleEvent,
    },
}

impl Job {
    /// The queue this job travels on.
    pub fn queue(&self) -> QueueName {
        match self {
            Job::SyncFolder { .. } => QueueName::Changes,
            Job::WriteEmail { .. } | Job::Screen { .. } => QueueName::Writes,
            Job::EnsureSubscriptions { .. } | Job::Lifecycle { .. } => QueueName::Subscriptions,
        }
    }

    /// The mailbox the job is about, when it is about one.
    pub fn mailbox(&self) -> Option<&MailboxAddress> {
        match self {
            Job::SyncFolder { mailbox, .. }
            | Job::WriteEmail { mailbox, .. }
            | Job::Screen { mailbox, .. }
            | Job::EnsureSubscriptions { mailbox } => Some(mailbox),
            Job::Lifecycle { .. } => None,
        }
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A job on the wire, versioned so that a deployment can drain messages of the previous one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "v")]
pub enum Envelope {
    /// Version 1.
    #[serde(rename = "1")]
    V1 {
        /// Unique per enqueue of a logical job; kept across retries (trace id in logs).
        id: Uuid,
        /// How many times it was attempted and failed (throttling delays do not count).
        attempt: u32,
        /// The job.
        job: Job,
    },
}

impl Envelope {
    /// A fresh envelope for a new job.
    pub fn new(job: Job) -> Self {
        Envelope::V1 { id: Uuid::new_v4(), attempt: 0, job }
    }

    /// The job.
    pub fn job(&self) -> &Job {
        let Envelope::V1 { job, .. } = self;
        job
    }

    /// The trace id.
    pub fn id(&self) -> Uuid {
        let Envelope::V1 { id, .. } = self;
        *id
    }

    /// Failed attempts so far.
    pub fn attempt(&self) -> u32 {
        let Envelope::V1 { attempt, .. } = self;
        *attempt
    }

    /// The same job, one failed attempt later.
    pub fn retried(&self) -> Self {
        let Envelope::V1 { id, attempt, job } = self.clone();
        Envelope::V1 { id, attempt: attempt + 1, job }
    }

    /// Serialises to the queue body.
    pub fn to_body(&self) -> String {
        serde_json::to_string(self).expect("jobs serialise")
    }

    /// Parses a queue body; the error says why it is unreadable (for the dead-letter reason).
    pub fn from_body(body: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_keep_their_wire_shape() {
        let mailbox = MailboxAddress::parse("alice@fabrikam.example").unwrap();
        let envelope = Envelope::V1 {
            id: Uuid::nil(),
            attempt: 2,
            job: Job::SyncFolder {
                mailbox,
                folder: Folder::Inbox,
                trigger: Trigger::Notification,
                ticket: 0,
            },
        };
        let body = envelope.to_body();
        assert_eq!(
            body,
            r#"{"v":"1","id":"00000000-0000-0000-0000-000000000000","attempt":2,"job":{"type":"sync_folder","mailbox":"alice@fabrikam.example","folder":"inbox","trigger":"notification"}}"#
        );
        assert_eq!(Envelope::from_body(&body).unwrap(), envelope);
        assert_eq!(envelope.job().queue(), QueueName::Changes);
    }

    #[test]
    fn a_pass_carries_its_ticket_and_one_of_an_earlier_version_has_none() {
        let mailbox = MailboxAddress::parse("alice@fabrikam.example").unwrap();
        let job =
            Job::SyncFolder { mailbox, folder: Folder::Inbox, trigger: Trigger::Sweep, ticket: 7 };
        let body = Envelope::new(job.clone()).to_body();
        assert!(body.contains(r#""ticket":7"#), "{body}");
        assert_eq!(Envelope::from_body(&body).unwrap().job(), &job);
        // The wire shape of `jobs_keep_their_wire_shape`: what earlier versions enqueued.
        let old = r#"{"v":"1","id":"00000000-0000-0000-0000-000000000000","attempt":0,"job":{"type":"sync_folder","mailbox":"a@b.example","folder":"inbox","trigger":"poll"}}"#;
        let Job::SyncFolder { ticket, .. } = Envelope::from_body(old).unwrap().job().clone() else {
            panic!("a pass");
        };
        assert_eq!(ticket, 0);
    }

    #[test]
    fn a_write_job_of_an_earlier_version_is_tracked_and_conditions_travel() {
        let email = r#"{"graph_id":"AAMk1","folder":"inbox","internet_message_id":null,"subject":"","body_html":"","from":null,"to":[],"cc":[],"bcc":[],"received_at":"2026-01-01T00:00:00Z"}"#;
        let old = format!(
            r#"{{"v":"1","id":"00000000-0000-0000-0000-000000000000","attempt":0,"job":{{"type":"write_email","mailbox":"a@b.example","email":{email}}}}}"#
        );
        let Job::WriteEmail { track_if, .. } = Envelope::from_body(&old).unwrap().job().clone()
        else {
            panic!("a write job");
        };
        assert_eq!(track_if, None);
        let screen = Envelope::new(Job::Screen {
            mailbox: MailboxAddress::parse("a@b.example").unwrap(),
            folder: Folder::Inbox,
            screening: Box::new(Screening {
                track_if: TrackIf::FromCrmRecord,
                sender: Some("x@y.example".into()),
                recipients: vec![],
                in_reply_to: None,
            }),
        });
        let body = screen.to_body();
        assert!(body.contains(r#""track_if":"from_crm_record""#), "{body}");
        assert_eq!(Envelope::from_body(&body).unwrap(), screen);
        assert_eq!(screen.job().queue(), QueueName::Writes);
    }

    #[test]
    fn unknown_versions_and_bad_ids_are_unreadable() {
        assert!(
            Envelope::from_body(
                r#"{"v":"9","id":"00000000-0000-0000-0000-000000000000","attempt":0,"job":{}}"#
            )
            .is_err()
        );
        let bad_mailbox = r#"{"v":"1","id":"00000000-0000-0000-0000-000000000000","attempt":0,"job":{"type":"ensure_subscriptions","mailbox":"nope"}}"#;
        assert!(
            Envelope::from_body(bad_mailbox).unwrap_err().to_string().contains("mailbox address")
        );
    }
}
