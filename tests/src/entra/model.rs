//! The directory the token endpoint consults: tenants, app registrations with their
//! credentials, resource apps with their app roles, service principals and role grants.

use std::collections::{BTreeSet, HashMap};

use time::OffsetDateTime;

/// Microsoft Graph's application id (the same in every tenant).
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
/// Microsoft Graph's identifier URI.
pub const GRAPH_RESOURCE: &str = "https://graph.microsoft.com";
/// The Graph application permissions exsync may be granted (a subset of Graph's app roles).
pub const GRAPH_APP_ROLES: &[&str] = &[
    "Mail.Read",
    "Mail.ReadBasic",
    "Mail.ReadBasic.All",
    "Mail.ReadWrite",
    "Mail.Send",
    "MailboxSettings.Read",
    "MailboxSettings.ReadWrite",
    "Calendars.Read",
    "Calendars.ReadWrite",
    "Contacts.Read",
    "Contacts.ReadWrite",
    "Tasks.Read.All",
    "Tasks.ReadWrite.All",
    "User.Read.All",
];

/// An Entra tenant: its id and its verified domains (lower case).
#[derive(Debug, Clone)]
pub struct Tenant {
    /// Tenant id, lower case.
    pub id: String,
    /// Verified domains, lower case.
    pub domains: Vec<String>,
}

/// A client secret (a password credential).
#[derive(Debug, Clone)]
pub struct Secret {
    /// The secret id (`keyId`), not usable as the secret.
    pub id: String,
    /// The secret value.
    pub value: String,
    /// `endDateTime`.
    pub expires_at: OffsetDateTime,
}

/// A certificate key credential: the DER certificate, its thumbprints and validity.
#[derive(Debug, Clone)]
pub struct KeyCredential {
    /// The key id (`keyId`).
    pub id: String,
    /// The certificate, DER.
    pub der: Vec<u8>,
    /// SHA-1 of `der` (`x5t`).
    pub sha1: Vec<u8>,
    /// SHA-256 of `der` (`x5t#S256`).
    pub sha256: Vec<u8>,
    /// `startDateTime`: the certificate's notBefore.
    pub start: OffsetDateTime,
    /// `endDateTime`: the certificate's notAfter.
    pub end: OffsetDateTime,
}

/// An application registration (the client).
#[derive(Debug, Clone)]
pub struct App {
    /// Application (client) id, lower case.
    pub client_id: String,
    /// The tenant the app is registered in.
    pub home_tenant: String,
    /// Whether other tenants can consent to it.
    pub multi_tenant: bool,
    /// Sign-in disabled (AADSTS7000112).
    pub disabled: bool,
    /// Client secrets.
    pub secrets: Vec<Secret>,
    /// Certificates.
    pub certificates: Vec<KeyCredential>,
}

/// A resource application (an API) and the application permissions it defines.
#[derive(Debug, Clone)]
pub struct Resource {
    /// Application id of the resource app.
    pub app_id: String,
    /// Identifier URI without a trailing slash, as registered.
    pub identifier_uri: String,
    /// Values of its application permissions (app roles).
    pub app_roles: BTreeSet<String>,
}

/// Everything the simulator knows, behind one lock.
#[derive(Debug)]
pub struct Directory {
    /// Every tenant.
    pub tenants: Vec<Tenant>,
    /// App registrations by client id (lower case).
    pub apps: HashMap<String, App>,
    /// Resource apps.
    pub resources: Vec<Resource>,
    /// (tenant id, application id) -> the service principal's object id.
    pub service_principals: HashMap<(String, String), String>,
    /// (tenant id, client id, resource app id) -> granted app role values.
    pub grants: HashMap<(String, String, String), BTreeSet<String>>,
    /// `expires_in` of issued tokens.
    pub token_lifetime_secs: i64,
    /// `refresh_in`, when the response should carry it.
    pub refresh_in_secs: Option<i64>,
}

impl Default for Directory {
    fn default() -> Self {
        Self {
            tenants: Vec::new(),
            apps: HashMap::new(),
            resources: Vec::new(),
            service_principals: HashMap::new(),
            grants: HashMap::new(),
            // The value in every documented example (reference B1).
            token_lifetime_secs: 3599,
            refresh_in_secs: None,
        }
    }
}

impl Directory {
    /// A tenant by id (any case) or by one of its verified domains.
    pub fn tenant(&self, id_or_domain: &str) -> Option<&Tenant> {
        let key = id_or_domain.to_ascii_lowercase();
        self.tenants.iter().find(|t| t.id == key || t.domains.contains(&key))
    }

    /// A resource by identifier URI (case-insensitive, trailing slash ignored) or application id.
    pub fn resource(&self, reference: &str) -> Option<&Resource> {
        let key = reference.trim_end_matches('/').to_ascii_lowercase();
        self.resources
            .iter()
            .find(|r| r.identifier_uri.to_ascii_lowercase() == key || r.app_id == key)
    }

    /// The object id of `app_id`'s service principal in `tenant_id`.
    pub fn service_principal(&self, tenant_id: &str, app_id: &str) -> Option<&String> {
        self.service_principals.get(&(tenant_id.to_string(), app_id.to_string()))
    }

    /// The roles granted to `client_id` on `resource_app_id` in `tenant_id`.
    pub fn granted_roles(
        &self,
        tenant_id: &str,
        client_id: &str,
        resource_app_id: &str,
    ) -> Vec<String> {
        let key = (tenant_id.to_string(), client_id.to_string(), resource_app_id.to_string());
        self.grants.get(&key).map(|r| r.iter().cloned().collect()).unwrap_or_default()
    }
}

/// A GUID in its canonical text form (what tenant and application ids are).
pub fn is_guid(s: &str) -> bool {
    s.len() == 36 && uuid::Uuid::try_parse(s).is_ok()
}

/// Something that can be a verified domain name: dot-separated labels of letters, digits, `-`.
pub fn is_dns_name(s: &str) -> bool {
    s.contains('.')
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}
