//! A world to measure in: the demo organisation on the simulators (plus as many extra
//! mailboxes as asked), an exsync configuration for it, and `Embedded` serving it in this
//! process, with the counters every measurement reads.

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use anyhow::Context;
use exsync_shared::{
    config::Config,
    embedded::{Embedded, ServeError},
    jobs::QueueName,
    ports::QueueDepths,
};
use exsync_sim::{
    cloud::LatencyProfile,
    dataverse::{Limits, RequestStats},
    graph::NewMessage,
    scenario::{CORRESPONDENTS, DemoOrg},
};
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;

/// What to start.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Subscriptions and a webhook listener (else delta polling at `poll_interval`).
    pub webhooks: bool,
    /// `runtime.poll_interval`.
    pub poll_interval: &'static str,
    /// Mailboxes besides the demo's four (one more tenant's worth, same profile).
    pub extra_mailboxes: usize,
    /// Added to every simulator request.
    pub latency: Option<LatencyProfile>,
    /// Serve (`false`: only write the configuration; the caller runs exsync itself).
    pub serve: bool,
    /// Count jobs and state writes ([`crate::counting`]).
    pub count: bool,
}

impl Default for Spec {
    fn default() -> Self {
        Self {
            webhooks: true,
            poll_interval: "1h",
            extra_mailboxes: 0,
            latency: None,
            serve: true,
            count: false,
        }
    }
}

/// The simulators, the configuration and, when served, exsync.
#[derive(Debug)]
pub struct World {
    /// The demo organisation on its simulators.
    pub org: DemoOrg,
    /// Every synced mailbox, the demo's four first.
    pub mailboxes: Vec<String>,
    /// The configuration file.
    pub config_path: PathBuf,
    /// The listener's port (webhooks).
    pub port: u16,
    /// exsync, when served in this process.
    pub exsync: Option<Embedded>,
    socket: Option<TcpListener>,
    serving: Option<(CancellationToken, JoinHandle<Result<(), ServeError>>)>,
}

/// Senders Dataverse knows (as contact, account, lead or queue): their look-ups get cached.
pub fn known_senders() -> Vec<(&'static str, &'static str)> {
    CORRESPONDENTS.iter().filter(|c| !c.known_as.is_empty()).map(|c| (c.name, c.address)).collect()
}

impl World {
    /// Starts the simulators, writes the configuration and (if asked) serves exsync.
    pub async fn start(spec: Spec) -> anyhow::Result<Self> {
        let org = DemoOrg::start().await.context("the simulators start")?;
        let dir = org.cloud.dir().to_path_buf();
        let mut mailboxes: Vec<String> = org.staff.iter().map(|s| s.address.clone()).collect();
        let mut extra = Vec::new();
        for i in 0..spec.extra_mailboxes {
            extra.push(org.cloud.add_mailbox(&org.fabrikam, &format!("m{i:05}"), "Bench Mailbox"));
        }
        mailboxes.extend(extra.iter().cloned());
        let socket = TcpListener::bind("127.0.0.1:0").await?;
        let port = socket.local_addr()?.port();
        let mut runtime = format!(
            "state = \"sqlite:exsync.db\"\nlisten = \"127.0.0.1:{port}\"\npoll_interval = \"{}\"\n",
            spec.poll_interval
        );
        if spec.webhooks {
            org.cloud.ca.write_server_pem(&dir.join("listener.pem"), &dir.join("listener.key"))?;
            runtime.push_str(&format!(
                "public_url = \"https://127.0.0.1:{port}\"\ntls_cert = \"listener.pem\"\ntls_key = \"listener.key\"\n"
            ));
        }
        let mut config = org.config(&runtime);
        for address in &extra {
            config = config.mailbox(address, "fabrikam", "");
        }
        let config_path = config.write(&dir)?;
        if let Some(latency) = spec.latency {
            org.cloud.add_latency(latency);
        }
        // Dataverse's service protection limits allow one application user 6,000 operations
        // per 5 minutes (reference A7): at two per email, 10 emails a second. The benchmarks
        // measure exsync, so the request and execution-time budgets are lifted; the 52
        // concurrent requests stay.
        org.dataverse.env.set_limits(Limits {
            requests: u64::MAX / 2,
            execution_ms: u64::MAX / 2,
            ..Limits::default()
        });
        let mut world = Self {
            org,
            mailboxes,
            config_path,
            port,
            exsync: None,
            socket: Some(socket),
            serving: None,
        };
        if spec.serve {
            world.serve(spec.count)?;
        }
        Ok(world)
    }

    /// Opens exsync on the configuration without serving (for `sync_once`).
    pub fn open(&self) -> anyhow::Result<Embedded> {
        Ok(Embedded::open(Config::load(&self.config_path)?)?)
    }

    fn serve(&mut self, count: bool) -> anyhow::Result<()> {
        let exsync = self.open()?;
        if count {
            crate::counting::install(exsync.state_path())?;
        }
        let socket = self.socket.take().context("served once")?;
        let stop = CancellationToken::new();
        let task = tokio::spawn({
            let (exsync, stop) = (exsync.clone(), stop.clone());
            async move { exsync.serve_on(socket, stop).await }
        });
        self.exsync = Some(exsync);
        self.serving = Some((stop, task));
        Ok(())
    }

    /// Jobs and state writes so far (a world started with `count`).
    pub fn counts(&self) -> std::collections::BTreeMap<String, u64> {
        self.exsync
            .as_ref()
            .and_then(|e| crate::counting::read(e.state_path()).ok())
            .unwrap_or_default()
    }

    /// Frees the listener's port for a child process to bind.
    pub fn release_port(&mut self) {
        self.socket = None;
    }

    /// The synced folders' subscriptions Graph has.
    pub fn subscriptions(&self) -> usize {
        self.org.cloud.graph.subscriptions().len()
    }

    /// Every Graph request so far (every app, every mailbox; `$batch` parts each count).
    pub fn graph_requests(&self) -> u64 {
        self.org.cloud.graph.all_request_stats().iter().map(|(_, _, s)| s.requests).sum()
    }

    /// exsync's requests to Dataverse so far.
    pub fn dataverse(&self) -> RequestStats {
        self.org.dataverse.env.requests(&self.org.dataverse.app_id)
    }

    /// Emails in Dataverse.
    pub fn emails(&self) -> usize {
        self.org.dataverse.env.email_count()
    }

    /// A new email to `to` from a sender Dataverse knows; returns its Internet Message-ID.
    pub fn deliver(&self, to: &str, n: u64) -> String {
        let senders = known_senders();
        let (name, address) = senders[n as usize % senders.len()];
        let message = NewMessage::new(&format!("Benchmark mail {n}"))
            .from(name, address)
            .to(to)
            .html("<html><body><p>Could you confirm the numbers below?</p></body></html>");
        self.org.cloud.graph.deliver(to, message).internet_message_id
    }

    /// Whether every queue is empty and nothing is in flight.
    pub async fn idle(&self) -> bool {
        let Some(exsync) = &self.exsync else { return true };
        for queue in QueueName::ALL {
            match exsync.queue().depth(queue).await {
                Ok(depth) if depth.is_idle() => {}
                _ => return false,
            }
        }
        true
    }

    /// Waits until the queues stay idle for 300 ms (bounded by `limit`); false on timeout.
    pub async fn settle(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let mut quiet_since: Option<Instant> = None;
        while Instant::now() < deadline {
            if self.idle().await {
                let since = *quiet_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= Duration::from_millis(300) {
                    return true;
                }
            } else {
                quiet_since = None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }

    /// Waits until `done` (bounded by `limit`); false on timeout.
    pub async fn wait(&self, limit: Duration, mut done: impl FnMut(&Self) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        while !done(self) {
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }

    /// Waits for every folder's subscription and a quiet pipeline.
    pub async fn ready(&self, limit: Duration) -> anyhow::Result<()> {
        let wanted = self.mailboxes.len() * 2;
        anyhow::ensure!(
            self.wait(limit, |w| w.subscriptions() >= wanted).await,
            "{} of {wanted} subscriptions after {limit:?}",
            self.subscriptions()
        );
        anyhow::ensure!(self.settle(limit).await, "the queues did not settle");
        Ok(())
    }

    /// Stops exsync (in-flight work finishes) and the simulators.
    pub async fn stop(mut self) {
        if let Some((stop, task)) = self.serving.take() {
            stop.cancel();
            let _ = task.await;
        }
    }
}
