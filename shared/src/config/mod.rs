//! The configuration file: one TOML file whose shape is the user's contract.
//!
//! [`raw`] mirrors the file (unknown keys are refused by name); [`Config::load`] turns it into
//! validated types, naming the key of every problem (`mailboxes[2].profile: no profile named
//! "contoso"`). Secrets stay references here; they are read where tokens are made.

mod notifications;
mod raw;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use time::OffsetDateTime;
use url::Url;

pub use notifications::{EncryptionCertificateRef, RichConfig};

use crate::{
    domain::{ClientId, MailboxAddress, ProfileName, TenantId},
    secret::SecretRef,
    tracking::{TrackFilter, TrackingRule},
};

/// Default path of the configuration file.
pub const DEFAULT_PATH: &str = "exsync.toml";

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Microsoft endpoints (global cloud by default).
    pub cloud: Cloud,
    /// The Dataverse environment everything is written to.
    pub dataverse: DataverseTarget,
    /// Email server profiles: one Exchange tenant and app each.
    pub profiles: Vec<Profile>,
    /// The synced mailboxes.
    pub mailboxes: Vec<Mailbox>,
    /// How this process runs.
    pub runtime: Runtime,
}

/// Endpoints, configurable for national clouds and for tests (DESIGN invariant 7).
#[derive(Debug, Clone)]
pub struct Cloud {
    /// Entra ID authority host, e.g. `https://login.microsoftonline.com`.
    pub authority_host: Url,
    /// Microsoft Graph root, e.g. `https://graph.microsoft.com` (the API is under `/v1.0`).
    pub graph_url: Url,
    /// An extra CA certificate (PEM) to trust, for TLS-inspecting proxies and test clouds.
    pub ca_file: Option<PathBuf>,
    /// How long one Graph or Dataverse request may take before it counts as timed out (and
    /// is retried as a transient failure); `None`: 60 s for Graph, 120 s for Dataverse.
    pub request_timeout: Option<Duration>,
}

/// How an app proves who it is to Entra ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A client secret.
    Secret(SecretRef),
    /// A PEM bundle with the certificate and its RSA private key.
    Certificate(SecretRef),
}

/// The Dataverse environment and the application user exsync writes as.
#[derive(Debug, Clone)]
pub struct DataverseTarget {
    /// Environment URL, e.g. `https://contoso.crm.dynamics.com` (no trailing slash).
    pub url: Url,
    /// The environment's tenant.
    pub tenant_id: TenantId,
    /// The app registered as an application user in the environment.
    pub client_id: ClientId,
    /// Its credential.
    pub credential: Credential,
}

/// An email server profile ("OAuth (cross tenant)"): one Exchange tenant, one app.
#[derive(Debug, Clone)]
pub struct Profile {
    /// Unique name, referenced by mailboxes.
    pub name: ProfileName,
    /// The Exchange Online tenant.
    pub tenant_id: TenantId,
    /// The app registered in that tenant with Graph application permissions.
    pub client_id: ClientId,
    /// Its credential.
    pub credential: Credential,
    /// Mail received before this is not synced (inclusive bound), unless a mailbox overrides it.
    pub process_emails_from: Option<OffsetDateTime>,
    /// Graph requests in flight at once across all the profile's mailboxes.
    pub max_concurrent_connections: u16,
    /// Which mail its mailboxes track (`track`, `track_sent_items`), unless a mailbox says.
    pub tracking: TrackingRule,
    /// Rich notifications (`rich_notifications`), with the encryption certificates.
    pub rich: Option<RichConfig>,
}

/// A synced mailbox.
#[derive(Debug, Clone)]
pub struct Mailbox {
    /// Its address (the Graph user).
    pub address: MailboxAddress,
    /// The profile whose tenant and app it syncs with.
    pub profile: ProfileName,
    /// Overrides the profile's `process_emails_from` for this mailbox.
    pub process_email_received_after: Option<OffsetDateTime>,
    /// Whether incoming (and sent) mail is synced.
    pub incoming: bool,
    /// A mailbox's own app credential ("credentials specified by a user or queue"), used instead
    /// of the profile's; same tenant.
    pub credential: Option<MailboxCredential>,
    /// Overrides the profile's tracking filter (`track`).
    pub track: Option<TrackFilter>,
    /// Overrides the profile's Sent Items switch (`track_sent_items`).
    pub track_sent_items: Option<bool>,
}

/// An app credential of one mailbox.
#[derive(Debug, Clone)]
pub struct MailboxCredential {
    /// The app.
    pub client_id: ClientId,
    /// Its credential.
    pub credential: Credential,
}

/// Where state lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateLocation {
    /// The embedded default: one SQLite file (state and queues).
    Sqlite(PathBuf),
}

/// How this process runs.
#[derive(Debug, Clone)]
pub struct Runtime {
    /// Where state and queues live.
    pub state: StateLocation,
    /// The webhook listener's address.
    pub listen: SocketAddr,
    /// The https URL at which Graph reaches the listener; `None`: poll with delta instead.
    pub public_url: Option<Url>,
    /// How often to poll each mailbox when there is no `public_url`; with one, how often a
    /// mailbox whose subscriptions could not be made is tried again.
    pub poll_interval: Duration,
    /// How often every mailbox gets a safety-net delta pass even when notifications flow
    /// (lost notifications are caught up within this interval at worst).
    pub sweep_interval: Duration,
    /// The longest wait between two probes of a parked mailbox (one that failed for a reason
    /// only an admin can fix); the first comes after a minute, or this if shorter.
    pub parked_retry_max: Duration,
    /// Serve the listener over TLS with this certificate chain and key (PEM files).
    pub tls: Option<ListenerTls>,
    /// How long a Graph subscription is asked to live (capped at the resource's maximum).
    pub subscription_lifetime: Duration,
}

/// The Outlook message subscription lifetime every documented version allows: 4,230 minutes
/// (reference graph.md 1.3). The default, and the fallback when Graph refuses a longer one.
pub const SAFE_SUBSCRIPTION_LIFETIME: Duration = Duration::from_secs(4_230 * 60);

/// The longest lifetime newer docs report for Outlook messages, 10,080 minutes (reference
/// graph.md 1.3, UNCONFIRMED there); longer is refused at load.
pub const MAX_SUBSCRIPTION_LIFETIME: Duration = Duration::from_secs(10_080 * 60);

/// TLS for the webhook listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerTls {
    /// Certificate chain, PEM.
    pub cert_file: PathBuf,
    /// Private key, PEM.
    pub key_file: PathBuf,
}

/// A configuration that cannot be used, with the key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A key is wrong: `key: what is wrong`.
    #[error("{path}: {key}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Dotted key path, e.g. `mailboxes[2].profile`.
        key: String,
        /// What is wrong and what to do.
        message: String,
    },
}

impl Config {
    /// Reads and validates the file at `path`; relative paths inside resolve against its folder.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        let base = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        Self::parse(&text, base).map_err(|(key, message)| ConfigError::Invalid {
            path: path.to_path_buf(),
            key,
            message,
        })
    }

    /// Parses configuration text; relative paths resolve against `base_dir`.
    /// Errors are `(key, message)`.
    pub fn parse(text: &str, base_dir: &Path) -> Result<Self, (String, String)> {
        raw::parse(text, base_dir)
    }

    /// The profile of a mailbox (validated to exist at load).
    pub fn profile_of(&self, mailbox: &Mailbox) -> &Profile {
        self.profiles
            .iter()
            .find(|p| p.name == mailbox.profile)
            .expect("mailbox profiles are validated at load")
    }

    /// A mailbox by address.
    pub fn mailbox(&self, address: &MailboxAddress) -> Option<&Mailbox> {
        self.mailboxes.iter().find(|m| &m.address == address)
    }

    /// The first instant whose mail a mailbox syncs: its own date, else its profile's.
    pub fn sync_from(&self, mailbox: &Mailbox) -> Option<OffsetDateTime> {
        mailbox.process_email_received_after.or(self.profile_of(mailbox).process_emails_from)
    }
}

#[cfg(test)]
mod tests;
