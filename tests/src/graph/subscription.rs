//! The subscription resource (reference 1.1): its stored form, the resource strings it
//! accepts for Outlook, and which items it covers.

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::{
    dates,
    errors::GraphError,
    odata::{self, Filter},
    render,
    request::{parse_query, split_segments},
    store::{FolderKind, Item, ItemData, Mailbox},
};

/// What a subscription watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SubKind {
    Messages,
    Events,
    Contacts,
}

/// Which change types a subscription wants.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ChangeTypes {
    pub created: bool,
    pub updated: bool,
    pub deleted: bool,
}

impl ChangeTypes {
    /// Parses `"created,updated,deleted"` (any non-empty combination, reference 1.1).
    pub fn parse(raw: &str) -> Option<Self> {
        let mut out = Self::default();
        for part in raw.split(',').map(str::trim) {
            match part {
                "created" => out.created = true,
                "updated" => out.updated = true,
                "deleted" => out.deleted = true,
                _ => return None,
            }
        }
        Some(out)
    }

    pub fn wants(&self, change: &str) -> bool {
        match change {
            "created" => self.created,
            "updated" => self.updated,
            _ => self.deleted,
        }
    }
}

/// The certificate a rich subscription's resource data is encrypted for (reference 5.1).
#[derive(Debug, Clone)]
pub(crate) struct EncryptionCert {
    pub certificate_b64: String,
    pub id: Option<String>,
    /// The RSA public key (SubjectPublicKeyInfo DER).
    pub spki: Vec<u8>,
    /// Upper-case hex SHA-1 of the certificate.
    pub thumbprint: String,
}

/// A stored subscription.
#[derive(Debug, Clone)]
pub(crate) struct Subscription {
    pub id: String,
    pub tenant: String,
    pub app_id: String,
    pub creator_id: String,
    pub mailbox_id: String,
    /// As the client wrote it (echoed back).
    pub resource: String,
    pub kind: SubKind,
    /// The folder watched; `None` = the whole mailbox (messages) or default folder.
    pub folder: Option<u32>,
    pub filter: Option<Filter>,
    pub select: Option<Vec<String>>,
    pub change_type: String,
    pub change_types: ChangeTypes,
    pub notification_url: String,
    pub lifecycle_url: Option<String>,
    pub expiration: OffsetDateTime,
    pub client_state: Option<String>,
    pub include_resource_data: bool,
    pub encryption: Option<EncryptionCert>,
    pub latest_tls: String,
    /// Created with `Prefer: IdType="ImmutableId"`: notifications carry immutable ids.
    pub immutable_ids: bool,
    /// When `reauthorizationRequired` was raised and not yet answered.
    pub reauthorization_requested: Option<OffsetDateTime>,
}

/// A parsed Outlook resource string.
#[derive(Debug, Clone)]
pub(crate) struct ParsedResource {
    pub user: String,
    pub kind: SubKind,
    pub folder: Option<String>,
    pub query: Vec<(String, String)>,
}

/// Parses a subscription resource: `users/{id}/messages`,
/// `users/{id}/mailFolders('{id}')/messages`, `users/{id}/events`, `users/{id}/contacts`,
/// `users/{id}/contactFolders/{id}/contacts`, with an optional query (reference 1.1).
pub(crate) fn parse_resource(resource: &str) -> Result<ParsedResource, GraphError> {
    if resource.starts_with("http://") || resource.starts_with("https://") {
        return Err(GraphError::invalid_request(
            "The resource must be a relative path, without the service base URL.",
        ));
    }
    let (path, query) = resource.split_once('?').map_or((resource, None), |(p, q)| (p, Some(q)));
    let segments = split_segments(path);
    let lower: Vec<String> = segments.iter().map(|s| s.to_ascii_lowercase()).collect();
    let lower: Vec<&str> = lower.iter().map(String::as_str).collect();
    let query = parse_query(query);
    let parsed = |kind, folder: Option<&String>| ParsedResource {
        user: segments[1].clone(),
        kind,
        folder: folder.cloned(),
        query: query.clone(),
    };
    match lower.as_slice() {
        ["me", ..] => Err(GraphError::bad_request(
            "/me request is only valid with delegated authentication flow.",
        )),
        ["users", _, "messages"] => Ok(parsed(SubKind::Messages, None)),
        ["users", _, "mailfolders", _, "messages"] => {
            Ok(parsed(SubKind::Messages, segments.get(3)))
        }
        ["users", _, "events"] => Ok(parsed(SubKind::Events, None)),
        ["users", _, "contacts"] => Ok(parsed(SubKind::Contacts, None)),
        ["users", _, "contactfolders", _, "contacts"] => {
            Ok(parsed(SubKind::Contacts, segments.get(3)))
        }
        // Application permissions are "Not supported" for todoTask subscriptions
        // (docs: api-reference/v1.0/api/subscription-reauthorize.md, reference 1.1).
        ["users", _, "todo", ..] => Err(GraphError::access_denied()),
        _ => Err(GraphError::invalid_request(format!(
            "The resource '{resource}' is not supported for subscriptions."
        ))),
    }
}

/// Reads `$select` and `$filter` of a message resource; rich subscriptions may not select
/// `body`/`uniqueBody` nor use `$top`, `$skip`, `$orderby` (reference 5.1).
pub(crate) fn resource_options(
    parsed: &ParsedResource,
    rich: bool,
) -> Result<(Option<Filter>, Option<Vec<String>>), GraphError> {
    let mut filter = None;
    let mut select = None;
    for (k, v) in &parsed.query {
        match k.to_ascii_lowercase().as_str() {
            "$filter" if parsed.kind == SubKind::Messages => {
                filter = Some(odata::parse_filter(v)?);
            }
            "$select" if parsed.kind == SubKind::Messages => {
                let props =
                    odata::parse_select(v, render::MESSAGE_PROPS, "microsoft.graph.message")?;
                if rich && props.iter().any(|p| p == "body" || p == "uniqueBody") {
                    return Err(GraphError::invalid_request(
                        "$select=Body,UniqueBody is not supported for notifications with resource \
                         data.",
                    ));
                }
                select = Some(props);
            }
            other => {
                return Err(GraphError::invalid_request(format!(
                    "The query option '{other}' is not supported in a subscription resource."
                )));
            }
        }
    }
    Ok((filter, select))
}

impl Subscription {
    /// The subscription object of reference 1.1.
    pub fn to_json(&self, base: &str) -> Value {
        json!({
            "@odata.context": format!("{base}/v1.0/$metadata#subscriptions/$entity"),
            "id": self.id,
            "resource": self.resource,
            "applicationId": self.app_id,
            "changeType": self.change_type,
            "clientState": self.client_state,
            "notificationUrl": self.notification_url,
            "notificationQueryOptions": null,
            "notificationContentType": null,
            "lifecycleNotificationUrl": self.lifecycle_url,
            "expirationDateTime": dates::subscription(self.expiration),
            "creatorId": self.creator_id,
            "includeResourceData": self.include_resource_data.then_some(true),
            "latestSupportedTlsVersion": self.latest_tls,
            "encryptionCertificate": self.encryption.as_ref().map(|e| e.certificate_b64.clone()),
            "encryptionCertificateId": self.encryption.as_ref().and_then(|e| e.id.clone()),
            "notificationUrlAppId": null,
        })
    }

    /// Whether `item` (of mailbox `mb`) is inside what this subscription watches.
    pub fn covers(&self, mb: &Mailbox, item: &Item) -> bool {
        if mb.id != self.mailbox_id {
            return false;
        }
        let folder = &mb.folders[item.folder as usize];
        let in_scope = match (&item.data, self.kind) {
            (ItemData::Message(_), SubKind::Messages) => {
                folder.kind == FolderKind::Mail && self.folder.is_none_or(|f| f == item.folder)
            }
            (ItemData::Event(_), SubKind::Events) => true,
            (ItemData::Contact(_), SubKind::Contacts) => {
                self.folder.is_none_or(|f| f == item.folder)
            }
            _ => false,
        };
        in_scope && self.filter.as_ref().is_none_or(|f| f.matches(item))
    }

    /// The Graph type name of what this subscription watches.
    pub fn odata_type(&self) -> &'static str {
        match self.kind {
            SubKind::Messages => "#Microsoft.Graph.Message",
            SubKind::Events => "#Microsoft.Graph.Event",
            SubKind::Contacts => "#Microsoft.Graph.Contact",
        }
    }

    /// The collection segment of resource paths in notifications.
    pub fn collection(&self) -> &'static str {
        match self.kind {
            SubKind::Messages => "Messages",
            SubKind::Events => "Events",
            SubKind::Contacts => "Contacts",
        }
    }
}
