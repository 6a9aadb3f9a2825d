//! Subscriptions of profiles with rich notifications (reference graph.md 5.1): created with
//! the profile's current encryption certificate and a `$select` of what the tracking rule
//! needs, kept to Graph's one-day maximum, moved to a new certificate by a PATCH when the
//! configuration rotates it, and recreated when the profile switches rich notifications on
//! or off (`includeResourceData` cannot be changed on a subscription).

use std::{sync::Arc, time::Duration};

use super::{SubscribeDeps, create};
use crate::{
    domain::{Folder, MailboxAddress},
    graph::{
        MailboxAccess, folder_resource,
        rich::{EncryptionCertificate, RICH_SELECT},
    },
    handlers::failure::Failure,
    ports::{SubscriptionRecord, SubscriptionShape},
};

/// Graph's maximum for a subscription with resource data is one day (reference 1.3); ten
/// minutes less leaves room for the difference between exsync's clock and Graph's.
pub const RICH_SUBSCRIPTION_LIFETIME: Duration = Duration::from_secs((24 * 60 - 10) * 60);

/// The lifetime `mailbox`'s subscriptions are asked for.
pub(super) fn lifetime(deps: &SubscribeDeps, mailbox: &MailboxAddress) -> Duration {
    let configured = deps.config.runtime.subscription_lifetime;
    match deps.config.mailbox(mailbox).map(|m| deps.config.profile_of(m)) {
        Some(profile) if profile.rich.is_some() => configured.min(RICH_SUBSCRIPTION_LIFETIME),
        _ => configured,
    }
}

/// The certificate new subscriptions of the mailbox get; `None` without rich notifications.
pub(super) async fn certificate(
    deps: &SubscribeDeps,
    mailbox: &MailboxAddress,
) -> Result<Option<Arc<EncryptionCertificate>>, Failure> {
    let Some(profile) = deps.config.mailbox(mailbox).map(|m| deps.config.profile_of(m)) else {
        return Ok(None);
    };
    if profile.rich.is_none() {
        return Ok(None);
    }
    deps.encryption.current(profile).await.map(Some).map_err(Failure::Keys)
}

/// The resource of a folder: with the `$select` of rich notifications when they are on.
pub(super) fn resource(address: &MailboxAddress, folder: Folder, rich: bool) -> String {
    let resource = folder_resource(address, folder);
    if rich { format!("{resource}?$select={RICH_SELECT}") } else { resource }
}

/// Brings a live subscription in line with the profile's rich notifications, from what the
/// record says it was created as; `true` when it acted (the subscription is then fresh: no
/// renewal is due).
pub(super) async fn reconcile(
    deps: &SubscribeDeps,
    access: &MailboxAccess,
    record: &SubscriptionRecord,
) -> Result<bool, Failure> {
    let wanted = certificate(deps, &access.address).await?;
    let (rich, current) = match &record.shape {
        SubscriptionShape::Rich { certificate_id } => (true, Some(certificate_id.as_str())),
        _ => (false, None),
    };
    match wanted {
        Some(_) if !rich => {}
        None if rich => {}
        Some(certificate) if current != Some(certificate.id()) => {
            let expiration = deps.clock.now() + lifetime(deps, &access.address);
            let rotated =
                deps.graph.rotate_certificate(access, &record.id, expiration, &certificate).await?;
            let record = SubscriptionRecord {
                expires_at: rotated.expiration_date_time,
                shape: SubscriptionShape::Rich { certificate_id: certificate.id().into() },
                ..record.clone()
            };
            deps.subscriptions.put_subscription(&record).await?;
            tracing::info!(subscription = %record.id, certificate = certificate.id(), "encryption certificate rotated");
            return Ok(true);
        }
        _ => return Ok(false),
    }
    // The successor first, so no notification falls between the two.
    create::create(deps, access, record.folder).await?;
    deps.graph.delete_subscription(access, &record.id).await?;
    deps.subscriptions.delete_subscription(&record.id).await?;
    tracing::info!(subscription = %record.id, rich = !rich, "subscription recreated for rich notifications");
    Ok(true)
}
