//! `exsync serve`: the listener, a worker per queue, and the schedule that keeps subscriptions
//! alive (or polls, without a public URL) and sweeps every mailbox as the safety net.

use std::{sync::Arc, time::Duration};

use tokio::{net::TcpListener, task::JoinSet, time::Instant};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::Embedded;
use crate::{
    domain::Folder,
    handlers::{notify, passes::request_pass},
    jobs::{Envelope, Job, QueueName, Trigger},
    listener,
    ports::JobQueue,
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
        while let Some(ended) = tasks.join_next().await {
            if let Err(e) = ended {
                warn!(error = %e, "a serve task ended abnormally");
            }
        }
        info!(tally = ?activity.tally(), "exsync stopped");
        Ok(())
    }

    /// Catch up at start; then keep subscriptions alive and sweep (webhooks), or poll.
    async fn schedule(self, stop: CancellationToken) {
        let webhooks = self.config.runtime.public_url.is_some();
        let tick = if webhooks { UPKEEP_INTERVAL } else { self.config.runtime.poll_interval };
        self.request_passes(Trigger::Sweep).await;
        if webhooks {
            self.ensure_subscriptions().await;
        }
        let mut last_sweep = Instant::now();
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(tick) => {}
            }
            if !webhooks {
                self.request_passes(Trigger::Poll).await;
                continue;
            }
            self.ensure_subscriptions().await;
            if last_sweep.elapsed() >= self.config.runtime.sweep_interval {
                last_sweep = Instant::now();
                self.request_passes(Trigger::Sweep).await;
            }
        }
    }

    /// Requests a pass of every synced folder (coalesced with passes already queued).
    async fn request_passes(&self, trigger: Trigger) {
        for mailbox in self.synced_mailboxes() {
            for folder in Folder::ALL {
                let asked = request_pass(
                    self.store.as_ref(),
                    self.queue.as_ref(),
                    self.clock.as_ref(),
                    &mailbox.address,
                    folder,
                    trigger,
                )
                .await;
                if let Err(error) = asked {
                    // The next tick asks again; the status of a mailbox that never syncs says so.
                    warn!(%error, mailbox = %mailbox.address, %folder, "could not request a pass");
                }
            }
        }
    }

    /// Queues subscription upkeep for every synced mailbox.
    async fn ensure_subscriptions(&self) {
        let jobs: Vec<Envelope> = self
            .synced_mailboxes()
            .map(|m| Envelope::new(Job::EnsureSubscriptions { mailbox: m.address.clone() }))
            .collect();
        if let Err(error) =
            self.queue.enqueue(QueueName::Subscriptions, &jobs, Duration::ZERO).await
        {
            warn!(%error, "could not queue subscription upkeep; the next tick tries again");
        }
    }
}
