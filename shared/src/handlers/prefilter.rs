//! What `notify` decides about a verified notification before it enqueues anything: the
//! tracking rule as far as the folder and, for rich notifications, the message's own
//! properties can decide it. Untracked mail then enqueues nothing, so it costs no Graph read.
//!
//! Rich notifications are trusted only once every validation token of the POST verifies
//! (signature against the identity platform's keys, audience, issuer, publisher, expiry) and
//! the item's `encryptedContent` passes its HMAC; anything else is refused and ignored, and
//! Graph still gets 202 (reference graph.md 5.4).
//!
//! Where the rule needs Dataverse ("crm-records", "email-enabled", "responses") `notify` does
//! not ask it (it must answer within Graph's 3 s and never calls Dataverse): it queues a
//! `screen` job carrying the addresses and the In-Reply-To, which `write`'s side decides with
//! its cached lookups and turns into a folder pass only when the message is tracked. When the
//! content cannot tell (a property Graph left out), the folder's pass is requested as for a
//! basic notification: the pre-filter may only ever save a read, never lose a message.

use std::sync::Arc;

use crate::{
    config::{Config, Mailbox},
    domain::Folder,
    entra::jwks::IssuerKeys,
    graph::{
        model::{ChangeNotification, Message},
        rich::{EncryptedContent, EncryptionKeys, RichError, UnverifiedToken, VerifiedToken},
    },
    mapping::message::{Unmapped, to_email},
    model::EmailRecord,
    ports::{Clock, SubscriptionRecord},
    tracking::{Correspondence, FirstLook, Screening, TrackIf},
};

/// What `notify` does with one verified notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// Request the folder's pass, as for any notification.
    Pass,
    /// Not tracked: nothing is enqueued (the reason is for logs).
    Untracked(&'static str),
    /// Decide with Dataverse first (a `screen` job).
    Screen(Box<Screening>),
    /// Not trustworthy: ignored, answered 202.
    Refused(RichError),
    /// Cannot be judged now (the identity platform's keys or a certificate secret are out of
    /// reach): answer 5xx so Graph delivers it again.
    Unavailable(String),
}

/// The validation tokens of one POST, checked once.
#[derive(Debug, Clone)]
pub enum TokenCheck {
    /// The POST has none (basic notifications).
    Absent,
    /// Every one verified; what they vouch for.
    Vouched(Vec<VerifiedToken>),
    /// One was refused: the whole POST is suspicious.
    Refused(RichError),
    /// The keys could not be fetched.
    Unavailable(String),
}

/// The pre-filter's dependencies; one per process.
#[derive(Debug)]
pub struct Prefilter {
    config: Arc<Config>,
    keys: Arc<EncryptionKeys>,
    issuer: Arc<IssuerKeys>,
    clock: Arc<dyn Clock>,
}

impl Prefilter {
    /// A pre-filter for `config`'s mailboxes.
    pub fn new(
        config: Arc<Config>,
        keys: Arc<EncryptionKeys>,
        issuer: Arc<IssuerKeys>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { config, keys, issuer, clock }
    }

    /// Checks every validation token of a POST (reference 5.4: any failure is suspicious).
    pub async fn check_tokens(&self, tokens: &[String]) -> TokenCheck {
        if tokens.is_empty() {
            return TokenCheck::Absent;
        }
        let now = self.clock.now();
        let mut vouched = Vec::with_capacity(tokens.len());
        for token in tokens {
            let token = match UnverifiedToken::parse(token) {
                Ok(token) => token,
                Err(refusal) => return TokenCheck::Refused(refusal),
            };
            let key = match self.issuer.key(token.kid()).await {
                Ok(Some(key)) => key,
                Ok(None) => {
                    return TokenCheck::Refused(RichError::UnknownSigningKey(token.kid().into()));
                }
                Err(e) => return TokenCheck::Unavailable(e.to_string()),
            };
            match token.verify(&key, now) {
                Ok(verified) => vouched.push(verified),
                Err(refusal) => return TokenCheck::Refused(refusal),
            }
        }
        TokenCheck::Vouched(vouched)
    }

    /// Judges a notification whose clientState verified against `record`.
    pub async fn judge(
        &self,
        record: &SubscriptionRecord,
        notification: &ChangeNotification,
        tokens: &TokenCheck,
    ) -> Judgement {
        let Some(mailbox) = self.config.mailbox(&record.mailbox) else {
            return Judgement::Pass;
        };
        let first_look = self.config.tracking(mailbox).first_look(record.folder);
        let message = match &notification.encrypted_content {
            None => None,
            Some(content) => match self.decrypt(mailbox, notification, content, tokens).await {
                Ok(message) => message,
                Err(judgement) => return judgement,
            },
        };
        let Some(message) = message else {
            return match first_look {
                FirstLook::Untracked(why) => Judgement::Untracked(why),
                _ => Judgement::Pass,
            };
        };
        judge_message(self.config.sync_from(mailbox), first_look, record.folder, &message)
    }

    /// The resource data of a rich item, once its token and HMAC check out; `None` when it
    /// cannot be read for a reason of exsync's own (no keys configured, unreadable keys).
    async fn decrypt(
        &self,
        mailbox: &Mailbox,
        notification: &ChangeNotification,
        content: &serde_json::Value,
        tokens: &TokenCheck,
    ) -> Result<Option<Message>, Judgement> {
        let profile = self.config.profile_of(mailbox);
        let app = match &mailbox.credential {
            Some(own) => own.client_id.as_str(),
            None => profile.client_id.as_str(),
        };
        let tenant = notification.tenant_id.as_deref().unwrap_or_default();
        // A profile's tenant may be configured by domain; the token's issuer names its GUID.
        let configured = profile.tenant_id.as_str();
        let tenant_matches = !is_guid(configured) || configured.eq_ignore_ascii_case(tenant);
        match tokens {
            TokenCheck::Vouched(v)
                if tenant_matches && v.iter().any(|t| t.vouches_for(app, tenant)) => {}
            TokenCheck::Refused(refusal) => return Err(Judgement::Refused(refusal.clone())),
            TokenCheck::Unavailable(why) => return Err(Judgement::Unavailable(why.clone())),
            _ => {
                let unvouched = RichError::Unvouched { app: app.into(), tenant: tenant.into() };
                return Err(Judgement::Refused(unvouched));
            }
        }
        if profile.rich.is_none() {
            // Rich notifications were switched off: a trigger like a basic one, until upkeep
            // recreates the subscription.
            return Ok(None);
        }
        let content = EncryptedContent::from_json(content).map_err(Judgement::Refused)?;
        let certificate = match self.keys.for_content(profile, &content).await {
            Ok(Some(certificate)) => certificate,
            Ok(None) => {
                let id = content.encryption_certificate_id.clone();
                return Err(Judgement::Refused(RichError::UnknownCertificate { id }));
            }
            Err(e) if e.is_retryable() => return Err(Judgement::Unavailable(e.to_string())),
            Err(e) => {
                tracing::error!(error = %e, "rich notification not decrypted: the encryption certificate is unusable; reading the folder instead");
                return Ok(None);
            }
        };
        let plain = content.decrypt(&certificate).map_err(Judgement::Refused)?;
        let malformed = |e: serde_json::Error| {
            let problem = format!("the resource data is not a message: {e}");
            Judgement::Refused(RichError::Malformed(problem))
        };
        let mut data: serde_json::Value = serde_json::from_slice(&plain).map_err(malformed)?;
        // The item id is in `resourceData`; the selected properties need not repeat it.
        if let Some(object) = data.as_object_mut()
            && !object.contains_key("id")
        {
            let id = notification.resource_data.as_ref().and_then(|d| d.id.clone());
            object.insert("id".into(), id.unwrap_or_else(|| "unknown".into()).into());
        }
        serde_json::from_value(data).map(Some).map_err(malformed)
    }
}

/// The rule applied to a decrypted message of `folder`.
fn judge_message(
    sync_from: Option<time::OffsetDateTime>,
    first_look: FirstLook,
    folder: Folder,
    message: &Message,
) -> Judgement {
    let email = match to_email(message, folder) {
        Ok(email) => email,
        Err(Unmapped::Draft { .. }) => return Judgement::Untracked("a draft"),
        // Without receivedDateTime (or unreadable), the pass decides.
        Err(_) => return Judgement::Pass,
    };
    if sync_from.is_some_and(|from| email.received_at < from) {
        return Judgement::Untracked("received before the mailbox's start date");
    }
    let track_if = match first_look {
        FirstLook::Tracked => return Judgement::Pass,
        FirstLook::Untracked(why) => return Judgement::Untracked(why),
        FirstLook::If(condition) => condition,
    };
    // Graph may leave out a selected property; then the content cannot tell.
    let told = match (track_if, folder) {
        (TrackIf::Responds, _) => message.internet_message_headers.is_some(),
        (_, Folder::Inbox) => message.from.is_some(),
        (_, Folder::SentItems) => {
            message.to_recipients.is_some() || message.cc_recipients.is_some()
        }
    };
    if !told {
        return Judgement::Pass;
    }
    screening(track_if, &email)
}

/// A `screen` job carries at most this many addresses; a message to more is read instead
/// (a queue message has a size limit, and such a message is rare).
const MAX_SCREENED_ADDRESSES: usize = 200;

/// The screening of `email`, carrying only what its condition looks at.
fn screening(track_if: TrackIf, email: &EmailRecord) -> Judgement {
    let facts = Correspondence::of(email);
    let counterparts = facts.counterparts();
    let (sender, recipients) = match (track_if, email.folder) {
        (TrackIf::Responds, _) if email.in_reply_to.is_none() => {
            return Judgement::Untracked("not a reply");
        }
        (TrackIf::Responds, _) => (None, Vec::new()),
        _ if counterparts.is_empty() => {
            return Judgement::Untracked("no sender or recipient to resolve");
        }
        _ if counterparts.len() > MAX_SCREENED_ADDRESSES => return Judgement::Pass,
        (_, Folder::Inbox) => (facts.sender.map(str::to_string), Vec::new()),
        (_, Folder::SentItems) => (None, counterparts.iter().map(|a| a.to_string()).collect()),
    };
    let in_reply_to = (track_if == TrackIf::Responds).then(|| email.in_reply_to.clone()).flatten();
    Judgement::Screen(Box::new(Screening { track_if, sender, recipients, in_reply_to }))
}

fn is_guid(text: &str) -> bool {
    uuid::Uuid::parse_str(text).is_ok()
}

#[cfg(test)]
#[path = "prefilter_tests.rs"]
mod tests;
