//! The folder pass: read what changed in one folder of one mailbox (message delta) and hand
//! every email the mailbox's rules keep to `write`.
//!
//! Order matters for "nothing lost": a page's write jobs are enqueued before the page's link
//! is stored, so a crash between the two re-reads the page and `write` de-duplicates
//! (DESIGN invariant 2). The pass mark is cleared first, so a notification that arrives
//! while the pass runs queues another pass rather than joining one that may have read past it.

use std::{sync::Arc, time::Duration};

use time::OffsetDateTime;
use tracing::{Span, instrument};

use super::{
    failure::{Failure, gate, report, report_failure},
    passes::request_pass,
    running::RunningPasses,
};
use crate::{
    config::Config,
    domain::{Folder, MailboxAddress},
    graph::{
        DeltaFrom, ErrorClass, ErrorKind, GraphClient, GraphError, MailboxAccess, model::DeltaItem,
    },
    jobs::{Envelope, Job, QueueName, Trigger},
    mapping::message::{Unmapped, to_email},
    model::EmailRecord,
    outcome::Outcome,
    ports::{Clock, CursorStore, DeltaCursor, JobQueue, MAX_BODY_BYTES, PassStore, StatusStore},
    status::StatusEvent,
    tracking::{FirstLook, TrackIf, TrackingRule},
};

/// Pages one job reads before it hands the rest of a backlog to a follow-up job, so that one
/// mailbox's history never holds a worker for long (20 pages of 50: 1,000 messages).
pub const DEFAULT_PAGES_PER_JOB: usize = 20;

/// What a folder pass needs.
#[derive(Debug, Clone)]
pub struct SyncDeps {
    /// The configuration (mailbox rules, profiles).
    pub config: Arc<Config>,
    /// Graph.
    pub graph: GraphClient,
    /// Delta links per folder.
    pub cursors: Arc<dyn CursorStore>,
    /// Pass coalescing marks.
    pub passes: Arc<dyn PassStore>,
    /// Mailbox status.
    pub status: Arc<dyn StatusStore>,
    /// Where write jobs (and follow-up passes) go.
    pub queue: Arc<dyn JobQueue>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Pages per job (see [`DEFAULT_PAGES_PER_JOB`]).
    pub pages_per_job: usize,
    /// The passes running in this process (share one).
    pub running: RunningPasses,
}

/// How long a pass whose folder is busy waits before it is tried again.
pub const BUSY_FOLDER_RETRY: Duration = Duration::from_secs(1);

/// Runs one pass of `folder` of `mailbox`; `ticket` is its job's pass-mark ticket (0: none).
#[instrument(skip_all, fields(tenant = tracing::field::Empty, %mailbox, %folder, ?trigger))]
pub async fn sync_folder(
    deps: &SyncDeps,
    mailbox: &MailboxAddress,
    folder: Folder,
    trigger: Trigger,
    ticket: u64,
) -> Outcome {
    let Some(configured) = deps.config.mailbox(mailbox) else {
        tracing::info!("the mailbox is no longer configured; pass dropped");
        return Outcome::Done;
    };
    Span::current().record("tenant", deps.config.profile_of(configured).tenant_id.as_str());
    let probe = trigger == Trigger::Sweep;
    let admitted = match gate(&*deps.status, mailbox, deps.clock.now(), probe).await {
        Ok(admitted) => admitted,
        Err(why) => {
            // Clear the pass mark, so that the probe's (or the re-enabled mailbox's) request
            // queues a pass instead of coalescing into this skipped one. The delta cursor
            // stays where it is: the next pass reads what this one would have.
            if let Err(error) = deps.passes.begin_pass(mailbox, folder, ticket).await {
                tracing::warn!(%error, "could not clear the pass mark");
            }
            tracing::debug!(%why, "pass skipped");
            return Outcome::Done;
        }
    };
    let Some(_running) = deps.running.start(mailbox, folder) else {
        return Outcome::Throttled {
            after: BUSY_FOLDER_RETRY,
            reason: format!("a pass of {folder} of {mailbox} is running; this one follows it"),
        };
    };
    let mut pass = Pass {
        deps,
        access: MailboxAccess::of(&deps.config, configured),
        folder,
        trigger,
        ticket,
        sync_from: deps.config.sync_from(configured),
        incoming: configured.incoming,
        tracking: deps.config.tracking(configured),
        emails: 0,
        probe: admitted.probe,
    };
    match pass.run().await {
        Ok(outcome) => outcome,
        Err(failure) => {
            let context = format!("{folder} pass of {mailbox}");
            let now = deps.clock.now();
            let (outcome, event) = failure.verdict(&context, now);
            tracing::warn!(?outcome, "folder pass failed");
            let max = deps.config.runtime.parked_retry_max;
            report_failure(&*deps.status, mailbox, event, admitted.failures, max, now).await;
            outcome
        }
    }
}

/// The write job of an email, fitted to the queue's message size: a body too large to travel
/// is left for `write` to read from Graph. An email too large even without its body (thousands
/// of recipients) cannot be queued at all; it is named in the log rather than blocking the
/// folder behind it forever.
fn write_job(
    mailbox: &MailboxAddress,
    email: EmailRecord,
    track_if: Option<TrackIf>,
) -> Option<Envelope> {
    let id = email.graph_id.clone();
    let job = |email| {
        Envelope::new(Job::WriteEmail {
            mailbox: mailbox.clone(),
            email: Box::new(email),
            track_if,
        })
    };
    let envelope = job(email.clone());
    if envelope.to_body().len() <= MAX_BODY_BYTES {
        return Some(envelope);
    }
    let envelope = job(EmailRecord { body_html: String::new(), body_omitted: true, ..email });
    if envelope.to_body().len() <= MAX_BODY_BYTES {
        tracing::info!(%id, "body left in Graph: too large for a queue message");
        return Some(envelope);
    }
    tracing::error!(%id, "email skipped: too large for a queue message even without its body");
    None
}

fn unusable_cursor(e: &GraphError) -> bool {
    e.class() == ErrorClass::DeltaExpired || matches!(e.kind, ErrorKind::ForeignLink(_))
}

struct Pass<'a> {
    deps: &'a SyncDeps,
    access: MailboxAccess,
    folder: Folder,
    trigger: Trigger,
    /// Its job's pass-mark ticket.
    ticket: u64,
    sync_from: Option<OffsetDateTime>,
    incoming: bool,
    tracking: TrackingRule,
    emails: u64,
    /// The mailbox was parked when the pass began: its success heals the park.
    probe: bool,
}

impl Pass<'_> {
    async fn run(&mut self) -> Result<Outcome, Failure> {
        let (deps, mailbox, folder) = (self.deps, &self.access.address, self.folder);
        deps.passes.begin_pass(mailbox, folder, self.ticket).await?;
        let mut cursor = deps.cursors.cursor(mailbox, folder).await?;
        let mut started_over = false;
        let mut pages = 0;
        loop {
            if pages == deps.pages_per_job.max(1) {
                return self.continue_later().await;
            }
            let from = match &cursor {
                None => DeltaFrom::Start,
                Some(DeltaCursor::Next(link) | DeltaCursor::Delta(link)) => DeltaFrom::Link(link),
            };
            let page = match deps.graph.delta_page(&self.access, folder, from).await {
                Ok(page) => page,
                // The token expired or Graph reset the sync state (reference graph.md 6.2), or
                // the stored link is not under graph_url any more (the configuration moved):
                // start the folder over; `write` de-duplicates the replayed messages.
                Err(e) if unusable_cursor(&e) && !started_over => {
                    tracing::warn!(error = %e, "delta token expired; starting the folder over");
                    deps.cursors.clear_cursor(mailbox, folder).await?;
                    cursor = None;
                    started_over = true;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            pages += 1;
            let (emails, skipped) = self.keep(page.items);
            let jobs: Vec<Envelope> = emails
                .into_iter()
                .filter_map(|(email, track_if)| write_job(mailbox, email, track_if))
                .collect();
            if !jobs.is_empty() {
                deps.queue.enqueue(QueueName::Writes, &jobs, Duration::ZERO).await?;
                self.emails += jobs.len() as u64;
            }
            // Only now: the page's emails are durably queued.
            deps.cursors.put_cursor(mailbox, folder, &page.next).await?;
            if skipped > 0 {
                let event = StatusEvent::EmailsSkipped { emails: skipped };
                report(&*deps.status, mailbox, event, deps.clock.now()).await;
            }
            if let DeltaCursor::Delta(_) = page.next {
                tracing::info!(emails = self.emails, pages, "folder pass done");
                // A pass that began before a park (of the other folder, or of subscription
                // upkeep) proves nothing about its cause: the park stands until its probe.
                let event = if self.probe {
                    StatusEvent::PassSucceeded { emails: self.emails }
                } else {
                    StatusEvent::PassEnded { emails: self.emails }
                };
                report(&*deps.status, mailbox, event, deps.clock.now()).await;
                return Ok(Outcome::Done);
            }
            cursor = Some(page.next);
        }
    }

    /// The emails of a page that the mailbox's rules keep: not drafts, received on or after
    /// its date (inclusive), and none at all when incoming mail is off; each with the tracking
    /// condition `write` decides (see [`TrackingRule::first_look`]). Also how many the
    /// tracking rule left out at once.
    ///
    /// The date is checked here, not with a delta `$filter`: a filtered round returns at most
    /// 5,000 messages (reference graph.md 6.1) and the rest would never be seen. Reading the
    /// older messages of the folder once, in the first round, costs a page per 50 of them.
    fn keep(&self, items: Vec<DeltaItem>) -> (Vec<(EmailRecord, Option<TrackIf>)>, u64) {
        let mut kept = Vec::new();
        let mut skipped = 0;
        for item in items {
            match item {
                DeltaItem::Message(message) => match to_email(&message, self.folder) {
                    Ok(email) if self.wanted(&email) => match self.tracking.first_look(self.folder)
                    {
                        FirstLook::Tracked => kept.push((email, None)),
                        FirstLook::If(condition) => kept.push((email, Some(condition))),
                        FirstLook::Untracked(why) => {
                            tracing::debug!(id = %email.graph_id, why, "left out by the tracking rule");
                            skipped += 1;
                        }
                    },
                    Ok(email) => tracing::trace!(id = %email.graph_id, "outside the rules"),
                    Err(skip @ (Unmapped::Draft { .. } | Unmapped::Partial { .. })) => {
                        tracing::debug!(%skip, "not an email to write");
                    }
                    // Exchange does not send these; when it does, say which message is lost.
                    Err(e @ Unmapped::Malformed { .. }) => {
                        tracing::error!(error = %e, "message skipped: it cannot be read");
                    }
                },
                // Deletes and moves out of the folder do not remove Dataverse activities
                // (server-side sync keeps them too).
                DeltaItem::Removed { id } => tracing::debug!(%id, "removed from the folder"),
                DeltaItem::Unreadable { id, error } => {
                    tracing::error!(?id, %error, "delta entry skipped: it cannot be read");
                }
            }
        }
        (kept, skipped)
    }

    fn wanted(&self, email: &EmailRecord) -> bool {
        self.incoming && self.sync_from.is_none_or(|from| email.received_at >= from)
    }

    /// Hands the rest of the backlog to a follow-up job, unless a pass is already queued (it
    /// resumes from the stored link too).
    async fn continue_later(&self) -> Result<Outcome, Failure> {
        let deps = self.deps;
        let mailbox = &self.access.address;
        let queued = request_pass(
            &*deps.passes,
            &*deps.queue,
            &*deps.clock,
            mailbox,
            self.folder,
            self.trigger,
        )
        .await?;
        tracing::info!(emails = self.emails, queued, "backlog continues in another job");
        let event = StatusEvent::CatchingUp { emails: self.emails };
        report(&*deps.status, mailbox, event, deps.clock.now()).await;
        Ok(Outcome::Done)
    }
}
