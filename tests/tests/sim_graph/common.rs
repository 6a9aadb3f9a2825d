//! A simulator on HTTPS with one CA, token minting, and a webhook receiver.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::{RawQuery, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use exsync_sim::{
    auth::{KeyRing, TokenSpec, mint},
    clock::SimClock,
    graph::{GraphConfig, GraphLimits, GraphSim},
    jwt::SigningKey,
    server::RunningServer,
    tls::TestCa,
};
use reqwest::header::HeaderMap;
use serde_json::Value;
use tokio::sync::mpsc;

pub const TENANT: &str = "6f1c7f2a-43b1-4a34-9a5e-0c3d1b7a9e11";
pub const OTHER_TENANT: &str = "0d5c8a4e-7b2f-4e8a-b1c3-9f6e2d4a8c22";
pub const APP: &str = "8a9b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c33";
pub const OTHER_APP: &str = "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d44";
pub const APP_OBJECT: &str = "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e55";
pub const AUDIENCE: &str = "https://graph.microsoft.com";
pub const ALICE: &str = "alice@contoso.example";
pub const BOB: &str = "bob@contoso.example";
pub const CAROL: &str = "carol@fabrikam.example";

/// Roles of a sync service that reads mail and subscribes.
pub const READER: &[&str] =
    &["Mail.Read", "Mail.Send", "Calendars.Read", "Contacts.Read", "Tasks.Read.All"];

/// One Entra signing key for every test (RSA generation is slow).
fn signing_key() -> Arc<SigningKey> {
    static KEY: OnceLock<Arc<SigningKey>> = OnceLock::new();
    KEY.get_or_init(|| Arc::new(SigningKey::generate())).clone()
}

/// A running simulator with two tenants: ALICE and BOB in TENANT, CAROL in OTHER_TENANT.
pub struct Env {
    pub ca: TestCa,
    pub key: Arc<SigningKey>,
    pub clock: SimClock,
    pub sim: GraphSim,
    pub server: RunningServer,
    pub client: reqwest::Client,
}

impl Env {
    pub async fn start() -> Self {
        Self::with_limits(GraphLimits::default()).await
    }

    pub async fn with_limits(limits: GraphLimits) -> Self {
        let ca = TestCa::generate();
        let key = signing_key();
        let keys = KeyRing::default();
        keys.publish(key.jwk());
        let clock = SimClock::default();
        let sim = GraphSim::new(GraphConfig {
            identifier_uri: AUDIENCE.into(),
            keys,
            clock: clock.clone(),
            webhook_client: ca.client(),
            validation_signer: key.clone(),
            limits,
        });
        let server = sim.start(Some(ca.server_config())).await.unwrap();
        sim.add_mailbox(TENANT, ALICE, "Alice Smith");
        sim.add_mailbox(TENANT, BOB, "Bob Jones");
        sim.add_mailbox(OTHER_TENANT, CAROL, "Carol White");
        let client = ca.client();
        Self { ca, key, clock, sim, server, client }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}v1.0{path}", self.server.base_url())
    }

    pub fn token_with(&self, tenant: &str, app: &str, audience: &str, roles: &[&str]) -> String {
        mint(
            &self.key,
            &TokenSpec {
                tenant_id: tenant.into(),
                app_id: app.into(),
                object_id: APP_OBJECT.into(),
                audience: audience.into(),
                roles: roles.iter().map(|r| r.to_string()).collect(),
                issued_at: self.clock.unix(),
                lifetime_secs: 3599,
                appidacr: "1",
            },
        )
    }

    /// A token of APP in TENANT.
    pub fn token(&self, roles: &[&str]) -> String {
        self.token_with(TENANT, APP, AUDIENCE, roles)
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, HeaderMap, Value) {
        self.send(self.client.get(self.url(path)), token).await
    }

    pub async fn get_with(
        &self,
        path: &str,
        token: &str,
        prefer: &str,
    ) -> (StatusCode, HeaderMap, Value) {
        self.send(self.client.get(self.url(path)).header("Prefer", prefer), token).await
    }

    /// Follows an absolute link returned by the simulator.
    pub async fn follow(
        &self,
        link: &str,
        token: &str,
        prefer: Option<&str>,
    ) -> (StatusCode, HeaderMap, Value) {
        let mut req = self.client.get(link);
        if let Some(p) = prefer {
            req = req.header("Prefer", p);
        }
        self.send(req, token).await
    }

    pub async fn post(
        &self,
        path: &str,
        token: &str,
        body: &Value,
    ) -> (StatusCode, HeaderMap, Value) {
        self.send(self.client.post(self.url(path)).json(body), token).await
    }

    pub async fn send(
        &self,
        req: reqwest::RequestBuilder,
        token: &str,
    ) -> (StatusCode, HeaderMap, Value) {
        let resp = req.bearer_auth(token).send().await.unwrap();
        let status = StatusCode::from_u16(resp.status().as_u16()).unwrap();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, headers, body)
    }
}

/// Asserts a Graph error: status, `error.code`, and the `innerError` ids.
pub fn assert_error(resp: &(StatusCode, HeaderMap, Value), status: u16, code: &str) {
    let (s, headers, body) = resp;
    assert_eq!(s.as_u16(), status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    let request_id = headers["request-id"].to_str().unwrap();
    assert_eq!(body["error"]["innerError"]["request-id"], request_id, "{body}");
    assert!(body["error"]["innerError"]["date"].is_string(), "{body}");
}

/// How the receiver answers.
#[derive(Debug, Clone)]
pub enum Handshake {
    /// 200, text/plain, the decoded token.
    Echo,
    /// 200 text/plain with the token still URL-encoded.
    Encoded,
    /// 200 but JSON.
    Json,
    /// This status.
    Status(u16),
    /// Echo after this delay.
    Slow(Duration),
}

#[derive(Debug)]
pub struct ReceiverState {
    pub handshake: Handshake,
    /// Statuses for the next notification POSTs (then 202).
    pub notification_statuses: VecDeque<u16>,
    /// Delay before answering notifications.
    pub notification_delay: Option<Duration>,
    pub handshakes: Vec<(String, String, Option<String>)>,
    tx: mpsc::UnboundedSender<(String, Value)>,
}

/// A tiny HTTPS webhook endpoint with the test CA.
pub struct Receiver {
    pub server: RunningServer,
    pub state: Arc<Mutex<ReceiverState>>,
    rx: mpsc::UnboundedReceiver<(String, Value)>,
}

impl Receiver {
    pub async fn start(ca: &TestCa, handshake: Handshake) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let state = Arc::new(Mutex::new(ReceiverState {
            handshake,
            notification_statuses: VecDeque::new(),
            notification_delay: None,
            handshakes: Vec::new(),
            tx,
        }));
        let app = Router::new().route("/{*path}", post(receive)).with_state(state.clone());
        let server =
            RunningServer::start(app, "127.0.0.1:0".parse().unwrap(), Some(ca.server_config()))
                .await
                .unwrap();
        Self { server, state, rx }
    }

    /// `https://127.0.0.1:{port}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.server.base_url().as_str().trim_end_matches('/'), path)
    }

    /// The next notification POST: (raw query, JSON body).
    pub async fn next(&mut self) -> (String, Value) {
        tokio::time::timeout(Duration::from_secs(10), self.rx.recv())
            .await
            .expect("a notification within 10 s")
            .expect("receiver open")
    }

    /// Asserts nothing arrives for `wait`.
    pub async fn expect_nothing(&mut self, wait: Duration) {
        if let Ok(Some((_, body))) = tokio::time::timeout(wait, self.rx.recv()).await {
            panic!("unexpected notification {body}");
        }
    }

    pub fn handshakes(&self) -> Vec<(String, String, Option<String>)> {
        self.state.lock().unwrap().handshakes.clone()
    }
}

async fn receive(
    State(state): State<Arc<Mutex<ReceiverState>>>,
    axum::extract::Path(path): axum::extract::Path<String>,
    RawQuery(query): RawQuery,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let query = query.unwrap_or_default();
    let token = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "validationToken")
        .map(|(_, v)| v.into_owned());
    if let Some(token) = token {
        let content_type =
            headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
        let mode = {
            let mut s = state.lock().unwrap();
            s.handshakes.push((format!("/{path}"), token.clone(), content_type));
            s.handshake.clone()
        };
        let raw = query
            .split('&')
            .find_map(|p| p.strip_prefix("validationToken="))
            .unwrap_or_default()
            .to_string();
        return match mode {
            Handshake::Echo => ([(header::CONTENT_TYPE, "text/plain")], token).into_response(),
            Handshake::Encoded => ([(header::CONTENT_TYPE, "text/plain")], raw).into_response(),
            Handshake::Json => {
                axum::Json(serde_json::json!({"validationToken": token})).into_response()
            }
            Handshake::Status(s) => StatusCode::from_u16(s).unwrap().into_response(),
            Handshake::Slow(d) => {
                tokio::time::sleep(d).await;
                ([(header::CONTENT_TYPE, "text/plain")], token).into_response()
            }
        };
    }
    let (status, delay) = {
        let mut s = state.lock().unwrap();
        let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let _ = s.tx.send((query, json));
        (s.notification_statuses.pop_front().unwrap_or(202), s.notification_delay)
    };
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    StatusCode::from_u16(status).unwrap().into_response()
}

/// A subscription body for ALICE's inbox messages.
pub fn inbox_subscription(env: &Env, url: &str, minutes: i64) -> Value {
    serde_json::json!({
        "changeType": "created,updated,deleted",
        "notificationUrl": url,
        "resource": format!("users/{}/mailFolders('inbox')/messages", env.sim.user_id(ALICE)),
        "expirationDateTime": expiry(env, minutes),
        "clientState": "secret-client-state",
    })
}

/// `now + minutes` in Graph's format.
pub fn expiry(env: &Env, minutes: i64) -> String {
    let t = env.clock.now() + time::Duration::minutes(minutes);
    t.format(&time::format_description::well_known::Rfc3339).unwrap()
}

/// Creates a subscription with APP's reader token; returns its id.
pub async fn subscribe(env: &Env, body: &Value) -> String {
    let (status, _, sub) = env.post("/subscriptions", &env.token(READER), body).await;
    assert_eq!(status, 201, "{sub}");
    sub["id"].as_str().unwrap().to_string()
}

/// The ids in a delta page.
pub fn ids(page: &Value) -> Vec<String> {
    page["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect()
}

/// The ids of `@removed` entries in a delta page.
pub fn removed(page: &Value) -> Vec<String> {
    page["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["@removed"]["reason"] == "deleted")
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect()
}
