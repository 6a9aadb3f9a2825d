//! `exsync serve`: the listener, a worker per queue, and the schedule that keeps subscriptions
//! alive (or polls, without a public URL) and sweeps every mailbox as the safety net.

use std::{sync::Arc, time::Duration};

use tokio::{net::TcpListener, task::JoinSet, time::Instant};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::Embedded;
use crate::{
    domain::{Folder, MailboxAddress},
    handlers::{notify, schedule},
    jobs::{Envelope, Job, QueueName, Trigger},
    listener,
    ports::{JobQueue, QueueError, SubscriptionStore},
    runtime::{self, Activity},
};

/// How often subscription upkeep runs with webhooks (renewal itself happens at half-life).
const UPKEEP_INTERVAL: Duration = Duration::from_secs(60 * 60);

/// Why `serve` could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The listener could not bind.
    #[error("runtime.listen {addr}: cannot listen: {source}")]
    Listen {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The listener's TLS files.
    #[error(transparent)]
    Tls(#[from] listener::TlsError),
    /// The state could not be claimed (another exsync runs on it, or it is unreadable).
    #[error("runtime.state: {0}")]
    State(String),
}

impl Embedded {
    /// Runs everything until `stop` is cancelled, then stops accepting, lets in-flight work
    /// finish and returns. State is durable throughout, so a restart resumes where this left.
    pub async fn serve(&self, stop: CancellationToken) -> Result<(), ServeError> {
        let addr = self.config.runtime.listen;
        let socket =
            TcpListener::bind(addr).await.map_err(|source| ServeError::Listen { addr, source })?;
        self.serve_on(socket, stop).await
    }

    /// [`serve`](Self::serve) on a bound socket (tests bind port 0).
    pub async fn serve_on(
        &self,
        socket: TcpListener,
        stop: CancellationToken,
    ) -> Result<(), ServeError> {
        let _claim = self.claim().await.map_err(|e| ServeError::State(e.to_string()))?;
        let tls = match &self.config.runtime.tls {
            Some(t) => Some(listener::tls_config(&t.cert_file, &t.key_file)?),
            None => None,
        };
        info!(
            listen = %socket.local_addr().map(|a| a.to_string()).unwrap_or_default(),
            public_url = self.config.runtime.public_url.as_ref().map(|u| u.as_str()).unwrap_or("(none: polling)"),
            mailboxes = self.config.mailboxes.len(),
            "exsync is serving"
        );
        let mut tasks = JoinSet::new();
        tasks.spawn(listener::serve(notify::app(self.notify_deps()), socket, tls, stop.clone()));
        let activity = Arc::new(Activity::default());
        for queue in QueueName::ALL {
            tasks.spawn(runtime::run(
                self.worker(queue),
                self.queues(),
                activity.clone(),
                stop.clone(),
            ));
        }
        tasks.spawn(self.clone().schedule(stop.clone()));
        tasks.spawn(self.clone().probe_parked(stop.clone()));
        while let Some(ended) = tasks.join_next().await {
            if let Err(e) = ended {
                warn!(error = %e, "a serve task ended abnormally");
            }
        }
        info!(tally = ?activity.tally(), "exsync stopped");
        Ok(())
    }

    /// Catch up at start; then keep subscriptions alive and sweep (webhooks), or poll.
    ///
    /// With webhooks the schedule ticks at the poll interval too: a mailbox whose subscription
    /// upkeep failed (a refused token, an unreachable listener) has no subscription record
    /// left, and is tried again at each tick, so fixing the cause heals it within one; every
    /// mailbox's subscriptions are checked and renewed hourly.
    async fn schedule(self, stop: CancellationToken) {
        let webhooks = self.config.runtime.public_url.is_some();
        let poll = self.config.runtime.poll_interval;
        let tick = if webhooks { poll.min(UPKEEP_INTERVAL) } else { poll };
        self.request_passes(Trigger::Sweep).await;
        if webhooks {
            self.ensure_subscriptions(Upkeep::All).await;
        }
        let (mut last_sweep, mut last_upkeep) = (Instant::now(), Instant::now());
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(tick) => {}
            }
            if !webhooks {
                self.request_passes(Trigger::Poll).await;
                continue;
            }
            if last_upkeep.elapsed() >= UPKEEP_INTERVAL {
                last_upkeep = Instant::now();
                self.ensure_subscriptions(Upkeep::All).await;
            } else {
                self.ensure_subscriptions(Upkeep::Unsubscribed).await;
            }
            if last_sweep.elapsed() >= self.config.runtime.sweep_interval {
                last_sweep = Instant::now();
                self.request_passes(Trigger::Sweep).await;
            }
        }
    }

    /// Requests a pass of every synced folder (coalesced with passes already queued).
    async fn request_passes(&self, trigger: Trigger) {
        schedule::request_passes(
            &self.config,
            self.store.as_ref(),
            self.queue.as_ref(),
            self.clock.as_ref(),
            trigger,
        )
        .await;
    }

    /// Queues subscription upkeep for the synced mailboxes `which` selects.
    async fn ensure_subscriptions(&self, which: Upkeep) {
        let queued = match which {
            Upkeep::All => schedule::queue_upkeep(&self.config, self.queue.as_ref()).await,
            Upkeep::Unsubscribed => self.queue_upkeep_of_unsubscribed().await,
        };
        if let Err(error) = queued {
            warn!(%error, "could not queue subscription upkeep; the next tick tries again");
        }
    }

    /// Upkeep of the synced mailboxes with a folder that has no subscription.
    async fn queue_upkeep_of_unsubscribed(&self) -> Result<usize, QueueError> {
        let mut jobs = Vec::new();
        for mailbox in self.synced_mailboxes() {
            if self.unsubscribed(&mailbox.address).await {
                jobs.push(Envelope::new(Job::EnsureSubscriptions {
                    mailbox: mailbox.address.clone(),
                }));
            }
        }
        if !jobs.is_empty() {
            self.queue.enqueue(QueueName::Subscriptions, &jobs, Duration::ZERO).await?;
        }
        Ok(jobs.len())
    }

    /// Whether a folder of `mailbox` has no subscription record at all, not even one being
    /// created: its last upkeep failed, or never ran.
    async fn unsubscribed(&self, mailbox: &MailboxAddress) -> bool {
        match self.store.subscriptions_of(mailbox).await {
            Ok(records) => Folder::ALL.iter().any(|f| records.iter().all(|r| r.folder != *f)),
            Err(error) => {
                warn!(%error, %mailbox, "could not read the subscriptions; the next tick tries again");
                false
            }
        }
    }
}

/// Which mailboxes a subscription upkeep run covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Upkeep {
    /// Every synced mailbox (hourly: renewals, lost subscriptions).
    All,
    /// Those with a folder that has no subscription (each tick: retry what failed).
    Unsubscribed,
}
