//! The `screen` job: a rich notification said who a message is from and to, and the mailbox's
//! tracking rule needs Dataverse to judge that ("crm-records", "email-enabled", "responses").
//! `notify` may not call Dataverse (it answers Graph within 3 s), so it queues this job; here
//! the condition is decided with the same reads `write` makes, and only a tracked message asks
//! for its folder's pass. An untracked one costs a cached Dataverse read and no Graph read.
//!
//! The pass stays the source of truth: what it reads is judged again by `write`. A screen
//! that cannot read Dataverse (other than throttling) asks for the pass all the same, so a
//! failure here costs a Graph read, never a message.

use std::{collections::HashSet, sync::Arc};

use tracing::{debug, instrument, warn};

use super::lookup::{emails_query, existing, read};
use crate::{
    dataverse::{
        DataverseClient, DataverseError, ErrorClass, batch::MAX_OPERATIONS, parties::PartyResolver,
        query::Query,
    },
    domain::{Folder, MailboxAddress},
    handlers::passes::request_pass,
    jobs::Trigger,
    outcome::Outcome,
    ports::{Clock, DedupeStore, JobQueue, PassStore},
    tracking::{Screening, TrackIf},
};

/// Message-IDs per `In(...)` query, as `write` asks.
const MESSAGE_IDS_PER_QUERY: usize = 50;

/// What screening needs: `write`'s Dataverse reads, and a way to ask for a pass.
#[derive(Debug, Clone)]
pub struct ScreenDeps {
    /// The Dataverse environment.
    pub dataverse: Arc<DataverseClient>,
    /// Address resolution, with its cache (the one `write` uses).
    pub parties: Arc<PartyResolver>,
    /// Message-ID to activity: a tracked parent is often known here without a request.
    pub dedupe: Arc<dyn DedupeStore>,
    /// Pass coalescing marks.
    pub passes: Arc<dyn PassStore>,
    /// Where passes go.
    pub queue: Arc<dyn JobQueue>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

/// One message to screen.
#[derive(Debug, Clone)]
pub struct ScreenJob {
    /// The mailbox.
    pub mailbox: MailboxAddress,
    /// The folder whose pass a tracked message needs.
    pub folder: Folder,
    /// What the notification told.
    pub screening: Screening,
}

/// Decides each message's condition; one outcome per job, in order.
#[instrument(skip_all, fields(jobs = jobs.len()))]
pub async fn screen(deps: &ScreenDeps, jobs: &[ScreenJob]) -> Vec<Outcome> {
    let verdicts = match judge(deps, jobs).await {
        Ok(verdicts) => verdicts,
        Err(error) => {
            if let ErrorClass::Throttled { retry_after } = error.class() {
                let reason = format!("Dataverse service protection while screening: {error}");
                return vec![Outcome::Throttled { after: retry_after, reason }; jobs.len()];
            }
            warn!(%error, "cannot screen against Dataverse; reading the folders instead");
            vec![true; jobs.len()]
        }
    };
    let mut outcomes = Vec::with_capacity(jobs.len());
    for (job, tracked) in jobs.iter().zip(verdicts) {
        let (mailbox, folder) = (&job.mailbox, job.folder);
        if !tracked {
            let rule = job.screening.track_if.filter().as_str();
            debug!(%mailbox, %folder, rule, "not tracked: the folder is not read for it");
            outcomes.push(Outcome::Done);
            continue;
        }
        let asked = request_pass(
            &*deps.passes,
            &*deps.queue,
            &*deps.clock,
            mailbox,
            folder,
            Trigger::Notification,
        )
        .await;
        outcomes.push(match asked {
            Ok(_) => Outcome::Done,
            Err(e) => Outcome::retry(format!("cannot queue the pass of {mailbox} {folder}: {e}")),
        });
    }
    outcomes
}

/// Whether each message is tracked, from one `$batch` of reads (none when the caches know).
async fn judge(deps: &ScreenDeps, jobs: &[ScreenJob]) -> Result<Vec<bool>, DataverseError> {
    let mut parents_known = HashSet::new();
    let mut parents_asked = Vec::new();
    for job in jobs {
        let Some(parent) = &job.screening.in_reply_to else { continue };
        if job.screening.track_if != TrackIf::Responds {
            continue;
        }
        match deps.dedupe.activity_of(parent).await {
            Ok(Some(_)) => {
                parents_known.insert(parent.as_str().to_lowercase());
            }
            Ok(None) => parents_asked.push(parent.as_str()),
            Err(error) => {
                warn!(%error, "dedupe store unreadable: asking Dataverse");
                parents_asked.push(parent.as_str());
            }
        }
    }
    parents_asked.sort_unstable();
    parents_asked.dedup();
    let addresses = jobs
        .iter()
        .filter(|j| j.screening.track_if != TrackIf::Responds)
        .flat_map(|j| j.screening.correspondence(j.folder).counterparts());
    let parties = deps.parties.plan(addresses);
    let email_queries: Vec<Query> =
        parents_asked.chunks(MESSAGE_IDS_PER_QUERY).map(emails_query).collect();
    let queries: Vec<&Query> = email_queries.iter().chain(parties.queries()).collect();
    let mut rows = Vec::with_capacity(queries.len());
    for chunk in queries.chunks(MAX_OPERATIONS) {
        rows.extend(read(&deps.dataverse, chunk).await?);
    }
    let party_rows = rows.split_off(email_queries.len());
    parents_known
        .extend(rows.into_iter().flatten().filter_map(|row| existing(&row)).map(|(id, _)| id));
    let parties = deps.parties.complete(parties, party_rows).map_err(|message| {
        DataverseError::Protocol { operation: "screening lookup".into(), message }
    })?;
    Ok(jobs
        .iter()
        .map(|job| {
            let facts = job.screening.correspondence(job.folder);
            let parent_tracked =
                facts.in_reply_to.is_some_and(|id| parents_known.contains(&id.to_lowercase()));
            job.screening.track_if.holds(&facts, &parties, parent_tracked)
        })
        .collect())
}
