//! exsync's token service against the Entra simulator, over HTTPS with the test CA trusted
//! through `[cloud] ca_file` (reference `dataverse-entra.md` part B).

mod caching;
mod issue;
mod refusals;
mod rotation;

use std::{
    path::Path,
    sync::{Arc, OnceLock},
};

use exsync_shared::{
    config::Config,
    entra::{CachingTokens, TokenService},
    http,
    ports::{CredentialKey, SystemClock},
    secret::LocalSecrets,
};
use exsync_sim::{
    auth::KeyRing,
    clock::SimClock,
    entra::{AppCertificate, EntraSim, GRAPH_RESOURCE},
    jwt::{self, Jwk},
    server::RunningServer,
    tls::TestCa,
};
use serde_json::{Map, Value};
use tempfile::TempDir;
use time::{Duration, OffsetDateTime};

/// Profile "fabrikam"'s Exchange tenant; its app uses a client secret.
pub const FABRIKAM: &str = "11111111-1111-4111-8111-111111111111";
pub const FABRIKAM_APP: &str = "22222222-2222-4222-8222-222222222222";
pub const FABRIKAM_SECRET: &str = "Fab8Q~s3cr3t.value_with+and/=";
/// The Dataverse tenant, also profile "contoso"'s Exchange tenant (certificate).
pub const CONTOSO: &str = "33333333-3333-4333-8333-333333333333";
pub const CONTOSO_APP: &str = "55555555-5555-4555-8555-555555555555";
pub const DATAVERSE_APP: &str = "44444444-4444-4444-8444-444444444444";
pub const DATAVERSE_SECRET: &str = "Dv7Q~an0ther.s3cr3t_value";
/// An app whose only secret has expired (profile "lapsed").
pub const LAPSED_APP: &str = "66666666-6666-4666-8666-666666666666";
pub const LAPSED_SECRET: &str = "Lp6Q~expired.s3cr3t_value";
pub const CRM: &str = "https://contoso.crm.dynamics.com";

/// The Entra simulator seeded with both tenants, and a configuration pointing at it.
#[derive(Debug)]
pub struct World {
    pub ca: TestCa,
    pub sim: EntraSim,
    pub server: RunningServer,
    pub dir: TempDir,
    pub config: Config,
    /// The id of `FABRIKAM_SECRET` in the simulator (to delete it when rotating).
    pub fabrikam_secret_id: String,
}

impl World {
    pub async fn start() -> Self {
        let ca = TestCa::generate();
        let (sim, server) =
            EntraSim::start(SimClock::default(), KeyRing::default(), &ca).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let year = sim.clock().now() + Duration::days(365);
        sim.add_tenant(FABRIKAM, &["fabrikam.example"]).unwrap();
        sim.add_tenant(CONTOSO, &["contoso.example"]).unwrap();
        sim.register_graph().unwrap();
        sim.register_resource(CRM, &[]).unwrap();
        for tenant in [FABRIKAM, CONTOSO] {
            sim.provision_resource(tenant, GRAPH_RESOURCE).unwrap();
        }
        sim.provision_resource(CONTOSO, CRM).unwrap();

        sim.add_app(FABRIKAM, FABRIKAM_APP).unwrap();
        let fabrikam_secret_id = sim.add_secret(FABRIKAM_APP, FABRIKAM_SECRET, year).unwrap();
        sim.consent(FABRIKAM, FABRIKAM_APP, GRAPH_RESOURCE, &["Mail.ReadWrite"]).unwrap();

        let cert = app_certificate();
        sim.add_app(CONTOSO, CONTOSO_APP).unwrap();
        sim.add_certificate(CONTOSO_APP, cert.der()).unwrap();
        sim.consent(CONTOSO, CONTOSO_APP, GRAPH_RESOURCE, &["Mail.ReadWrite"]).unwrap();
        sim.consent(CONTOSO, CONTOSO_APP, CRM, &[]).unwrap();

        sim.add_app(CONTOSO, DATAVERSE_APP).unwrap();
        sim.add_secret(DATAVERSE_APP, DATAVERSE_SECRET, year).unwrap();
        sim.consent(CONTOSO, DATAVERSE_APP, CRM, &[]).unwrap();

        sim.add_app(FABRIKAM, LAPSED_APP).unwrap();
        let lapsed = sim.clock().now() - Duration::days(1);
        sim.add_secret(LAPSED_APP, LAPSED_SECRET, lapsed).unwrap();

        ca.write_pem(&dir.path().join("ca.pem")).unwrap();
        let files = [
            ("fabrikam.secret", FABRIKAM_SECRET.to_string()),
            ("dataverse.secret", DATAVERSE_SECRET.to_string()),
            ("lapsed.secret", LAPSED_SECRET.to_string()),
            ("contoso.pem", cert.pem_bundle()),
        ];
        for (name, content) in files {
            std::fs::write(dir.path().join(name), content).unwrap();
        }
        let config = config(&server, dir.path());
        Self { ca, sim, server, dir, config, fabrikam_secret_id }
    }

    /// Replaces a secret file, as an admin rotating a secret does.
    pub fn write(&self, name: &str, content: &str) {
        std::fs::write(self.dir.path().join(name), content).unwrap();
    }

    /// The token service, as the runner builds it.
    pub fn service(&self) -> TokenService {
        let http = http::client(&self.config.cloud).unwrap();
        TokenService::new(&self.config, Arc::new(LocalSecrets), http, Arc::new(SystemClock))
    }

    /// What callers use: the service behind the cache.
    pub fn cached(&self) -> CachingTokens {
        CachingTokens::new(Arc::new(self.service()), Arc::new(SystemClock))
    }

    /// The claims of `token`, verified with the keys the simulator publishes.
    pub async fn verified_claims(&self, token: &str, tenant: &str) -> Map<String, Value> {
        let base = self.server.base_url();
        let url = format!("{}{tenant}/discovery/v2.0/keys", base.as_str());
        let body: Value = self.ca.client().get(url).send().await.unwrap().json().await.unwrap();
        let keys: Vec<Jwk> = serde_json::from_value(body["keys"].clone()).unwrap();
        jwt::verify_rs256(token, &keys).expect("the token verifies").claims
    }

    /// Token requests the simulator received so far.
    pub fn requests(&self) -> usize {
        self.sim.token_requests().len()
    }
}

/// Profile "contoso"'s certificate: RSA key generation is slow in debug builds, so every test
/// of this binary shares one.
fn app_certificate() -> &'static AppCertificate {
    static CERT: OnceLock<AppCertificate> = OnceLock::new();
    CERT.get_or_init(|| AppCertificate::valid_at("contoso exsync", OffsetDateTime::now_utc()))
}

pub fn profile(name: &str) -> CredentialKey {
    CredentialKey::Profile(exsync_shared::domain::ProfileName::parse(name).unwrap())
}

fn config(server: &RunningServer, dir: &Path) -> Config {
    let authority = server.base_url();
    let text = format!(
        r#"
[cloud]
authority_host = "{authority}"
graph_url = "https://graph.microsoft.com"
ca_file = "ca.pem"

[dataverse]
url = "{CRM}"
tenant_id = "{CONTOSO}"
client_id = "{DATAVERSE_APP}"
client_secret = "file:dataverse.secret"

[[profiles]]
name = "fabrikam"
tenant_id = "{FABRIKAM}"
client_id = "{FABRIKAM_APP}"
client_secret = "file:fabrikam.secret"

[[profiles]]
name = "contoso"
tenant_id = "contoso.example"
client_id = "{CONTOSO_APP}"
certificate = "file:contoso.pem"

[[profiles]]
name = "lapsed"
tenant_id = "{FABRIKAM}"
client_id = "{LAPSED_APP}"
client_secret = "file:lapsed.secret"

[[profiles]]
name = "stranger"
tenant_id = "{FABRIKAM}"
client_id = "{DATAVERSE_APP}"
client_secret = "file:dataverse.secret"

[[profiles]]
name = "nowhere"
tenant_id = "99999999-9999-4999-8999-999999999999"
client_id = "{FABRIKAM_APP}"
client_secret = "file:fabrikam.secret"

[[mailboxes]]
address = "alice@fabrikam.example"
profile = "fabrikam"
client_id = "{FABRIKAM_APP}"
client_secret = "file:fabrikam.secret"

[[mailboxes]]
address = "bob@contoso.example"
profile = "contoso"
"#
    );
    Config::parse(&text, dir).unwrap()
}
