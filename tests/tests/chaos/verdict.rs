//! What must hold when a chaos run ends, and the figures it reports: every email once with
//! all its parties, nothing left in the queues, no limit exceeded.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    time::Duration,
};

use exsync_shared::{
    jobs::QueueName,
    ports::{QueueDepth, QueueDepths},
};
use exsync_sim::{
    dataverse::EmailView,
    graph::{MessageView, NotificationStats},
    scenario::{CORRESPONDENTS, DemoOrg, SentMail},
};

use crate::world::{Lifecycles, PROFILE_LIMITS};

/// Graph's concurrent requests per app and mailbox (reference graph.md 9.1).
const MAILBOX_LIMIT: u32 = 4;

/// The figures of a run (BENCHMARKS.md).
#[derive(Debug, Default)]
pub struct Figures {
    /// Distinct emails sent.
    pub emails: usize,
    /// Synced mailboxes.
    pub mailboxes: usize,
    /// Exchange tenants.
    pub tenants: usize,
    /// Emails sent and not in Dataverse.
    pub lost: usize,
    /// Emails in Dataverse more than once.
    pub duplicated: usize,
    /// Graph faults fired, by kind.
    pub graph_faults: BTreeMap<String, u64>,
    /// Dataverse faults fired, by kind.
    pub dataverse_faults: BTreeMap<String, u64>,
    /// Notification delivery.
    pub notifications: NotificationStats,
    /// Lifecycle events raised.
    pub lifecycles: Lifecycles,
    /// SIGKILLs (embedded).
    pub kills: usize,
    /// Highest Graph concurrency on one (app, mailbox).
    pub mailbox_peak: u32,
    /// Highest Graph concurrency per profile, with its limit.
    pub profile_peaks: Vec<(String, u32, u16)>,
    /// Highest Dataverse concurrency of exsync's application user.
    pub dataverse_peak: u32,
    /// Graph requests made.
    pub graph_requests: u64,
    /// From the first email to the last check.
    pub wall: Duration,
}

impl Figures {
    /// Prints the figures as a block BENCHMARKS.md can take.
    pub fn print(&self, runtime: &str) {
        let n = &self.notifications;
        println!("chaos {runtime} figures:");
        println!(
            "  emails {}, mailboxes {}, tenants {}, lost {}, duplicated {}, wall {:.1} s",
            self.emails,
            self.mailboxes,
            self.tenants,
            self.lost,
            self.duplicated,
            self.wall.as_secs_f64()
        );
        println!("  graph requests {}, faults {:?}", self.graph_requests, self.graph_faults);
        println!("  dataverse faults {:?}", self.dataverse_faults);
        println!(
            "  notifications: queued {}, dropped {}, duplicated posts {}, failed posts {}; \
             lifecycle: subscriptionRemoved {}, missed {}; kills {}",
            n.queued,
            n.dropped_by_fault,
            n.duplicated,
            n.failed_posts,
            self.lifecycles.removed,
            self.lifecycles.missed,
            self.kills
        );
        println!(
            "  peaks: graph per mailbox {} (limit {MAILBOX_LIMIT}), per profile {:?}, \
             dataverse {}",
            self.mailbox_peak, self.profile_peaks, self.dataverse_peak
        );
    }
}

/// The ids of the emails sent, and how many landed of each.
pub fn landed_counts(org: &DemoOrg, sent: &[SentMail]) -> (usize, usize, Vec<String>) {
    // Message-IDs only: building every email's view while the pipeline writes would hold
    // the simulator's lock long enough to time its requests out.
    let landed = org.dataverse.env.email_message_ids();
    let mut count: HashMap<&str, usize> = HashMap::new();
    for id in &landed {
        *count.entry(id.as_deref().unwrap_or("")).or_default() += 1;
    }
    let ids: BTreeSet<&str> = sent.iter().map(|m| m.internet_message_id.as_str()).collect();
    let lost: Vec<String> =
        ids.iter().filter(|id| !count.contains_key(**id)).map(|s| s.to_string()).collect();
    let duplicated = ids.iter().filter(|id| count.get(**id).is_some_and(|n| *n > 1)).count();
    (ids.len(), duplicated, lost)
}

/// Waits until every email sent is in Dataverse, for at most `limit`; gives up sooner when
/// every queue stayed idle for [`IDLE_VERDICT`] with emails still missing (they are lost), or
/// when no email landed for [`STALL_VERDICT`] (the pipeline is stuck). A slow machine (moto
/// serves one request at a time) only makes a run longer.
pub async fn wait_landed(
    org: &DemoOrg,
    sent: &[SentMail],
    depths: &dyn QueueDepths,
    limit: Duration,
) {
    let deadline = tokio::time::Instant::now() + limit;
    let mut next_report = tokio::time::Instant::now();
    let mut idle_since = None;
    let mut progress = (tokio::time::Instant::now(), sent.len());
    loop {
        let (_, _, lost) = landed_counts(org, sent);
        if lost.is_empty() {
            return;
        }
        if lost.len() < progress.1 {
            progress = (tokio::time::Instant::now(), lost.len());
        }
        if tokio::time::Instant::now() >= next_report {
            // A long run shows it is moving.
            println!("  waiting for {} of {} emails", lost.len(), sent.len());
            next_report += Duration::from_secs(15);
        }
        let idle = idle(depths).await;
        let now = tokio::time::Instant::now();
        let idle_for = match (idle, idle_since) {
            (true, None) => {
                idle_since = Some(now);
                Duration::ZERO
            }
            (true, Some(since)) => now - since,
            (false, _) => {
                idle_since = None;
                Duration::ZERO
            }
        };
        let stalled_for = now - progress.0;
        if now >= deadline || idle_for >= IDLE_VERDICT || stalled_for >= STALL_VERDICT {
            panic!(
                "{} of {} emails not in Dataverse ({:?} of the {limit:?} allowed, the queues idle for {idle_for:?}, no email landed for {stalled_for:?}); where Graph holds them: {}",
                lost.len(),
                sent.len(),
                limit - (deadline - now.min(deadline)),
                whereabouts(org, &lost)
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// How long every queue must stay idle, emails still missing, before they count as lost.
const IDLE_VERDICT: Duration = Duration::from_secs(45);

/// How long a run may go without an email landing, its queues busy, before it counts as stuck.
const STALL_VERDICT: Duration = Duration::from_secs(300);

async fn idle(depths: &dyn QueueDepths) -> bool {
    for queue in QueueName::ALL {
        match depths.depth(queue).await {
            Ok(depth) if depth.is_idle() => {}
            _ => return false,
        }
    }
    true
}

/// Which mailbox and folder hold each of `ids`, for a failure message.
fn whereabouts(org: &DemoOrg, ids: &[String]) -> String {
    let mut found: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for staff in &org.staff {
        for folder in ["inbox", "sentitems"] {
            for m in org.cloud.graph.messages(&staff.address, folder) {
                if let Some(id) = ids.iter().find(|id| **id == m.ids.internet_message_id) {
                    found.entry(id).or_default().push(format!("{}/{folder}", staff.address));
                }
            }
        }
    }
    found
        .iter()
        .map(|(id, places)| format!("{id} in {}", places.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Waits until every queue is idle, for at most `limit`; returns the depths.
pub async fn wait_idle(depths: &dyn QueueDepths, limit: Duration) -> Vec<(QueueName, QueueDepth)> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let mut all = Vec::new();
        for queue in QueueName::ALL {
            all.push((queue, depths.depth(queue).await.expect("queue depth")));
        }
        if all.iter().all(|(_, d)| d.is_idle()) {
            return all;
        }
        assert!(tokio::time::Instant::now() < deadline, "the queues did not empty: {all:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Asserts everything the run promises; returns its figures.
pub fn judge(org: &DemoOrg, sent: &[SentMail], depths: &[(QueueName, QueueDepth)]) -> Figures {
    let (emails, duplicated, lost) = landed_counts(org, sent);
    assert!(lost.is_empty(), "lost: {lost:?}");
    assert_eq!(duplicated, 0, "emails in Dataverse more than once");
    let landed = org.dataverse.env.emails();
    assert_eq!(landed.len(), emails, "nothing but the stream was written");
    for (queue, depth) in depths {
        assert!(depth.is_idle(), "{queue:?}: {depth:?}");
        assert_eq!(depth.dead_lettered, 0, "{queue:?}: dead letters (no poison was injected)");
    }
    check_parties(org, &landed);
    let mut figures = limits(org);
    figures.emails = emails;
    figures.mailboxes = org.staff.len();
    figures.tenants = 2;
    figures.graph_faults = org.cloud.graph.faults().fired().into_iter().collect();
    figures.dataverse_faults = org.cloud.dataverse.faults().fired().into_iter().collect();
    figures.notifications = org.cloud.graph.notification_stats();
    figures
}

/// Every email has its sender, To and Cc as the message in Graph has them, each resolved to
/// its Dataverse record when Dataverse knows the address.
fn check_parties(org: &DemoOrg, landed: &[EmailView]) {
    let mut messages: HashMap<String, MessageView> = HashMap::new();
    for staff in &org.staff {
        for folder in ["inbox", "sentitems"] {
            for m in org.cloud.graph.messages(&staff.address, folder) {
                messages.entry(m.ids.internet_message_id.clone()).or_insert(m);
            }
        }
    }
    let known: BTreeSet<String> = org
        .staff
        .iter()
        .map(|s| s.address.to_lowercase())
        .chain(CORRESPONDENTS.iter().filter(|c| !c.known_as.is_empty()).map(|c| c.address.into()))
        .collect();
    for email in landed {
        let id = email.messageid.as_deref().expect("a Message-ID");
        let message = messages.get(id).unwrap_or_else(|| panic!("{id} is in no mailbox"));
        let mut expected = BTreeSet::from([(1, message.from.address.to_lowercase())]);
        expected.extend(message.to.iter().map(|r| (2, r.address.to_lowercase())));
        expected.extend(message.cc.iter().map(|r| (3, r.address.to_lowercase())));
        let actual: BTreeSet<(i64, String)> = email
            .parties
            .iter()
            .filter(|p| (1..=3).contains(&p.mask))
            .map(|p| (p.mask, p.address.clone().unwrap_or_default().to_lowercase()))
            .collect();
        assert_eq!(actual, expected, "the parties of {id}");
        for party in email.parties.iter().filter(|p| (1..=3).contains(&p.mask)) {
            let address = party.address.clone().unwrap_or_default().to_lowercase();
            assert_eq!(
                party.party.is_some(),
                known.contains(&address),
                "{id}: {address} resolved iff Dataverse knows it"
            );
        }
    }
}

/// Asserts the simulators' counts against the limits; returns the peaks.
fn limits(org: &DemoOrg) -> Figures {
    let graph = &org.cloud.graph;
    let mut figures = Figures::default();
    for (app, mailbox, stats) in graph.all_request_stats() {
        assert!(
            stats.peak_concurrency <= MAILBOX_LIMIT,
            "{app} on {mailbox}: {} requests in flight at once",
            stats.peak_concurrency
        );
        assert_eq!(stats.throttled_concurrency, 0, "{app} on {mailbox}: MailboxConcurrency 429s");
        assert_eq!(stats.throttled_rate, 0, "{app} on {mailbox}: over the rate window");
        figures.mailbox_peak = figures.mailbox_peak.max(stats.peak_concurrency);
        figures.graph_requests += stats.requests;
    }
    for (name, limit) in PROFILE_LIMITS {
        let tenant = if name == "fabrikam" { &org.fabrikam } else { &org.contoso };
        let peak = graph.app_peak_concurrency(&tenant.app_id);
        assert!(
            peak <= u32::from(limit),
            "profile {name}: {peak} requests in flight, {limit} allowed"
        );
        figures.profile_peaks.push((name.to_string(), peak, limit));
    }
    let env = &org.dataverse.env;
    let app = &org.dataverse.app_id;
    figures.dataverse_peak = env.peak_concurrency(app);
    assert!(figures.dataverse_peak <= env.limits().concurrent, "Dataverse concurrency");
    let throttled = env.requests(app).throttled;
    let injected = org.cloud.dataverse.faults().fired().get("429").copied().unwrap_or(0);
    for (code, count) in &throttled {
        let allowed = if code == "0x80072322" { injected } else { 0 };
        assert!(*count <= allowed, "Dataverse service protection {code}: {count} refusals");
    }
    figures
}
