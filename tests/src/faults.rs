//! Fault injection and load accounting shared by the simulators.
//!
//! A test arms [`FaultRule`]s on a simulator's [`FaultInjector`]; each incoming request asks
//! the injector whether to misbehave. [`Gauge`] counts in-flight requests per key so a test can
//! assert afterwards that a client never exceeded a limit.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use rand::{Rng, SeedableRng, rngs::StdRng};

/// How a request misbehaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status (the simulator renders its own error body), with an optional
    /// `Retry-After` in seconds.
    Status {
        /// HTTP status code, e.g. 429, 500, 503.
        status: u16,
        /// `Retry-After` seconds.
        retry_after: Option<u64>,
    },
    /// Wait this long, then answer normally.
    Latency(Duration),
    /// Never answer: hold the request until the client gives up.
    Hang,
}

/// Which requests a rule applies to. Empty fields match everything.
#[derive(Debug, Clone, Default)]
pub struct Matcher {
    /// HTTP method, upper case.
    pub method: Option<String>,
    /// The request path must contain this string.
    pub path_contains: Option<String>,
}

/// One armed fault.
#[derive(Debug, Clone)]
pub struct FaultRule {
    /// Requests it applies to.
    pub matcher: Matcher,
    /// What happens.
    pub fault: Fault,
    /// Chance per matching request, 0.0..=1.0.
    pub probability: f64,
    /// How many more times it may fire; `None` = unlimited.
    pub remaining: Option<u32>,
}

impl FaultRule {
    /// A rule firing on the next `times` matching requests.
    pub fn next(times: u32, fault: Fault) -> Self {
        Self { matcher: Matcher::default(), fault, probability: 1.0, remaining: Some(times) }
    }

    /// A rule firing on a share of matching requests, forever.
    pub fn ratio(probability: f64, fault: Fault) -> Self {
        Self { matcher: Matcher::default(), fault, probability, remaining: None }
    }

    /// Restricts the rule to requests whose path contains `fragment`.
    pub fn on_path(mut self, fragment: &str) -> Self {
        self.matcher.path_contains = Some(fragment.to_string());
        self
    }

    /// Restricts the rule to one HTTP method.
    pub fn on_method(mut self, method: &str) -> Self {
        self.matcher.method = Some(method.to_ascii_uppercase());
        self
    }
}

/// The armed rules of one simulator and how often each kind fired.
#[derive(Debug, Clone, Default)]
pub struct FaultInjector {
    inner: Arc<Mutex<Injector>>,
}

#[derive(Debug, Default)]
struct Injector {
    rules: Vec<FaultRule>,
    fired: HashMap<String, u64>,
    /// Set by [`FaultInjector::seed`]: the draws repeat for the same seed and requests.
    rng: Option<StdRng>,
}

impl FaultInjector {
    /// Arms a rule.
    pub fn arm(&self, rule: FaultRule) {
        self.inner.lock().expect("faults lock").rules.push(rule);
    }

    /// Draws from a generator seeded with `seed` from now on, so a run can be replayed (as
    /// far as the order of requests repeats).
    pub fn seed(&self, seed: u64) {
        self.inner.lock().expect("faults lock").rng = Some(StdRng::seed_from_u64(seed));
    }

    /// Disarms every rule.
    pub fn clear(&self) {
        self.inner.lock().expect("faults lock").rules.clear();
    }

    /// The fault to apply to this request, if any (first matching rule that fires).
    pub fn pick(&self, method: &str, path: &str) -> Option<Fault> {
        let mut guard = self.inner.lock().expect("faults lock");
        let inner = &mut *guard;
        let mut thread_rng = rand::rng();
        let rng: &mut dyn rand::RngCore = match inner.rng.as_mut() {
            Some(seeded) => seeded,
            None => &mut thread_rng,
        };
        let mut chosen = None;
        for rule in inner.rules.iter_mut() {
            let m = &rule.matcher;
            let matches = m.method.as_deref().is_none_or(|x| x.eq_ignore_ascii_case(method))
                && m.path_contains.as_deref().is_none_or(|x| path.contains(x));
            if !matches || rule.remaining == Some(0) || !rng.random_bool(rule.probability) {
                continue;
            }
            if let Some(n) = rule.remaining.as_mut() {
                *n -= 1;
            }
            chosen = Some(rule.fault.clone());
            break;
        }
        inner.rules.retain(|r| r.remaining != Some(0));
        if let Some(fault) = &chosen {
            *inner.fired.entry(fault_kind(fault)).or_default() += 1;
        }
        chosen
    }

    /// How many times each kind of fault fired ("429", "503", "latency", "hang").
    pub fn fired(&self) -> HashMap<String, u64> {
        self.inner.lock().expect("faults lock").fired.clone()
    }
}

fn fault_kind(fault: &Fault) -> String {
    match fault {
        Fault::Status { status, .. } => status.to_string(),
        Fault::Latency(_) => "latency".into(),
        Fault::Hang => "hang".into(),
    }
}

/// Counts in-flight requests per key and remembers the highest count seen.
#[derive(Debug, Clone, Default)]
pub struct Gauge {
    inner: Arc<Mutex<HashMap<String, (u32, u32)>>>,
}

/// Decrements its gauge when dropped (when the request finishes).
#[derive(Debug)]
pub struct GaugeGuard {
    gauge: Gauge,
    key: String,
}

impl Gauge {
    /// Counts one more in-flight request for `key`; returns the guard and the new count.
    pub fn enter(&self, key: &str) -> (GaugeGuard, u32) {
        let mut map = self.inner.lock().expect("gauge lock");
        let entry = map.entry(key.to_string()).or_default();
        entry.0 += 1;
        entry.1 = entry.1.max(entry.0);
        let now = entry.0;
        (GaugeGuard { gauge: self.clone(), key: key.to_string() }, now)
    }

    /// The highest concurrent count ever seen for `key`.
    pub fn peak(&self, key: &str) -> u32 {
        self.inner.lock().expect("gauge lock").get(key).map_or(0, |e| e.1)
    }

    /// Every key with its peak.
    pub fn peaks(&self) -> HashMap<String, u32> {
        self.inner.lock().expect("gauge lock").iter().map(|(k, v)| (k.clone(), v.1)).collect()
    }
}

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        if let Some(entry) = self.gauge.inner.lock().expect("gauge lock").get_mut(&self.key) {
            entry.0 -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counted_rule_fires_exactly_its_count_on_matching_requests() {
        let faults = FaultInjector::default();
        let fault = Fault::Status { status: 503, retry_after: Some(2) };
        faults.arm(FaultRule::next(2, fault.clone()).on_path("/messages").on_method("get"));
        assert_eq!(faults.pick("POST", "/users/a/messages"), None);
        assert_eq!(faults.pick("GET", "/users/a/messages"), Some(fault.clone()));
        assert_eq!(faults.pick("GET", "/users/a/events"), None);
        assert_eq!(faults.pick("GET", "/users/a/messages"), Some(fault));
        assert_eq!(faults.pick("GET", "/users/a/messages"), None);
        assert_eq!(faults.fired()["503"], 2);
    }

    #[test]
    fn the_gauge_remembers_the_peak_after_requests_finish() {
        let gauge = Gauge::default();
        let (a, n1) = gauge.enter("app|mbx");
        let (b, n2) = gauge.enter("app|mbx");
        assert_eq!((n1, n2), (1, 2));
        drop(a);
        let (_c, n3) = gauge.enter("app|mbx");
        assert_eq!(n3, 2);
        drop(b);
        assert_eq!(gauge.peak("app|mbx"), 2);
        assert_eq!(gauge.peak("other"), 0);
    }
}
