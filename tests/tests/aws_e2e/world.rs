//! `AwsApp`: the demo organisation on the simulators and exsync's AWS resources on moto (three
//! queues with their dead-letter queues, the table, the secrets, the configuration object),
//! with each function's handler built from its own environment, as the template sets it.

use std::{collections::HashMap, path::PathBuf, sync::Arc, time::Duration};

use async_trait::async_trait;
use aws_config::SdkConfig;
use exsync_shared::{
    adapters::aws::env,
    domain::MailboxAddress,
    jobs::QueueName,
    lambda::{
        LambdaEvent, Pipeline, SqsBatchResponse, lambda_http, lambda_runtime::Context, notify, sqs,
        subscribe, tokens::TokensFunction,
    },
    listener,
    ports::{AccessToken, CredentialKey, Resource, StatusStore, TokenError, Tokens},
    status::MailboxStatus,
    tokens_api::{TokenRequest, TokenResponse},
};
use exsync_sim::{dataverse::EmailView, graph::GraphSim, scenario::DemoOrg};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{
    mapping::{Function, Mapping},
    moto::{Moto, REGION},
};

/// The synced mailboxes of the demo organisation.
pub const ALICE: &str = "alice@fabrikam.example";
pub const BOB: &str = "bob@fabrikam.example";
pub const CAROL: &str = "carol@contoso.example";

/// Builds an [`AwsApp`].
#[derive(Debug, Default)]
pub struct Builder {
    max_receive_count: Option<u32>,
    overrides: Vec<(&'static str, String)>,
    idle: bool,
}

impl Builder {
    /// SQS moves a message to the dead-letter queue after `n` receives (the template: 10).
    pub fn max_receive_count(mut self, n: u32) -> Self {
        self.max_receive_count = Some(n);
        self
    }

    /// Sets a variable of every function's environment to `value` (a broken deployment).
    pub fn env(mut self, name: &'static str, value: &str) -> Self {
        self.overrides.push((name, value.to_string()));
        self
    }

    /// No event source mappings run: the test polls them itself.
    pub fn idle(mut self) -> Self {
        self.idle = true;
        self
    }

    /// Makes the resources and starts the functions.
    pub async fn start(self) -> AwsApp {
        let moto = Moto::shared();
        let sdk = moto.sdk_config().await;
        let org = DemoOrg::start().await.expect("simulators start");
        let dir = org.cloud.dir().to_path_buf();
        let stem = moto.unique("exsync");
        let mut env_vars = HashMap::new();
        let mut queues = HashMap::new();
        for queue in QueueName::ALL {
            let name = format!("{stem}-{}", queue.as_str());
            let pair = moto.create_queue(&name, self.max_receive_count.unwrap_or(10)).await;
            env_vars.insert(env::queue_url_variable(queue).to_string(), pair.url.clone());
            env_vars.insert(
                env::dead_letter_url_variable(queue).to_string(),
                pair.dead_letter_url.clone(),
            );
            queues.insert(queue, (pair.url, pair.dead_letter_url));
        }
        moto.create_table(&stem).await;
        env_vars.insert(env::TABLE_NAME.into(), stem.clone());

        // The configuration as an admin writes it for AWS: secrets as aws-sm: references.
        let mut config = org.cloud.config(&org.dataverse);
        config = config.profile("fabrikam", &org.fabrikam, "").profile("contoso", &org.contoso, "");
        for staff in &org.staff {
            config = config.mailbox(&staff.address, staff.profile, "");
        }
        config.write(&dir).expect("ca.pem beside the configuration");
        let mut text = config.toml();
        for (name, value) in [
            ("dataverse", &org.dataverse.secret),
            ("fabrikam", &org.fabrikam.secret),
            ("contoso", &org.contoso.secret),
        ] {
            let arn = moto.create_secret(&format!("exsync/{stem}/{name}"), value).await;
            text = text.replace(&format!("file:secrets/{name}"), &format!("aws-sm:{arn}"));
        }
        let bucket = format!("{stem}-config");
        let s3 = S3 { endpoint: moto.endpoint(), bucket: bucket.clone() };
        s3.create_bucket().await;
        s3.put("exsync.toml", &text).await;
        env_vars.insert(env::CONFIG_URI.into(), format!("s3://{bucket}/exsync.toml"));
        for (name, value) in &self.overrides {
            env_vars.insert(name.to_string(), value.clone());
        }

        // notify behind a TLS listener standing in for the Function URL.
        let socket = TcpListener::bind("127.0.0.1:0").await.expect("bind a port");
        let url = format!("https://127.0.0.1:{}", socket.local_addr().expect("bound").port());
        let (cert, key) = (dir.join("listener.pem"), dir.join("listener.key"));
        org.cloud.ca.write_server_pem(&cert, &key).expect("listener certificate");
        let tls = listener::tls_config(&cert, &key).expect("listener TLS");

        let tokens = Arc::new(
            TokensFunction::from_lookup(&sdk, &lookup(&env_vars), dir.clone())
                .expect("tokens starts"),
        );
        let pipeline = |extra: &[(&str, &str)]| {
            let mut vars = env_vars.clone();
            for (k, v) in extra {
                vars.insert(k.to_string(), v.to_string());
            }
            let pipeline = Pipeline::from_lookup(&sdk, &lookup(&vars), dir.clone())
                .expect("a function starts");
            let pipeline = if vars.contains_key(env::TOKENS_FUNCTION) {
                pipeline.with_tokens(Arc::new(InvokeTokens(tokens.clone())))
            } else {
                pipeline
            };
            Arc::new(pipeline)
        };
        let caller = [(env::TOKENS_FUNCTION, "exsync-tokens")];
        let notify = pipeline(&[]);
        let sync = pipeline(&caller);
        let write = pipeline(&caller);
        let subscribe = pipeline(&[caller[0], (env::PUBLIC_URL, url.as_str())]);

        let stop = CancellationToken::new();
        tokio::spawn(listener::serve(
            function_url(notify.clone()),
            socket,
            Some(tls),
            stop.clone(),
        ));
        let app = AwsApp { org, sdk, dir, s3, queues, env: env_vars, sync, write, subscribe, stop };
        if !self.idle {
            for queue in QueueName::ALL {
                app.mapping(queue).spawn(app.stop.clone());
            }
        }
        app
    }
}

/// The functions on moto and the simulators.
#[derive(Debug)]
pub struct AwsApp {
    /// The simulators and the organisation on them.
    pub org: DemoOrg,
    /// moto's SDK configuration.
    pub sdk: SdkConfig,
    /// The folder of the configuration's files (`ca.pem`).
    pub dir: PathBuf,
    /// The configuration's bucket.
    pub s3: S3,
    /// Each queue's URL and its dead-letter queue's.
    pub queues: HashMap<QueueName, (String, String)>,
    /// The functions' environment.
    pub env: HashMap<String, String>,
    /// Each function's instance (notify's serves the stand-in Function URL).
    pub sync: Arc<Pipeline>,
    pub write: Arc<Pipeline>,
    pub subscribe: Arc<Pipeline>,
    stop: CancellationToken,
}

impl Drop for AwsApp {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl AwsApp {
    /// Every mapping running, the template's redrive.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Graph.
    pub fn graph(&self) -> &GraphSim {
        &self.org.cloud.graph
    }

    /// The function a queue's mapping invokes, as Lambda invokes it.
    pub fn function(&self, queue: QueueName) -> Function {
        let pipeline = match queue {
            QueueName::Changes => self.sync.clone(),
            QueueName::Writes => self.write.clone(),
            QueueName::Subscriptions => self.subscribe.clone(),
        };
        Arc::new(move |event| {
            let pipeline = pipeline.clone();
            Box::pin(async move {
                let event = LambdaEvent::new(event, Context::default());
                if queue != QueueName::Subscriptions {
                    return sqs::handle(&pipeline, queue, event).await.map_err(|e| e.to_string());
                }
                let (payload, context) = event.into_parts();
                let event = LambdaEvent::new(serde_json::to_value(payload).expect("json"), context);
                let answer =
                    subscribe::handle(&pipeline, event).await.map_err(|e| e.to_string())?;
                serde_json::from_value::<SqsBatchResponse>(answer).map_err(|e| e.to_string())
            })
        })
    }

    /// The event source mapping of `queue`.
    pub fn mapping(&self, queue: QueueName) -> Mapping {
        let url = self.queues[&queue].0.clone();
        let name = url.rsplit('/').next().expect("a queue name");
        let arn = format!("arn:aws:sqs:{REGION}:123456789012:{name}");
        Mapping::new(aws_sdk_sqs::Client::new(&self.sdk), url, arn, self.function(queue))
    }

    /// Invokes `subscribe` as the schedule does (`{"action": "upkeep"}` or `"sweep"`).
    pub async fn schedule(&self, action: &str) -> Value {
        let event = LambdaEvent::new(json!({ "action": action }), Context::default());
        subscribe::handle(&self.subscribe, event).await.expect("the schedule runs")
    }

    /// Waits until Graph holds `n` subscriptions.
    pub async fn wait_subscribed(&self, n: usize) {
        wait_for(&format!("{n} Graph subscriptions"), Duration::from_secs(30), || {
            (self.graph().subscriptions().len() >= n).then_some(())
        })
        .await;
    }

    /// The email activities with this Message-ID.
    pub fn emails_with(&self, message_id: &str) -> Vec<EmailView> {
        let emails = self.org.dataverse.env.emails();
        emails.into_iter().filter(|e| e.messageid.as_deref() == Some(message_id)).collect()
    }

    /// Waits until the email with this Message-ID is in Dataverse and returns it.
    pub async fn landed(&self, message_id: &str) -> EmailView {
        wait_for(&format!("email {message_id} in Dataverse"), Duration::from_secs(30), || {
            self.emails_with(message_id).into_iter().next()
        })
        .await
    }

    /// A mailbox's status, from DynamoDB.
    pub async fn status(&self, mailbox: &str) -> Option<MailboxStatus> {
        let mailbox = MailboxAddress::parse(mailbox).expect("an address");
        self.write.store().status(&mailbox).await.expect("status readable")
    }

    /// Waits until the changes and writes queues hold nothing for half a second.
    pub async fn quiet(&self) {
        let (settle, limit) = (Duration::from_millis(500), Duration::from_secs(30));
        exsync_sim::settle::until_quiet(self.write.queue().as_ref(), settle, limit).await;
    }
}

/// The environment `vars` as the functions read it.
fn lookup(vars: &HashMap<String, String>) -> impl Fn(&str) -> Option<String> + '_ {
    move |name| vars.get(name).cloned()
}

/// The Function URL: each HTTPS request, as lambda_http hands it to the function.
fn function_url(pipeline: Arc<Pipeline>) -> axum::Router {
    axum::Router::new().fallback(move |request: axum::extract::Request| {
        let pipeline = pipeline.clone();
        async move {
            let (parts, body) = request.into_parts();
            let bytes = axum::body::to_bytes(body, 8 << 20).await.expect("a body");
            let request = http::Request::from_parts(parts, lambda_http::Body::from(bytes.to_vec()));
            notify::handle(&pipeline, request).await.expect("notify answers")
        }
    })
}

/// The `tokens` function invoked with its JSON payloads, as `LambdaTokens` invokes it.
#[derive(Debug)]
struct InvokeTokens(Arc<TokensFunction>);

#[async_trait]
impl Tokens for InvokeTokens {
    async fn token(
        &self,
        key: &CredentialKey,
        resource: Resource,
    ) -> Result<AccessToken, TokenError> {
        let payload = serde_json::to_vec(&TokenRequest::new(key, resource)).expect("a request");
        let request: TokenRequest =
            serde_json::from_slice(&payload).expect("the function reads it");
        let answer = serde_json::to_vec(&self.0.answer(request).await).expect("an answer");
        let response: TokenResponse = serde_json::from_slice(&answer).expect("the caller reads it");
        response.into_result(key)
    }
}

/// The configuration's bucket on moto. moto does not check signatures, but it takes a request
/// without an `Authorization` header for an anonymous one, which may create but not overwrite
/// an object (403): writes carry a header of the SigV4 form, unverified.
#[derive(Debug, Clone)]
pub struct S3 {
    endpoint: String,
    bucket: String,
}

impl S3 {
    async fn create_bucket(&self) {
        let body = format!(
            "<CreateBucketConfiguration><LocationConstraint>{REGION}</LocationConstraint></CreateBucketConfiguration>"
        );
        let url = format!("{}/{}", self.endpoint, self.bucket);
        let response = reqwest::Client::new().put(url).body(body).send().await.expect("moto");
        assert!(response.status().is_success(), "CreateBucket: {}", response.status());
    }

    /// Writes object `key`.
    pub async fn put(&self, key: &str, text: &str) {
        let url = format!("{}/{}/{key}", self.endpoint, self.bucket);
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential=moto/20260101/{REGION}/s3/aws4_request, \
             SignedHeaders=host, Signature=0"
        );
        let request = reqwest::Client::new().put(url).header("authorization", authorization);
        let response = request.body(text.to_string()).send().await.expect("moto");
        let status = response.status();
        assert!(
            status.is_success(),
            "PutObject: {status} {}",
            response.text().await.unwrap_or_default()
        );
    }
}

/// Polls `probe` every 50 ms until it answers, for at most `limit`.
pub async fn wait_for<T>(what: &str, limit: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(tokio::time::Instant::now() < deadline, "waited {limit:?} for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
