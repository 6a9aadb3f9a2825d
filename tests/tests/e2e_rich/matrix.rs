//! Each tracking option on the same small matrix of messages, against what server-side sync's
//! option does (reference dataverse-entra.md A9): through rich notifications, and through
//! delta passes (`sync --once`), which must agree.

use std::time::Duration;

use exsync_shared::{
    config::Config, domain::MailboxAddress, embedded::Embedded, ports::StatusStore,
};
use exsync_sim::graph::NewMessage;

use super::world::{
    ACCOUNT, COLLEAGUE, CONTACT, Cloud, LEAD, QUEUE, STRANGER, Serving, TRACKED_PARENT,
    TestCertificate, eventually,
};

/// The mailboxes: (local part, configuration lines, what server-side sync tracks).
const MAILBOXES: &[(&str, &str, &[&str])] = &[
    (
        "all",
        "track = \"all\"\n",
        &[
            "from a contact",
            "from an account",
            "from a lead",
            "from a colleague",
            "from a queue",
            "from a stranger",
            "reply to tracked mail",
            "reply to untracked mail",
            "sent to a contact",
            "sent to a stranger",
        ],
    ),
    ("responses", "track = \"responses\"\n", &["reply to tracked mail"]),
    (
        "crm",
        "track = \"crm-records\"\n",
        &["from a contact", "from an account", "from a lead", "sent to a contact"],
    ),
    (
        "enabled",
        "track = \"email-enabled\"\n",
        &[
            "from a contact",
            "from an account",
            "from a lead",
            "from a colleague",
            "from a queue",
            "sent to a contact",
        ],
    ),
    ("none", "track = \"none\"\n", &[]),
    (
        "inboxonly",
        "track = \"all\"\ntrack_sent_items = false\n",
        &[
            "from a contact",
            "from an account",
            "from a lead",
            "from a colleague",
            "from a queue",
            "from a stranger",
            "reply to tracked mail",
            "reply to untracked mail",
        ],
    ),
];

const CASES: usize = 10;

/// Writes the matrix's messages into `address` (subjects `"{local}| {case}"`).
fn send_matrix(cloud: &Cloud, local: &str, address: &str) {
    let graph = &cloud.cloud.graph;
    let subject = |case: &str| format!("{local}| {case}");
    let received = [
        ("from a contact", CONTACT),
        ("from an account", ACCOUNT),
        ("from a lead", LEAD),
        ("from a colleague", COLLEAGUE),
        ("from a queue", QUEUE),
        ("from a stranger", STRANGER),
    ];
    for (case, from) in received {
        graph.deliver(address, NewMessage::new(&subject(case)).from(case, from).to(address));
    }
    for (case, parent) in [
        ("reply to tracked mail", TRACKED_PARENT),
        ("reply to untracked mail", "<nobody@x.example>"),
    ] {
        let reply = NewMessage::new(&subject(case)).from("Digest", STRANGER).to(address);
        graph.deliver(address, reply.in_reply_to(parent));
    }
    for (case, to) in [("sent to a contact", CONTACT), ("sent to a stranger", STRANGER)] {
        graph.send(address, NewMessage::new(&subject(case)).from(local, address).to(to));
    }
}

fn landed(cloud: &Cloud, local: &str) -> Vec<String> {
    let prefix = format!("{local}| ");
    let mut cases: Vec<String> = cloud
        .emails(&prefix)
        .into_iter()
        .filter_map(|e| e.subject?.strip_prefix(&prefix).map(str::to_string))
        .collect();
    cases.sort();
    cases
}

fn expected(tracked: &[&str]) -> Vec<String> {
    let mut cases: Vec<String> = tracked.iter().map(|c| c.to_string()).collect();
    cases.sort();
    cases
}

/// The mailboxes on `cloud`: (local, address, lines, tracked).
fn mailboxes(cloud: &Cloud) -> Vec<(&'static str, String, &'static str, &'static [&'static str])> {
    MAILBOXES
        .iter()
        .map(|(local, lines, tracked)| (*local, cloud.mailbox(local), *lines, *tracked))
        .collect()
}

#[tokio::test]
async fn each_tracking_option_tracks_what_server_side_syncs_does_through_rich_notifications() {
    let cloud = Cloud::start().await;
    let boxes = mailboxes(&cloud);
    let certificate = TestCertificate::generate("enc-1");
    cloud.write_certificates(&[&certificate]);
    let lines: Vec<(&str, &str)> = boxes.iter().map(|(_, a, l, _)| (a.as_str(), *l)).collect();
    let serving = Serving::start(&cloud, &certificate.profile_lines(), &lines).await;
    eventually("every subscription", || cloud.cloud.graph.subscriptions().len() == 2 * boxes.len())
        .await;
    serving.settle(&cloud).await;
    let none = &boxes.iter().find(|b| b.0 == "none").unwrap().1;
    let reads_of_none = cloud.graph_requests(none);

    for (local, address, _, _) in &boxes {
        send_matrix(&cloud, local, address);
    }
    let total: usize = boxes.iter().map(|b| b.3.len()).sum();
    eventually("the tracked emails", || {
        boxes.iter().map(|(local, ..)| landed(&cloud, local).len()).sum::<usize>() >= total
    })
    .await;
    serving.settle(&cloud).await;
    for (local, _, _, tracked) in &boxes {
        assert_eq!(landed(&cloud, local), expected(tracked), "mailbox {local}");
    }
    assert_eq!(
        cloud.graph_requests(none),
        reads_of_none,
        "a mailbox tracking nothing reads nothing"
    );
    serving.stop().await;
}

#[tokio::test]
async fn each_tracking_option_tracks_the_same_through_delta_passes_and_counts_the_rest() {
    let cloud = Cloud::start().await;
    let boxes = mailboxes(&cloud);
    for (local, address, _, _) in &boxes {
        send_matrix(&cloud, local, address);
    }
    let lines: Vec<(&str, &str)> = boxes.iter().map(|(_, a, l, _)| (a.as_str(), *l)).collect();
    let path = cloud.config("", &lines, "");
    let exsync = Embedded::open(Config::load(&path).unwrap()).unwrap();
    let summary = exsync.sync_once(Duration::from_secs(60)).await.unwrap();
    assert!(summary.success(), "{summary}");
    for (local, address, _, tracked) in &boxes {
        assert_eq!(landed(&cloud, local), expected(tracked), "mailbox {local}");
        let mailbox = MailboxAddress::parse(address.as_str()).unwrap();
        let status = exsync.store().status(&mailbox).await.unwrap().unwrap();
        assert_eq!(status.emails_skipped as usize, CASES - tracked.len(), "mailbox {local}");
    }
}
