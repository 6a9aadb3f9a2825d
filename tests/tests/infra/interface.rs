//! The expanded template against what the functions read (the names in
//! `exsync_shared::adapters::aws`) and the interface of issue 4 (AWS.md): environment, event
//! sources, queue leases and redrive, table keys, schedules, and who may do what.

use exsync_shared::{adapters::aws::env, jobs::QueueName, runtime::RetryPolicy};
use serde_json::{Value, json};

use crate::expanded;

/// The five functions, by logical id and the package cargo-lambda builds them from.
pub const FUNCTIONS: [(&str, &str); 5] = [
    ("NotifyFunction", "exsync-notify"),
    ("SubscribeFunction", "exsync-subscribe"),
    ("SyncFunction", "exsync-sync"),
    ("WriteFunction", "exsync-write"),
    ("TokensFunction", "exsync-tokens"),
];

/// Functions that ask `tokens` for access tokens.
pub const TOKEN_CALLERS: [&str; 3] = ["SubscribeFunction", "SyncFunction", "WriteFunction"];

/// What the Lambda glue reads besides the adapters' names.
const CONFIG_URI: &str = env::CONFIG_URI;
const PUBLIC_URL: &str = env::PUBLIC_URL;

/// A queue's logical id, and its dead-letter queue's.
pub fn queue_ids(queue: QueueName) -> (String, String) {
    let name = match queue {
        QueueName::Changes => "Changes",
        QueueName::Writes => "Writes",
        QueueName::Subscriptions => "Subscriptions",
    };
    (format!("{name}Queue"), format!("{name}DeadLetterQueue"))
}

/// The function that consumes `queue`.
fn consumer(queue: QueueName) -> &'static str {
    match queue {
        QueueName::Changes => "SyncFunction",
        QueueName::Writes => "WriteFunction",
        QueueName::Subscriptions => "SubscribeFunction",
    }
}

/// The properties of resource `id`.
pub fn properties(id: &str) -> &'static Value {
    expanded()
        .pointer(&format!("/Resources/{id}/Properties"))
        .unwrap_or_else(|| panic!("the expanded template has no resource {id}"))
}

/// Every resource of type `kind`, with its properties.
pub fn of_type(kind: &str) -> Vec<(&'static str, &'static Value)> {
    let resources = expanded()["Resources"].as_object().expect("Resources");
    resources
        .iter()
        .filter(|(_, r)| r["Type"] == kind)
        .map(|(id, r)| (id.as_str(), &r["Properties"]))
        .collect()
}

/// A number, literal or `Fn::FindInMap` of the template's Mappings.
fn number(value: &Value) -> u64 {
    if let Some(path) = value.get("Fn::FindInMap").and_then(Value::as_array) {
        let [map, key, field] = &path[..] else { panic!("FindInMap of three: {value}") };
        let found = &expanded()["Mappings"][map.as_str().unwrap()][key.as_str().unwrap()];
        return number(&found[field.as_str().unwrap()]);
    }
    value.as_u64().unwrap_or_else(|| panic!("not a number the test can read: {value}"))
}

#[test]
fn every_function_is_a_cargo_lambda_binary_on_arm64_logging_json() {
    for (id, package) in FUNCTIONS {
        let p = properties(id);
        assert_eq!(p["Runtime"], "provided.al2023", "{id}");
        assert_eq!(p["Architectures"], json!([{"Ref": "Architecture"}]), "{id}");
        assert_eq!(p["Handler"], "bootstrap", "{id}");
        assert_eq!(p["LoggingConfig"]["LogFormat"], "JSON", "{id}");
        // Retries and continuations go back to the queue that invoked the function.
        assert_eq!(p["RecursiveLoop"], "Allow", "{id}");
        let key = p["Code"]["S3Key"].as_str().unwrap_or_default();
        assert!(key.ends_with(&format!("target-lambda-{package}.zip")), "{id} is built from {key}");
    }
    assert_eq!(expanded()["Parameters"]["Architecture"]["Default"], "arm64");
    assert_eq!(properties("NotifyFunctionUrl")["AuthType"], "NONE");
}

#[test]
fn every_function_gets_the_environment_the_adapters_read() {
    for (id, _) in FUNCTIONS {
        let vars = &properties(id)["Environment"]["Variables"];
        assert_eq!(vars[env::TABLE_NAME], json!({"Ref": "StateTable"}), "{id}");
        for queue in QueueName::ALL {
            let (queue_id, dead_letter_id) = queue_ids(queue);
            assert_eq!(vars[env::queue_url_variable(queue)], json!({"Ref": queue_id}), "{id}");
            let dead_letters = &vars[env::dead_letter_url_variable(queue)];
            assert_eq!(dead_letters, &json!({"Ref": dead_letter_id}), "{id}");
        }
        let config = vars[CONFIG_URI]["Fn::Sub"].as_str().unwrap_or_default();
        assert_eq!(config, "s3://${ConfigBucket}/${ConfigKey}", "{id}");
        assert_eq!(vars["RUST_LOG"], json!({"Ref": "LogLevel"}), "{id}");
        let tokens = &vars[env::TOKENS_FUNCTION];
        if TOKEN_CALLERS.contains(&id) {
            assert_eq!(tokens, &json!({"Ref": "TokensFunction"}), "{id}");
        } else {
            assert!(tokens.is_null(), "{id} does not call tokens");
        }
    }
    let public = &properties("SubscribeFunction")["Environment"]["Variables"][PUBLIC_URL];
    assert_eq!(public, &json!({"Fn::GetAtt": ["NotifyFunctionUrl", "FunctionUrl"]}));
}

#[test]
fn the_admin_environment_output_names_every_variable_exsync_aws_reads() {
    let joined = &expanded()["Outputs"]["AdminEnvironment"]["Value"]["Fn::Join"];
    assert_eq!(joined[0], " ", "space-separated, for `export $(...)`");
    let parts = joined[1].as_array().expect("the parts");
    let assigned: std::collections::HashMap<&str, &str> = parts
        .iter()
        .map(|p| p["Fn::Sub"].as_str().unwrap_or_else(|| panic!("a !Sub: {p}")))
        .map(|p| p.split_once('=').unwrap_or_else(|| panic!("NAME=value: {p}")))
        .collect();
    let mut expected = vec![
        ("AWS_REGION", "${AWS::Region}".to_string()),
        (env::TABLE_NAME, "${StateTable}".into()),
        (CONFIG_URI, "s3://${ConfigBucket}/${ConfigKey}".into()),
        (env::TOKENS_FUNCTION, "${TokensFunction}".into()),
    ];
    for queue in QueueName::ALL {
        let (queue_id, dead_letter_id) = queue_ids(queue);
        expected.push((env::queue_url_variable(queue), format!("${{{queue_id}}}")));
        expected.push((env::dead_letter_url_variable(queue), format!("${{{dead_letter_id}}}")));
    }
    assert_eq!(assigned.len(), expected.len(), "{assigned:?}");
    for (name, value) in expected {
        assert_eq!(assigned.get(name).copied(), Some(value.as_str()), "{name}");
    }
}

#[test]
fn every_consumer_reports_partial_failures_within_its_queue_lease() {
    let mappings = of_type("AWS::Lambda::EventSourceMapping");
    assert_eq!(mappings.len(), 3, "one event source per queue");
    for queue in QueueName::ALL {
        let (queue_id, dead_letter_id) = queue_ids(queue);
        let function = consumer(queue);
        let (_, source) = mappings
            .iter()
            .find(|(_, m)| m["EventSourceArn"] == json!({"Fn::GetAtt": [queue_id, "Arn"]}))
            .unwrap_or_else(|| panic!("no event source reads {queue_id}"));
        assert_eq!(source["FunctionName"], json!({"Ref": function}), "{queue_id}");
        assert_eq!(source["FunctionResponseTypes"], json!(["ReportBatchItemFailures"]));
        let bound = &source["ScalingConfig"]["MaximumConcurrency"];
        assert!(!bound.is_null(), "{queue_id}: the event source's fan-out is bounded");
        let batch = number(&source["BatchSize"]);
        let window = source.get("MaximumBatchingWindowInSeconds").map_or(0, number);
        match queue {
            QueueName::Changes => assert!((1..=5).contains(&batch), "sync batch {batch}"),
            QueueName::Writes => assert_eq!((batch, window), (10, 1), "write batch and window"),
            QueueName::Subscriptions => assert!((1..=10).contains(&batch)),
        }
        let q = properties(&queue_id);
        let timeout = number(&properties(function)["Timeout"]);
        let lease = number(&q["VisibilityTimeout"]);
        assert!(
            lease >= 6 * timeout + window,
            "{queue_id}: lease {lease} s, {function} {timeout} s"
        );
        let redrive = &q["RedrivePolicy"];
        assert_eq!(redrive["deadLetterTargetArn"], json!({"Fn::GetAtt": [dead_letter_id, "Arn"]}));
        let receives = number(&redrive["maxReceiveCount"]);
        assert!(receives > u64::from(RetryPolicy::DEFAULT.max_receives), "the runtime parks first");
        let dead = properties(&dead_letter_id);
        assert_eq!(number(&dead["MessageRetentionPeriod"]), 14 * 24 * 3600, "{dead_letter_id}");
        assert!(
            number(&q["MessageRetentionPeriod"]) < 14 * 24 * 3600,
            "a redriven job keeps its age"
        );
        assert_eq!(number(&dead["MaximumMessageSize"]), 1_048_576, "a job and its reason fit");
    }
}
