//! A running Dataverse simulator with one environment, one application user, a token
//! issuer key, and an HTTPS client that speaks like a Web API client.

use exsync_sim::{
    auth::{KeyRing, TokenSpec, mint},
    clock::SimClock,
    dataverse::{DataverseSim, Env},
    jwt::SigningKey,
    server::RunningServer,
    tls::TestCa,
};
use reqwest::{Method, RequestBuilder, header::HeaderMap};
use serde_json::Value;
use uuid::Uuid;

pub const TENANT: &str = "6f1c2a70-0000-4000-8000-000000000001";
pub const APP: &str = "a11ce000-0000-4000-8000-000000000002";

pub struct World {
    pub clock: SimClock,
    pub key: SigningKey,
    pub sim: DataverseSim,
    pub env: Env,
    /// The application user of [`APP`].
    pub user: Uuid,
    pub http: reqwest::Client,
    _server: RunningServer,
}

/// A response, read fully.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `error.code`, asserting the Web API error shape.
    pub fn code(&self) -> String {
        let json = self.json();
        assert!(json["error"]["message"].is_string(), "not an error body: {json}");
        json["error"]["code"].as_str().expect("error.code").to_string()
    }

    pub fn message(&self) -> String {
        self.json()["error"]["message"].as_str().expect("error.message").to_string()
    }

    /// The id in `OData-EntityId`.
    pub fn entity_id(&self) -> Uuid {
        let url =
            self.header("odata-entityid").unwrap_or_else(|| panic!("no OData-EntityId: {self:?}"));
        let id = url.rsplit_once('(').expect("(id)").1.trim_end_matches(')');
        Uuid::parse_str(id).expect("GUID")
    }
}

impl World {
    pub async fn new() -> Self {
        let ca = TestCa::generate();
        let (clock, key, keys) = (SimClock::default(), SigningKey::generate(), KeyRing::default());
        keys.publish(key.jwk());
        let sim = DataverseSim::new(clock.clone(), keys);
        let server = sim.start(&ca).await.expect("start dataverse simulator");
        let env = sim.add_environment("", TENANT);
        let user = env.add_application_user(APP);
        Self { clock, key, sim, env, user, http: ca.client(), _server: server }
    }

    /// The claims of a valid token for [`APP`] and the environment.
    pub fn spec(&self) -> TokenSpec {
        TokenSpec {
            tenant_id: TENANT.into(),
            app_id: APP.into(),
            object_id: "0b1ec700-0000-4000-8000-000000000003".into(),
            audience: self.env.url(),
            roles: Vec::new(),
            issued_at: self.clock.unix(),
            lifetime_secs: 3599,
            appidacr: "1",
        }
    }

    pub fn token(&self) -> String {
        mint(&self.key, &self.spec())
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.env.web_api())
    }

    /// A request with the headers every Web API request sends (reference A1).
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, self.url(path))
            .bearer_auth(self.token())
            .header("Accept", "application/json")
            .header("OData-MaxVersion", "4.0")
            .header("OData-Version", "4.0")
            .header("If-None-Match", "null")
    }

    pub async fn send(&self, request: RequestBuilder) -> Resp {
        let response = request.send().await.expect("HTTP exchange");
        let (status, headers) = (response.status().as_u16(), response.headers().clone());
        Resp { status, headers, text: response.text().await.expect("body") }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(self.request(Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.send(self.request(Method::POST, path).json(&body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.send(self.request(Method::PATCH, path).json(&body)).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send(self.request(Method::DELETE, path)).await
    }

    /// Creates a record and returns its id (asserting the plain 204 form).
    pub async fn create(&self, set: &str, body: Value) -> Uuid {
        let resp = self.post(set, body).await;
        assert_eq!(resp.status, 204, "{}", resp.text);
        resp.entity_id()
    }

    /// Seeds a contact, an account and a user, and returns (contact, account, user).
    pub fn seed_people(&self) -> (Uuid, Uuid, Uuid) {
        let contact = self.env.add_contact("ann@fabrikam.example", "Ann", "Lee");
        let account = self.env.add_account("info@fabrikam.example", "Fabrikam");
        let user = self.env.add_systemuser("bo@contoso.example", "Bo", "Chen");
        (contact, account, user)
    }
}
