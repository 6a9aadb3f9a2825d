//! Non-activity tables: contact, account, lead, systemuser, queue, mailbox and
//! emailserverprofile (reference A3, A9).

use super::{
    ACTIVE_INACTIVE, Attr, Collection, Kind, Nav, RO, RW, StateOption, Surface, Table, attr, owner,
    required, state_columns, system_columns,
};

const LEAD_STATES: &[StateOption] = &[
    StateOption {
        value: 0,
        label: "Open",
        default_status: 1,
        statuses: &[(1, "New"), (2, "Contacted")],
    },
    StateOption { value: 1, label: "Qualified", default_status: 3, statuses: &[(3, "Qualified")] },
    StateOption {
        value: 2,
        label: "Disqualified",
        default_status: 4,
        statuses: &[
            (4, "Lost"),
            (5, "Cannot Contact"),
            (6, "No Longer Interested"),
            (7, "Canceled"),
        ],
    },
];

/// `incomingemaildeliverymethod` options (user, queue, mailbox; reference A9).
pub(super) const INCOMING_DELIVERY: &[(i64, &str)] = &[
    (0, "None"),
    (1, "Microsoft Dynamics 365 for Outlook"),
    (2, "Server-Side Synchronization or Email Router"),
    (3, "Forward Mailbox"),
];

/// `outgoingemaildeliverymethod` options (reference A9).
pub(super) const OUTGOING_DELIVERY: &[(i64, &str)] = &[
    (0, "None"),
    (1, "Microsoft Dynamics 365 for Outlook"),
    (2, "Server-Side Synchronization or Email Router"),
];

/// Tracking options (`PAD-ref:usersettings.md`, reference A9).
const FILTERING: &[(i64, &str)] = &[
    (0, "All email messages"),
    (1, "Email messages in response to Dynamics 365 email"),
    (2, "Email messages from Dynamics 365 Leads, Contacts and Accounts"),
    (3, "Email messages from Dynamics 365 records that are email enabled"),
    (4, "No email messages"),
];

/// The non-activity tables.
pub(super) fn tables() -> Vec<Table> {
    vec![
        contact(),
        account(),
        lead(),
        systemuser(),
        queue(),
        super::mail::mailbox(),
        super::mail::emailserverprofile(),
    ]
}

/// A full-surface, non-activity table.
pub(super) fn table(
    logical: &'static str,
    set: &'static str,
    key: &'static str,
    primary_name: &'static str,
    (state_enum, states): (&'static str, &'static [StateOption]),
    attrs: Vec<Attr>,
    navs: Vec<Nav>,
) -> Table {
    Table {
        logical,
        set,
        key,
        primary_name,
        state_enum,
        states,
        attrs,
        navs,
        collections: Vec::<Collection>::new(),
        surface: Surface::Full,
        activity: false,
        party_masks: &[],
    }
}

/// `emailaddress1..3`, String 100 each (`PAD-ref:contact.md`, `account.md`; CED `lead.md`).
fn email_addresses(attrs: &mut Vec<Attr>) {
    for name in ["emailaddress1", "emailaddress2", "emailaddress3"] {
        attrs.push(attr(name, Kind::String(100), RW));
    }
}

/// A record with a key, an owner, `statecode`/`statuscode` and the `extra` columns.
pub(super) fn base(key: &'static str, extra: Vec<Attr>) -> (Vec<Attr>, Vec<Nav>) {
    let mut attrs = system_columns(key);
    let mut navs = Vec::new();
    attrs.extend(extra);
    state_columns(&mut attrs);
    owner(&mut attrs, &mut navs);
    (attrs, navs)
}

fn contact() -> Table {
    let (mut attrs, mut navs) = base(
        "contactid",
        vec![
            attr("firstname", Kind::String(50), RW),
            attr("lastname", Kind::String(50), RW),
            attr("fullname", Kind::String(160), RO),
            attr("parentcustomerid", Kind::Lookup(&["account", "contact"]), RW),
        ],
    );
    email_addresses(&mut attrs);
    // A customer lookup has one navigation property per target (support article on
    // `parentcustomerid_account`).
    navs.extend(["account", "contact"].iter().map(|t| Nav {
        name: format!("parentcustomerid_{t}"),
        attr: "parentcustomerid",
        target: t,
    }));
    table(
        "contact",
        "contacts",
        "contactid",
        "fullname",
        ("ContactState", ACTIVE_INACTIVE),
        attrs,
        navs,
    )
}

fn account() -> Table {
    let (mut attrs, mut navs) = base(
        "accountid",
        vec![
            attr("name", Kind::String(160), RW),
            attr("primarycontactid", Kind::Lookup(&["contact"]), RW),
        ],
    );
    email_addresses(&mut attrs);
    navs.push(Nav { name: "primarycontactid".into(), attr: "primarycontactid", target: "contact" });
    table(
        "account",
        "accounts",
        "accountid",
        "name",
        ("AccountState", ACTIVE_INACTIVE),
        attrs,
        navs,
    )
}

fn lead() -> Table {
    let (mut attrs, navs) = base(
        "leadid",
        vec![
            attr("firstname", Kind::String(50), RW),
            attr("lastname", Kind::String(50), RW),
            attr("fullname", Kind::String(160), RO),
            attr("subject", Kind::String(300), RW),
            attr("companyname", Kind::String(100), RW),
        ],
    );
    email_addresses(&mut attrs);
    table("lead", "leads", "leadid", "fullname", ("LeadState", LEAD_STATES), attrs, navs)
}

fn systemuser() -> Table {
    let mut attrs = system_columns("systemuserid");
    attrs.extend([
        attr("firstname", Kind::String(64), RW),
        attr("lastname", Kind::String(64), RW),
        attr("fullname", Kind::String(200), RO),
        // "Primary Email", String 100, SystemRequired (reference A3).
        required("internalemailaddress", Kind::String(100), RW),
        attr("domainname", Kind::String(1024), RW),
        attr("applicationid", Kind::Guid, RW),
        attr("applicationiduri", Kind::String(1024), RO),
        attr("azureactivedirectoryobjectid", Kind::Guid, RW),
        attr("isdisabled", Kind::Boolean("Enabled", "Disabled", Some(false)), RO),
        attr(
            "accessmode",
            Kind::Picklist(
                &[
                    (0, "Read-Write"),
                    (1, "Administrative"),
                    (2, "Read"),
                    (3, "Support User"),
                    (4, "Non-interactive"),
                    (5, "Delegated Admin"),
                ],
                Some(0),
            ),
            RW,
        ),
        attr("incomingemaildeliverymethod", Kind::Picklist(INCOMING_DELIVERY, Some(2)), RW),
        attr("outgoingemaildeliverymethod", Kind::Picklist(OUTGOING_DELIVERY, Some(2)), RW),
    ]);
    table("systemuser", "systemusers", "systemuserid", "fullname", ("", &[]), attrs, Vec::new())
}

fn queue() -> Table {
    let (attrs, navs) = base(
        "queueid",
        vec![
            attr("name", Kind::String(160), RW),
            // Length UNCONFIRMED (reference A3); 100 as the other address columns.
            attr("emailaddress", Kind::String(100), RW),
            // Default "responses" (1), `PPD:track-sent-folder-items.md` (reference A9).
            attr("incomingemailfilteringmethod", Kind::Picklist(FILTERING, Some(1)), RW),
            attr("incomingemaildeliverymethod", Kind::Picklist(INCOMING_DELIVERY, Some(2)), RW),
        ],
    );
    table("queue", "queues", "queueid", "name", ("QueueState", ACTIVE_INACTIVE), attrs, navs)
}
