//! Caching in front of any [`Tokens`] (the in-process service, or on AWS the `tokens`
//! function): one token per (credential, resource), refreshed before it expires, one request
//! in flight per pair, failures remembered only briefly.
//!
//! A token is refreshed five minutes before it expires, as MSAL treats it as expired then
//! (reference B3), or at half its life when it lives less than ten minutes. MSAL's earlier
//! refresh of long-lived tokens (`refresh_in`, half-life from two hours) is not copied:
//! azure_identity drops `refresh_in` and would answer an early refresh from its own cache.
//! A failed refresh keeps serving the old token while it is still valid.

use std::{
    collections::HashMap,
    fmt,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::ports::{AccessToken, Clock, CredentialKey, Resource, TokenError, Tokens};

/// How long a failure is answered from memory: enough to spare Entra a stampede of callers,
/// short enough that a fixed secret works at once.
pub const DEFAULT_ERROR_HOLD: Duration = Duration::from_secs(5);

/// MSAL's expiry buffer (`AccessTokenExpirationBuffer`, reference B3).
const EXPIRY_BUFFER: time::Duration = time::Duration::minutes(5);

/// A cached token is still handed out after a failed refresh while it has this much life left.
const LAST_RESORT_MARGIN: time::Duration = time::Duration::minutes(1);

/// A [`Tokens`] that caches another one.
pub struct CachingTokens {
    inner: Arc<dyn Tokens>,
    clock: Arc<dyn Clock>,
    error_hold: Duration,
    slots: Mutex<HashMap<(CredentialKey, Resource), SharedSlot>>,
}

/// One (credential, resource) pair; its lock is the single flight.
type SharedSlot = Arc<tokio::sync::Mutex<Slot>>;

#[derive(Default)]
struct Slot {
    token: Option<Cached>,
    failure: Option<(TokenError, OffsetDateTime)>,
}

struct Cached {
    token: AccessToken,
    refresh_at: OffsetDateTime,
}

impl fmt::Debug for CachingTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachingTokens")
            .field("inner", &self.inner)
            .field("error_hold", &self.error_hold)
            .finish_non_exhaustive()
    }
}

impl CachingTokens {
    /// Caches `inner`'s tokens, telling the time with `clock`.
    pub fn new(inner: Arc<dyn Tokens>, clock: Arc<dyn Clock>) -> Self {
        Self { inner, clock, error_hold: DEFAULT_ERROR_HOLD, slots: Mutex::new(HashMap::new()) }
    }

    /// Remembers failures for `hold` instead of [`DEFAULT_ERROR_HOLD`] (throttling still waits
    /// for Entra's `Retry-After`).
    pub fn with_error_hold(mut self, hold: Duration) -> Self {
        self.error_hold = hold;
        self
    }

    fn slot(&self, key: &CredentialKey, resource: Resource) -> SharedSlot {
        let mut slots = self.slots.lock().expect("token slots lock");
        slots.entry((key.clone(), resource)).or_default().clone()
    }
}

/// When a token fetched at `now` should be replaced.
pub fn refresh_at(now: OffsetDateTime, expires_at: OffsetDateTime) -> OffsetDateTime {
    expires_at - EXPIRY_BUFFER.min((expires_at - now) / 2)
}

#[async_trait]
impl Tokens for CachingTokens {
    async fn token(
        &self,
        key: &CredentialKey,
        resource: Resource,
    ) -> Result<AccessToken, TokenError> {
        let slot = self.slot(key, resource);
        // Holding the slot while fetching is the single flight: the callers queued behind
        // find the fresh token (or the failure) when their turn comes.
        let mut slot = slot.lock().await;
        let now = self.clock.now();
        if let Some(cached) = slot.token.as_ref().filter(|c| now < c.refresh_at) {
            return Ok(cached.token.clone());
        }
        let still_valid = |slot: &Slot| {
            slot.token
                .as_ref()
                .filter(|c| now < c.token.expires_at - LAST_RESORT_MARGIN)
                .map(|c| c.token.clone())
        };
        if let Some((error, until)) = &slot.failure
            && now < *until
        {
            return still_valid(&slot).ok_or_else(|| error.clone());
        }
        match self.inner.token(key, resource).await {
            Ok(token) => {
                let refresh_at = refresh_at(now, token.expires_at);
                slot.token = Some(Cached { token: token.clone(), refresh_at });
                slot.failure = None;
                Ok(token)
            }
            Err(error) => {
                let hold = error.retry_after.unwrap_or(self.error_hold);
                slot.failure = Some((error.clone(), now + hold));
                match still_valid(&slot) {
                    Some(token) => {
                        tracing::warn!(%key, "token refresh failed, the cached token is still valid: {}", error.message);
                        Ok(token)
                    }
                    None => Err(error),
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;
