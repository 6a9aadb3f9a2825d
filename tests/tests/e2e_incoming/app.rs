//! `TestApp`: the demo organisation on the simulators, an exsync configuration for it, and
//! `Embedded` serving it in this process (webhooks over TLS, or polling), plus bounded waits.

use std::{collections::HashMap, path::PathBuf, time::Duration};

use exsync_shared::{
    config::Config,
    domain::MailboxAddress,
    embedded::{Embedded, ServeError},
    jobs::{Envelope, Job, QueueName},
    model::EmailRecord,
    ports::{JobQueue, StatusStore},
    status::MailboxStatus,
};
use exsync_sim::{
    dataverse::{EmailView, Env},
    graph::GraphSim,
    scenario::DemoOrg,
};
use time::OffsetDateTime;
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;

/// The synced mailboxes of the demo organisation.
pub const ALICE: &str = "alice@fabrikam.example";
pub const BOB: &str = "bob@fabrikam.example";
pub const CAROL: &str = "carol@contoso.example";
pub const DAN: &str = "dan@contoso.example";

/// How exsync learns of new mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Graph subscriptions calling the listener over TLS (`public_url` set); a mailbox
    /// whose subscriptions failed is tried again each second (`poll_interval`; a parked one
    /// within a few seconds, `parked_retry_max`).
    Webhooks,
    /// No `public_url`: a delta pass of every folder each second (`poll_interval`).
    Polling,
}

/// Builds a [`TestApp`].
#[derive(Debug)]
pub struct Builder {
    mode: Mode,
    profile_lines: HashMap<&'static str, String>,
    mailbox_lines: HashMap<&'static str, String>,
    secrets: Vec<(&'static str, String)>,
}

impl Builder {
    /// Polling instead of webhooks.
    pub fn polling(mut self) -> Self {
        self.mode = Mode::Polling;
        self
    }

    /// More TOML lines for a profile (`fabrikam` or `contoso`).
    pub fn profile(mut self, name: &'static str, lines: &str) -> Self {
        self.profile_lines.entry(name).or_default().push_str(lines);
        self
    }

    /// More TOML lines for a mailbox.
    pub fn mailbox(mut self, address: &'static str, lines: &str) -> Self {
        self.mailbox_lines.entry(address).or_default().push_str(lines);
        self
    }

    /// Writes `value` as the secret of `name` (`dataverse` or a profile) instead of the right one.
    pub fn secret(mut self, name: &'static str, value: &str) -> Self {
        self.secrets.push((name, value.to_string()));
        self
    }

    /// Starts the simulators, writes the configuration and serves exsync.
    pub async fn start(self) -> TestApp {
        crate::logs::capture_logs();
        let org = DemoOrg::start().await.expect("simulators start");
        let dir = org.cloud.dir().to_path_buf();
        let socket = TcpListener::bind("127.0.0.1:0").await.expect("bind a port");
        let port = socket.local_addr().expect("bound").port();
        let runtime = match self.mode {
            Mode::Webhooks => {
                org.cloud
                    .ca
                    .write_server_pem(&dir.join("listener.pem"), &dir.join("listener.key"))
                    .expect("listener certificate");
                format!(
                    "state = \"sqlite:exsync.db\"\nlisten = \"127.0.0.1:{port}\"\n\
                     public_url = \"https://127.0.0.1:{port}\"\npoll_interval = \"1s\"\n\
                     parked_retry_max = \"1s\"\n\
                     tls_cert = \"listener.pem\"\ntls_key = \"listener.key\"\n"
                )
            }
            Mode::Polling => format!(
                "state = \"sqlite:exsync.db\"\nlisten = \"127.0.0.1:{port}\"\npoll_interval = \"1s\"\n\
                 parked_retry_max = \"1s\"\n"
            ),
        };
        let lines = |map: &HashMap<&'static str, String>, key: &str| {
            map.get(key).cloned().unwrap_or_default()
        };
        let mut config = org
            .cloud
            .config(&org.dataverse)
            .profile("fabrikam", &org.fabrikam, &lines(&self.profile_lines, "fabrikam"))
            .profile("contoso", &org.contoso, &lines(&self.profile_lines, "contoso"));
        for staff in &org.staff {
            config = config.mailbox(
                &staff.address,
                staff.profile,
                &lines(&self.mailbox_lines, &staff.address),
            );
        }
        let mut config = config.runtime(&runtime);
        for (name, value) in &self.secrets {
            config = config.secret(name, value);
        }
        let config_path = config.write(&dir).expect("write the configuration");
        let exsync = Embedded::open(Config::load(&config_path).expect("a valid configuration"))
            .expect("exsync opens");
        let stop = CancellationToken::new();
        let serving = tokio::spawn({
            let (exsync, stop) = (exsync.clone(), stop.clone());
            async move { exsync.serve_on(socket, stop).await }
        });
        TestApp {
            org,
            exsync,
            config_path,
            url: format!("https://127.0.0.1:{port}"),
            wrong_secrets: self.secrets.iter().map(|(_, v)| v.clone()).collect(),
            stop,
            serving: Some(serving),
        }
    }
}

/// The pipeline running against the simulators.
#[derive(Debug)]
pub struct TestApp {
    /// The simulators and the organisation on them.
    pub org: DemoOrg,
    /// exsync, serving.
    pub exsync: Embedded,
    /// The configuration file (secrets in `secrets/` beside it).
    pub config_path: PathBuf,
    /// The listener's URL.
    pub url: String,
    /// The wrong secrets the test wrote (they must not be logged either).
    pub wrong_secrets: Vec<String>,
    stop: CancellationToken,
    serving: Option<JoinHandle<Result<(), ServeError>>>,
}

impl TestApp {
    /// Webhooks, every mailbox synced, the right secrets.
    pub fn builder() -> Builder {
        Builder {
            mode: Mode::Webhooks,
            profile_lines: HashMap::new(),
            mailbox_lines: HashMap::new(),
            secrets: Vec::new(),
        }
    }

    /// Graph.
    pub fn graph(&self) -> &GraphSim {
        &self.org.cloud.graph
    }

    /// The Dataverse environment.
    pub fn dataverse(&self) -> &Env {
        &self.org.dataverse.env
    }

    /// Waits until Graph holds `n` subscriptions (two per synced mailbox whose token works).
    pub async fn wait_subscribed(&self, n: usize) {
        wait_for(&format!("{n} Graph subscriptions"), Duration::from_secs(20), || {
            (self.graph().subscriptions().len() >= n).then_some(())
        })
        .await;
    }

    /// The email activities with this Message-ID.
    pub fn emails_with(&self, message_id: &str) -> Vec<EmailView> {
        self.dataverse()
            .emails()
            .into_iter()
            .filter(|e| e.messageid.as_deref() == Some(message_id))
            .collect()
    }

    /// Waits until the email with this Message-ID is in Dataverse and returns it.
    pub async fn landed(&self, message_id: &str) -> EmailView {
        wait_for(&format!("email {message_id} in Dataverse"), Duration::from_secs(20), || {
            self.emails_with(message_id).into_iter().next()
        })
        .await
    }

    /// A mailbox's status record.
    pub async fn status(&self, mailbox: &str) -> Option<MailboxStatus> {
        let mailbox = MailboxAddress::parse(mailbox).expect("an address");
        self.exsync.store().status(&mailbox).await.expect("status readable")
    }

    /// Waits until a mailbox's status satisfies `check`; returns it.
    pub async fn status_where(
        &self,
        mailbox: &str,
        what: &str,
        check: impl Fn(&MailboxStatus) -> bool,
    ) -> MailboxStatus {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let status = self.status(mailbox).await;
            match status {
                Some(s) if check(&s) => return s,
                _ if tokio::time::Instant::now() >= deadline => {
                    panic!("{mailbox}: not {what} within 20 s; status {status:#?}")
                }
                _ => tokio::time::sleep(Duration::from_millis(25)).await,
            }
        }
    }

    /// Puts a write job for `record` of `mailbox` on the writes queue, as `sync` would (a
    /// redelivery, or a message gone from Graph before its write).
    pub async fn enqueue_write(&self, mailbox: &str, record: EmailRecord) {
        let job = Job::WriteEmail {
            mailbox: MailboxAddress::parse(mailbox).unwrap(),
            email: Box::new(record),
            track_if: None,
        };
        let queue = self.exsync.queue();
        queue.enqueue(QueueName::Writes, &[Envelope::new(job)], Duration::ZERO).await.unwrap();
    }

    /// Waits until the changes and writes queues hold nothing (ready, in flight or delayed)
    /// for a quarter of a second.
    pub async fn quiet(&self) {
        let (settle, limit) = (Duration::from_millis(250), Duration::from_secs(20));
        exsync_sim::settle::until_quiet(self.exsync.queue().as_ref(), settle, limit).await;
    }

    /// Stops serving and waits for it to finish its work in flight.
    pub async fn stop(&mut self) {
        self.stop.cancel();
        if let Some(serving) = self.serving.take() {
            serving.await.expect("serve did not panic").expect("serve ended cleanly");
        }
    }

    /// Serves again on the same port with a new process's worth of exsync (the configuration
    /// read afresh, the same state file).
    pub async fn restart(&mut self) {
        self.stop().await;
        let port: u16 = self.url.rsplit(':').next().and_then(|p| p.parse().ok()).expect("a port");
        let socket = TcpListener::bind(("127.0.0.1", port)).await.expect("the same port again");
        let config = Config::load(&self.config_path).expect("a valid configuration");
        self.exsync = Embedded::open(config).expect("exsync opens again");
        self.stop = CancellationToken::new();
        let (exsync, stop) = (self.exsync.clone(), self.stop.clone());
        self.serving = Some(tokio::spawn(async move { exsync.serve_on(socket, stop).await }));
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.stop.cancel();
        if !std::thread::panicking() {
            self.assert_no_secret_logged();
        }
    }
}

/// Polls `probe` every 25 ms until it answers, for at most `limit`.
pub async fn wait_for<T>(what: &str, limit: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(tokio::time::Instant::now() < deadline, "waited {limit:?} for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Now, to the second (Graph's dates have no fraction).
pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc().replace_nanosecond(0).expect("0 ns is valid")
}
