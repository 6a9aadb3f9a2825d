//! Mailboxes and email server profiles (reference A9).

use super::{
    ACTIVE_INACTIVE, Kind, Nav, RO, RW, Table, UPDATE_ONLY, WRITE_ONLY, attr,
    records::{INCOMING_DELIVERY, OUTGOING_DELIVERY, base, table},
};

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

/// `mailboxes` (`PAD-ref:mailbox.md`, reference A9).
pub(super) fn mailbox() -> Table {
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

/// `emailserverprofiles` (`PAD-ref:emailserverprofile.md`, reference A9).
pub(super) fn emailserverprofile() -> Table {
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
