//! Activity tables: email, appointment, task, the activitypointer view, activityparty and
//! activitymimeattachment (reference A2, A3).

use super::{
    Attr, CREATE_ONLY, Collection, Kind, Nav, RO, RW, StateOption, Surface, Table, attr, owner,
    required, state_columns, system_columns,
};

/// Tables a `regardingobjectid` may point at. PAD-ref lists more depending on the solutions
/// installed; these are the ones exsync uses (account/contact in base Dataverse, lead with Sales).
const REGARDING: &[&str] = &["account", "contact", "lead"];

/// Party tables (`PAD-ref:activityparty.md`: account, contact, queue, systemuser; lead with Sales).
const PARTIES: &[&str] = &["account", "contact", "lead", "queue", "systemuser"];

/// `participationtypemask` options (`PAD-ref:activityparty.md`).
const MASKS: &[(i64, &str)] = &[
    (1, "Sender"),
    (2, "To Recipient"),
    (3, "CC Recipient"),
    (4, "BCC Recipient"),
    (5, "Required attendee"),
    (6, "Optional attendee"),
    (7, "Organizer"),
    (8, "Regarding"),
    (9, "Owner"),
    (10, "Resource"),
    (11, "Customer"),
    (12, "Chat Participant"),
];

const PRIORITY: &[(i64, &str)] = &[(0, "Low"), (1, "Normal"), (2, "High")];

/// Appointment state model (`PAD-ref:appointment.md`, reference A3).
const APPOINTMENT_STATES: &[StateOption] = &[
    StateOption {
        value: 0,
        label: "Open",
        default_status: 1,
        statuses: &[(1, "Free"), (2, "Tentative")],
    },
    StateOption { value: 1, label: "Completed", default_status: 3, statuses: &[(3, "Completed")] },
    StateOption { value: 2, label: "Canceled", default_status: 4, statuses: &[(4, "Canceled")] },
    StateOption {
        value: 3,
        label: "Scheduled",
        default_status: 5,
        statuses: &[(5, "Busy"), (6, "Out of Office")],
    },
];

/// Task state model (`PAD-ref:task.md`, reference A3).
const TASK_STATES: &[StateOption] = &[
    StateOption {
        value: 0,
        label: "Open",
        default_status: 2,
        statuses: &[
            (2, "Not Started"),
            (3, "In Progress"),
            (4, "Waiting on someone else"),
            (7, "Deferred"),
        ],
    },
    StateOption { value: 1, label: "Completed", default_status: 5, statuses: &[(5, "Completed")] },
    StateOption { value: 2, label: "Canceled", default_status: 6, statuses: &[(6, "Canceled")] },
];

/// The activity tables and their satellites (parties, attachments, the pointer view).
pub(super) fn tables() -> Vec<Table> {
    vec![
        super::email::email(),
        appointment(),
        task(),
        activitypointer(),
        activityparty(),
        attachment(),
    ]
}

/// The columns and navigation properties every activity shares.
pub(super) fn activity_base(
    logical: &'static str,
    subject: usize,
    description: usize,
) -> (Vec<Attr>, Vec<Nav>) {
    let mut attrs = system_columns("activityid");
    let mut navs = Vec::new();
    attrs.extend([
        attr("subject", Kind::String(subject), RW),
        attr("description", Kind::Memo(description), RW),
        attr("actualstart", Kind::DateTime, RW),
        attr("actualend", Kind::DateTime, RW),
        attr("scheduledstart", Kind::DateTime, RW),
        attr("scheduledend", Kind::DateTime, RW),
        attr("prioritycode", Kind::Picklist(PRIORITY, Some(1)), RW),
        attr("activitytypecode", Kind::EntityName(&["email", "appointment", "task"]), RO),
        attr("regardingobjectid", Kind::Lookup(REGARDING), RW),
    ]);
    state_columns(&mut attrs);
    owner(&mut attrs, &mut navs);
    // `regardingobjectid_<table>_<activity>` (PAD-ref email.md, task.md; reference A2/A3).
    navs.extend(REGARDING.iter().map(|t| Nav {
        name: format!("regardingobjectid_{t}_{logical}"),
        attr: "regardingobjectid",
        target: t,
    }));
    (attrs, navs)
}

fn appointment() -> Table {
    let (mut attrs, navs) = activity_base("appointment", 200, 1_048_576);
    attrs.extend([
        attr("location", Kind::String(200), RW),
        attr("isalldayevent", Kind::Boolean("No", "Yes", Some(false)), RW),
        attr("globalobjectid", Kind::String(300), RW),
        attr("outlookownerapptid", Kind::Integer(i64::from(i32::MIN), i64::from(i32::MAX)), RW),
        attr(
            "instancetypecode",
            Kind::Picklist(
                &[
                    (0, "Not Recurring"),
                    (1, "Recurring Master"),
                    (2, "Recurring Instance"),
                    (3, "Recurring Exception"),
                    (4, "Recurring Future Exception"),
                ],
                Some(0),
            ),
            RO,
        ),
    ]);
    Table {
        logical: "appointment",
        set: "appointments",
        key: "activityid",
        primary_name: "subject",
        state_enum: "AppointmentState",
        states: APPOINTMENT_STATES,
        attrs,
        navs,
        collections: vec![
            Collection {
                name: "appointment_activity_parties",
                table: "activityparty",
                via: "activityid",
                deep_insert: true,
            },
            Collection {
                name: "appointment_activity_mime_attachment",
                table: "activitymimeattachment",
                via: "objectid",
                deep_insert: true,
            },
        ],
        surface: Surface::Full,
        activity: true,
        // Required attendee, optional attendee, organizer (reference A3).
        party_masks: &[5, 6, 7],
    }
}

fn task() -> Table {
    // Task description length is not in the reference; 2000 is UNCONFIRMED.
    let (mut attrs, navs) = activity_base("task", 200, 2000);
    attrs.push(attr("percentcomplete", Kind::Integer(0, 100), RW));
    Table {
        logical: "task",
        set: "tasks",
        key: "activityid",
        primary_name: "subject",
        state_enum: "TaskState",
        states: TASK_STATES,
        attrs,
        navs,
        collections: Vec::new(),
        surface: Surface::Full,
        activity: true,
        party_masks: &[],
    }
}

/// `activitypointers`: the common columns of every activity, read-only.
fn activitypointer() -> Table {
    let (mut attrs, navs) = activity_base("activitypointer", 800, 1_073_741_823);
    for a in &mut attrs {
        a.access = RO;
    }
    Table {
        logical: "activitypointer",
        set: "activitypointers",
        key: "activityid",
        primary_name: "subject",
        state_enum: "ActivityPointerState",
        states: &[],
        attrs,
        navs,
        collections: Vec::new(),
        surface: Surface::View,
        activity: false,
        party_masks: &[],
    }
}

fn activityparty() -> Table {
    let mut attrs = system_columns("activitypartyid");
    attrs.extend([
        attr("activityid", Kind::Lookup(&["email", "appointment", "task"]), CREATE_ONLY),
        attr("partyid", Kind::Lookup(PARTIES), RW),
        required("participationtypemask", Kind::Picklist(MASKS, None), RW),
        attr("addressused", Kind::String(320), RW),
        attr("unresolvedpartyname", Kind::String(200), RW),
        attr("exchangeentryid", Kind::String(1024), RW),
        attr("ispartydeleted", Kind::Boolean("No", "Yes", Some(false)), RO),
    ]);
    let mut navs: Vec<Nav> = PARTIES
        .iter()
        .map(|t| Nav { name: format!("partyid_{t}"), attr: "partyid", target: t })
        .collect();
    navs.extend(["email", "appointment", "task"].iter().map(|t| Nav {
        name: format!("activityid_{t}"),
        attr: "activityid",
        target: t,
    }));
    Table {
        logical: "activityparty",
        set: "activityparties",
        key: "activitypartyid",
        primary_name: "addressused",
        state_enum: "",
        states: &[],
        attrs,
        navs,
        collections: Vec::new(),
        surface: Surface::RetrieveMultipleOnly,
        activity: false,
        party_masks: &[],
    }
}

fn attachment() -> Table {
    let mut attrs = system_columns("activitymimeattachmentid");
    attrs.extend([
        attr("body", Kind::String(1_073_741_823), RW),
        attr("filename", Kind::String(255), RW),
        attr("mimetype", Kind::String(256), RW),
        attr("subject", Kind::String(2000), RW),
        attr("attachmentcontentid", Kind::String(250), RW),
        attr("attachmentnumber", Kind::Integer(0, i64::from(i32::MAX)), RW),
        required("objectid", Kind::Lookup(&["email", "appointment"]), CREATE_ONLY),
        required(
            "objecttypecode",
            Kind::EntityName(&["email", "appointment", "template"]),
            CREATE_ONLY,
        ),
        attr("filesize", Kind::Integer(0, 1_000_000_000), RO),
    ]);
    let navs = vec![
        Nav {
            name: "objectid_activitypointer".into(),
            attr: "objectid",
            target: "activitypointer",
        },
        Nav { name: "objectid_email".into(), attr: "objectid", target: "email" },
        Nav { name: "objectid_appointment".into(), attr: "objectid", target: "appointment" },
    ];
    Table {
        logical: "activitymimeattachment",
        set: "activitymimeattachments",
        key: "activitymimeattachmentid",
        primary_name: "filename",
        state_enum: "",
        states: &[],
        attrs,
        navs,
        collections: Vec::new(),
        surface: Surface::Full,
        activity: false,
        party_masks: &[],
    }
}
