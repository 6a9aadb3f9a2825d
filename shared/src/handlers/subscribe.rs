//! Subscription upkeep: every tracked folder of a mailbox has one live subscription, renewed
//! well before it expires, recreated when Graph lost it; and lifecycle events acted on.

mod create;
mod lifecycle;
mod rich;

use std::sync::Arc;

use tracing::{Span, instrument};
use url::Url;

pub use create::{MAIL_CHANGE_TYPE, pending_id};
pub use lifecycle::on_lifecycle;
pub use rich::RICH_SUBSCRIPTION_LIFETIME;

use super::{
    failure::{Failure, gate, report_failure},
    passes::request_pass,
};
use crate::{
    config::{Config, SAFE_SUBSCRIPTION_LIFETIME},
    domain::{Folder, MailboxAddress, SubscriptionId},
    graph::{ErrorClass, GraphClient, MailboxAccess, Missing, rich::EncryptionKeys},
    jobs::Trigger,
    outcome::Outcome,
    ports::{
        Clock, JobQueue, PassStore, StatusStore, StoreError, SubscriptionRecord, SubscriptionShape,
        SubscriptionStore,
    },
    secret::Secret,
};

/// What subscription upkeep needs.
#[derive(Debug, Clone)]
pub struct SubscribeDeps {
    /// The configuration (`runtime.public_url`, `runtime.subscription_lifetime`, mailboxes).
    pub config: Arc<Config>,
    /// Graph.
    pub graph: GraphClient,
    /// Subscription records.
    pub subscriptions: Arc<dyn SubscriptionStore>,
    /// Pass coalescing marks (catch-up passes).
    pub passes: Arc<dyn PassStore>,
    /// Where catch-up passes go.
    pub queue: Arc<dyn JobQueue>,
    /// Mailbox status.
    pub status: Arc<dyn StatusStore>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// The encryption certificates of profiles with rich notifications.
    pub encryption: Arc<EncryptionKeys>,
}

impl SubscribeDeps {
    /// `{public_url}/{path}`; without a public URL there is nothing Graph could call.
    fn endpoint(&self, path: &str) -> Result<Url, Failure> {
        let base = self.config.runtime.public_url.as_ref().ok_or_else(|| {
            Failure::Config("runtime.public_url is not set, so Graph has nowhere to notify".into())
        })?;
        let root = base.as_str().trim_end_matches('/');
        Ok(Url::parse(&format!("{root}/{path}")).expect("a public URL with a path is a URL"))
    }

    /// A mailbox of the configuration, with how to reach it.
    fn access(&self, mailbox: &MailboxAddress) -> Option<MailboxAccess> {
        let configured = self.config.mailbox(mailbox)?;
        Span::current().record("tenant", self.config.profile_of(configured).tenant_id.as_str());
        Some(MailboxAccess::of(&self.config, configured))
    }

    /// Queues a catch-up pass of `folder` (coalesced with one already queued).
    async fn catch_up(
        &self,
        mailbox: &MailboxAddress,
        folder: Folder,
        trigger: Trigger,
    ) -> Result<(), Failure> {
        request_pass(&*self.passes, &*self.queue, &*self.clock, mailbox, folder, trigger).await?;
        Ok(())
    }

    async fn fail(
        &self,
        mailbox: &MailboxAddress,
        failure: Failure,
        context: &str,
        failures: u32,
    ) -> Outcome {
        let now = self.clock.now();
        let (outcome, event) = failure.verdict(context, now);
        tracing::warn!(?outcome, "subscription upkeep failed");
        let max = self.config.runtime.parked_retry_max;
        report_failure(&*self.status, mailbox, event, failures, max, now).await;
        outcome
    }
}

/// Makes sure each tracked folder of `mailbox` has one live subscription.
#[instrument(skip_all, fields(tenant = tracing::field::Empty, %mailbox))]
pub async fn ensure_subscriptions(deps: &SubscribeDeps, mailbox: &MailboxAddress) -> Outcome {
    let Some(access) = deps.access(mailbox) else {
        tracing::info!("the mailbox is no longer configured; nothing to subscribe");
        return Outcome::Done;
    };
    if deps.config.runtime.public_url.is_none() {
        tracing::debug!("no public_url: the mailbox is polled instead");
        return Outcome::Done;
    }
    let failures = match gate(&*deps.status, mailbox, deps.clock.now(), false).await {
        Ok(admitted) => admitted.failures,
        Err(why) => {
            tracing::debug!(%why, "subscription upkeep skipped");
            return Outcome::Done;
        }
    };
    for folder in Folder::ALL {
        if let Err(failure) = ensure_folder(deps, &access, folder).await {
            let context = format!(
                "{folder} subscription of {mailbox} (Graph validates {} and {} while it creates \
                 one: both must be reachable over HTTPS and echo the validationToken)",
                deps.endpoint("graph/notify").map(|u| u.to_string()).unwrap_or_default(),
                deps.endpoint("graph/lifecycle").map(|u| u.to_string()).unwrap_or_default(),
            );
            return deps.fail(mailbox, failure, &context, failures).await;
        }
    }
    Outcome::Done
}

async fn ensure_folder(
    deps: &SubscribeDeps,
    access: &MailboxAccess,
    folder: Folder,
) -> Result<(), Failure> {
    let now = deps.clock.now();
    let mut live = Vec::new();
    for record in deps.subscriptions.subscriptions_of(&access.address).await? {
        if record.folder != folder {
            continue;
        }
        if create::is_pending(&record) {
            // A create that crashed after Graph made the subscription: its notifications
            // still verify until it expires, then the placeholder goes.
            if record.expires_at <= now {
                deps.subscriptions.delete_subscription(&record.id).await?;
            }
            continue;
        }
        live.push(record);
    }
    // Two upkeeps that raced both created one: keep the longest-lived.
    live.sort_by_key(|r| std::cmp::Reverse(r.expires_at));
    for extra in live.iter().skip(1) {
        deps.graph.delete_subscription(access, &extra.id).await?;
        deps.subscriptions.delete_subscription(&extra.id).await?;
    }
    let Some(record) = live.into_iter().next() else {
        create::create(deps, access, folder).await?;
        return deps.catch_up(&access.address, folder, Trigger::Sweep).await;
    };
    // Upkeep works from the stored record: no GET per subscription and run (1,000 idle
    // mailboxes would cost 2,000 GETs an hour). A subscription Graph dropped is announced by a
    // `subscriptionRemoved` lifecycle event, or found by the renewal's 404 at the latest, and
    // the sweep catches up meanwhile.
    let record = match record.shape {
        SubscriptionShape::Unknown => match learn_shape(deps, access, record).await? {
            Some(record) => record,
            None => return replace_lost(deps, access, folder).await,
        },
        _ => record,
    };
    if rich::reconcile(deps, access, &record).await? {
        return Ok(());
    }
    if renewal_due(deps, &record) && create::renew(deps, access, &record).await?.is_none() {
        tracing::warn!(subscription = %record.id, "Graph no longer has the subscription");
        return replace(deps, access, &record.id, folder).await;
    }
    Ok(())
}

/// Reads a subscription stored before exsync kept its shape, and stores the shape and the
/// expiry Graph has; `None` when Graph no longer has it (the record is then deleted).
async fn learn_shape(
    deps: &SubscribeDeps,
    access: &MailboxAccess,
    record: SubscriptionRecord,
) -> Result<Option<SubscriptionRecord>, Failure> {
    match deps.graph.subscription(access, &record.id).await {
        Ok(remote) => {
            let shape = match (remote.include_resource_data, remote.encryption_certificate_id) {
                (Some(true), Some(certificate_id)) => SubscriptionShape::Rich { certificate_id },
                // Rich without a certificate id cannot be checked: reconcile recreates it.
                (Some(true), None) => SubscriptionShape::Rich { certificate_id: String::new() },
                _ => SubscriptionShape::Plain,
            };
            let record =
                SubscriptionRecord { expires_at: remote.expiration_date_time, shape, ..record };
            deps.subscriptions.put_subscription(&record).await?;
            Ok(Some(record))
        }
        Err(e) if e.class() == ErrorClass::NotFound(Missing::Subscription) => {
            tracing::warn!(subscription = %record.id, "Graph no longer has the subscription");
            deps.subscriptions.delete_subscription(&record.id).await?;
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// Creates the successor of a subscription whose record is already gone, and catches up.
async fn replace_lost(
    deps: &SubscribeDeps,
    access: &MailboxAccess,
    folder: Folder,
) -> Result<(), Failure> {
    create::create(deps, access, folder).await?;
    deps.catch_up(&access.address, folder, Trigger::Lifecycle).await
}

/// Renewal is due when less than half of the lifetime every Graph version grants remains, so
/// one failed upkeep run still leaves a day and more to try again (half a day with rich
/// notifications, whose subscriptions live one day at most).
fn renewal_due(deps: &SubscribeDeps, record: &SubscriptionRecord) -> bool {
    let lifetime = rich::lifetime(deps, &record.mailbox).min(SAFE_SUBSCRIPTION_LIFETIME);
    record.expires_at - deps.clock.now() < lifetime / 2
}

/// Forgets a subscription Graph lost, creates its successor and catches up on what no
/// notification announced meanwhile.
async fn replace(
    deps: &SubscribeDeps,
    access: &MailboxAccess,
    lost: &SubscriptionId,
    folder: Folder,
) -> Result<(), Failure> {
    // Successor first: if this fails, the lost record stays and a retry starts over.
    create::create(deps, access, folder).await?;
    deps.subscriptions.delete_subscription(lost).await?;
    deps.catch_up(&access.address, folder, Trigger::Lifecycle).await
}

/// The subscription a notification claims to be for, if its clientState proves it: by Graph's
/// id, or, for a notification that overtook the create call's answer, by the placeholder the
/// create stored first ([`pending_id`]). `notify` calls this before it enqueues anything.
pub async fn record_for_notification(
    store: &dyn SubscriptionStore,
    id: &SubscriptionId,
    client_state: &Secret,
) -> Result<Option<SubscriptionRecord>, StoreError> {
    let record = match store.subscription(id).await? {
        Some(record) => Some(record),
        None => store.subscription(&pending_id(client_state)).await?,
    };
    Ok(record.filter(|r| same_secret(&r.client_state, client_state)))
}

fn same_secret(a: &Secret, b: &Secret) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.expose().as_bytes(), b.expose().as_bytes())
        .is_ok()
}
