//! The Entra ID simulator against the reference (`dataverse-entra.md` part B, C8), over HTTPS.

mod assertions;
mod azure_identity_client;
mod discovery;
mod faults;
mod secrets;
mod tenancy;

use exsync_sim::{
    auth::KeyRing,
    clock::SimClock,
    entra::{EntraSim, GRAPH_RESOURCE},
    jwt::{self, Jwk},
    server::RunningServer,
    tls::TestCa,
};
use reqwest::StatusCode;
use serde_json::{Map, Value};
use time::Duration;

pub const TENANT: &str = "11111111-1111-4111-8111-111111111111";
pub const DOMAIN: &str = "contoso.onmicrosoft.com";
pub const CUSTOMER: &str = "22222222-2222-4222-8222-222222222222";
pub const CLIENT: &str = "aaaaaaaa-0000-4000-8000-000000000001";
pub const SECRET: &str = "Kx8Q~s3cr3t.value_with+and/=";
pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
pub const CRM: &str = "https://org.crm.dynamics.com";

/// A started simulator with one tenant (`TENANT`, `DOMAIN`), Graph provisioned there, and
/// app `CLIENT` registered in it with secret `SECRET` and Mail.ReadWrite consented; plus an
/// empty second tenant `CUSTOMER`.
#[derive(Debug)]
pub struct Env {
    pub ca: TestCa,
    pub sim: EntraSim,
    pub server: RunningServer,
    pub http: reqwest::Client,
}

impl Env {
    pub async fn start() -> Self {
        let ca = TestCa::generate();
        let (sim, server) =
            EntraSim::start(SimClock::default(), KeyRing::default(), &ca).await.unwrap();
        sim.add_tenant(TENANT, &[DOMAIN]).unwrap();
        sim.add_tenant(CUSTOMER, &["fabrikam.com"]).unwrap();
        sim.register_graph().unwrap();
        sim.provision_resource(TENANT, GRAPH_RESOURCE).unwrap();
        sim.add_app(TENANT, CLIENT).unwrap();
        sim.add_secret(CLIENT, SECRET, sim.clock().now() + Duration::days(365)).unwrap();
        sim.consent(TENANT, CLIENT, GRAPH_RESOURCE, &["Mail.ReadWrite"]).unwrap();
        let http = ca.client();
        Self { ca, sim, server, http }
    }

    /// `https://127.0.0.1:port` without a trailing slash.
    pub fn base(&self) -> String {
        self.server.base_url().as_str().trim_end_matches('/').to_string()
    }

    pub fn token_url(&self, tenant: &str) -> String {
        format!("{}/{tenant}/oauth2/v2.0/token", self.base())
    }

    /// POSTs a form to the token endpoint of `tenant`.
    pub async fn post(&self, tenant: &str, form: &[(&str, &str)]) -> Reply {
        Reply::read(self.http.post(self.token_url(tenant)).form(form).send().await.unwrap()).await
    }

    /// The published keys, fetched over HTTPS like a resource server does.
    pub async fn jwks(&self) -> Vec<Jwk> {
        let url = format!("{}/{TENANT}/discovery/v2.0/keys", self.base());
        let body: Value = self.http.get(url).send().await.unwrap().json().await.unwrap();
        serde_json::from_value(body["keys"].clone()).unwrap()
    }

    /// Verifies an access token against the JWKS and returns its claims.
    pub async fn verified_claims(&self, token: &str) -> Map<String, Value> {
        jwt::verify_rs256(token, &self.jwks().await).expect("token verifies").claims
    }
}

/// A client secret request for `scope`.
pub fn secret_form<'a>(
    client: &'a str,
    secret: &'a str,
    scope: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("client_id", client),
        ("client_secret", secret),
        ("grant_type", "client_credentials"),
        ("scope", scope),
    ]
}

/// An answer of the simulator.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub async fn read(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Self { status, headers, body }
    }

    /// The access token of a 200 answer (panics with the error otherwise).
    pub fn token(&self) -> String {
        assert_eq!(self.status, StatusCode::OK, "{:#}", self.body);
        self.body["access_token"].as_str().unwrap().to_string()
    }

    /// Asserts the whole Entra error shape (reference B1, C8) with this status, `error` and code.
    pub fn assert_error(&self, status: u16, error: &str, code: u32) {
        let body = &self.body;
        assert_eq!(self.status.as_u16(), status, "{body:#}");
        assert_eq!(body["error"], error, "{body:#}");
        assert_eq!(body["error_codes"], serde_json::json!([code]), "{body:#}");
        let (trace, correlation, timestamp) = (
            body["trace_id"].as_str().unwrap(),
            body["correlation_id"].as_str().unwrap(),
            body["timestamp"].as_str().unwrap(),
        );
        assert!(uuid::Uuid::parse_str(trace).is_ok() && uuid::Uuid::parse_str(correlation).is_ok());
        // "2016-01-09 02:02:12Z"
        assert_eq!(timestamp.len(), 20, "{timestamp}");
        assert!(timestamp.ends_with('Z') && timestamp.as_bytes()[10] == b' ');
        let description = body["error_description"].as_str().unwrap();
        assert!(description.starts_with(&format!("AADSTS{code}: ")), "{description}");
        assert!(
            description.ends_with(&format!(
                "\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {timestamp}"
            )),
            "{description}"
        );
        assert_eq!(
            body["error_uri"],
            format!("https://login.microsoftonline.com/error?code={code}")
        );
        assert_eq!(self.headers["cache-control"], "no-store, no-cache");
    }

    pub fn description(&self) -> &str {
        self.body["error_description"].as_str().unwrap_or_default()
    }
}
