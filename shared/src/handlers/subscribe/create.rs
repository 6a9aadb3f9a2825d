//! Creating and renewing one subscription, and the clientState that proves its notifications.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;
use time::OffsetDateTime;

use super::SubscribeDeps;
use crate::{
    config::SAFE_SUBSCRIPTION_LIFETIME,
    domain::{Folder, SubscriptionId},
    graph::{ErrorClass, GraphError, MailboxAccess, Missing, NewSubscription, model::Subscription},
    handlers::failure::Failure,
    ports::{SubscriptionRecord, SubscriptionShape},
    secret::Secret,
};

/// Mail folders are subscribed for `created` only: exsync writes new mail to Dataverse and
/// does not mirror reads, flags or deletes, so `updated` (every read, flag, category, and
/// several per new message) would only trigger empty passes, and `deleted` nothing at all.
/// A message moved into the folder is `created` there; anything a notification misses, the
/// delta pass and the sweep still find.
pub const MAIL_CHANGE_TYPE: &str = "created";

/// A fresh clientState: 32 random bytes, 43 characters (Graph allows 128).
fn new_client_state() -> Secret {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    Secret::new(URL_SAFE_NO_PAD.encode(bytes))
}

/// The id a subscription is stored under while Graph creates it, derived from its clientState.
///
/// Graph validates the endpoint during the create call and may deliver the first notification
/// before exsync has read the new subscription's id; `notify` then finds the record by this id
/// (see [`super::record_for_notification`]). A SHA-256 of a 256-bit random value cannot be
/// turned back into the clientState, so the id gives nothing away.
pub fn pending_id(client_state: &Secret) -> SubscriptionId {
    let digest =
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, client_state.expose().as_bytes());
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    SubscriptionId::parse(format!("pending-{hex}")).expect("a non-empty id")
}

/// Whether a stored record is a placeholder of a create in flight (or one that crashed).
pub(super) fn is_pending(record: &SubscriptionRecord) -> bool {
    record.id.as_str().starts_with("pending-")
}

/// Creates the subscription of `folder` and stores its record.
pub(super) async fn create(
    deps: &SubscribeDeps,
    access: &MailboxAccess,
    folder: Folder,
) -> Result<SubscriptionRecord, Failure> {
    let now = deps.clock.now();
    let client_state = new_client_state();
    let expiration = now + super::rich::lifetime(deps, &access.address);
    let encryption = super::rich::certificate(deps, &access.address).await?;
    let pending = SubscriptionRecord {
        id: pending_id(&client_state),
        mailbox: access.address.clone(),
        folder,
        expires_at: expiration,
        client_state: client_state.clone(),
        shape: match &encryption {
            Some(certificate) => {
                SubscriptionShape::Rich { certificate_id: certificate.id().into() }
            }
            None => SubscriptionShape::Plain,
        },
    };
    // Stored before Graph is asked, so that a notification racing the create's answer is
    // recognised (Graph validates, creates, and may notify before it answers us).
    deps.subscriptions.put_subscription(&pending).await?;
    let new = NewSubscription {
        resource: super::rich::resource(&access.address, folder, encryption.is_some()),
        change_type: MAIL_CHANGE_TYPE,
        notification_url: deps.endpoint("graph/notify")?,
        lifecycle_notification_url: deps.endpoint("graph/lifecycle")?,
        expiration,
        client_state,
        encryption,
    };
    let created = with_safe_lifetime(now, expiration, |expiration| {
        let new = NewSubscription { expiration, ..new.clone() };
        async move { deps.graph.create_subscription(access, &new).await }
    })
    .await;
    let created = match created {
        Ok(created) => created,
        Err(e) => {
            deps.subscriptions.delete_subscription(&pending.id).await?;
            return Err(e.into());
        }
    };
    let record = SubscriptionRecord {
        id: created.id,
        expires_at: created.expiration_date_time,
        ..pending.clone()
    };
    deps.subscriptions.put_subscription(&record).await?;
    deps.subscriptions.delete_subscription(&pending.id).await?;
    tracing::info!(subscription = %record.id, expires_at = %record.expires_at, "subscribed");
    Ok(record)
}

/// Extends a subscription; `None` when Graph no longer has it.
pub(super) async fn renew(
    deps: &SubscribeDeps,
    access: &MailboxAccess,
    record: &SubscriptionRecord,
) -> Result<Option<SubscriptionRecord>, Failure> {
    let now = deps.clock.now();
    let expiration = now + super::rich::lifetime(deps, &record.mailbox);
    let renewed = with_safe_lifetime(now, expiration, |expiration| async move {
        deps.graph.renew_subscription(access, &record.id, expiration).await
    })
    .await;
    match renewed {
        Ok(renewed) => {
            let record =
                SubscriptionRecord { expires_at: renewed.expiration_date_time, ..record.clone() };
            deps.subscriptions.put_subscription(&record).await?;
            tracing::info!(subscription = %record.id, expires_at = %record.expires_at, "renewed");
            Ok(Some(record))
        }
        Err(e) if e.class() == ErrorClass::NotFound(Missing::Subscription) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Runs `call` with `expiration`; when Graph refuses it as malformed and it lies beyond the
/// lifetime every Graph version allows, once more with that lifetime (reference graph.md 1.3:
/// the maximum differs between versions and over-limit requests "will fail").
async fn with_safe_lifetime<F, Fut>(
    now: OffsetDateTime,
    expiration: OffsetDateTime,
    call: F,
) -> Result<Subscription, GraphError>
where
    F: Fn(OffsetDateTime) -> Fut,
    Fut: Future<Output = Result<Subscription, GraphError>>,
{
    let safe = now + SAFE_SUBSCRIPTION_LIFETIME;
    match call(expiration).await {
        Err(e) if e.class() == ErrorClass::Rejected && expiration > safe => {
            tracing::warn!(error = %e, "Graph refused the lifetime; asking for 4,230 minutes");
            call(safe).await
        }
        result => result,
    }
}
