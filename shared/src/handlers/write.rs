//! The `write` handler: emails into Dataverse, each exactly once (DESIGN invariant 3).
//!
//! For a batch of jobs (up to 10 SQS messages on Lambda, a batch of the embedded queue):
//! 1. every email gets its deterministic `activityid`; jobs for the same message (several
//!    mailboxes, a redelivery, a notification plus a sweep) are written once;
//! 2. the dedupe store, a cache, answers the ones already written without a request;
//! 3. one `$batch` of reads finds the ones Dataverse already has by `messageid` (written by
//!    an earlier attempt, or by server-side sync), the emails replies answer, and the parties;
//! 4. one `$batch` writes the rest, one atomic create-and-close changeset each; "duplicate"
//!    means an earlier attempt already did it.
//!
//! An email whose body was too large for its queue message gets the body from Graph just
//! before step 4, and only when it is really written (the rare path, see [`body`]).
//!
//! Steady state (parties cached): two HTTP requests per batch of jobs, however many emails it
//! carries; in Dataverse's own count (every part of a `$batch` counts, A7) that is a create
//! and a close per email plus one `messageid` query per 50 emails.
//!
//! A job may carry a tracking condition ([`TrackIf`]) the folder pass could not decide; it is
//! decided after step 3, with the parties and parent emails those reads found anyway, so an
//! email the rule leaves out costs no write (it is counted as skipped).

mod body;
mod create;
mod lookup;
mod screen;

use std::{collections::HashMap, sync::Arc};

use tracing::{info, instrument, warn};

use crate::{
    config::Config,
    dataverse::{DataverseClient, DataverseError, ErrorClass, parties::PartyResolver},
    domain::{InternetMessageId, MailboxAddress, RecordId},
    graph::GraphClient,
    mapping::email::{EmailActivity, Parent, activity_id, email_activity},
    model::EmailRecord,
    outcome::Outcome,
    ports::{Clock, DedupeStore, StatusStore},
    status::StatusEvent,
    tracking::{Correspondence, TrackIf},
};

use create::Written;
pub use screen::{ScreenDeps, ScreenJob, screen};

/// What the `write` handler needs.
#[derive(Debug, Clone)]
pub struct WriteDeps {
    /// The Dataverse environment.
    pub dataverse: Arc<DataverseClient>,
    /// Address resolution, with its cache (share one per process).
    pub parties: Arc<PartyResolver>,
    /// Message-ID to activity: saves the requests for emails already written.
    pub dedupe: Arc<dyn DedupeStore>,
    /// Mailbox status counters.
    pub status: Arc<dyn StatusStore>,
    /// Time, for the status records.
    pub clock: Arc<dyn Clock>,
    /// Graph, to read the body of an email that travelled without it
    /// ([`EmailRecord::body_omitted`]).
    pub graph: GraphClient,
    /// The configuration: how to reach a mailbox on Graph for that read.
    pub config: Arc<Config>,
}

/// Why an email was not written.
#[derive(Debug, Clone)]
enum NotWritten {
    /// Dataverse failed or refused.
    Dataverse(DataverseError),
    /// Its body could not be read from Graph: what to do with the job.
    Body(Outcome),
}

/// One email to write, and the jobs that asked for it.
#[derive(Debug)]
struct Unique<'a> {
    activity_id: RecordId,
    /// The mailbox of the first job, whose copy `email` is.
    mailbox: &'a MailboxAddress,
    email: &'a EmailRecord,
    jobs: Vec<usize>,
    fate: Option<Result<Written, NotWritten>>,
    /// The dedupe store already knew it.
    known: bool,
    /// Each job's tracking condition (none: tracked) and its copy of the email.
    conditions: Vec<(Option<TrackIf>, &'a EmailRecord)>,
    /// The tracking rule of every job left it out: nothing is written.
    skipped: bool,
}

/// Writes each job's email to Dataverse; one outcome per job, in order.
pub async fn write_emails(
    deps: &WriteDeps,
    jobs: Vec<(MailboxAddress, EmailRecord)>,
) -> Vec<Outcome> {
    write_screened(deps, jobs.into_iter().map(|(m, e)| (m, e, None)).collect()).await
}

/// Writes each job's email to Dataverse unless its tracking condition (decided here, see the
/// module's documentation) leaves it out; one outcome per job, in order.
#[instrument(skip_all, fields(jobs = jobs.len()))]
pub async fn write_screened(
    deps: &WriteDeps,
    jobs: Vec<(MailboxAddress, EmailRecord, Option<TrackIf>)>,
) -> Vec<Outcome> {
    let mut uniques: Vec<Unique> = Vec::new();
    let mut by_id: HashMap<RecordId, usize> = HashMap::new();
    for (index, (mailbox, email, track_if)) in jobs.iter().enumerate() {
        let id = activity_id(mailbox, email);
        let at = *by_id.entry(id).or_insert_with(|| {
            uniques.push(Unique {
                activity_id: id,
                mailbox,
                email,
                jobs: Vec::new(),
                fate: None,
                known: false,
                conditions: Vec::new(),
                skipped: false,
            });
            uniques.len() - 1
        });
        uniques[at].jobs.push(index);
        uniques[at].conditions.push((*track_if, email));
    }

    // One look-up for the batch (one round trip to the SQLite thread, not one per email).
    let keyed: Vec<usize> =
        (0..uniques.len()).filter(|&u| uniques[u].email.internet_message_id.is_some()).collect();
    let message_ids: Vec<InternetMessageId> =
        keyed.iter().filter_map(|&u| uniques[u].email.internet_message_id.clone()).collect();
    if !message_ids.is_empty() {
        match deps.dedupe.activities_of(&message_ids).await {
            Ok(known) => {
                for (&u, existing) in keyed.iter().zip(known) {
                    if let Some(existing) = existing {
                        uniques[u].fate = Some(Ok(Written::Exists(existing)));
                        uniques[u].known = true;
                    }
                }
            }
            Err(error) => warn!(%error, "dedupe store unreadable: asking Dataverse"),
        }
    }

    let pending: Vec<usize> = (0..uniques.len()).filter(|&u| uniques[u].fate.is_none()).collect();
    if !pending.is_empty() {
        let emails: Vec<&EmailRecord> = pending.iter().map(|&u| uniques[u].email).collect();
        match lookup::look_up(&deps.dataverse, &deps.parties, &emails).await {
            Ok(found) => write_pending(deps, &mut uniques, &pending, &found).await,
            Err(error) => {
                for &u in &pending {
                    uniques[u].fate = Some(Err(NotWritten::Dataverse(error.clone())));
                }
            }
        }
    }

    // The dedupe records of the batch in one write, before any job is acked (the caller acks
    // after this returns): a job whose email is written never goes without its record.
    let records: Vec<(InternetMessageId, RecordId)> = uniques
        .iter()
        .filter(|u| !u.skipped && !u.known)
        .filter_map(|u| {
            let activity = match u.fate.as_ref()? {
                Ok(Written::Created) => u.activity_id,
                Ok(Written::Exists(id)) => *id,
                Err(_) => return None,
            };
            Some((u.email.internet_message_id.clone()?, activity))
        })
        .collect();
    if !records.is_empty()
        && let Err(error) = deps.dedupe.record_activities(&records).await
    {
        warn!(%error, emails = records.len(), "dedupe store not updated (Dataverse has the emails)");
    }

    let mut outcomes = vec![Outcome::Done; jobs.len()];
    let mut counts = Counts::default();
    for unique in &uniques {
        if unique.skipped {
            for &job in &unique.jobs {
                let mailbox = &jobs[job].0;
                counts.of(mailbox).skipped += 1;
                info!(%mailbox, graph_id = %unique.email.graph_id, "email left out by the tracking rule");
            }
            continue;
        }
        let fate = unique.fate.as_ref().expect("every email has a fate by now");
        for (nth, &job) in unique.jobs.iter().enumerate() {
            let (mailbox, email, _) = &jobs[job];
            outcomes[job] = match fate {
                Ok(written) => {
                    let created = nth == 0 && *written == Written::Created;
                    let count = counts.of(mailbox);
                    if created {
                        count.created += 1
                    } else {
                        count.duplicate += 1
                    }
                    info!(%mailbox, activity = %unique.activity_id, created, "email written");
                    Outcome::Done
                }
                Err(NotWritten::Dataverse(error)) => failure(mailbox, email, error),
                Err(NotWritten::Body(outcome)) => outcome.clone(),
            };
        }
    }
    counts.report(deps).await;
    outcomes
}

/// A batch's emails per mailbox, for one status report each.
#[derive(Debug, Default)]
struct Counts<'a>(Vec<(&'a MailboxAddress, Count)>);

#[derive(Debug, Default)]
struct Count {
    created: u64,
    duplicate: u64,
    skipped: u64,
}

impl<'a> Counts<'a> {
    fn of(&mut self, mailbox: &'a MailboxAddress) -> &mut Count {
        let at = match self.0.iter().position(|(m, _)| *m == mailbox) {
            Some(at) => at,
            None => {
                self.0.push((mailbox, Count::default()));
                self.0.len() - 1
            }
        };
        &mut self.0[at].1
    }

    /// One report per mailbox (two when the tracking rule left some of its emails out), none
    /// for a mailbox with nothing to count.
    async fn report(self, deps: &WriteDeps) {
        for (mailbox, count) in self.0 {
            let Count { created, duplicate, skipped } = count;
            if created + duplicate > 0 {
                report(deps, mailbox, StatusEvent::EmailsWritten { created, duplicate }).await;
            }
            if skipped > 0 {
                report(deps, mailbox, StatusEvent::EmailsSkipped { emails: skipped }).await;
            }
        }
    }
}

/// Maps and writes the emails Dataverse does not have yet.
async fn write_pending(
    deps: &WriteDeps,
    uniques: &mut [Unique<'_>],
    pending: &[usize],
    found: &lookup::Found,
) {
    let mut to_write = Vec::new();
    for &u in pending {
        match uniques[u].email.internet_message_id.as_ref().and_then(|id| found.email(id.as_str()))
        {
            Some(existing) => uniques[u].fate = Some(Ok(Written::Exists(existing.activity_id))),
            None => to_write.push(u),
        }
    }
    // The rare path: a body that did not travel with its job is read now that it is needed.
    let mut completed: HashMap<usize, EmailRecord> = HashMap::new();
    let mut ready = Vec::with_capacity(to_write.len());
    for u in to_write {
        if !uniques[u].email.body_omitted {
            ready.push(u);
            continue;
        }
        match body::complete(deps, uniques[u].mailbox, uniques[u].email).await {
            Ok(email) => {
                completed.insert(u, email);
                ready.push(u);
            }
            Err(outcome) => uniques[u].fate = Some(Err(NotWritten::Body(outcome))),
        }
    }
    let mut to_write = ready;
    // A reply whose parent is written in this same batch goes after it (and links to it).
    let in_batch: HashMap<String, usize> = to_write
        .iter()
        .filter_map(|&u| {
            Some((uniques[u].email.internet_message_id.as_ref()?.as_str().to_lowercase(), u))
        })
        .collect();
    let parent_in_batch = |u: usize| {
        let reply_to = uniques[u].email.in_reply_to.as_ref()?.as_str().to_lowercase();
        in_batch.get(&reply_to).copied().filter(|&p| p != u)
    };
    let depths: HashMap<usize, usize> = to_write
        .iter()
        .map(|&start| {
            let (mut u, mut depth) = (start, 0);
            while let Some(parent) = parent_in_batch(u).filter(|_| depth < to_write.len()) {
                (u, depth) = (parent, depth + 1);
            }
            (start, depth)
        })
        .collect();
    to_write.sort_by_key(|u| depths[u]);

    let mut activities: Vec<EmailActivity> = Vec::with_capacity(to_write.len());
    let mut left_out = Vec::new();
    let mut mapped: HashMap<usize, usize> = HashMap::new();
    for &u in &to_write {
        let email = completed.get(&u).unwrap_or(uniques[u].email);
        let parent = match parent_in_batch(u).and_then(|p| mapped.get(&p)) {
            Some(&at) => Some(Parent {
                activity_id: activities[at].activity_id,
                regarding: activities[at].regarding.clone(),
            }),
            None => email
                .in_reply_to
                .as_ref()
                .and_then(|id| found.email(id.as_str()))
                .map(|e| Parent { activity_id: e.activity_id, regarding: e.regarding.clone() }),
        };
        // A reply to a parent left out in this batch has no parent here: it is not a response.
        let tracked = uniques[u].conditions.iter().any(|(condition, copy)| {
            condition.is_none_or(|c| {
                c.holds(&Correspondence::of(copy), &found.parties, parent.is_some())
            })
        });
        if !tracked {
            left_out.push(u);
            continue;
        }
        mapped.insert(u, activities.len());
        activities.push(email_activity(
            email,
            uniques[u].activity_id,
            &found.parties,
            parent.as_ref(),
        ));
    }
    let results = create::write(&deps.dataverse, &activities).await;
    for &u in &left_out {
        uniques[u].skipped = true;
    }
    let written = to_write.iter().filter(|u| !left_out.contains(u));
    for (&u, result) in written.zip(results) {
        if let Err(error) = &result
            && error.class() == ErrorClass::NotFound
        {
            // A party bound from the cache may have been deleted since: resolve afresh.
            deps.parties.forget(addresses(uniques[u].email));
        }
        uniques[u].fate = Some(result.map_err(NotWritten::Dataverse));
    }
}

/// Every address an email names.
fn addresses(email: &EmailRecord) -> impl Iterator<Item = &str> {
    email
        .from
        .iter()
        .chain(&email.to)
        .chain(&email.cc)
        .chain(&email.bcc)
        .map(|a| a.address.as_str())
}

/// The outcome of a job whose email could not be written, with the reason an admin reads.
fn failure(mailbox: &MailboxAddress, email: &EmailRecord, error: &DataverseError) -> Outcome {
    let which = match &email.internet_message_id {
        Some(id) => format!("email {id} of mailbox {mailbox}"),
        None => format!("email (Graph id {}) of mailbox {mailbox}", email.graph_id),
    };
    let outcome = match error.class() {
        ErrorClass::Throttled { retry_after } => Outcome::Throttled {
            after: retry_after,
            reason: format!("Dataverse service protection while writing {which}: {error}"),
        },
        ErrorClass::Invalid => {
            let field = error.api().and_then(|api| api.field());
            let field = field.map(|f| format!(" (field {f})")).unwrap_or_default();
            Outcome::poison(format!("Dataverse refused {which}{field}: {error}"))
        }
        // Retried with backoff and dead-lettered at the attempt limit, so an email blocked on
        // an administrator (401/403) is never lost.
        ErrorClass::Auth | ErrorClass::Transient | ErrorClass::NotFound | ErrorClass::Duplicate => {
            Outcome::retry(format!("writing {which} failed: {error}"))
        }
    };
    warn!(%mailbox, ?outcome, "email not written");
    outcome
}

async fn report(deps: &WriteDeps, mailbox: &MailboxAddress, event: StatusEvent) {
    if let Err(error) = deps.status.report(mailbox, event, deps.clock.now()).await {
        warn!(%mailbox, %error, "mailbox status not updated");
    }
}

#[cfg(test)]
mod tests;
