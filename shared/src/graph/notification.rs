//! Change-notification payloads Graph POSTs to `notificationUrl` and
//! `lifecycleNotificationUrl` (reference graph.md 3.1, 4, 5.2), read tolerantly: values and
//! the legacy Outlook REST field names vary in case, and lifecycle entries carry no
//! `changeType` or `resource`. Re-exported from [`super::model`].

use serde::{Deserialize, Deserializer};
use serde_json::Value;
use time::OffsetDateTime;

use crate::{jobs::LifecycleEvent, secret::Secret};

/// `{"value":[...], "validationTokens":[...]}`: one POST, possibly for several subscriptions.
#[derive(Debug, Clone, Deserialize)]
pub struct NotificationCollection {
    /// The notifications.
    #[serde(alias = "Value")]
    pub value: Vec<ChangeNotification>,
    /// JWTs of rich notifications (section 5.4); absent for basic ones.
    #[serde(default, rename = "validationTokens", alias = "ValidationTokens")]
    pub validation_tokens: Vec<String>,
}

/// One change or lifecycle notification.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeNotification {
    /// The subscription it is for.
    #[serde(alias = "SubscriptionId")]
    pub subscription_id: String,
    /// When the subscription expires; may carry a non-UTC offset (`+05:30`).
    #[serde(
        default,
        alias = "SubscriptionExpirationDateTime",
        with = "time::serde::rfc3339::option"
    )]
    pub subscription_expiration_date_time: Option<OffsetDateTime>,
    /// `created`, `updated`, `deleted`; absent on lifecycle notifications.
    #[serde(default, alias = "ChangeType")]
    pub change_type: Option<ChangeType>,
    /// The item, relative to the Graph root; casing and quoting vary: never parse it strictly.
    #[serde(default, alias = "Resource")]
    pub resource: Option<String>,
    /// The item's id and etag (basic notifications).
    #[serde(default, alias = "ResourceData")]
    pub resource_data: Option<ResourceData>,
    /// The subscription's clientState, echoed: proves the notification is Graph's.
    #[serde(default, alias = "ClientState", deserialize_with = "optional_secret")]
    pub client_state: Option<Secret>,
    /// The mailbox's tenant.
    #[serde(default, alias = "TenantId")]
    pub tenant_id: Option<String>,
    /// `reauthorizationRequired`, `subscriptionRemoved`, `missed` (lifecycle only).
    #[serde(default, alias = "LifecycleEvent")]
    pub lifecycle_event: Option<LifecycleNotice>,
    /// An optional notification id.
    #[serde(default, alias = "Id")]
    pub id: Option<String>,
    /// Rich notifications' encrypted resource data (not used for mail: section 5.1).
    #[serde(default, alias = "EncryptedContent")]
    pub encrypted_content: Option<Value>,
}

impl ChangeNotification {
    /// The lifecycle event this entry announces, if it is a lifecycle notification. The legacy
    /// Outlook REST shape said `"ChangeType":"SubscriptionRemoved"` instead (section 4).
    pub fn lifecycle(&self) -> Option<LifecycleEvent> {
        match (&self.lifecycle_event, &self.change_type) {
            (Some(LifecycleNotice::Known(event)), _) => Some(*event),
            (None, Some(ChangeType::Other(t))) if t.eq_ignore_ascii_case("subscriptionRemoved") => {
                Some(LifecycleEvent::SubscriptionRemoved)
            }
            _ => None,
        }
    }
}

/// `resourceData` of a basic notification.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ResourceData {
    /// `#Microsoft.Graph.Message` (casing varies).
    #[serde(default, rename = "@odata.type")]
    pub odata_type: Option<String>,
    /// The item's path.
    #[serde(default, rename = "@odata.id")]
    pub odata_id: Option<String>,
    /// `W/"<changeKey>"`.
    #[serde(default, rename = "@odata.etag")]
    pub odata_etag: Option<String>,
    /// The item id: the one field to rely on.
    #[serde(default, alias = "Id")]
    pub id: Option<String>,
}

/// A change type, in any case; unknown values are kept rather than refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeType {
    /// A new item.
    Created,
    /// A changed item.
    Updated,
    /// A deleted item.
    Deleted,
    /// Anything else, verbatim.
    Other(String),
}

impl<'de> Deserialize<'de> for ChangeType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(match text.to_ascii_lowercase().as_str() {
            "created" => ChangeType::Created,
            "updated" => ChangeType::Updated,
            "deleted" => ChangeType::Deleted,
            _ => ChangeType::Other(text),
        })
    }
}

/// A lifecycle event, in any case; an unknown one is kept so it can be logged, not refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LifecycleNotice {
    /// One exsync acts on.
    Known(LifecycleEvent),
    /// Anything else, verbatim.
    Unknown(String),
}

impl<'de> Deserialize<'de> for LifecycleNotice {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(match text.to_ascii_lowercase().as_str() {
            "reauthorizationrequired" => {
                LifecycleNotice::Known(LifecycleEvent::ReauthorizationRequired)
            }
            "subscriptionremoved" => LifecycleNotice::Known(LifecycleEvent::SubscriptionRemoved),
            "missed" => LifecycleNotice::Known(LifecycleEvent::Missed),
            _ => LifecycleNotice::Unknown(text),
        })
    }
}

fn optional_secret<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Secret>, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.map(Secret::new))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_basic_notification_from_the_reference_parses_and_hides_its_client_state() {
        let body = r##"{"value":[{
          "subscriptionId":"c6126aa3-0ed8-412f-a988-71e6cee627c4",
          "subscriptionExpirationDateTime":"2022-01-02T03:12:18.2257768+05:30",
          "changeType":"created",
          "resource":"Users/622eaaff-0683-4862-9de4-f2ec83c2bd98/Messages/AAMkAGUwNjQ4ZjIxAAA=",
          "resourceData":{
            "@odata.type":"#Microsoft.Graph.Message",
            "@odata.id":"Users/622eaaff-0683-4862-9de4-f2ec83c2bd98/Messages/AAMkAGUwNjQ4ZjIAAA=",
            "@odata.etag":"W/\"CQAAABYAAACQ2fKdhq8oSKEDSVrdi3lRAAGDUUXn\"",
            "id":"AAMkAGUwNjQ4ZjIxAAA="},
          "clientState":"secret-client-state-value",
          "tenantId":"<<--TenantForWhichNotificationWasSent-->>"}]}"##;
        let parsed: NotificationCollection = serde_json::from_str(body).unwrap();
        let n = &parsed.value[0];
        assert_eq!(n.change_type, Some(ChangeType::Created));
        assert_eq!(n.resource_data.as_ref().unwrap().id.as_deref(), Some("AAMkAGUwNjQ4ZjIxAAA="));
        assert_eq!(n.client_state.as_ref().unwrap().expose(), "secret-client-state-value");
        let expiry = n.subscription_expiration_date_time.unwrap();
        assert_eq!(expiry.offset().whole_minutes(), 330);
        assert!(!format!("{parsed:?}").contains("secret-client-state-value"));
        assert_eq!(n.lifecycle(), None);
    }

    #[test]
    fn lifecycle_notifications_parse_in_any_case_and_in_the_legacy_shape() {
        let body = r#"{"value":[
          {"subscriptionId":"a","subscriptionExpirationDateTime":"2019-03-20T11:00:00.0000000Z",
           "tenantId":"t","clientState":"s","lifecycleEvent":"reauthorizationRequired"},
          {"subscriptionId":"b","tenantId":"t","clientState":"s","lifecycleEvent":"Missed"},
          {"SubscriptionId":"c","ChangeType":"SubscriptionRemoved","ClientState":"s"},
          {"subscriptionId":"d","lifecycleEvent":"somethingNew"}]}"#;
        let parsed: NotificationCollection = serde_json::from_str(body).unwrap();
        let events: Vec<_> = parsed.value.iter().map(ChangeNotification::lifecycle).collect();
        assert_eq!(
            events,
            vec![
                Some(LifecycleEvent::ReauthorizationRequired),
                Some(LifecycleEvent::Missed),
                Some(LifecycleEvent::SubscriptionRemoved),
                None
            ]
        );
        assert_eq!(
            parsed.value[3].lifecycle_event,
            Some(LifecycleNotice::Unknown("somethingNew".into()))
        );
    }

    #[test]
    fn a_rich_notification_keeps_its_validation_tokens() {
        let body = r##"{"value":[{"subscriptionId":"dfd11b2f","changeType":"Created",
          "resource":"Users('722effaf')/messages('AAMkAGUw8AAA=')","clientState":"x","tenantId":"t",
          "encryptedContent":{"data":"ZGF0YQ==","dataKey":"a2V5"},
          "resourceData":{"@odata.type":"#microsoft.graph.message","id":"AAMkAGUw8AAA="}}],
          "validationTokens":["eyJ0eXAiOiJKV1QiLCJhb"]}"##;
        let parsed: NotificationCollection = serde_json::from_str(body).unwrap();
        assert_eq!(parsed.validation_tokens.len(), 1);
        assert_eq!(parsed.value[0].change_type, Some(ChangeType::Created));
        assert!(parsed.value[0].encrypted_content.is_some());
    }
}
