//! What a schedule asks for, the same in one process (`serve`'s timer) and on AWS (the
//! EventBridge schedules of `subscribe`): a pass of every synced folder, subscription
//! upkeep for every synced mailbox, and a probe of each parked mailbox whose time has come.

use std::time::Duration;

use crate::{
    config::Config,
    domain::{Folder, MailboxAddress},
    handlers::passes::request_pass,
    jobs::{Envelope, Job, QueueName, Trigger},
    ports::{Clock, JobQueue, PassStore, QueueError, StatusStore, StoreError},
};

/// What [`request_passes`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassesRequested {
    /// Passes enqueued.
    pub queued: usize,
    /// Passes already queued (coalesced).
    pub coalesced: usize,
    /// `mailbox folder: why` of each pass that could not be requested.
    pub failed: Vec<String>,
}

/// Requests a pass of every synced folder (coalesced with passes already queued). A failure
/// is left for the next run to ask again; it is reported, not fatal for the other folders.
pub async fn request_passes(
    config: &Config,
    passes: &dyn PassStore,
    queue: &dyn JobQueue,
    clock: &dyn Clock,
    trigger: Trigger,
) -> PassesRequested {
    let mut done = PassesRequested::default();
    for mailbox in config.mailboxes.iter().filter(|m| m.incoming) {
        for folder in Folder::ALL {
            match request_pass(passes, queue, clock, &mailbox.address, folder, trigger).await {
                Ok(true) => done.queued += 1,
                Ok(false) => done.coalesced += 1,
                Err(error) => {
                    tracing::warn!(%error, mailbox = %mailbox.address, %folder, "could not request a pass");
                    done.failed.push(format!("{} {folder}: {error}", mailbox.address));
                }
            }
        }
    }
    done
}

/// Queues subscription upkeep (`EnsureSubscriptions`) for every synced mailbox; returns how
/// many jobs were queued.
pub async fn queue_upkeep(config: &Config, queue: &dyn JobQueue) -> Result<usize, QueueError> {
    let jobs: Vec<Envelope> = config
        .mailboxes
        .iter()
        .filter(|m| m.incoming)
        .map(|m| Envelope::new(Job::EnsureSubscriptions { mailbox: m.address.clone() }))
        .collect();
    if !jobs.is_empty() {
        queue.enqueue(QueueName::Subscriptions, &jobs, Duration::ZERO).await?;
    }
    Ok(jobs.len())
}

/// Probes `mailbox`: a pass of each folder and, with webhooks, its subscription upkeep. A
/// probe that fails parks it again with a longer wait; one that passes makes it healthy.
/// Failures are logged and left for the next probe.
pub async fn revive(
    config: &Config,
    passes: &dyn PassStore,
    queue: &dyn JobQueue,
    clock: &dyn Clock,
    mailbox: &MailboxAddress,
) {
    for folder in Folder::ALL {
        if let Err(error) = request_pass(passes, queue, clock, mailbox, folder, Trigger::Poll).await
        {
            tracing::warn!(%error, %mailbox, %folder, "could not request a pass; probing later");
        }
    }
    if config.runtime.public_url.is_some() {
        let job = Envelope::new(Job::EnsureSubscriptions { mailbox: mailbox.clone() });
        if let Err(error) = queue.enqueue(QueueName::Subscriptions, &[job], Duration::ZERO).await {
            tracing::warn!(%error, %mailbox, "could not queue subscription upkeep; probing later");
        }
    }
}

/// Probes every synced mailbox whose park is due for a probe (AWS's probe schedule; `serve`
/// probes on its own timer). Repeated calls before the probe ran coalesce into its passes.
/// Returns the mailboxes probed.
pub async fn probe_parked(
    config: &Config,
    statuses: &dyn StatusStore,
    passes: &dyn PassStore,
    queue: &dyn JobQueue,
    clock: &dyn Clock,
) -> Result<Vec<MailboxAddress>, StoreError> {
    let now = clock.now();
    let mut probed = Vec::new();
    for status in statuses.statuses().await? {
        let synced = config.mailboxes.iter().any(|m| m.incoming && m.address == status.mailbox);
        if synced && status.probe_due(now) {
            tracing::info!(mailbox = %status.mailbox, "probing the parked mailbox");
            revive(config, passes, queue, clock, &status.mailbox).await;
            probed.push(status.mailbox);
        }
    }
    Ok(probed)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::{
        adapters::sqlite::{Database, SqliteQueue, SqliteStore},
        ports::{QueueDepths, SystemClock},
        status::StatusEvent,
    };

    const CONFIG: &str = r#"
[dataverse]
url = "https://contoso.crm.dynamics.com"
tenant_id = "33333333-3333-3333-3333-333333333333"
client_id = "44444444-4444-4444-4444-444444444444"
client_secret = "env:DV"

[[profiles]]
name = "fabrikam"
tenant_id = "11111111-1111-1111-1111-111111111111"
client_id = "22222222-2222-2222-2222-222222222222"
client_secret = "env:FAB"

[[mailboxes]]
address = "due@fabrikam.example"
profile = "fabrikam"

[[mailboxes]]
address = "later@fabrikam.example"
profile = "fabrikam"

[[mailboxes]]
address = "fine@fabrikam.example"
profile = "fabrikam"

[runtime]
public_url = "https://sync.example.com"
"#;

    #[tokio::test]
    async fn only_parked_mailboxes_whose_probe_is_due_get_passes_and_upkeep() {
        let config = Config::parse(CONFIG, Path::new("/etc/exsync")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(&dir.path().join("state.db")).unwrap();
        let (store, queue) = (SqliteStore::new(db.clone()), SqliteQueue::new(db));
        let clock = SystemClock;
        let now = clock.now();
        let park = |minutes: i64| StatusEvent::Failed {
            reason: "AADSTS7000222: the client secret expired".into(),
            retryable: false,
            retry_at: Some(now + time::Duration::minutes(minutes)),
        };
        let [due, later, fine] = [0, 1, 2].map(|i| config.mailboxes[i].address.clone());
        store.report(&due, park(-1), now).await.unwrap();
        store.report(&later, park(30), now).await.unwrap();
        store.report(&fine, StatusEvent::PassSucceeded { emails: 0 }, now).await.unwrap();

        let probed = probe_parked(&config, &store, &store, &queue, &clock).await.unwrap();
        assert_eq!(probed, vec![due.clone()]);
        let changes = queue.depth(QueueName::Changes).await.unwrap();
        assert_eq!(changes.visible, Folder::ALL.len() as u64, "a pass of each folder");
        let upkeep = queue.depth(QueueName::Subscriptions).await.unwrap();
        assert_eq!(upkeep.visible, 1, "its subscriptions seen to");

        // A second probe before the first ran joins its passes.
        probe_parked(&config, &store, &store, &queue, &clock).await.unwrap();
        let changes = queue.depth(QueueName::Changes).await.unwrap();
        assert_eq!(changes.visible, Folder::ALL.len() as u64);
    }
}
