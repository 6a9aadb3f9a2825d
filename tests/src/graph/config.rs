//! How a Graph simulator is wired (keys, clock, webhook client) and the limits it enforces.

use std::{sync::Arc, time::Duration};

use crate::{auth::KeyRing, clock::SimClock, jwt::SigningKey};

/// Graph's first-party application id, accepted as a token audience besides the identifier
/// URI (reference 10.3).
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// Everything a [`super::GraphSim`] needs.
#[derive(Debug, Clone)]
pub struct GraphConfig {
    /// The identifier URI tokens must carry in `aud`, e.g. `https://graph.microsoft.com`.
    pub identifier_uri: String,
    /// The keys the token issuer (the Entra simulator) publishes.
    pub keys: KeyRing,
    /// Simulated time.
    pub clock: SimClock,
    /// The client that calls notification endpoints (trusting the test CA).
    pub webhook_client: reqwest::Client,
    /// The key that signs rich notifications' `validationTokens` (Entra's signing key).
    pub validation_signer: Arc<SigningKey>,
    /// Limits and timings.
    pub limits: GraphLimits,
}

/// Limits and timings, defaulting to the values of the reference.
#[derive(Debug, Clone)]
pub struct GraphLimits {
    /// Concurrent requests per (app, mailbox) (reference 9.1: 4).
    pub concurrent_requests: u32,
    /// Requests per (app, mailbox) per `rate_window` (reference 9.1: 10,000 per 10 minutes).
    pub requests_per_window: u32,
    /// The window of `requests_per_window`, in simulated time.
    pub rate_window: Duration,
    /// Page size of list and delta responses without `$top` / `odata.maxpagesize`.
    pub default_page_size: usize,
    /// Largest page size served.
    pub max_page_size: usize,
    /// Most messages an initial delta round with `$filter` returns (reference 6.1: 5,000).
    pub delta_filter_cap: usize,
    /// Delta state tokens kept per mailbox before the oldest are evicted (reference 6.2).
    pub delta_token_capacity: usize,
    /// Longest subscription without resource data, minutes (reference 1.3).
    pub subscription_max_minutes: i64,
    /// Longest subscription with resource data, minutes (reference 1.3).
    pub rich_subscription_max_minutes: i64,
    /// Active subscriptions per mailbox, all apps together (reference 1.4: 1,000).
    pub subscriptions_per_mailbox: usize,
    /// How long the endpoint has to answer a validation request (reference 2: 10 s).
    pub handshake_timeout: Duration,
    /// Notification delivery settings.
    pub delivery: DeliveryLimits,
}

/// How notifications are delivered (reference 3.2).
#[derive(Debug, Clone)]
pub struct DeliveryLimits {
    /// Graph's HTTP timeout for a notification POST (3 s).
    pub timeout: Duration,
    /// A response slower than this counts as slow (2,900 ms).
    pub slow_threshold: Duration,
    /// Notifications an endpoint must have received before slowness is judged (100).
    pub slow_min_notifications: u64,
    /// Share of slow responses that delays all notifications to the endpoint (10 %).
    pub slow_delay_ratio: f64,
    /// Share of slow responses that drops notifications (15 %).
    pub slow_drop_ratio: f64,
    /// Counters are flushed after this much simulated time (10 minutes).
    pub slow_window: Duration,
    /// How long notifications to a slow endpoint are held, simulated time (10 minutes).
    pub slow_delay: Duration,
    /// First retry after a failed delivery, simulated time.
    pub retry_first: Duration,
    /// Longest pause between retries, simulated time.
    pub retry_max: Duration,
    /// A notification not delivered after this much simulated time is discarded (4 hours).
    pub retry_give_up: Duration,
    /// After `reauthorizationRequired`, delivery keeps flowing this long before it pauses
    /// until the app reauthorizes (reference 4; the length is not documented).
    pub reauthorization_grace: Duration,
    /// Most notifications in one POST.
    pub max_batch: usize,
}

impl Default for GraphLimits {
    fn default() -> Self {
        Self {
            concurrent_requests: 4,
            requests_per_window: 10_000,
            rate_window: Duration::from_secs(600),
            // Outlook's default page size is 10 ("In Outlook, the default page size is 10,
            // and the max is a black box": Graph SDK maintainer in
            // microsoftgraph/msgraph-sdk-powershell#1230). The largest `$top` for messages is
            // 1,000 (Oracle's Outlook adapter doc: "defaults to 10 emails, with a maximum top
            // value of 1000"); the delta maximum is undocumented, so the same cap applies.
            default_page_size: 10,
            max_page_size: 1000,
            delta_filter_cap: 5000,
            delta_token_capacity: 256,
            // Live docs: 10,080 minutes without resource data, 1,440 with (reference 1.3,
            // UNCONFIRMED there; the stored docs said 4,230, so tests may set that).
            subscription_max_minutes: 10_080,
            rich_subscription_max_minutes: 1_440,
            subscriptions_per_mailbox: 1000,
            handshake_timeout: Duration::from_secs(10),
            delivery: DeliveryLimits::default(),
        }
    }
}

impl Default for DeliveryLimits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(3),
            slow_threshold: Duration::from_millis(2900),
            slow_min_notifications: 100,
            slow_delay_ratio: 0.10,
            slow_drop_ratio: 0.15,
            slow_window: Duration::from_secs(600),
            slow_delay: Duration::from_secs(600),
            // The retry schedule is UNCONFIRMED (reference 3.2: "multiple times for up to 4
            // hours"; failed notifications "retried after 10 minutes"): exponential from
            // 1 minute, capped at 10 minutes, for 4 hours.
            retry_first: Duration::from_secs(60),
            retry_max: Duration::from_secs(600),
            retry_give_up: Duration::from_secs(4 * 3600),
            reauthorization_grace: Duration::from_secs(600),
            max_batch: 100,
        }
    }
}
