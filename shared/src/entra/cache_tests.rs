use super::*;
use crate::{domain::ProfileName, secret::Secret};
use std::sync::atomic::{AtomicUsize, Ordering};
use time::macros::datetime;

#[derive(Debug)]
struct TestClock(Mutex<OffsetDateTime>);

impl TestClock {
    fn advance(&self, by: time::Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap()
    }
}

/// Issues `tok-N` tokens living `lifetime`, or fails while `failing` is set.
#[derive(Debug)]
struct Counting {
    clock: Arc<TestClock>,
    lifetime: time::Duration,
    calls: AtomicUsize,
    failing: Mutex<Option<TokenError>>,
}

#[async_trait]
impl Tokens for Counting {
    async fn token(&self, key: &CredentialKey, _: Resource) -> Result<AccessToken, TokenError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
        if let Some(error) = self.failing.lock().unwrap().clone() {
            return Err(TokenError { key: key.clone(), ..error });
        }
        let expires_at = self.clock.now() + self.lifetime;
        Ok(AccessToken { token: Secret::new(format!("tok-{n}")), expires_at })
    }
}

fn setup(lifetime: time::Duration) -> (Arc<TestClock>, Arc<Counting>, CachingTokens) {
    let clock = Arc::new(TestClock(Mutex::new(datetime!(2026-05-01 12:00 UTC))));
    let inner = Arc::new(Counting {
        clock: clock.clone(),
        lifetime,
        calls: AtomicUsize::new(0),
        failing: Mutex::new(None),
    });
    let cache = CachingTokens::new(inner.clone(), clock.clone());
    (clock, inner, cache)
}

fn key() -> CredentialKey {
    CredentialKey::Profile(ProfileName::parse("fabrikam").unwrap())
}

async fn token(cache: &CachingTokens) -> Result<String, TokenError> {
    cache.token(&key(), Resource::Graph).await.map(|t| t.token.expose().to_string())
}

fn refused() -> TokenError {
    TokenError::permanent(&key(), Some("AADSTS7000215".into()), "wrong secret".into())
}

#[test]
fn refresh_is_five_minutes_early_or_at_half_life_for_short_tokens() {
    let now = datetime!(2026-05-01 12:00 UTC);
    let m = time::Duration::minutes;
    assert_eq!(refresh_at(now, now + m(75)), now + m(70));
    assert_eq!(refresh_at(now, now + m(6)), now + m(3));
    assert_eq!(refresh_at(now, now + time::Duration::hours(24)), now + m(24 * 60 - 5));
}

#[tokio::test]
async fn a_token_is_served_from_the_cache_until_five_minutes_before_expiry() {
    let (clock, inner, cache) = setup(time::Duration::minutes(60));
    assert_eq!(token(&cache).await.unwrap(), "tok-1");
    clock.advance(time::Duration::minutes(54));
    assert_eq!(token(&cache).await.unwrap(), "tok-1");
    assert_eq!(cache.token(&key(), Resource::Dataverse).await.unwrap().token.expose(), "tok-2");
    clock.advance(time::Duration::minutes(1));
    assert_eq!(token(&cache).await.unwrap(), "tok-3", "refreshed at expires_at - 5 min");
    assert_eq!(inner.calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn concurrent_callers_share_one_request() {
    let (_, inner, cache) = setup(time::Duration::minutes(60));
    let cache = Arc::new(cache);
    let calls = (0..20).map(|_| {
        let cache = cache.clone();
        tokio::spawn(async move { token(&cache).await })
    });
    for call in futures::future::join_all(calls).await {
        assert_eq!(call.unwrap().unwrap(), "tok-1");
    }
    assert_eq!(inner.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_failure_is_shared_briefly_then_asked_again() {
    let (clock, inner, cache) = setup(time::Duration::minutes(60));
    *inner.failing.lock().unwrap() = Some(refused());
    let cache = Arc::new(cache);
    let calls = (0..5).map(|_| {
        let cache = cache.clone();
        tokio::spawn(async move { token(&cache).await })
    });
    for call in futures::future::join_all(calls).await {
        assert_eq!(call.unwrap().unwrap_err().code.as_deref(), Some("AADSTS7000215"));
    }
    assert_eq!(inner.calls.load(Ordering::SeqCst), 1, "concurrent callers share the failure");

    *inner.failing.lock().unwrap() = None;
    assert!(token(&cache).await.is_err(), "still within the hold");
    clock.advance(time::Duration::seconds(5));
    assert_eq!(token(&cache).await.unwrap(), "tok-2", "a fixed secret works after the hold");
}

#[tokio::test]
async fn throttling_is_held_for_retry_after() {
    let (clock, inner, cache) = setup(time::Duration::minutes(60));
    let throttled = TokenError {
        retry_after: Some(Duration::from_secs(60)),
        ..TokenError::transient(&key(), None, "HTTP 429".into())
    };
    *inner.failing.lock().unwrap() = Some(throttled);
    assert!(token(&cache).await.unwrap_err().retryable);
    *inner.failing.lock().unwrap() = None;
    clock.advance(time::Duration::seconds(59));
    assert!(token(&cache).await.is_err());
    clock.advance(time::Duration::seconds(1));
    assert!(token(&cache).await.is_ok());
    assert_eq!(inner.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_failed_refresh_keeps_serving_the_still_valid_token() {
    let (clock, inner, cache) = setup(time::Duration::minutes(60));
    assert_eq!(token(&cache).await.unwrap(), "tok-1");
    clock.advance(time::Duration::minutes(56));
    *inner.failing.lock().unwrap() = Some(refused());
    assert_eq!(token(&cache).await.unwrap(), "tok-1");
    clock.advance(time::Duration::minutes(3));
    assert_eq!(token(&cache).await.unwrap_err().code.as_deref(), Some("AADSTS7000215"));
}
