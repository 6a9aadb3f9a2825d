//! The request limiter contract ([`RequestLimiter`]): 4 requests in flight per (app, mailbox),
//! the profile's limit across its mailboxes, held across every instance that shares the limits
//! (threads of one process for the local twin, Lambda instances for the DynamoDB one), and a
//! freed slot serves the next request.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use futures::future::join_all;

use super::{Guard, PATIENCE, mailbox};
use crate::{
    domain::{ClientId, ProfileName},
    ports::{LimitKey, RequestLimiter, RequestPermit, limiter::MAILBOX_CONCURRENCY},
};

/// Handles onto one set of limits: each is an instance (a process, a Lambda instance) of the
/// same limiter.
#[derive(Debug, Clone)]
pub struct LimiterTwin {
    /// At least two instances sharing the limits.
    pub instances: Vec<Arc<dyn RequestLimiter>>,
    /// Kept alive with the twin.
    pub guard: Option<Guard>,
}

impl LimiterTwin {
    /// `count` instances made by `make` (each call one more instance of the same limits).
    pub fn of(count: usize, mut make: impl FnMut() -> Arc<dyn RequestLimiter>) -> Self {
        Self { instances: (0..count).map(|_| make()).collect(), guard: None }
    }

    /// The same twin, keeping `guard` alive as long as it lives.
    pub fn holding(self, guard: impl std::any::Any + Send + Sync) -> Self {
        Self { guard: Some(Guard(Arc::new(guard))), ..self }
    }

    fn instance(&self, n: usize) -> &Arc<dyn RequestLimiter> {
        &self.instances[n % self.instances.len()]
    }
}

/// How long a request that should wait is watched before it counts as waiting.
const WAITS: Duration = Duration::from_millis(400);

const APP: &str = "22222222-2222-2222-2222-222222222222";
const OTHER_APP: &str = "33333333-3333-3333-3333-333333333333";

fn key(app: &str, local: &str, profile: &str, limit: u16) -> LimitKey {
    LimitKey {
        app: ClientId::parse(app).expect("a client id"),
        mailbox: mailbox(local),
        profile: ProfileName::parse(profile).expect("a profile name"),
        profile_limit: limit,
    }
}

/// A unique profile name per test, so tests over one shared table keep apart.
fn profile(test: &str) -> String {
    format!("{test}-{}", uuid::Uuid::new_v4().simple())
}

async fn within(
    limiter: &Arc<dyn RequestLimiter>,
    key: &LimitKey,
    wait: Duration,
) -> Option<RequestPermit> {
    tokio::time::timeout(wait, limiter.acquire(key)).await.ok()?.ok()
}

/// Four requests of a mailbox run at once, spread over instances; a fifth waits until one
/// finishes, then gets its slot.
pub async fn a_mailbox_has_four_slots_across_instances_and_a_freed_one_serves_the_next(
    twin: LimiterTwin,
) {
    let p = profile("four");
    let alice = key(APP, &format!("alice-{p}"), &p, 100);
    let mut held = Vec::new();
    for n in 0..MAILBOX_CONCURRENCY {
        held.push(within(twin.instance(n), &alice, PATIENCE).await.expect("a free slot"));
    }
    for n in 0..2 {
        assert!(
            within(twin.instance(n), &alice, WAITS).await.is_none(),
            "a fifth request on instance {n} must wait"
        );
    }
    let bob = key(APP, &format!("bob-{p}"), &p, 100);
    assert!(within(twin.instance(0), &bob, PATIENCE).await.is_some(), "other mailboxes go on");
    held.pop();
    assert!(within(twin.instance(1), &alice, PATIENCE).await.is_some(), "the freed slot serves");
}

/// The limit is per app: another app's requests on the same mailbox have slots of their own.
pub async fn each_app_has_its_own_slots_on_a_mailbox(twin: LimiterTwin) {
    let p = profile("apps");
    let local = format!("shared-{p}");
    let mine = key(APP, &local, &p, 100);
    let mut held = Vec::new();
    for n in 0..MAILBOX_CONCURRENCY {
        held.push(within(twin.instance(n), &mine, PATIENCE).await.expect("a free slot"));
    }
    let theirs = key(OTHER_APP, &local, &format!("{p}-other"), 100);
    assert!(within(twin.instance(1), &theirs, PATIENCE).await.is_some());
}

/// The profile's limit spans its mailboxes and the instances.
pub async fn the_profile_limit_spans_its_mailboxes_and_instances(twin: LimiterTwin) {
    let p = profile("profile");
    let a = within(twin.instance(0), &key(APP, &format!("a-{p}"), &p, 2), PATIENCE).await;
    let b = within(twin.instance(1), &key(APP, &format!("b-{p}"), &p, 2), PATIENCE).await;
    assert!(a.is_some() && b.is_some());
    let c = key(APP, &format!("c-{p}"), &p, 2);
    for n in 0..2 {
        assert!(within(twin.instance(n), &c, WAITS).await.is_none(), "instance {n} must wait");
    }
    drop(a);
    assert!(within(twin.instance(0), &c, PATIENCE).await.is_some());
}

/// Many requests racing over instances and mailboxes never exceed either limit, and all of
/// them are served.
pub async fn racing_requests_never_exceed_either_limit_and_all_are_served(twin: LimiterTwin) {
    let p = profile("race");
    let limit = 6u16;
    let in_flight: Arc<Mutex<HashMap<String, (u32, u32)>>> = Arc::default();
    let enter = |counts: &Mutex<HashMap<String, (u32, u32)>>, name: &str, delta: i32| {
        let mut counts = counts.lock().expect("counts");
        let entry = counts.entry(name.to_string()).or_default();
        entry.0 = entry.0.saturating_add_signed(delta);
        entry.1 = entry.1.max(entry.0);
    };
    let requests = (0..36).map(|i| {
        let limiter = twin.instance(i).clone();
        let key = key(APP, &format!("m{}-{p}", i % 3), &p, limit);
        let in_flight = in_flight.clone();
        tokio::spawn(async move {
            let permit = tokio::time::timeout(PATIENCE * 3, limiter.acquire(&key))
                .await
                .map_err(|_| "timed out".to_string())?
                .map_err(|e| e.to_string())?;
            enter(&in_flight, key.mailbox.as_str(), 1);
            enter(&in_flight, "profile", 1);
            tokio::time::sleep(Duration::from_millis(30)).await;
            enter(&in_flight, key.mailbox.as_str(), -1);
            enter(&in_flight, "profile", -1);
            drop(permit);
            Ok::<(), String>(())
        })
    });
    let refused: Vec<String> =
        join_all(requests).await.into_iter().filter_map(|r| r.expect("no panic").err()).collect();
    assert!(refused.is_empty(), "every request is served in time: {refused:?}");
    let peaks = in_flight.lock().expect("counts").clone();
    for (name, (now, peak)) in peaks {
        assert_eq!(now, 0, "{name}");
        let allowed = if name == "profile" { u32::from(limit) } else { MAILBOX_CONCURRENCY as u32 };
        assert!(peak <= allowed, "{name}: {peak} in flight, {allowed} allowed");
        assert!(peak >= 1, "{name}");
    }
}

/// Expands to one `#[tokio::test]` per limiter contract; `$twin` is an async expression giving
/// a fresh [`LimiterTwin`].
#[macro_export]
macro_rules! limiter_contract {
    ($twin:expr) => {
        $crate::limiter_contract!(@tests $twin;
            a_mailbox_has_four_slots_across_instances_and_a_freed_one_serves_the_next,
            each_app_has_its_own_slots_on_a_mailbox,
            the_profile_limit_spans_its_mailboxes_and_instances,
            racing_requests_never_exceed_either_limit_and_all_are_served,
        );
    };
    (@tests $twin:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $crate::ports::contract::limiter::$name($twin.await).await;
            }
        )*
    };
}
