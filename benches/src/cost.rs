//! AWS cost per million synced emails: the calls each step of the pipeline makes on AWS (read
//! from the AWS adapters and the SAM template), times how often each step ran per email in a
//! measured steady-state run, at list prices.

use crate::latency::Steady;

/// List prices, us-east-1, on-demand (checked 2026-12-02 against the AWS pricing pages:
/// aws.amazon.com/sqs/pricing, /dynamodb/pricing/on-demand, /lambda/pricing,
/// /secrets-manager/pricing).
pub mod price {
    /// SQS standard queue, per request (a batch of up to 10 messages is one request).
    pub const SQS_REQUEST: f64 = 0.40 / 1e6;
    /// DynamoDB on-demand, per write request unit (an item up to 1 KB; a transactional write
    /// costs two).
    pub const DYNAMO_WRITE: f64 = 0.625 / 1e6;
    /// DynamoDB on-demand, per read request unit (a strongly consistent read up to 4 KB).
    pub const DYNAMO_READ: f64 = 0.125 / 1e6;
    /// Lambda, per invocation.
    pub const LAMBDA_REQUEST: f64 = 0.20 / 1e6;
    /// Lambda arm64, per GB-second.
    pub const LAMBDA_GB_SECOND: f64 = 0.0000133334;
    /// Secrets Manager, per API call.
    pub const SECRETS_CALL: f64 = 0.05 / 10_000.0;
}

/// Time one AWS call takes from Lambda in the same region (billed as Lambda duration).
const DYNAMO_MS: f64 = 5.0;
const SQS_MS: f64 = 10.0;

/// Calls and GB-seconds per email.
#[derive(Debug, Clone, Copy, Default)]
pub struct PerEmail {
    /// SQS requests.
    pub sqs: f64,
    /// DynamoDB write request units.
    pub dynamo_writes: f64,
    /// DynamoDB read request units.
    pub dynamo_reads: f64,
    /// Lambda invocations.
    pub lambda_invocations: f64,
    /// Lambda GB-seconds.
    pub lambda_gb_seconds: f64,
    /// Secrets Manager calls.
    pub secrets: f64,
}

impl PerEmail {
    /// Dollars per million emails, by service: SQS, DynamoDB, Lambda, Secrets Manager.
    pub fn dollars_per_million(&self) -> [(&'static str, f64); 4] {
        let m = 1e6;
        [
            ("SQS", self.sqs * price::SQS_REQUEST * m),
            (
                "DynamoDB",
                (self.dynamo_writes * price::DYNAMO_WRITE + self.dynamo_reads * price::DYNAMO_READ)
                    * m,
            ),
            (
                "Lambda",
                (self.lambda_invocations * price::LAMBDA_REQUEST
                    + self.lambda_gb_seconds * price::LAMBDA_GB_SECOND)
                    * m,
            ),
            ("Secrets Manager", self.secrets * price::SECRETS_CALL * m),
        ]
    }

    /// The total.
    pub fn total_per_million(&self) -> f64 {
        self.dollars_per_million().iter().map(|(_, d)| d).sum()
    }
}

/// How often each step ran per email, from a measured run.
#[derive(Debug, Clone, Copy)]
pub struct Steps {
    /// Notification POSTs (one `notify` invocation each).
    pub posts: f64,
    /// Notifications (each looked up and coalesced into a pass).
    pub notifications: f64,
    /// Folder passes (`sync` jobs enqueued).
    pub passes: f64,
    /// Write jobs enqueued (`write` and `screen`).
    pub write_jobs: f64,
    /// Subscription jobs enqueued.
    pub subscription_jobs: f64,
    /// Writes to the state, by table (one DynamoDB write each; a subscription is written as
    /// two items in a transaction: four units).
    pub state_writes: f64,
    /// Subscription writes among them.
    pub subscription_writes: f64,
    /// Graph time per email (round trips of the profile), ms.
    pub graph_ms: f64,
    /// Dataverse time per email, ms.
    pub dataverse_ms: f64,
}

impl Steps {
    /// From a steady run that counted its state operations.
    pub fn of(run: &Steady, graph_latency_ms: f64, dataverse_latency_ms: f64) -> Self {
        let n = run.committed.max(1) as f64;
        let count = |name: &str| run.counts.get(name).copied().unwrap_or(0) as f64 / n;
        let writes: f64 = run
            .counts
            .iter()
            .filter(|(k, _)| k.starts_with("write:"))
            .map(|(_, v)| *v as f64 / n)
            .sum();
        Self {
            posts: run.notifications.1 as f64 / n,
            notifications: run.notifications.0 as f64 / n,
            passes: count("enqueue:changes"),
            write_jobs: count("enqueue:writes"),
            subscription_jobs: count("enqueue:subscriptions"),
            state_writes: writes,
            subscription_writes: count("write:subscriptions"),
            graph_ms: run.graph_requests as f64 / n * graph_latency_ms,
            dataverse_ms: run.dataverse_http as f64 / n * dataverse_latency_ms,
        }
    }
}

/// Emails a `write` invocation gets (template: batch size 10, 1 s batching window; at the
/// rates measured here batches fill).
const WRITE_BATCH: f64 = 10.0;

/// The AWS calls of each step (shared/src/adapters/aws, infra/template.yaml):
/// - notify, per POST: one invocation (256 MB); per notification a subscription GetItem; one
///   SendMessageBatch per POST for the passes it queued (the pass marks' writes are counted).
/// - sync, per pass (SQS batch size 5; counted as one pass per invocation, the worst case):
///   the event source's ReceiveMessage and DeleteMessageBatch, the cursor's GetItem, one
///   SendMessageBatch per 10 write jobs (at least one per pass that found mail).
/// - write, per batch of [`WRITE_BATCH`]: one invocation (512 MB), ReceiveMessage and
///   DeleteMessageBatch; per job the dedupe GetItem.
/// - every counted state write: one DynamoDB write unit (subscriptions: two items in a
///   transaction, four units).
/// - tokens: cached by every caller until shortly before expiry (an hour): one tokens
///   invocation and one GetSecretValue per warm instance and hour, nothing per email.
pub fn per_email(steps: Steps) -> PerEmail {
    let gb = |mb: f64| mb / 1024.0;
    let write_batches = steps.write_jobs / WRITE_BATCH;
    let sends_per_pass = (steps.write_jobs / steps.passes.max(1e-9) / 10.0).ceil().max(1.0);
    let dynamo_writes = steps.state_writes + steps.subscription_writes * 3.0;
    let dynamo_reads = steps.notifications + steps.passes + steps.write_jobs;
    let notify_ms = steps.notifications / steps.posts.max(1e-9) * 2.0 * DYNAMO_MS + SQS_MS;
    let sync_ms = 4.0 * DYNAMO_MS + sends_per_pass * SQS_MS;
    PerEmail {
        sqs: steps.posts
            + steps.passes * (2.0 + sends_per_pass)
            + write_batches * 2.0
            + steps.subscription_jobs * 3.0,
        dynamo_writes,
        dynamo_reads,
        lambda_invocations: steps.posts + steps.passes + write_batches,
        lambda_gb_seconds: (steps.posts * notify_ms * gb(256.0)
            + (steps.passes * sync_ms + steps.graph_ms) * gb(512.0)
            + (steps.write_jobs * 2.0 * DYNAMO_MS + write_batches * SQS_MS + steps.dataverse_ms)
                * gb(512.0))
            / 1000.0,
        secrets: 0.0,
    }
}
