//! Subscriptions: create, renew, reauthorize, read, delete (reference graph.md 1, 4).

use std::sync::Arc;

use http::Method;
use serde_json::json;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use tracing::instrument;
use url::Url;

use super::{
    access::MailboxAccess,
    client::{Call, GraphClient},
    error::{ErrorClass, GraphError, Missing, Operation},
    model::Subscription,
    rich::EncryptionCertificate,
};
use crate::{domain::SubscriptionId, secret::Secret};

/// What a new subscription asks for.
#[derive(Debug, Clone)]
pub struct NewSubscription {
    /// E.g. `users/{address}/mailFolders('inbox')/messages`.
    pub resource: String,
    /// `created` etc. (comma-separated).
    pub change_type: &'static str,
    /// HTTPS; validated by Graph during the create call.
    pub notification_url: Url,
    /// HTTPS; can only be set at creation (reference 1.1), so it always is.
    pub lifecycle_notification_url: Url,
    /// When Graph deletes it unless renewed (within the resource's maximum lifetime).
    pub expiration: OffsetDateTime,
    /// Up to 128 characters, echoed in every notification.
    pub client_state: Secret,
    /// Rich notifications: the resource data encrypted for this certificate (the resource
    /// then carries a `$select`; reference 5.1).
    pub encryption: Option<Arc<EncryptionCertificate>>,
}

/// Graph's date format: UTC, whole seconds are enough.
fn graph_time(at: OffsetDateTime) -> String {
    let utc = at.to_offset(time::UtcOffset::UTC).replace_nanosecond(0).expect("0 ns is valid");
    utc.format(&Rfc3339).expect("UTC dates format")
}

impl GraphClient {
    /// Creates a subscription. Graph validates both URLs before it answers, so the
    /// notification endpoint must already answer the handshake.
    #[instrument(skip_all, fields(mailbox = %access.address, resource = %new.resource))]
    pub async fn create_subscription(
        &self,
        access: &MailboxAccess,
        new: &NewSubscription,
    ) -> Result<Subscription, GraphError> {
        let mut body = json!({
            "changeType": new.change_type,
            "notificationUrl": new.notification_url.as_str(),
            "lifecycleNotificationUrl": new.lifecycle_notification_url.as_str(),
            "resource": new.resource,
            "expirationDateTime": graph_time(new.expiration),
            "clientState": new.client_state.expose(),
            "latestSupportedTlsVersion": "v1_2",
        });
        if let Some(certificate) = &new.encryption {
            body["includeResourceData"] = true.into();
            body["encryptionCertificate"] = certificate.certificate_b64().into();
            body["encryptionCertificateId"] = certificate.id().into();
        }
        let url = self.url(&["subscriptions"]);
        // Not idempotent: each create makes a new subscription (reference 1.4).
        let call = self.call(Operation::CreateSubscription, access, Method::POST, url, Some(body));
        let answer = self.send(Call { idempotent: false, ..call }).await?;
        GraphClient::json((Operation::CreateSubscription, access), &answer)
    }

    /// Extends a subscription (which also reauthorizes it).
    #[instrument(skip_all, fields(mailbox = %access.address, subscription = %id))]
    pub async fn renew_subscription(
        &self,
        access: &MailboxAccess,
        id: &SubscriptionId,
        expiration: OffsetDateTime,
    ) -> Result<Subscription, GraphError> {
        let url = self.url(&["subscriptions", id.as_str()]);
        let body = json!({ "expirationDateTime": graph_time(expiration) });
        let call = self.call(Operation::RenewSubscription, access, Method::PATCH, url, Some(body));
        let answer = self.send(call).await?;
        GraphClient::json((Operation::RenewSubscription, access), &answer)
    }

    /// Extends a rich subscription and gives Graph a new encryption certificate (reference
    /// 5.1: key rotation; notifications already on their way may still use the old one).
    #[instrument(skip_all, fields(mailbox = %access.address, subscription = %id, certificate = certificate.id()))]
    pub async fn rotate_certificate(
        &self,
        access: &MailboxAccess,
        id: &SubscriptionId,
        expiration: OffsetDateTime,
        certificate: &EncryptionCertificate,
    ) -> Result<Subscription, GraphError> {
        let url = self.url(&["subscriptions", id.as_str()]);
        let body = json!({
            "expirationDateTime": graph_time(expiration),
            "encryptionCertificate": certificate.certificate_b64(),
            "encryptionCertificateId": certificate.id(),
        });
        let call = self.call(Operation::RenewSubscription, access, Method::PATCH, url, Some(body));
        let answer = self.send(call).await?;
        GraphClient::json((Operation::RenewSubscription, access), &answer)
    }

    /// Reauthorizes a subscription without extending it (no body; 204).
    #[instrument(skip_all, fields(mailbox = %access.address, subscription = %id))]
    pub async fn reauthorize_subscription(
        &self,
        access: &MailboxAccess,
        id: &SubscriptionId,
    ) -> Result<(), GraphError> {
        let url = self.url(&["subscriptions", id.as_str(), "reauthorize"]);
        let call = self.call(Operation::ReauthorizeSubscription, access, Method::POST, url, None);
        self.send(call).await.map(drop)
    }

    /// Reads a subscription.
    #[instrument(skip_all, fields(mailbox = %access.address, subscription = %id))]
    pub async fn subscription(
        &self,
        access: &MailboxAccess,
        id: &SubscriptionId,
    ) -> Result<Subscription, GraphError> {
        let url = self.url(&["subscriptions", id.as_str()]);
        let call = self.call(Operation::GetSubscription, access, Method::GET, url, None);
        let answer = self.send(call).await?;
        GraphClient::json((Operation::GetSubscription, access), &answer)
    }

    /// Deletes a subscription; one Graph no longer has counts as deleted.
    #[instrument(skip_all, fields(mailbox = %access.address, subscription = %id))]
    pub async fn delete_subscription(
        &self,
        access: &MailboxAccess,
        id: &SubscriptionId,
    ) -> Result<(), GraphError> {
        let url = self.url(&["subscriptions", id.as_str()]);
        let call = self.call(Operation::DeleteSubscription, access, Method::DELETE, url, None);
        match self.send(call).await {
            Ok(_) => Ok(()),
            Err(e) if e.class() == ErrorClass::NotFound(Missing::Subscription) => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn call<'a>(
        &self,
        operation: Operation,
        access: &'a MailboxAccess,
        method: Method,
        url: Url,
        body: Option<serde_json::Value>,
    ) -> Call<'a> {
        Call { operation, access, method, url, body, idempotent: true, prefer: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn expiration_dates_are_sent_in_utc_whole_seconds() {
        let at = datetime!(2026-11-25 10:00:00.123456 +02:00);
        assert_eq!(graph_time(at), "2026-11-25T08:00:00Z");
    }
}
