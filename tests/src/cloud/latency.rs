//! Network and service time added to every request, so benchmarks can run the pipeline as it
//! would run against the real services as well as against the bare simulators.

use std::time::Duration;

use super::SimCloud;
use crate::faults::{Fault, FaultRule};

/// How long each simulator waits before it answers a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LatencyProfile {
    /// Entra ID's token endpoint.
    pub entra: Duration,
    /// Microsoft Graph (each request; a `$batch` is one).
    pub graph: Duration,
    /// The Dataverse Web API (each request; a `$batch` is one).
    pub dataverse: Duration,
}

impl LatencyProfile {
    /// Round trips as a deployment in the same region as the tenant sees them: Graph reads
    /// 60 ms, a Dataverse `$batch` 80 ms, an Entra token 120 ms (typical figures; Microsoft
    /// publishes no latency targets for these APIs).
    pub const REALISTIC: Self = Self {
        entra: Duration::from_millis(120),
        graph: Duration::from_millis(60),
        dataverse: Duration::from_millis(80),
    };
}

impl SimCloud {
    /// Makes every later request to each simulator wait the profile's time before it is
    /// served: an armed [`Fault::Latency`] for every request. The first matching rule fires,
    /// so faults armed after it never do: a benchmark knob, not one to mix with chaos.
    pub fn add_latency(&self, profile: LatencyProfile) {
        let always = |d: Duration| FaultRule::ratio(1.0, Fault::Latency(d));
        if !profile.entra.is_zero() {
            self.entra.faults().arm(always(profile.entra));
        }
        if !profile.graph.is_zero() {
            self.graph.faults().arm(always(profile.graph));
        }
        if !profile.dataverse.is_zero() {
            self.dataverse.faults().arm(always(profile.dataverse));
        }
    }
}
