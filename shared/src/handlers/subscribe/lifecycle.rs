//! Lifecycle events (reference graph.md 4): reauthorize, recreate, catch up.

use tracing::{Span, instrument};

use super::{SubscribeDeps, create, renewal_due, replace};
use crate::{
    domain::SubscriptionId,
    graph::{ErrorClass, MailboxAccess, Missing},
    handlers::failure::{Failure, gate},
    jobs::{LifecycleEvent, Trigger},
    outcome::Outcome,
    ports::SubscriptionRecord,
};

/// Acts on a lifecycle event of one of exsync's subscriptions.
#[instrument(skip_all, fields(tenant = tracing::field::Empty, mailbox = tracing::field::Empty, %subscription, ?event))]
pub async fn on_lifecycle(
    deps: &SubscribeDeps,
    subscription: &SubscriptionId,
    event: LifecycleEvent,
) -> Outcome {
    let record = match deps.subscriptions.subscription(subscription).await {
        Ok(Some(record)) => record,
        Ok(None) => {
            // Already replaced (a retried job, or upkeep got there first), or never ours.
            tracing::info!("no such subscription on record; nothing to do");
            return Outcome::Done;
        }
        Err(e) => return Failure::Store(e).verdict("lifecycle event", deps.clock.now()).0,
    };
    Span::current().record("mailbox", record.mailbox.as_str());
    let Some(access) = deps.access(&record.mailbox) else {
        // The mailbox left the configuration: its subscription lapses with nobody to renew it.
        tracing::info!("the mailbox is no longer configured; forgetting its subscription");
        return match deps.subscriptions.delete_subscription(&record.id).await {
            Ok(()) => Outcome::Done,
            Err(e) => Failure::Store(e).verdict("lifecycle event", deps.clock.now()).0,
        };
    };
    // A parked mailbox still acts on lifecycle events (a removed subscription is recreated as
    // soon as the mailbox heals); a disabled one does not.
    let failures = match gate(&*deps.status, &record.mailbox, deps.clock.now(), true).await {
        Ok(admitted) => admitted.failures,
        Err(why) => {
            tracing::info!(%why, "lifecycle event skipped");
            return Outcome::Done;
        }
    };
    let result = match event {
        LifecycleEvent::ReauthorizationRequired => reauthorize(deps, &access, &record).await,
        LifecycleEvent::SubscriptionRemoved => removed(deps, &access, &record).await,
        // Notifications were dropped: delta has every change they would have announced.
        LifecycleEvent::Missed => {
            deps.catch_up(&record.mailbox, record.folder, Trigger::Lifecycle).await
        }
    };
    match result {
        Ok(()) => Outcome::Done,
        Err(failure) => {
            let context =
                format!("{event:?} for the {} subscription of {}", record.folder, record.mailbox);
            deps.fail(&record.mailbox, failure, &context, failures).await
        }
    }
}

async fn reauthorize(
    deps: &SubscribeDeps,
    access: &MailboxAccess,
    record: &SubscriptionRecord,
) -> Result<(), Failure> {
    // A renewal reauthorizes too (reference 1.2); when one is due anyway, one call does both.
    let still_there = if renewal_due(deps, record) {
        create::renew(deps, access, record).await?.is_some()
    } else {
        match deps.graph.reauthorize_subscription(access, &record.id).await {
            Ok(()) => true,
            Err(e) if e.class() == ErrorClass::NotFound(Missing::Subscription) => false,
            Err(e) => return Err(e.into()),
        }
    };
    if !still_there {
        return replace(deps, access, &record.id, record.folder).await;
    }
    // Delivery may have paused before this ran; whatever it held back, delta has.
    deps.catch_up(&access.address, record.folder, Trigger::Lifecycle).await
}

async fn removed(
    deps: &SubscribeDeps,
    access: &MailboxAccess,
    record: &SubscriptionRecord,
) -> Result<(), Failure> {
    let successor = deps
        .subscriptions
        .subscriptions_of(&access.address)
        .await?
        .into_iter()
        .any(|r| r.folder == record.folder && r.id != record.id && !create::is_pending(&r));
    if successor {
        deps.subscriptions.delete_subscription(&record.id).await?;
        deps.catch_up(&access.address, record.folder, Trigger::Lifecycle).await
    } else {
        replace(deps, access, &record.id, record.folder).await
    }
}
