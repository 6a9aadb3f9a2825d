//! Concurrency limits on Graph requests (DESIGN invariant 6; reference graph.md 9.1):
//! Exchange allows 4 concurrent requests per (app, mailbox), and a profile allows
//! `max_concurrent_connections` across all its mailboxes.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use async_trait::async_trait;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::domain::{ClientId, MailboxAddress, ProfileName};

/// Exchange Online's concurrent requests per app and mailbox (reference graph.md 9.1).
pub const MAILBOX_CONCURRENCY: usize = 4;

/// Whose limits one Graph request counts against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LimitKey {
    /// The app making the request (the profile's, or the mailbox's own).
    pub app: ClientId,
    /// The mailbox the request reads or subscribes to.
    pub mailbox: MailboxAddress,
    /// The profile the mailbox belongs to.
    pub profile: ProfileName,
    /// The profile's `max_concurrent_connections`.
    pub profile_limit: u16,
}

/// Held while a request is in flight; dropping it frees the slots.
pub struct RequestPermit {
    _slots: Box<dyn Send + Sync>,
}

impl RequestPermit {
    /// Wraps whatever frees the slots when dropped.
    pub fn new(slots: impl Send + Sync + 'static) -> Self {
        Self { _slots: Box::new(slots) }
    }
}

impl std::fmt::Debug for RequestPermit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RequestPermit")
    }
}

/// No slot could be had (a distributed limiter that gives up rather than waits).
#[derive(Debug, Clone, thiserror::Error)]
#[error("no request slot for {mailbox}: {message}")]
pub struct LimitError {
    /// The mailbox.
    pub mailbox: MailboxAddress,
    /// Why.
    pub message: String,
    /// When to try again.
    pub retry_after: Duration,
}

/// Hands out request slots. Every Graph request holds one for as long as it is in flight.
#[async_trait]
pub trait RequestLimiter: Send + Sync + std::fmt::Debug {
    /// Waits for a slot of both the (app, mailbox) pair and the profile.
    async fn acquire(&self, key: &LimitKey) -> Result<RequestPermit, LimitError>;
}

/// The in-process twin: one semaphore per (app, mailbox) and one per profile.
#[derive(Debug, Default)]
pub struct LocalLimiter {
    mailboxes: Mutex<HashMap<(ClientId, MailboxAddress), Arc<Semaphore>>>,
    profiles: Mutex<HashMap<ProfileName, Arc<Semaphore>>>,
}

impl LocalLimiter {
    /// A limiter with no slot taken.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl RequestLimiter for LocalLimiter {
    async fn acquire(&self, key: &LimitKey) -> Result<RequestPermit, LimitError> {
        let mailbox = Arc::clone(
            self.mailboxes
                .lock()
                .expect("limiter lock")
                .entry((key.app.clone(), key.mailbox.clone()))
                .or_insert_with(|| Arc::new(Semaphore::new(MAILBOX_CONCURRENCY))),
        );
        let profile = Arc::clone(
            self.profiles
                .lock()
                .expect("limiter lock")
                .entry(key.profile.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(key.profile_limit.max(1).into()))),
        );
        // Always the mailbox first, then the profile: one order for everyone means no
        // deadlock, and a request that waits for its busy mailbox holds no profile slot that
        // another mailbox could use meanwhile.
        let closed = |_| LimitError {
            mailbox: key.mailbox.clone(),
            message: "the limiter is shut down".into(),
            retry_after: Duration::from_secs(1),
        };
        let first: OwnedSemaphorePermit = mailbox.acquire_owned().await.map_err(closed)?;
        let second: OwnedSemaphorePermit = profile.acquire_owned().await.map_err(closed)?;
        Ok(RequestPermit::new((first, second)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    mod contract {
        use std::sync::Arc;

        use crate::ports::{LocalLimiter, RequestLimiter, contract::limiter::LimiterTwin};

        // Two "instances" of one process's limiter: the same semaphores, shared.
        crate::limiter_contract!(async {
            let shared: Arc<dyn RequestLimiter> = Arc::new(LocalLimiter::new());
            LimiterTwin::of(2, || shared.clone())
        });
    }

    fn key(mailbox: &str, limit: u16) -> LimitKey {
        LimitKey {
            app: ClientId::parse("22222222-2222-2222-2222-222222222222").unwrap(),
            mailbox: MailboxAddress::parse(mailbox).unwrap(),
            profile: ProfileName::parse("fabrikam").unwrap(),
            profile_limit: limit,
        }
    }

    async fn try_acquire(limiter: &LocalLimiter, key: &LimitKey) -> Option<RequestPermit> {
        tokio::time::timeout(Duration::from_millis(20), limiter.acquire(key)).await.ok()?.ok()
    }

    #[tokio::test]
    async fn a_mailbox_gets_four_slots_and_a_freed_slot_is_reused() {
        let limiter = LocalLimiter::new();
        let alice = key("alice@fabrikam.example", 100);
        let mut held = Vec::new();
        for _ in 0..MAILBOX_CONCURRENCY {
            held.push(try_acquire(&limiter, &alice).await.expect("a free slot"));
        }
        assert!(try_acquire(&limiter, &alice).await.is_none(), "a fifth request must wait");
        assert!(try_acquire(&limiter, &key("bob@fabrikam.example", 100)).await.is_some());
        held.pop();
        assert!(try_acquire(&limiter, &alice).await.is_some());
    }

    #[tokio::test]
    async fn the_profile_limit_spans_its_mailboxes() {
        let limiter = LocalLimiter::new();
        let a = try_acquire(&limiter, &key("a@fabrikam.example", 2)).await;
        let b = try_acquire(&limiter, &key("b@fabrikam.example", 2)).await;
        assert!(a.is_some() && b.is_some());
        assert!(try_acquire(&limiter, &key("c@fabrikam.example", 2)).await.is_none());
        drop(a);
        assert!(try_acquire(&limiter, &key("c@fabrikam.example", 2)).await.is_some());
    }
}
