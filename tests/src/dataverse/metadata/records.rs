//! Non-activity tables: contact, account, lead, systemuser, queue, mailbox and
//! emailserverprofile (reference A3, A9).

use super::{
    ACTIVE_INACTIVE, Attr, Collection, Kind, Nav, RO, RW, StateOption, Surface, Table, UPDATE_ONLY,
    WRITE_ONLY, attr, owner, required, state_columns, system_columns,
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

const INCOMING_DELIVERY: &[(i64, &str)] = &[
    (0, "None"),
    (1, "Microsoft Dynamics 365 for Outlook"),
    (2, "Server-Side Synchronization or Email Router"),
    (3, "Forward Mailbox"),
];

const OUTGOING_DELIVERY: &[(i64, &str)] = &[
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

const RUN_STATUS: &[(i64, &str)] = &[(0, "Not Run"), (1, "Success"), (2, "Failure")];

const AUTH_PROTOCOL: &[(i64, &str)] =
    &[(0, "Auto Detect"), (1, "Negotiate"), (2, "NTLM"), (3, "Basic"), (4, "OAuth")];

const CREDENTIALS: &[(i64, &str)] = &[
    (0, "Credentials Specified by a User or Queue"),
    (1, "Credentials Specified in Email Server Profile"),
    (2, "Server to Server Authentication"),
    (3, "Windows Integrated Authentication"),
    (4, "Without Credentials (Anonymous)"),
    (5, "Gmail OAuth"),
    (6, "Exchange Hybrid Modern Auth (HMA)"),
    (7, "Azure Active Directory OAuth"),
];

pub(super) fn tables() -> Vec<Table> {
    vec![contact(), account(), lead(), systemuser(), queue(), mailbox(), emailserverprofile()]
}

/// A full-surface, non-activity table.
fn table(
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

/// A record with a key, an owner and the two-state model, plus `extra` columns.
fn base(key: &'static str, extra: Vec<Attr>, with_state: bool) -> (Vec<Attr>, Vec<Nav>) {
    let mut attrs = system_columns(key);
    let mut navs = Vec::new();
    attrs.extend(extra);
    if with_state {
        state_columns(&mut attrs);
    }
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
        true,
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
        true,
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
        true,
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
        true,
    );
    table("queue", "queues", "queueid", "name", ("QueueState", ACTIVE_INACTIVE), attrs, navs)
}

fn mailbox() -> Table {
    let (attrs, mut navs) = base(
        "mailboxid",
        vec![
            attr("name", Kind::String(100), RW),
            attr("emailaddress", Kind::String(100), RW),
            attr("emailserverprofile", Kind::Lookup(&["emailserverprofile"]), RW),
            attr("regardingobjectid", Kind::Lookup(&["systemuser", "queue"]), RO),
            attr("incomingemaildeliverymethod", Kind::Picklist(INCOMING_DELIVERY, Some(0)), RW),
            attr("outgoingemaildeliverymethod", Kind::Picklist(OUTGOING_DELIVERY, Some(0)), RW),
            // Note the different order from the delivery methods (reference D5).
            attr(
                "actdeliverymethod",
                Kind::Picklist(
                    &[
                        (0, "Microsoft Dynamics 365 for Outlook"),
                        (1, "Server-Side Synchronization"),
                        (2, "None"),
                    ],
                    Some(2),
                ),
                RW,
            ),
            attr(
                "emailrouteraccessapproval",
                Kind::Picklist(
                    &[(0, "Empty"), (1, "Approved"), (2, "Pending Approval"), (3, "Rejected")],
                    Some(0),
                ),
                RW,
            ),
            // Boolean, default 1, not valid for create (`PAD-ref:mailbox.md`).
            attr("enabledforincomingemail", Kind::Boolean("No", "Yes", Some(true)), UPDATE_ONLY),
            attr("enabledforoutgoingemail", Kind::Boolean("No", "Yes", Some(true)), UPDATE_ONLY),
            attr("enabledforact", Kind::Boolean("No", "Yes", Some(true)), UPDATE_ONLY),
            attr("incomingemailstatus", Kind::Picklist(RUN_STATUS, Some(0)), RW),
            attr("outgoingemailstatus", Kind::Picklist(RUN_STATUS, Some(0)), RW),
            attr("actstatus", Kind::Picklist(RUN_STATUS, Some(0)), RW),
            attr("mailboxstatus", Kind::Picklist(RUN_STATUS, Some(0)), RW),
            attr("processemailreceivedafter", Kind::DateTime, RW),
            attr("testemailconfigurationscheduled", Kind::Boolean("No", "Yes", Some(false)), RW),
            attr("isemailaddressapprovedbyo365admin", Kind::Boolean("No", "Yes", Some(false)), RO),
            attr("isforwardmailbox", Kind::Boolean("No", "Yes", Some(false)), RW),
        ],
        true,
    );
    navs.push(Nav {
        name: "emailserverprofile".into(),
        attr: "emailserverprofile",
        target: "emailserverprofile",
    });
    // Navigation names of the read-only regarding lookup are UNCONFIRMED.
    navs.extend(["systemuser", "queue"].iter().map(|t| Nav {
        name: format!("regardingobjectid_{t}"),
        attr: "regardingobjectid",
        target: t,
    }));
    table(
        "mailbox",
        "mailboxes",
        "mailboxid",
        "name",
        ("MailboxState", ACTIVE_INACTIVE),
        attrs,
        navs,
    )
}

fn emailserverprofile() -> Table {
    let (attrs, navs) = base(
        "emailserverprofileid",
        vec![
            attr("name", Kind::String(100), RW),
            attr(
                "servertype",
                Kind::Picklist(
                    &[
                        (0, "Exchange Server"),
                        (1, "Other (POP3/SMTP)"),
                        (2, "Exchange Server (Hybrid)"),
                        (3, "Exchange Online (Hybrid)"),
                        (4, "IMAP/SMTP"),
                    ],
                    None,
                ),
                RW,
            ),
            attr("incomingauthenticationprotocol", Kind::Picklist(AUTH_PROTOCOL, None), RW),
            attr("outgoingauthenticationprotocol", Kind::Picklist(AUTH_PROTOCOL, None), RW),
            attr("incomingcredentialretrieval", Kind::Picklist(CREDENTIALS, None), RW),
            attr("outgoingcredentialretrieval", Kind::Picklist(CREDENTIALS, None), RW),
            attr("exchangeonlinetenantid", Kind::String(36), RW),
            attr("oauthclientid", Kind::String(1024), RW),
            // Not readable (`PAD-ref:emailserverprofile.md`, reference A9).
            attr("oauthclientsecret", Kind::String(1024), WRITE_ONLY),
            attr("usedefaulttenantid", Kind::Boolean("No", "Yes", Some(true)), RW),
            attr("maxconcurrentconnections", Kind::Integer(1, 300), RW),
            attr("minpollingintervalinminutes", Kind::Integer(0, 1440), RW),
            attr("processemailsreceivedafter", Kind::DateTime, RW),
            attr("timeoutmailboxconnection", Kind::Boolean("No", "Yes", Some(true)), RW),
            attr("timeoutmailboxconnectionafteramount", Kind::Integer(0, 100_000), RW),
        ],
        true,
    );
    table(
        "emailserverprofile",
        "emailserverprofiles",
        "emailserverprofileid",
        "name",
        ("EmailServerProfileState", ACTIVE_INACTIVE),
        attrs,
        navs,
    )
}
