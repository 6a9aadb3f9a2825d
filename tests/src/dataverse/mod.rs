//! A strict simulator of the Dataverse Web API v9.2 (reference `dataverse-entra.md` part A).
//!
//! One server hosts several environments: the one named `""` at the base URL
//! (`https://127.0.0.1:PORT/api/data/v9.2/`), others under a path
//! (`https://127.0.0.1:PORT/org1/api/data/v9.2/`). An environment's URL is its identifier URI,
//! so tokens for it carry `aud` = that URL; it belongs to one tenant and admits only apps
//! that have an application user in it.
//!
//! # Layout
//!
//! - [`DataverseSim`] (here) and [`Env`] (`env.rs`): the control handles; `model.rs`: what
//!   tests read back.
//! - `http.rs`: routing, service protection, faults; `access.rs`: tokens and application users.
//! - `ops/`: one operation on a resource; `batch.rs` + `multipart.rs`: `$batch`.
//! - `body/` (payloads, references, value conversion), `write/` (platform rules, states),
//!   `query/` + `filter/` + `render.rs` (reads), `headers.rs` (OData headers and `Prefer`),
//!   `limits.rs`, `errors.rs`, `reply.rs`.
//! - `metadata/`: the tables; `store.rs`: the records; `state.rs`: environments.

mod access;
mod batch;
mod body;
mod env;
mod errors;
mod filter;
mod headers;
mod http;
mod limits;
mod metadata;
mod model;
mod multipart;
mod ops;
mod query;
mod render;
mod reply;
mod state;
mod store;
mod write;

use std::sync::Arc;

use axum::Router;
use url::Url;
use uuid::Uuid;

pub use env::Env;
pub use errors::ApiError;
pub use limits::Limits;
pub use model::{AttachmentView, EmailView, PartyView, RequestStats};
pub use store::EntityRef;

use crate::{
    auth::KeyRing,
    clock::SimClock,
    faults::{FaultInjector, Gauge},
    server::RunningServer,
    tls::TestCa,
};
use state::{EnvState, Shared};

/// The simulator's control handle. Cheap to clone.
#[derive(Debug, Clone)]
pub struct DataverseSim {
    shared: Arc<Shared>,
}

impl DataverseSim {
    /// A simulator with no environments, trusting tokens signed by `keys`.
    pub fn new(clock: SimClock, keys: KeyRing) -> Self {
        Self { shared: Shared::new(clock, keys) }
    }

    /// The axum app (every path goes through one handler).
    pub fn router(&self) -> Router {
        Router::new().fallback(http::handle).with_state(self.shared.clone())
    }

    /// Serves over HTTPS on 127.0.0.1 (a free port) and records the base URL.
    pub async fn start(&self, ca: &TestCa) -> std::io::Result<RunningServer> {
        let server = RunningServer::start(
            self.router(),
            "127.0.0.1:0".parse().expect("loopback address"),
            Some(ca.server_config()),
        )
        .await?;
        self.set_base_url(server.base_url());
        Ok(server)
    }

    /// Records where the router is served (when a caller serves [`DataverseSim::router`] itself).
    pub fn set_base_url(&self, url: Url) {
        *self.shared.base_url.write().expect("base url lock") = Some(url);
    }

    /// Adds an environment of `tenant_id`. `name` is `""` for the one at the base URL, or a
    /// lower-case path segment such as `org1`.
    pub fn add_environment(&self, name: &str, tenant_id: &str) -> Env {
        assert!(
            name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && name != "api",
            "an environment name is a lower-case path segment"
        );
        let mut env = EnvState::new(tenant_id);
        let system_user = Uuid::new_v4();
        // Every organization has a SYSTEM user; seeded records are owned by it.
        let mut cells = std::collections::BTreeMap::new();
        cells.insert("systemuserid", store::Cell::Guid(system_user));
        cells.insert("fullname", store::Cell::Str("SYSTEM".into()));
        cells.insert("internalemailaddress", store::Cell::Str("system@dataverse.invalid".into()));
        cells.insert("isdisabled", store::Cell::Bool(false));
        env.store.insert("systemuser", system_user, cells);
        let previous = self.shared.envs().insert(name.to_string(), env);
        assert!(previous.is_none(), "environment {name:?} exists already");
        Env { shared: self.shared.clone(), name: name.to_string(), system_user }
    }

    /// The injected failures (matched on method and path, e.g. `/org1/api/data/v9.2/emails`).
    pub fn faults(&self) -> &FaultInjector {
        &self.shared.faults
    }

    /// In-flight requests per `<environment>|<app id>`, with peaks.
    pub fn gauge(&self) -> &Gauge {
        &self.shared.gauge
    }
}

/// Starts a simulator over HTTPS: its handle and the running server.
pub async fn start(
    clock: SimClock,
    keys: KeyRing,
    ca: &TestCa,
) -> std::io::Result<(DataverseSim, RunningServer)> {
    let sim = DataverseSim::new(clock, keys);
    let server = sim.start(ca).await?;
    Ok((sim, server))
}
