//! The world of a chaos run: the demo organisation (more mailboxes in a large run), its
//! configuration with tight limits, the HTTP and notification faults, the mail stream, and the
//! lifecycle events Graph raises at random moments.

use std::{
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use exsync_sim::{
    cloud::ConfigBuilder,
    faults::{Fault, FaultRule},
    graph::{LifecycleEvent, NotificationFaults},
    scenario::{DemoOrg, MailStream, SentMail, Staff},
};
use rand::{Rng, SeedableRng, rngs::StdRng, seq::IndexedRandom};
use tokio::task::JoinHandle;

use crate::plan::Plan;

/// Each profile's `max_concurrent_connections`: below its mailboxes' 4 each, so the profile
/// limit binds, not only Graph's per-mailbox one.
pub const PROFILE_LIMITS: [(&str, u16); 2] = [("fabrikam", 3), ("contoso", 5)];

/// How long one Graph or Dataverse request may take (`[cloud] request_timeout`): short, so
/// requests that never answer time out within the run.
pub const REQUEST_TIMEOUT: &str = "2s";

/// Share of Graph requests that fail, by fault.
const GRAPH_FAULTS: [(f64, Fault); 4] = [
    (0.05, Fault::Status { status: 429, retry_after: Some(1) }),
    (0.03, Fault::Status { status: 503, retry_after: None }),
    (0.02, Fault::Status { status: 500, retry_after: None }),
    (0.01, Fault::Hang),
];

/// Share of Dataverse requests that fail, by fault.
const DATAVERSE_FAULTS: [(f64, Fault); 4] = [
    (0.03, Fault::Status { status: 429, retry_after: Some(1) }),
    (0.02, Fault::Status { status: 503, retry_after: None }),
    (0.02, Fault::Status { status: 500, retry_after: None }),
    (0.01, Fault::Hang),
];

/// The organisation of a run.
pub fn organisation(org: DemoOrg, plan: &Plan) -> DemoOrg {
    let mut org = org;
    let names = ["erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj"];
    for n in 0..plan.extra_staff * 2 {
        let (tenant, profile) =
            if n % 2 == 0 { (&org.fabrikam, "fabrikam") } else { (&org.contoso, "contoso") };
        let local = names[n % names.len()];
        let first = format!("{}{}", local[..1].to_uppercase(), &local[1..]);
        let name = format!("{first} Chaos");
        let address = org.cloud.add_mailbox(tenant, local, &name);
        org.dataverse.env.add_systemuser(&address, &first, "Chaos");
        org.staff.push(Staff { name, address, profile });
    }
    org
}

/// The configuration: both profiles with [`PROFILE_LIMITS`], every mailbox, the short request
/// timeout, and `runtime` as the `[runtime]` section.
pub fn config(org: &DemoOrg, runtime: &str) -> ConfigBuilder {
    let mut config = org
        .cloud
        .config(&org.dataverse)
        .cloud(&format!("request_timeout = \"{REQUEST_TIMEOUT}\"\n"));
    for (name, limit) in PROFILE_LIMITS {
        let tenant = if name == "fabrikam" { &org.fabrikam } else { &org.contoso };
        config = config.profile(name, tenant, &format!("max_concurrent_connections = {limit}\n"));
    }
    for s in &org.staff {
        config = config.mailbox(&s.address, s.profile, "");
    }
    config.runtime(runtime)
}

/// The `[runtime]` lines for webhooks on `port`, the listener's certificate written into `dir`.
pub fn webhook_runtime(org: &DemoOrg, dir: &Path, port: u16) -> String {
    org.cloud
        .ca
        .write_server_pem(&dir.join("listener.pem"), &dir.join("listener.key"))
        .expect("listener certificate");
    format!(
        "state = \"sqlite:exsync.db\"\nlisten = \"127.0.0.1:{port}\"\n\
         public_url = \"https://127.0.0.1:{port}\"\npoll_interval = \"1s\"\n\
         tls_cert = \"listener.pem\"\ntls_key = \"listener.key\"\n"
    )
}

/// Arms the faults of Graph, Dataverse and notification delivery.
pub fn arm_faults(org: &DemoOrg, seed: u64) {
    let graph = org.cloud.graph.faults();
    graph.seed(seed ^ 0x67);
    for (share, fault) in GRAPH_FAULTS {
        graph.arm(FaultRule::ratio(share, fault));
    }
    let dataverse = org.cloud.dataverse.faults();
    dataverse.seed(seed ^ 0xd7);
    for (share, fault) in DATAVERSE_FAULTS {
        dataverse.arm(FaultRule::ratio(share, fault));
    }
    org.cloud.graph.notification_faults(NotificationFaults {
        drop: 0.1,
        duplicate: 0.15,
        reorder_window: Some(Duration::from_millis(150)),
        delay: None,
    });
}

/// Sends the run's mail at its pace; returns what was sent.
pub fn send_mail(org: Arc<DemoOrg>, plan: Plan) -> JoinHandle<Vec<SentMail>> {
    tokio::spawn(async move {
        let mut stream = MailStream::new(plan.seed);
        for _ in 0..plan.emails {
            stream.next(&org, time::OffsetDateTime::now_utc());
            tokio::time::sleep(plan.pace).await;
        }
        stream.sent().to_vec()
    })
}

/// Lifecycle events raised.
#[derive(Debug, Clone, Copy, Default)]
pub struct Lifecycles {
    /// `subscriptionRemoved` (the subscription is deleted too).
    pub removed: u64,
    /// `missed`.
    pub missed: u64,
}

/// Raises a lifecycle event on a random live subscription every 0.5 to 2 s until `stop`.
pub fn raise_lifecycle_events(
    org: Arc<DemoOrg>,
    seed: u64,
    stop: Arc<AtomicBool>,
) -> JoinHandle<Lifecycles> {
    tokio::spawn(async move {
        let mut rng = StdRng::seed_from_u64(seed ^ 0x11fe);
        let mut raised = Lifecycles::default();
        while !stop.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(rng.random_range(500..2000))).await;
            let subscriptions = org.cloud.graph.subscriptions();
            let Some(target) = subscriptions.choose(&mut rng) else { continue };
            let event = if rng.random_bool(0.5) {
                LifecycleEvent::SubscriptionRemoved
            } else {
                LifecycleEvent::Missed
            };
            if org.cloud.graph.lifecycle(&target.id, event) {
                match event {
                    LifecycleEvent::SubscriptionRemoved => raised.removed += 1,
                    _ => raised.missed += 1,
                }
            }
        }
        raised
    })
}

/// Picks a duration in `range` milliseconds.
pub fn between(rng: &mut StdRng, range: std::ops::Range<u64>) -> Duration {
    Duration::from_millis(rng.random_range(range))
}
