//! The identity platform's signing keys (its JWKS), which sign the validation tokens of rich
//! notifications: fetched from `{authority_host}/common/discovery/v2.0/keys` (reference
//! graph.md 5.4), kept briefly (keys rotate about daily), and fetched again when a token names
//! a key not seen yet, at most once per [`REFETCH_AFTER`] so that forged key ids cannot make
//! exsync hammer Entra.

use std::{collections::HashMap, sync::Arc, time::Duration};

use async_trait::async_trait;
use serde::Deserialize;
use time::OffsetDateTime;
use tokio::sync::Mutex;
use url::Url;

use crate::ports::Clock;

/// How long fetched keys are trusted before they are fetched again.
pub const KEYS_TTL: Duration = Duration::from_secs(60 * 60);
/// Fetches for an unknown key id are at least this far apart.
pub const REFETCH_AFTER: Duration = Duration::from_secs(10);
/// A fetch must fit in Graph's 3 s for the whole notification answer.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(2);
/// When Entra cannot be reached, keys this old still verify.
pub const MAX_STALE: Duration = Duration::from_secs(24 * 60 * 60);

/// One public key of the JWKS.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Jwk {
    /// `RSA`.
    pub kty: String,
    /// Key id, matched against a token header's `kid`.
    #[serde(default)]
    pub kid: String,
    /// Modulus, base64url.
    #[serde(default)]
    pub n: String,
    /// Exponent, base64url.
    #[serde(default)]
    pub e: String,
}

#[derive(Debug, Deserialize)]
struct JwkSet {
    keys: Vec<Jwk>,
}

/// The keys could not be fetched: a notification cannot be judged now (answer 5xx so Graph
/// delivers it again).
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot fetch the identity platform's signing keys from {url}: {reason}")]
pub struct JwksError {
    /// Where from.
    pub url: String,
    /// Why.
    pub reason: String,
}

/// Where keys come from (the HTTP fetch, or a test's).
#[async_trait]
pub trait KeySource: Send + Sync + std::fmt::Debug {
    /// Every published key.
    async fn fetch(&self) -> Result<Vec<Jwk>, JwksError>;
}

/// Entra's JWKS endpoint over HTTPS.
#[derive(Debug, Clone)]
pub struct HttpKeySource {
    http: reqwest::Client,
    url: Url,
}

impl HttpKeySource {
    /// The keys of `authority_host` (`[cloud] authority_host`).
    pub fn new(http: reqwest::Client, authority_host: &Url) -> Self {
        let root = authority_host.as_str().trim_end_matches('/');
        let url = Url::parse(&format!("{root}/common/discovery/v2.0/keys"))
            .expect("an authority host URL with a path is a URL");
        Self { http, url }
    }
}

#[async_trait]
impl KeySource for HttpKeySource {
    async fn fetch(&self) -> Result<Vec<Jwk>, JwksError> {
        let fail = |reason: String| JwksError { url: self.url.to_string(), reason };
        let answer = self
            .http
            .get(self.url.clone())
            .timeout(FETCH_TIMEOUT)
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?;
        if !answer.status().is_success() {
            return Err(fail(format!("HTTP {}", answer.status())));
        }
        let set: JwkSet = answer.json().await.map_err(|e| fail(format!("not a JWKS: {e}")))?;
        Ok(set.keys)
    }
}

#[derive(Debug, Default)]
struct Cached {
    keys: HashMap<String, Arc<Jwk>>,
    fetched_at: Option<OffsetDateTime>,
    tried_at: Option<OffsetDateTime>,
}

/// The keys, cached; one fetch at a time.
#[derive(Debug)]
pub struct IssuerKeys {
    source: Arc<dyn KeySource>,
    clock: Arc<dyn Clock>,
    cached: Mutex<Cached>,
}

impl IssuerKeys {
    /// Keys from `source`, cached by `clock`.
    pub fn new(source: Arc<dyn KeySource>, clock: Arc<dyn Clock>) -> Self {
        Self { source, clock, cached: Mutex::new(Cached::default()) }
    }

    /// The key `kid`, or `None` when the identity platform does not publish it (a forged or
    /// long-retired key id).
    pub async fn key(&self, kid: &str) -> Result<Option<Arc<Jwk>>, JwksError> {
        let now = self.clock.now();
        let mut cached = self.cached.lock().await;
        let age = |at: Option<OffsetDateTime>| at.map(|at| (now - at).unsigned_abs());
        let fresh = age(cached.fetched_at).is_some_and(|a| a < KEYS_TTL);
        let known = cached.keys.get(kid).cloned();
        let may_try = age(cached.tried_at).is_none_or(|a| a >= REFETCH_AFTER);
        if (fresh && known.is_some()) || !may_try {
            return Ok(known);
        }
        cached.tried_at = Some(now);
        match self.source.fetch().await {
            Ok(keys) => {
                cached.keys = keys.into_iter().map(|k| (k.kid.clone(), Arc::new(k))).collect();
                cached.fetched_at = Some(now);
                Ok(cached.keys.get(kid).cloned())
            }
            // A brief outage of Entra does not stop notifications signed with known keys.
            Err(_) if known.is_some() && age(cached.fetched_at).is_some_and(|a| a < MAX_STALE) => {
                Ok(known)
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[derive(Debug, Default)]
    struct Counting {
        kids: std::sync::Mutex<Vec<&'static str>>,
        fetches: AtomicUsize,
        down: std::sync::atomic::AtomicBool,
    }

    #[async_trait]
    impl KeySource for Counting {
        async fn fetch(&self) -> Result<Vec<Jwk>, JwksError> {
            self.fetches.fetch_add(1, Ordering::SeqCst);
            if self.down.load(Ordering::SeqCst) {
                return Err(JwksError { url: "test".into(), reason: "down".into() });
            }
            let kids = self.kids.lock().unwrap().clone();
            Ok(kids
                .into_iter()
                .map(|kid| Jwk {
                    kty: "RSA".into(),
                    kid: kid.into(),
                    n: "AQAB".into(),
                    e: "AQAB".into(),
                })
                .collect())
        }
    }

    #[derive(Debug)]
    struct Manual(std::sync::Mutex<OffsetDateTime>);

    impl Clock for Manual {
        fn now(&self) -> OffsetDateTime {
            *self.0.lock().unwrap()
        }
    }

    fn setup() -> (Arc<Counting>, Arc<Manual>, IssuerKeys) {
        let source = Arc::new(Counting::default());
        source.kids.lock().unwrap().push("k1");
        let clock = Arc::new(Manual(std::sync::Mutex::new(OffsetDateTime::UNIX_EPOCH)));
        let keys = IssuerKeys::new(source.clone(), clock.clone());
        (source, clock, keys)
    }

    fn advance(clock: &Manual, by: Duration) {
        let mut now = clock.0.lock().unwrap();
        *now += by;
    }

    #[tokio::test]
    async fn a_known_key_is_served_from_the_cache_until_it_is_stale() {
        let (source, clock, keys) = setup();
        assert!(keys.key("k1").await.unwrap().is_some());
        assert!(keys.key("k1").await.unwrap().is_some());
        assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
        advance(&clock, KEYS_TTL);
        assert!(keys.key("k1").await.unwrap().is_some());
        assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn an_unknown_kid_is_fetched_again_but_not_more_often_than_the_limit() {
        let (source, clock, keys) = setup();
        assert!(keys.key("k1").await.unwrap().is_some());
        source.kids.lock().unwrap().push("k2");
        // Just fetched: a forged kid right now costs no fetch.
        assert!(keys.key("forged").await.unwrap().is_none());
        assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
        advance(&clock, REFETCH_AFTER);
        assert!(keys.key("k2").await.unwrap().is_some(), "a rotated-in key is found");
        assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
        assert!(keys.key("forged").await.unwrap().is_none());
        assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn an_outage_of_entra_keeps_known_keys_and_fails_unknown_ones() {
        let (source, clock, keys) = setup();
        assert!(keys.key("k1").await.unwrap().is_some());
        source.down.store(true, Ordering::SeqCst);
        advance(&clock, KEYS_TTL);
        assert!(keys.key("k1").await.unwrap().is_some());
        advance(&clock, REFETCH_AFTER);
        assert!(keys.key("k9").await.is_err());
    }
}
