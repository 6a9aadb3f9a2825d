//! A whole simulated Microsoft cloud: Entra ID, Graph and Dataverse on 127.0.0.1, wired to one
//! test CA, one clock and one token issuer, plus the directory set-up an admin would do
//! (tenants, app registrations, admin consent, application users) and the exsync
//! configuration that points at it.

mod config;
mod latency;

use std::{
    net::{Ipv4Addr, SocketAddr},
    path::{Path, PathBuf},
    sync::atomic::{AtomicU32, Ordering},
};

pub use config::ConfigBuilder;
pub use latency::LatencyProfile;
use tokio::net::TcpListener;
use url::Url;

use crate::{
    auth::KeyRing,
    clock::SimClock,
    dataverse::{DataverseSim, Env},
    entra::{EntraSim, GRAPH_APP_ROLES},
    graph::{GraphConfig, GraphLimits, GraphSim},
    server::RunningServer,
    tls::TestCa,
};

/// The application permissions exsync's Exchange app gets by admin consent: read mail for
/// the incoming path, send for the outgoing one.
pub const EXCHANGE_APP_ROLES: &[&str] = &["Mail.Read", "Mail.ReadWrite", "Mail.Send"];

/// The three simulators, running. Dropping it stops them.
#[derive(Debug)]
pub struct SimCloud {
    /// The CA every simulator's certificate chains to.
    pub ca: TestCa,
    /// Simulated time, shared by all three.
    pub clock: SimClock,
    /// The Entra ID simulator.
    pub entra: EntraSim,
    /// The Graph simulator.
    pub graph: GraphSim,
    /// The Dataverse simulator.
    pub dataverse: DataverseSim,
    dir: tempfile::TempDir,
    next_id: AtomicU32,
    servers: [RunningServer; 3],
}

/// The ports of 127.0.0.1 the simulators listen on; 0 (the default) picks a free one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimPorts {
    /// Entra ID's token endpoint.
    pub entra: u16,
    /// Microsoft Graph.
    pub graph: u16,
    /// The Dataverse Web API.
    pub dataverse: u16,
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// An Exchange Online tenant with exsync's app registered and consented in it.
#[derive(Debug, Clone)]
pub struct ExchangeTenant {
    /// Directory id.
    pub tenant_id: String,
    /// Its verified domain; mailboxes are `name@domain`.
    pub domain: String,
    /// exsync's app registration.
    pub app_id: String,
    /// The app's client secret (tests put it in a file the config references).
    pub secret: String,
}

/// A Dataverse environment with exsync's application user.
#[derive(Debug, Clone)]
pub struct DataverseTenant {
    /// The environment's tenant.
    pub tenant_id: String,
    /// The app registered as application user.
    pub app_id: String,
    /// Its client secret.
    pub secret: String,
    /// The environment (seed and inspect records through it).
    pub env: Env,
}

impl SimCloud {
    /// Starts Entra, Graph and Dataverse over HTTPS with default limits.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with(GraphLimits::default()).await
    }

    /// Starts the three simulators, Graph with `graph_limits`.
    pub async fn start_with(graph_limits: GraphLimits) -> std::io::Result<Self> {
        Self::start_on(SimPorts::default(), graph_limits).await
    }

    /// Starts the three simulators on the given ports of 127.0.0.1 (0: any free port).
    pub async fn start_on(ports: SimPorts, graph_limits: GraphLimits) -> std::io::Result<Self> {
        let ca = TestCa::generate();
        let clock = SimClock::default();
        let keys = KeyRing::default();
        let entra = EntraSim::new(clock.clone(), keys.clone());
        let entra_server =
            RunningServer::start(entra.router(), loopback(ports.entra), Some(ca.server_config()))
                .await?;

        // Graph's identifier URI is its own URL, as `https://graph.microsoft.com` is for the
        // real service: exsync asks for `{graph_url}/.default`.
        let listener = TcpListener::bind(loopback(ports.graph)).await?;
        let graph_url = format!("https://{}", listener.local_addr()?);
        let graph = GraphSim::new(GraphConfig {
            identifier_uri: graph_url.clone(),
            keys: keys.clone(),
            clock: clock.clone(),
            webhook_client: ca.client(),
            validation_signer: entra.signing_key(),
            limits: graph_limits,
        });
        graph.set_base_url(&graph_url);
        let graph_server = RunningServer::serve(graph.router(), listener, Some(ca.server_config()));
        entra.register_resource(&graph_url, GRAPH_APP_ROLES).map_err(other)?;

        let dataverse = DataverseSim::new(clock.clone(), keys);
        let dataverse_server = RunningServer::start(
            dataverse.router(),
            loopback(ports.dataverse),
            Some(ca.server_config()),
        )
        .await?;
        dataverse.set_base_url(dataverse_server.base_url());

        let dir = tempfile::tempdir()?;
        ca.write_pem(&dir.path().join("ca.pem"))?;
        Ok(Self {
            ca,
            clock,
            entra,
            graph,
            dataverse,
            dir,
            next_id: AtomicU32::new(1),
            servers: [entra_server, graph_server, dataverse_server],
        })
    }

    /// Entra's authority host (`[cloud] authority_host`).
    pub fn authority_host(&self) -> Url {
        self.servers[0].base_url()
    }

    /// Graph's root URL (`[cloud] graph_url`).
    pub fn graph_url(&self) -> Url {
        self.servers[1].base_url()
    }

    /// The PEM file of the test CA (`[cloud] ca_file`).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// A folder that lives as long as the cloud (for configs, secrets and state).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A fresh GUID-shaped id that is easy to recognise in logs (`…-0000000000NN`).
    fn id(&self, kind: u16) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        format!("{kind:08x}-0000-4000-8000-{n:012x}")
    }

    /// Creates an Exchange Online tenant `domain` with exsync's app (client secret, Graph
    /// permissions consented by the admin).
    pub fn add_exchange_tenant(&self, domain: &str) -> ExchangeTenant {
        let tenant = ExchangeTenant {
            tenant_id: self.id(0x7e),
            domain: domain.to_string(),
            app_id: self.id(0xa9),
            secret: format!(
                "{}~{}",
                domain.split('.').next().unwrap_or("x"),
                uuid::Uuid::new_v4().simple()
            ),
        };
        let graph = self.graph_url().to_string();
        let graph = graph.trim_end_matches('/');
        let far = time::OffsetDateTime::now_utc() + time::Duration::days(365);
        self.entra.add_tenant(&tenant.tenant_id, &[domain]).expect("new tenant");
        self.entra.provision_resource(&tenant.tenant_id, graph).expect("Graph in tenant");
        self.entra.add_app(&tenant.tenant_id, &tenant.app_id).expect("new app");
        self.entra.add_secret(&tenant.app_id, &tenant.secret, far).expect("secret");
        self.entra
            .consent(&tenant.tenant_id, &tenant.app_id, graph, EXCHANGE_APP_ROLES)
            .expect("consent");
        self.graph.add_tenant(&tenant.tenant_id);
        tenant
    }

    /// Adds a mailbox `local@domain` to an Exchange tenant; returns its address.
    pub fn add_mailbox(&self, tenant: &ExchangeTenant, local: &str, name: &str) -> String {
        let address = format!("{local}@{}", tenant.domain);
        self.graph.add_mailbox(&tenant.tenant_id, &address, name);
        address
    }

    /// Creates a Dataverse environment in its own tenant `domain`, with exsync's app as an
    /// application user.
    pub fn add_dataverse(&self, domain: &str) -> DataverseTenant {
        let tenant_id = self.id(0xd7);
        let app_id = self.id(0xa9);
        let secret = format!("dv~{}", uuid::Uuid::new_v4().simple());
        let env = self.dataverse.add_environment("", &tenant_id);
        let far = time::OffsetDateTime::now_utc() + time::Duration::days(365);
        self.entra.add_tenant(&tenant_id, &[domain]).expect("new tenant");
        self.entra.register_resource(&env.url(), &[]).expect("environment resource");
        self.entra.provision_resource(&tenant_id, &env.url()).expect("environment in tenant");
        self.entra.add_app(&tenant_id, &app_id).expect("new app");
        self.entra.add_secret(&app_id, &secret, far).expect("secret");
        env.add_application_user(&app_id);
        DataverseTenant { tenant_id, app_id, secret, env }
    }

    /// A configuration builder pointing at this cloud.
    pub fn config(&self, dataverse: &DataverseTenant) -> ConfigBuilder {
        ConfigBuilder::new(self, dataverse)
    }
}

fn other(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}
