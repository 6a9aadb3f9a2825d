//! The Entra ID simulator: the v2.0 token endpoint for the client credentials grant, with
//! client secrets, HTTP Basic and certificate assertions, plus the signing keys and OpenID
//! metadata resource servers use (reference `dataverse-entra.md` part B and C8).
//!
//! Routes:
//! - `POST /{tenant}/oauth2/v2.0/token`
//! - `GET /{tenant}/discovery/v2.0/keys`, `GET /{tenant}/discovery/keys`
//! - `GET /{tenant}/v2.0/.well-known/openid-configuration`,
//!   `GET /{tenant}/.well-known/openid-configuration`
//!
//! `{tenant}` is a tenant id, a verified domain, or (for keys and metadata) `common`,
//! `organizations`, `consumers`. [`EntraSim`] is the control API: tenants, apps, credentials,
//! resources, consent, token lifetime, key rotation, faults and a log of token requests.

mod app_cert;
mod assertion;
mod cert;
mod credentials;
mod directory;
mod discovery;
mod errors;
mod misbehave;
mod model;
mod records;
mod request;
mod scope;
mod token;

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex, RwLock},
    time::Duration,
};

use axum::{
    Router,
    http::{HeaderMap, Uri, header},
    middleware,
    routing::{any, get},
};

pub use app_cert::{AppCertificate, AssertionAlg, assertion_claims};
pub use directory::SetupError;
pub use model::{GRAPH_APP_ID, GRAPH_APP_ROLES, GRAPH_RESOURCE};
pub use records::{Credential, TokenOutcome, TokenRequest};

use crate::{
    auth::KeyRing, clock::SimClock, faults::FaultInjector, jwt::SigningKey, server::RunningServer,
    tls::TestCa,
};
use model::Directory;

/// The control handle of one Entra simulator; clones share the same state.
#[derive(Debug, Clone)]
pub struct EntraSim {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    clock: SimClock,
    keys: KeyRing,
    signer: RwLock<Arc<SigningKey>>,
    faults: FaultInjector,
    dir: Mutex<Directory>,
    log: Mutex<Vec<TokenRequest>>,
}

impl EntraSim {
    /// A simulator on `clock` that publishes its signing keys into `keys` (the ring the
    /// resource simulators verify with). It starts with one fresh signing key and no tenants.
    pub fn new(clock: SimClock, keys: KeyRing) -> Self {
        let signer = Arc::new(SigningKey::generate());
        keys.publish(signer.jwk());
        let shared = Shared {
            clock,
            keys,
            signer: RwLock::new(signer),
            faults: FaultInjector::default(),
            dir: Mutex::new(Directory::default()),
            log: Mutex::new(Vec::new()),
        };
        Self { shared: Arc::new(shared) }
    }

    /// Starts a simulator over HTTPS on 127.0.0.1 (a free port) with a certificate from `ca`.
    pub async fn start(
        clock: SimClock,
        keys: KeyRing,
        ca: &TestCa,
    ) -> std::io::Result<(Self, RunningServer)> {
        let sim = Self::new(clock, keys);
        let addr: SocketAddr = "127.0.0.1:0".parse().expect("loopback address");
        let server = RunningServer::start(sim.router(), addr, Some(ca.server_config())).await?;
        Ok((sim, server))
    }

    /// The axum app serving this simulator's routes.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/{tenant}/oauth2/v2.0/token", any(token::token))
            .route("/{tenant}/discovery/v2.0/keys", get(discovery::keys))
            .route("/{tenant}/discovery/keys", get(discovery::keys))
            .route("/{tenant}/v2.0/.well-known/openid-configuration", get(discovery::openid_v2))
            .route("/{tenant}/.well-known/openid-configuration", get(discovery::openid_v1))
            .layer(middleware::from_fn_with_state(self.shared.clone(), misbehave::inject))
            .with_state(self.shared.clone())
    }

    /// The clock tokens are dated with.
    pub fn clock(&self) -> SimClock {
        self.shared.clock.clone()
    }

    /// The published keys (shared with the resource simulators).
    pub fn key_ring(&self) -> KeyRing {
        self.shared.keys.clone()
    }

    /// The key tokens are signed with now (for signing other tokens, such as Graph's
    /// validation tokens, with the same issuer keys).
    pub fn signing_key(&self) -> Arc<SigningKey> {
        self.shared.signer.read().expect("signer lock").clone()
    }

    /// Publishes a new key and signs with it from now on; the old key stays published (the
    /// overlap) until [`withdraw_key`](Self::withdraw_key).
    pub fn rotate_signing_key(&self) -> Arc<SigningKey> {
        let key = Arc::new(SigningKey::generate());
        self.shared.keys.publish(key.jwk());
        *self.shared.signer.write().expect("signer lock") = key.clone();
        key
    }

    /// Stops publishing a key: tokens it signed no longer verify.
    pub fn withdraw_key(&self, kid: &str) {
        self.shared.keys.withdraw(kid);
    }

    /// `expires_in` (and `exp - iat`) of tokens issued from now on; default 3599 s.
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        let secs = i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX);
        self.shared.dir.lock().expect("directory lock").token_lifetime_secs = secs;
    }

    /// Adds `refresh_in` to token responses (reference B3), or stops sending it.
    pub fn set_refresh_in(&self, refresh_in: Option<Duration>) {
        let secs = refresh_in.map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        self.shared.dir.lock().expect("directory lock").refresh_in_secs = secs;
    }

    /// The fault injector every route consults first.
    pub fn faults(&self) -> FaultInjector {
        self.shared.faults.clone()
    }

    /// Every token request so far, oldest first.
    pub fn token_requests(&self) -> Vec<TokenRequest> {
        self.shared.log.lock().expect("log lock").clone()
    }

    /// How many tokens were issued to `client_id` in `tenant_id` for `resource` (identifier
    /// URI, trailing slash ignored).
    pub fn tokens_issued(&self, tenant_id: &str, client_id: &str, resource: &str) -> usize {
        let log = self.shared.log.lock().expect("log lock");
        log.iter().filter(|r| r.issued_for(tenant_id, client_id, resource)).count()
    }
}

/// `https://{host}` as the client addressed us (the URI authority under HTTP/2, the `Host`
/// header under HTTP/1.1). The simulator only serves TLS, like the real service.
fn public_base(headers: &HeaderMap, uri: &Uri) -> String {
    let host = uri
        .authority()
        .map(|a| a.as_str().to_string())
        .or_else(|| headers.get(header::HOST).and_then(|h| h.to_str().ok()).map(str::to_string))
        .unwrap_or_else(|| "login.microsoftonline.com".to_string());
    format!("https://{host}")
}
