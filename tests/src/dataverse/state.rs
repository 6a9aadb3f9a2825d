//! The simulator's shared state: environments, their records, usage and statistics.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex, MutexGuard, RwLock},
};

use time::OffsetDateTime;
use url::Url;
use uuid::Uuid;

use super::{limits::Usage, model::RequestStats, store::EntityRef, store::Store};
use crate::{auth::KeyRing, clock::SimClock, faults::FaultInjector, faults::Gauge};

/// `organization.maxuploadfilesize` default: 5 MB (`PAD:email-activity-entities.md`, reference A3).
pub const DEFAULT_MAX_UPLOAD_BYTES: usize = 5 * 1024 * 1024;

/// Everything the router and the handles share.
#[derive(Debug)]
pub struct Shared {
    /// Simulated time (windows, `createdon`, token lifetimes).
    pub clock: SimClock,
    /// The token issuer's published keys.
    pub keys: KeyRing,
    /// Injected failures.
    pub faults: FaultInjector,
    /// In-flight requests per `<env>|<app id>`.
    pub gauge: Gauge,
    /// `https://127.0.0.1:PORT`, once the server runs.
    pub base_url: RwLock<Option<Url>>,
    /// Environments by name (`""` = the one at the base URL itself).
    pub envs: Mutex<BTreeMap<String, EnvState>>,
}

impl Shared {
    /// A new, empty simulator.
    pub fn new(clock: SimClock, keys: KeyRing) -> Arc<Self> {
        Arc::new(Self {
            clock,
            keys,
            faults: FaultInjector::default(),
            gauge: Gauge::default(),
            base_url: RwLock::new(None),
            envs: Mutex::new(BTreeMap::new()),
        })
    }

    /// Locks the environments.
    pub fn envs(&self) -> MutexGuard<'_, BTreeMap<String, EnvState>> {
        self.envs.lock().expect("dataverse state lock")
    }

    /// The environment URL (its identifier URI and token audience), without a trailing slash.
    pub fn env_url(&self, name: &str) -> Option<String> {
        let base = self.base_url.read().expect("base url lock").clone()?;
        let base = base.as_str().trim_end_matches('/').to_string();
        Some(if name.is_empty() { base } else { format!("{base}/{name}") })
    }
}

/// One Dataverse environment (organization).
#[derive(Debug)]
pub struct EnvState {
    /// The Entra tenant the environment belongs to.
    pub tenant_id: String,
    /// `OrganizationId` (WhoAmI).
    pub organization_id: Uuid,
    /// The root business unit (WhoAmI).
    pub business_unit_id: Uuid,
    /// Records.
    pub store: Store,
    /// Service protection limits.
    pub limits: super::limits::Limits,
    /// Largest attachment body in bytes (`maxuploadfilesize`).
    pub max_upload_bytes: usize,
    /// Service protection usage per application user.
    pub usage: HashMap<Uuid, Usage>,
    /// Requests and refusals per application id.
    pub stats: HashMap<String, RequestStats>,
}

impl EnvState {
    /// A new, empty environment of a tenant.
    pub fn new(tenant_id: &str) -> Self {
        Self {
            tenant_id: tenant_id.to_string(),
            organization_id: Uuid::new_v4(),
            business_unit_id: Uuid::new_v4(),
            store: Store::default(),
            limits: super::limits::Limits::default(),
            max_upload_bytes: DEFAULT_MAX_UPLOAD_BYTES,
            usage: HashMap::new(),
            stats: HashMap::new(),
        }
    }

    /// The statistics of one application.
    pub fn stats_mut(&mut self, app_id: &str) -> &mut RequestStats {
        self.stats.entry(app_id.to_string()).or_default()
    }
}

/// The authenticated caller: an application user of the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's `appid`.
    pub app_id: String,
    /// The application user's `systemuserid`.
    pub user_id: Uuid,
}

/// What one operation runs with.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The environment URL (no trailing slash).
    pub env_url: String,
    /// The caller's `systemuserid` (owner of what it creates).
    pub user_id: Uuid,
    /// Simulated now.
    pub now: OffsetDateTime,
    /// `Content-ID` references of the current changeset (`$1` = the record created by part 1).
    pub content_ids: HashMap<String, EntityRef>,
}

impl Ctx {
    /// `https://host/org/api/data/v9.2/` (with the trailing slash).
    pub fn root(&self) -> String {
        format!("{}/api/data/v9.2/", self.env_url)
    }

    /// The URL of a record, as in `OData-EntityId`.
    pub fn entity_url(&self, set: &str, id: Uuid) -> String {
        format!("{}{set}({id})", self.root())
    }
}
