//! The tracking rule and rich-notification keys of profiles and mailboxes:
//! `track`, `track_sent_items` (profile, overridable per mailbox), `rich_notifications`,
//! `encryption_certificate(_id)` and `previous_encryption_certificate(_id)` (profile).

use std::path::Path;

use super::{Config, Mailbox};
use crate::{
    secret::SecretRef,
    tracking::{TrackFilter, TrackingRule},
};

type Fail = (String, String);

/// Rich notifications of a profile (reference graph.md 5): subscriptions carry the message's
/// senders and recipients encrypted for this certificate, so mail the tracking rule leaves out
/// costs no Graph read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RichConfig {
    /// The certificate subscriptions are created (or rotated) with.
    pub certificate: EncryptionCertificateRef,
    /// The certificate it replaced, still used to decrypt notifications encrypted for it
    /// while Graph switches over (reference 5.1: "keep both, select by id").
    pub previous: Option<EncryptionCertificateRef>,
}

impl RichConfig {
    /// The current certificate, then the previous one.
    pub fn certificates(&self) -> impl Iterator<Item = &EncryptionCertificateRef> {
        std::iter::once(&self.certificate).chain(&self.previous)
    }
}

/// An encryption certificate: a secret reference to a PEM with the certificate and its RSA
/// key, and the id Graph echoes in notifications.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptionCertificateRef {
    /// `encryptionCertificateId`: 1 to 128 characters.
    pub id: String,
    /// The PEM bundle.
    pub pem: SecretRef,
}

impl Config {
    /// A mailbox's tracking rule: its own keys over its profile's.
    pub fn tracking(&self, mailbox: &Mailbox) -> TrackingRule {
        let profile = self.profile_of(mailbox).tracking;
        TrackingRule {
            filter: mailbox.track.unwrap_or(profile.filter),
            sent_items: mailbox.track_sent_items.unwrap_or(profile.sent_items),
        }
    }
}

/// Reads `{at}.track`.
pub(super) fn track_filter(at: &str, text: Option<String>) -> Result<Option<TrackFilter>, Fail> {
    text.map(|t| {
        TrackFilter::parse(&t).ok_or_else(|| {
            let names: Vec<String> =
                TrackFilter::ALL.iter().map(|f| format!("{:?}", f.as_str())).collect();
            (
                format!("{at}.track"),
                format!("{t:?} is not a tracking option: use one of {}", names.join(", ")),
            )
        })
    })
    .transpose()
}

/// The rich-notification keys of a profile, as written.
#[derive(Debug, Default)]
pub(super) struct RawRich {
    pub rich_notifications: Option<bool>,
    pub encryption_certificate: Option<String>,
    pub encryption_certificate_id: Option<String>,
    pub previous_encryption_certificate: Option<String>,
    pub previous_encryption_certificate_id: Option<String>,
}

/// Validates them: `None` when rich notifications are off.
pub(super) fn rich(at: &str, raw: RawRich, base: &Path) -> Result<Option<RichConfig>, Fail> {
    let current =
        certificate(at, "", raw.encryption_certificate, raw.encryption_certificate_id, base)?;
    let previous = certificate(
        at,
        "previous_",
        raw.previous_encryption_certificate,
        raw.previous_encryption_certificate_id,
        base,
    )?;
    let Some(certificate) = current else {
        if previous.is_some() {
            return Err((
                format!("{at}.encryption_certificate"),
                "previous_encryption_certificate is set: set encryption_certificate (the one \
                 that replaced it) too"
                    .into(),
            ));
        }
        if raw.rich_notifications == Some(true) {
            return Err((
                format!("{at}.encryption_certificate"),
                "rich_notifications is on: set encryption_certificate (a reference to a PEM \
                 with the certificate and its RSA key, e.g. \"file:enc.pem\") and \
                 encryption_certificate_id"
                    .into(),
            ));
        }
        return Ok(None);
    };
    if previous.as_ref().is_some_and(|p| p.id == certificate.id) {
        return Err((
            format!("{at}.previous_encryption_certificate_id"),
            "is the id of encryption_certificate too: give the new certificate a new id, so \
             notifications name the one they were encrypted for"
                .into(),
        ));
    }
    // Certificates may stay configured while rich notifications are off: a notification of an
    // older rich subscription is then a trigger like a basic one.
    Ok(raw.rich_notifications.unwrap_or(false).then_some(RichConfig { certificate, previous }))
}

fn certificate(
    at: &str,
    prefix: &str,
    pem: Option<String>,
    id: Option<String>,
    base: &Path,
) -> Result<Option<EncryptionCertificateRef>, Fail> {
    let key = |name: &str| format!("{at}.{prefix}{name}");
    match (pem, id) {
        (None, None) => Ok(None),
        (Some(_), None) => Err((
            key("encryption_certificate_id"),
            "set an id for the certificate (1 to 128 characters, e.g. \"enc-2026-12\"): Graph \
             echoes it in every notification"
                .into(),
        )),
        (None, Some(_)) => Err((
            key("encryption_certificate"),
            "an id is set: set the certificate too (a reference to a PEM with the certificate \
             and its RSA key)"
                .into(),
        )),
        (Some(pem), Some(id)) => {
            let id = id.trim().to_string();
            if id.is_empty() || id.chars().count() > 128 {
                return Err((
                    key("encryption_certificate_id"),
                    format!("{id:?}: use 1 to 128 characters (Graph's limit)"),
                ));
            }
            let pem = SecretRef::parse(&pem, base)
                .map_err(|e| (key("encryption_certificate"), e.to_string()))?;
            Ok(Some(EncryptionCertificateRef { id, pem }))
        }
    }
}

#[cfg(test)]
#[path = "notifications_tests.rs"]
mod tests;
