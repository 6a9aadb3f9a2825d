//! The email table (reference A2).

use super::{
    Access, CREATE_ONLY, Collection, Kind, Nav, RO, RW, StateOption, Surface, Table,
    activities::activity_base, attr,
};

/// Email state model (PAD-ref and CED `email.md`, reference A2).
const EMAIL_STATES: &[StateOption] = &[
    StateOption {
        value: 0,
        label: "Open",
        default_status: 1,
        statuses: &[(1, "Draft"), (8, "Failed")],
    },
    StateOption {
        value: 1,
        label: "Completed",
        default_status: 2,
        statuses: &[
            (2, "Completed"),
            (3, "Sent"),
            (4, "Received"),
            (6, "Pending Send"),
            (7, "Sending"),
        ],
    },
    StateOption { value: 2, label: "Canceled", default_status: 5, statuses: &[(5, "Canceled")] },
];

/// The email activity (`PAD-ref:email.md`, CED `email.md`; reference A2).
pub(super) fn email() -> Table {
    // Subject: 800 in PAD-ref (current), 200 in CED 2017 (reference A2); we use the current.
    let (mut attrs, mut navs) = activity_base("email", 800, 1_073_741_823);
    attrs.extend([
        attr("directioncode", Kind::Boolean("Incoming", "Outgoing", Some(true)), RW),
        attr("messageid", Kind::String(320), RW),
        attr("sender", Kind::String(250), RW),
        attr("torecipients", Kind::String(500), RW),
        attr("trackingtoken", Kind::String(50), RW),
        attr("internetmessageheaders", Kind::String(500), RW),
        attr("senton", Kind::DateTime, RO),
        attr("conversationindex", Kind::String(2048), RO),
        attr("inreplyto", Kind::String(320), RO),
        attr(
            "correlationmethod",
            Kind::Picklist(
                &[
                    (0, "None"),
                    (1, "Skipped"),
                    (2, "XHeader"),
                    (3, "InReplyTo"),
                    (4, "TrackingToken"),
                    (5, "ConversationIndex"),
                    (6, "SmartMatching"),
                    (7, "CustomCorrelation"),
                ],
                None,
            ),
            RO,
        ),
        // Create-only: CED `email.md` has IsValidForUpdate False.
        attr("parentactivityid", Kind::Lookup(&["email"]), CREATE_ONLY),
        attr("correlatedactivityid", Kind::Lookup(&["email"]), RW),
        attr("receivingmailboxid", Kind::Lookup(&["mailbox"]), RW),
        attr("sendermailboxid", Kind::Lookup(&["mailbox"]), RO),
        attr("attachmentcount", Kind::Integer(0, i64::from(i32::MAX)), RO),
        attr("safedescription", Kind::Memo(1_073_741_823), RO),
        attr(
            "baseconversationindexhash",
            Kind::Integer(i64::from(i32::MIN), i64::from(i32::MAX)),
            RW,
        ),
        attr("conversationtrackingid", Kind::Guid, CREATE_ONLY),
        attr("emailtrackingid", Kind::Guid, CREATE_ONLY),
        attr(
            "notifications",
            Kind::Picklist(
                &[(0, "None"), (1, "Some attachments were not saved"), (2, "Truncated body")],
                None,
            ),
            RW,
        ),
        // "For internal use only"; IsValidForRead False (CED).
        attr("messageiddupcheck", Kind::Guid, Access { create: false, update: false, read: false }),
        attr("isduplicatesenderunresolved", Kind::Boolean("No", "Yes", None), RW),
    ]);
    navs.extend([
        Nav { name: "parentactivityid".into(), attr: "parentactivityid", target: "email" },
        Nav {
            name: "CorrelatedActivityId_Email".into(),
            attr: "correlatedactivityid",
            target: "email",
        },
        Nav {
            name: "ReceivingMailboxId_Email".into(),
            attr: "receivingmailboxid",
            target: "mailbox",
        },
        Nav { name: "sendermailboxid".into(), attr: "sendermailboxid", target: "mailbox" },
    ]);
    Table {
        logical: "email",
        set: "emails",
        key: "activityid",
        primary_name: "subject",
        state_enum: "EmailState",
        states: EMAIL_STATES,
        attrs,
        navs,
        collections: vec![
            Collection {
                name: "email_activity_parties",
                table: "activityparty",
                via: "activityid",
                deep_insert: true,
            },
            Collection {
                name: "email_activity_mime_attachment",
                table: "activitymimeattachment",
                via: "objectid",
                deep_insert: true,
            },
        ],
        surface: Surface::Full,
        activity: true,
        // Sender, To, Cc, Bcc (reference A2).
        party_masks: &[1, 2, 3, 4],
    }
}
