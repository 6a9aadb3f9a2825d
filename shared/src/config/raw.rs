//! The file's shape, with serde, and its conversion to validated types with key paths.

use std::{collections::HashSet, net::SocketAddr, path::Path, time::Duration};

use serde::Deserialize;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use url::Url;

use super::{
    Cloud, Config, Credential, DataverseTarget, ListenerTls, MAX_SUBSCRIPTION_LIFETIME, Mailbox,
    MailboxCredential, Profile, Runtime, StateLocation, notifications,
};
use crate::{
    domain::{ClientId, MailboxAddress, ProfileName, TenantId},
    secret::SecretRef,
    tracking::TrackingRule,
};

type Fail = (String, String);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    cloud: RawCloud,
    dataverse: RawDataverse,
    #[serde(default)]
    profiles: Vec<RawProfile>,
    #[serde(default)]
    mailboxes: Vec<RawMailbox>,
    #[serde(default)]
    runtime: RawRuntime,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCloud {
    authority_host: Option<String>,
    graph_url: Option<String>,
    ca_file: Option<String>,
    request_timeout: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDataverse {
    url: String,
    tenant_id: String,
    client_id: String,
    client_secret: Option<String>,
    certificate: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: String,
    tenant_id: String,
    client_id: String,
    client_secret: Option<String>,
    certificate: Option<String>,
    process_emails_from: Option<String>,
    max_concurrent_connections: Option<i64>,
    track: Option<String>,
    track_sent_items: Option<bool>,
    rich_notifications: Option<bool>,
    encryption_certificate: Option<String>,
    encryption_certificate_id: Option<String>,
    previous_encryption_certificate: Option<String>,
    previous_encryption_certificate_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMailbox {
    address: String,
    profile: String,
    process_email_received_after: Option<String>,
    incoming: Option<bool>,
    client_id: Option<String>,
    client_secret: Option<String>,
    certificate: Option<String>,
    track: Option<String>,
    track_sent_items: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRuntime {
    state: Option<String>,
    listen: Option<String>,
    public_url: Option<String>,
    poll_interval: Option<String>,
    tls_cert: Option<String>,
    tls_key: Option<String>,
    subscription_lifetime: Option<String>,
    sweep_interval: Option<String>,
    parked_retry_max: Option<String>,
}

/// Server-side sync accepts 1..=300 for MaxConcurrentConnections (reference A9).
const MAX_CONNECTIONS: std::ops::RangeInclusive<i64> = 1..=300;
const DEFAULT_CONNECTIONS: u16 = 10;

pub(super) fn parse(text: &str, base: &Path) -> Result<Config, Fail> {
    let de = toml::Deserializer::parse(text)
        .map_err(|e| ("(file)".to_string(), toml_message(&e, text)))?;
    let raw: RawConfig = serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        let key = if key == "." { "(file)".to_string() } else { key };
        (key, toml_message(e.inner(), text))
    })?;
    convert(raw, base)
}

fn toml_message(error: &toml::de::Error, text: &str) -> String {
    let line = error.span().map(|s| text[..s.start.min(text.len())].lines().count().max(1));
    match line {
        Some(line) => format!("{} (line {line})", error.message()),
        None => error.message().to_string(),
    }
}

fn convert(raw: RawConfig, base: &Path) -> Result<Config, Fail> {
    let cloud = Cloud {
        authority_host: https_url(
            "cloud.authority_host",
            raw.cloud.authority_host.as_deref().unwrap_or("https://login.microsoftonline.com"),
        )?,
        graph_url: https_url(
            "cloud.graph_url",
            raw.cloud.graph_url.as_deref().unwrap_or("https://graph.microsoft.com"),
        )?,
        ca_file: raw.cloud.ca_file.map(|p| base.join(p)),
        request_timeout: raw
            .cloud
            .request_timeout
            .as_deref()
            .map(|text| {
                duration(
                    "cloud.request_timeout",
                    Some(text),
                    text,
                    Duration::from_secs(1)..=Duration::from_secs(600),
                    "a duration from 1s to 10m, such as \"30s\"",
                )
            })
            .transpose()?,
    };
    let d = raw.dataverse;
    let dataverse = DataverseTarget {
        url: https_url("dataverse.url", &d.url)?,
        tenant_id: id("dataverse.tenant_id", TenantId::parse(d.tenant_id))?,
        client_id: id("dataverse.client_id", ClientId::parse(d.client_id))?,
        credential: credential("dataverse", d.client_secret, d.certificate, base)?
            .ok_or_else(|| missing_credential("dataverse"))?,
    };

    let mut names = HashSet::new();
    let mut profiles = Vec::new();
    for (i, p) in raw.profiles.into_iter().enumerate() {
        let at = format!("profiles[{i}]");
        let name = id(&format!("{at}.name"), ProfileName::parse(p.name))?;
        if !names.insert(name.clone()) {
            return Err((
                format!("{at}.name"),
                format!("another profile is already named {:?}", name.as_str()),
            ));
        }
        let connections = p.max_concurrent_connections.unwrap_or(DEFAULT_CONNECTIONS.into());
        if !MAX_CONNECTIONS.contains(&connections) {
            return Err((
                format!("{at}.max_concurrent_connections"),
                format!("{connections} is out of range: use 1 to 300, as server-side sync does"),
            ));
        }
        profiles.push(Profile {
            tenant_id: id(&format!("{at}.tenant_id"), TenantId::parse(p.tenant_id))?,
            client_id: id(&format!("{at}.client_id"), ClientId::parse(p.client_id))?,
            credential: credential(&at, p.client_secret, p.certificate, base)?
                .ok_or_else(|| missing_credential(&at))?,
            process_emails_from: date(&format!("{at}.process_emails_from"), p.process_emails_from)?,
            max_concurrent_connections: connections as u16,
            tracking: TrackingRule {
                filter: notifications::track_filter(&at, p.track)?.unwrap_or_default(),
                sent_items: p.track_sent_items.unwrap_or(true),
            },
            rich: notifications::rich(
                &at,
                notifications::RawRich {
                    rich_notifications: p.rich_notifications,
                    encryption_certificate: p.encryption_certificate,
                    encryption_certificate_id: p.encryption_certificate_id,
                    previous_encryption_certificate: p.previous_encryption_certificate,
                    previous_encryption_certificate_id: p.previous_encryption_certificate_id,
                },
                base,
            )?,
            name,
        });
    }

    let mut addresses = HashSet::new();
    let mut mailboxes = Vec::new();
    for (i, m) in raw.mailboxes.into_iter().enumerate() {
        let at = format!("mailboxes[{i}]");
        let address = id(&format!("{at}.address"), MailboxAddress::parse(m.address))?;
        if !addresses.insert(address.clone()) {
            return Err((format!("{at}.address"), format!("{address} is listed twice")));
        }
        let profile = id(&format!("{at}.profile"), ProfileName::parse(m.profile))?;
        if !profiles.iter().any(|p| p.name == profile) {
            return Err((
                format!("{at}.profile"),
                format!("no profile named {:?}", profile.as_str()),
            ));
        }
        let own = credential(&at, m.client_secret, m.certificate, base)?;
        let credential = match (m.client_id, own) {
            (None, None) => None,
            (Some(client_id), Some(credential)) => Some(MailboxCredential {
                client_id: id(&format!("{at}.client_id"), ClientId::parse(client_id))?,
                credential,
            }),
            (Some(_), None) => return Err(missing_credential(&at)),
            (None, Some(_)) => {
                return Err((
                    format!("{at}.client_id"),
                    "a mailbox with its own credential needs the client_id of its app".into(),
                ));
            }
        };
        mailboxes.push(Mailbox {
            process_email_received_after: date(
                &format!("{at}.process_email_received_after"),
                m.process_email_received_after,
            )?,
            incoming: m.incoming.unwrap_or(true),
            track: notifications::track_filter(&at, m.track)?,
            track_sent_items: m.track_sent_items,
            address,
            profile,
            credential,
        });
    }

    Ok(Config { cloud, dataverse, profiles, mailboxes, runtime: runtime(raw.runtime, base)? })
}

fn runtime(r: RawRuntime, base: &Path) -> Result<Runtime, Fail> {
    let state = r.state.as_deref().unwrap_or("sqlite:exsync.db");
    let state = match state.split_once(':') {
        Some(("sqlite", path)) if !path.trim().is_empty() => {
            StateLocation::Sqlite(base.join(path.trim()))
        }
        _ => return Err(("runtime.state".into(), format!("{state:?}: use sqlite:PATH"))),
    };
    let listen = r.listen.as_deref().unwrap_or("127.0.0.1:8080");
    let listen: SocketAddr = listen.parse().map_err(|_| {
        (
            "runtime.listen".to_string(),
            format!("{listen:?} is not an address:port such as 127.0.0.1:8080"),
        )
    })?;
    let public_url = r.public_url.map(|u| https_url("runtime.public_url", &u)).transpose()?;
    let poll_interval = duration(
        "runtime.poll_interval",
        r.poll_interval.as_deref(),
        "60s",
        Duration::from_secs(1)..=Duration::MAX,
        "use a duration of at least 1s, e.g. \"60s\" or \"5m\"",
    )?;
    let sweep_interval = duration(
        "runtime.sweep_interval",
        r.sweep_interval.as_deref(),
        "12h",
        Duration::from_secs(60)..=Duration::MAX,
        "use a duration of at least 1m, e.g. \"12h\": the safety-net delta pass of every mailbox",
    )?;
    let parked_retry_max = duration(
        "runtime.parked_retry_max",
        r.parked_retry_max.as_deref(),
        "30m",
        Duration::from_secs(1)..=Duration::from_secs(24 * 3600),
        "use a duration from 1s to 24h, e.g. \"30m\": the longest wait between two probes of \
         a parked mailbox",
    )?;
    let tls = match (r.tls_cert, r.tls_key) {
        (None, None) => None,
        (Some(cert), Some(key)) => {
            Some(ListenerTls { cert_file: base.join(cert), key_file: base.join(key) })
        }
        (Some(_), None) => {
            return Err(("runtime.tls_key".into(), "tls_cert is set: set tls_key too".into()));
        }
        (None, Some(_)) => {
            return Err(("runtime.tls_cert".into(), "tls_key is set: set tls_cert too".into()));
        }
    };
    let subscription_lifetime = duration(
        "runtime.subscription_lifetime",
        r.subscription_lifetime.as_deref(),
        "4230m",
        Duration::from_secs(3600)..=MAX_SUBSCRIPTION_LIFETIME,
        "use a duration from 1h to 10080m (Graph's maximum for mail); 4230m works with every \
         Graph version",
    )?;
    Ok(Runtime {
        state,
        listen,
        public_url,
        poll_interval,
        sweep_interval,
        parked_retry_max,
        tls,
        subscription_lifetime,
    })
}

fn duration(
    key: &str,
    text: Option<&str>,
    default: &str,
    allowed: std::ops::RangeInclusive<Duration>,
    hint: &str,
) -> Result<Duration, Fail> {
    let text = text.unwrap_or(default);
    humantime::parse_duration(text)
        .ok()
        .filter(|d| allowed.contains(d))
        .ok_or_else(|| (key.to_string(), format!("{text:?}: {hint}")))
}

fn id<T>(key: &str, parsed: Result<T, crate::domain::InvalidId>) -> Result<T, Fail> {
    parsed.map_err(|e| (key.to_string(), e.to_string()))
}

fn https_url(key: &str, text: &str) -> Result<Url, Fail> {
    let url = Url::parse(text.trim())
        .map_err(|e| (key.to_string(), format!("{text:?} is not a URL: {e}")))?;
    if url.scheme() != "https" {
        return Err((key.to_string(), format!("{text:?} must use https")));
    }
    Ok(url)
}

fn date(key: &str, text: Option<String>) -> Result<Option<OffsetDateTime>, Fail> {
    text.map(|t| {
        OffsetDateTime::parse(t.trim(), &Rfc3339).map_err(|_| {
            (
                key.to_string(),
                format!("{t:?} is not an RFC 3339 date-time such as 2026-01-01T00:00:00Z"),
            )
        })
    })
    .transpose()
}

fn credential(
    at: &str,
    secret: Option<String>,
    certificate: Option<String>,
    base: &Path,
) -> Result<Option<Credential>, Fail> {
    let reference = |key: &str, text: &str| {
        SecretRef::parse(text, base).map_err(|e| (format!("{at}.{key}"), e.to_string()))
    };
    match (secret, certificate) {
        (Some(_), Some(_)) => Err((
            format!("{at}.client_secret"),
            "both client_secret and certificate are set: keep one".into(),
        )),
        (Some(s), None) => Ok(Some(Credential::Secret(reference("client_secret", &s)?))),
        (None, Some(c)) => Ok(Some(Credential::Certificate(reference("certificate", &c)?))),
        (None, None) => Ok(None),
    }
}

fn missing_credential(at: &str) -> Fail {
    (
        format!("{at}.client_secret"),
        "set client_secret (env:NAME, file:PATH or aws-sm:ARN) or certificate (a PEM with the certificate and its key)".into(),
    )
}
