//! A simulated cloud with one Exchange tenant, a Dataverse that knows some correspondents, and
//! exsync serving webhooks over TLS on 127.0.0.1.

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use exsync_shared::{config::Config, embedded::Embedded, jobs::QueueName, ports::QueueDepths};
use exsync_sim::{
    cloud::{DataverseTenant, ExchangeTenant, SimCloud},
    dataverse::EmailView,
};
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;

pub const CONTACT: &str = "maria.garcia@adventure-works.example";
pub const ACCOUNT: &str = "orders@litware.example";
pub const LEAD: &str = "ravi.patel@wingtip.example";
pub const QUEUE: &str = "support@northwind.example";
pub const COLLEAGUE: &str = "erin@fabrikam.example";
pub const STRANGER: &str = "digest@newsletter.example";
/// An email Dataverse tracks already: replies to it are "responses".
pub const TRACKED_PARENT: &str = "<tracked-parent@northwind.example>";

/// An encryption certificate for rich notifications, as a PEM bundle, with its DER.
#[derive(Debug, Clone)]
pub struct TestCertificate {
    pub id: String,
    pub pem: String,
    pub der: Vec<u8>,
}

impl TestCertificate {
    pub fn generate(id: &str) -> Self {
        let key =
            rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
                .unwrap();
        let cert = rcgen::CertificateParams::new(vec!["exsync-notifications".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        Self {
            id: id.into(),
            pem: format!("{}{}", cert.pem(), key.serialize_pem()),
            der: cert.der().to_vec(),
        }
    }

    /// The profile lines that make it the current certificate (written to `secrets/{id}.pem`).
    pub fn profile_lines(&self) -> String {
        format!(
            "rich_notifications = true\nencryption_certificate = \"file:secrets/{0}.pem\"\n\
             encryption_certificate_id = \"{0}\"\n",
            self.id
        )
    }
}

/// The cloud and its directory, before exsync runs.
#[derive(Debug)]
pub struct Cloud {
    pub cloud: SimCloud,
    pub tenant: ExchangeTenant,
    pub dataverse: DataverseTenant,
}

impl Cloud {
    /// Fabrikam's Exchange tenant and a Dataverse that knows a contact, an account, a lead, a
    /// queue, a colleague, and already tracks [`TRACKED_PARENT`].
    pub async fn start() -> Self {
        let cloud = SimCloud::start().await.unwrap();
        let tenant = cloud.add_exchange_tenant("fabrikam.example");
        let dataverse = cloud.add_dataverse("northwind.example");
        let env = &dataverse.env;
        env.add_contact(CONTACT, "Maria", "Garcia");
        env.add_account(ACCOUNT, "Litware Orders");
        env.add_lead(LEAD, "Ravi", "Patel");
        env.add_queue(QUEUE, "Northwind Support");
        env.add_systemuser(COLLEAGUE, "Erin", "Hall");
        env.insert(
            "emails",
            serde_json::json!({"subject": "Our offer", "messageid": TRACKED_PARENT}),
        )
        .unwrap();
        Self { cloud, tenant, dataverse }
    }

    /// Adds a mailbox `local@fabrikam.example` whose owner is a Dataverse user.
    pub fn mailbox(&self, local: &str) -> String {
        let address = self.cloud.add_mailbox(&self.tenant, local, local);
        self.dataverse.env.add_systemuser(&address, local, "Fabrikam");
        address
    }

    /// Writes the certificates' PEM files beside the configuration.
    pub fn write_certificates(&self, certificates: &[&TestCertificate]) {
        let dir = self.cloud.dir().join("secrets");
        std::fs::create_dir_all(&dir).unwrap();
        for c in certificates {
            std::fs::write(dir.join(format!("{}.pem", c.id)), &c.pem).unwrap();
        }
    }

    /// The configuration: profile `fabrikam` with `profile_extra`, the mailboxes with their
    /// extra lines, and `runtime` lines.
    pub fn config(
        &self,
        profile_extra: &str,
        mailboxes: &[(&str, &str)],
        runtime: &str,
    ) -> PathBuf {
        let mut config =
            self.cloud.config(&self.dataverse).profile("fabrikam", &self.tenant, profile_extra);
        for (address, extra) in mailboxes {
            config = config.mailbox(address, "fabrikam", extra);
        }
        config.runtime(runtime).write(self.cloud.dir()).unwrap()
    }

    /// Graph requests exsync's app made on `address` so far.
    pub fn graph_requests(&self, address: &str) -> u64 {
        self.cloud.graph.request_stats(&self.tenant.app_id, address).requests
    }

    /// The email activities whose subject starts with `prefix`, by subject.
    pub fn emails(&self, prefix: &str) -> Vec<EmailView> {
        let mut emails: Vec<EmailView> = self
            .dataverse
            .env
            .emails()
            .into_iter()
            .filter(|e| e.subject.as_deref().is_some_and(|s| s.starts_with(prefix)))
            .collect();
        emails.sort_by(|a, b| a.subject.cmp(&b.subject));
        emails
    }
}

/// exsync serving webhooks for a [`Cloud`].
#[derive(Debug)]
pub struct Serving {
    pub exsync: Embedded,
    pub port: u16,
    stop: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl Serving {
    /// Starts `exsync serve` on a fresh port, with its TLS listener.
    pub async fn start(cloud: &Cloud, profile_extra: &str, mailboxes: &[(&str, &str)]) -> Self {
        Self::start_on(cloud, 0, profile_extra, mailboxes).await
    }

    /// Starts `exsync serve` on `port` (that of a run before, so Graph's subscriptions reach
    /// it), with its TLS listener.
    pub async fn start_on(
        cloud: &Cloud,
        port: u16,
        profile_extra: &str,
        mailboxes: &[(&str, &str)],
    ) -> Self {
        let socket = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = socket.local_addr().unwrap().port();
        let dir = cloud.cloud.dir();
        cloud
            .cloud
            .ca
            .write_server_pem(&dir.join("listener.pem"), &dir.join("listener.key"))
            .unwrap();
        let runtime = format!(
            "listen = \"127.0.0.1:{port}\"\npublic_url = \"https://127.0.0.1:{port}\"\n\
             tls_cert = \"listener.pem\"\ntls_key = \"listener.key\"\n"
        );
        let path = cloud.config(profile_extra, mailboxes, &runtime);
        let exsync = Embedded::open(Config::load(&path).unwrap()).unwrap();
        let stop = CancellationToken::new();
        let task = tokio::spawn({
            let (exsync, stop) = (exsync.clone(), stop.clone());
            async move { exsync.serve_on(socket, stop).await.unwrap() }
        });
        Self { exsync, port, stop, task: Some(task) }
    }

    /// Stops serving and waits until it has.
    pub async fn stop(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }

    /// The webhook URL Graph posts to.
    pub fn notify_url(&self) -> String {
        format!("https://127.0.0.1:{}/graph/notify", self.port)
    }

    /// Whether every queue is idle.
    pub async fn idle(&self) -> bool {
        for queue in QueueName::ALL {
            if !self.exsync.queue().depth(queue).await.unwrap().is_idle() {
                return false;
            }
        }
        true
    }

    /// Waits until notifications are delivered and every queue has stayed idle for a while.
    pub async fn settle(&self, cloud: &Cloud) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut quiet_since = None;
        loop {
            let stats = cloud.cloud.graph.notification_stats();
            let delivering = stats.queued > stats.delivered + stats.dropped_by_fault;
            let quiet = !delivering && self.idle().await;
            match (quiet, quiet_since) {
                (true, Some(since)) if Instant::now() - since > Duration::from_millis(400) => {
                    return;
                }
                (true, None) => quiet_since = Some(Instant::now()),
                (false, _) => quiet_since = None,
                _ => {}
            }
            assert!(Instant::now() < deadline, "exsync did not settle: {stats:?}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// Waits up to 30 s for `done`.
pub async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
