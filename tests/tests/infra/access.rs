//! Who may do what (one role per function, least privilege), the state table, the schedules
//! and the alarms, in the expanded template.

use exsync_shared::adapters::aws::dynamo::{TTL_ATTRIBUTE, keys};
use serde_json::{Value, json};

use exsync_shared::jobs::QueueName;

use crate::interface::{FUNCTIONS, TOKEN_CALLERS, of_type, properties, queue_ids};

/// Every statement of a role's inline policies, or of a managed policy.
fn statements(id: &str) -> Vec<&'static Value> {
    let managed = std::slice::from_ref(properties(id));
    let policies = properties(id)["Policies"].as_array().map_or(managed, Vec::as_slice);
    policies
        .iter()
        .flat_map(|p| p["PolicyDocument"]["Statement"].as_array().expect("statements"))
        .collect()
}

/// A string or a list of them.
fn list(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

/// The resources `role` allows `action` on.
fn resources_of(role: &str, action: &str) -> Vec<&'static Value> {
    statements(role)
        .into_iter()
        .filter(|s| s["Effect"] == "Allow" && list(&s["Action"]).contains(&&json!(action)))
        .flat_map(|s| list(&s["Resource"]))
        .collect()
}

fn arn_of(id: &str) -> Value {
    json!({"Fn::GetAtt": [id, "Arn"]})
}

fn role_of(function: &str) -> String {
    function.replace("Function", "Role")
}

#[test]
fn every_function_has_a_role_of_its_own_with_no_wildcard() {
    for (function, _) in FUNCTIONS {
        let role = role_of(function);
        assert_eq!(properties(function)["Role"], arn_of(&role), "{function}");
        let managed = &properties(&role)["ManagedPolicyArns"];
        assert!(managed.is_null(), "{role} has managed policies (SAM adds Resource \"*\" ones)");
        for statement in statements(&role) {
            assert_eq!(statement["Effect"], "Allow", "{role}");
            for action in list(&statement["Action"]) {
                assert!(!action.as_str().unwrap_or("*").contains('*'), "{role}: {action}");
            }
            for resource in list(&statement["Resource"]) {
                assert_ne!(resource, &json!("*"), "{role}: every resource");
            }
        }
    }
}

#[test]
fn only_tokens_reads_client_secrets_and_notify_and_subscribe_only_encryption_certificates() {
    for (function, _) in FUNCTIONS {
        let role = role_of(function);
        let reads = resources_of(&role, "secretsmanager:GetSecretValue");
        let any_secrets = statements(&role).iter().any(|s| {
            list(&s["Action"])
                .iter()
                .any(|a| a.as_str().unwrap_or("").starts_with("secretsmanager"))
        });
        if function == "TokensFunction" {
            let prefix = "secret:exsync/${AWS::StackName}/*";
            assert_eq!(reads.len(), 1);
            assert!(reads[0]["Fn::Sub"].as_str().unwrap_or("").ends_with(prefix), "{reads:?}");
        } else if ["NotifyFunction", "SubscribeFunction"].contains(&function) {
            // The documented exception: encryption certificates of rich notifications only.
            let prefix = "secret:exsync/${AWS::StackName}/encryption/*";
            assert_eq!(reads.len(), 1, "{role}");
            assert!(reads[0]["Fn::Sub"].as_str().unwrap_or("").ends_with(prefix), "{reads:?}");
            let actions: Vec<&Value> = statements(&role)
                .into_iter()
                .flat_map(|s| list(&s["Action"]))
                .filter(|a| a.as_str().unwrap_or("").starts_with("secretsmanager"))
                .collect();
            assert_eq!(actions, vec!["secretsmanager:GetSecretValue"], "{role}");
        } else {
            assert!(!any_secrets, "{role} must not touch Secrets Manager");
        }
    }
}

#[test]
fn only_consumers_receive_and_each_sends_only_where_its_jobs_go() {
    // (role, the queue it consumes, where it sends: its retries go back to its own queue,
    // its dead letters to its own DLQ, its output downstream).
    let expected: [(&str, Option<&str>, &[&str]); 5] = [
        ("NotifyRole", None, &["ChangesQueue", "SubscriptionsQueue", "WritesQueue"]),
        (
            "SubscribeRole",
            Some("SubscriptionsQueue"),
            &["SubscriptionsQueue", "SubscriptionsDeadLetterQueue", "ChangesQueue"],
        ),
        (
            "SyncRole",
            Some("ChangesQueue"),
            &["ChangesQueue", "ChangesDeadLetterQueue", "WritesQueue"],
        ),
        (
            "WriteRole",
            Some("WritesQueue"),
            &["WritesQueue", "WritesDeadLetterQueue", "ChangesQueue"],
        ),
        ("TokensRole", None, &[]),
    ];
    for (role, consumes, sends) in expected {
        let own: Vec<Value> = consumes.into_iter().map(arn_of).collect();
        for action in ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"] {
            let on: Vec<Value> = resources_of(role, action).into_iter().cloned().collect();
            assert_eq!(on, own, "{role} {action}");
        }
        let sent: Vec<Value> = resources_of(role, "sqs:SendMessage").into_iter().cloned().collect();
        assert_eq!(sent, sends.iter().map(|q| arn_of(q)).collect::<Vec<_>>(), "{role} sends");
    }
    for (function, _) in FUNCTIONS {
        let role = role_of(function);
        let invokes = resources_of(&role, "lambda:InvokeFunction");
        if TOKEN_CALLERS.contains(&function) {
            assert_eq!(invokes, vec![&arn_of("TokensFunction")], "{role}");
        } else {
            assert!(invokes.is_empty(), "{role} invokes nothing");
        }
        let config = resources_of(&role, "s3:GetObject");
        assert_eq!(config, vec![&json!({"Fn::Sub": "${ConfigBucket.Arn}/${ConfigKey}"})]);
    }
}

fn refs(values: &[Value]) -> Vec<&Value> {
    values.iter().collect()
}

#[test]
fn the_admin_policy_reads_statuses_and_dead_letters_and_no_secret() {
    let admin = "AdminPolicy";
    for statement in statements(admin) {
        assert_eq!(statement["Effect"], "Allow");
        for action in list(&statement["Action"]) {
            let action = action.as_str().expect("an action");
            assert!(!action.contains('*') && !action.starts_with("secretsmanager:"), "{action}");
        }
        for resource in list(&statement["Resource"]) {
            assert_ne!(resource, &json!("*"), "every resource");
        }
    }
    let (queues, dead_letter_queues): (Vec<Value>, Vec<Value>) = QueueName::ALL
        .into_iter()
        .map(|q| (arn_of(&queue_ids(q).0), arn_of(&queue_ids(q).1)))
        .unzip();
    for action in ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"] {
        assert_eq!(resources_of(admin, action), refs(&dead_letter_queues), "{action}");
    }
    assert_eq!(resources_of(admin, "sqs:SendMessage"), refs(&queues), "replay onto the queues");
    let everything = [queues, dead_letter_queues].concat();
    assert_eq!(resources_of(admin, "sqs:GetQueueAttributes"), refs(&everything));
    for action in ["dynamodb:Query", "dynamodb:GetItem", "dynamodb:UpdateItem"] {
        assert_eq!(resources_of(admin, action), [&arn_of("StateTable")], "{action}");
    }
    for action in ["dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Scan"] {
        assert!(resources_of(admin, action).is_empty(), "{action}");
    }
    assert_eq!(resources_of(admin, "lambda:InvokeFunction"), [&arn_of("TokensFunction")]);
    let config = resources_of(admin, "s3:GetObject");
    assert_eq!(config, [&json!({"Fn::Sub": "${ConfigBucket.Arn}/${ConfigKey}"})]);
}

#[test]
fn the_table_has_the_keys_and_ttl_the_store_uses() {
    let table = properties("StateTable");
    assert_eq!(
        table["KeySchema"],
        json!([{"AttributeName": keys::PK, "KeyType": "HASH"}, {"AttributeName": keys::SK, "KeyType": "RANGE"}])
    );
    for definition in table["AttributeDefinitions"].as_array().expect("attributes") {
        assert_eq!(definition["AttributeType"], "S", "{definition}");
    }
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        table["TimeToLiveSpecification"],
        json!({"AttributeName": TTL_ATTRIBUTE, "Enabled": true})
    );
    assert_eq!(table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], true);
}

#[test]
fn the_schedules_send_constant_probe_sweep_and_upkeep_inputs() {
    let mut inputs: Vec<(Value, Value)> = of_type("AWS::Events::Rule")
        .into_iter()
        .map(|(id, rule)| {
            let targets = rule["Targets"].as_array().expect("targets");
            assert_eq!(targets.len(), 1, "{id}");
            assert_eq!(targets[0]["Arn"], arn_of("SubscribeFunction"), "{id}");
            let input = targets[0]["Input"].as_str().expect("a constant input");
            let input: Value = serde_json::from_str(input).expect("the input is JSON");
            (input, rule["ScheduleExpression"].clone())
        })
        .collect();
    inputs.sort_by_key(|(input, _)| input.to_string());
    assert_eq!(
        inputs,
        vec![
            (json!({"action": "probe"}), json!("rate(5 minutes)")),
            (
                json!({"action": "sweep"}),
                json!({"Fn::Sub": "rate(${SweepIntervalMinutes} minutes)"})
            ),
            (json!({"action": "upkeep"}), json!("rate(1 hour)")),
        ]
    );
}

#[test]
fn every_dead_letter_queue_and_every_function_has_an_alarm() {
    let alarms = of_type("AWS::CloudWatch::Alarm");
    let watches = |namespace: &str, metric: &str, dimension: Value| {
        alarms.iter().any(|(_, a)| {
            a["Namespace"] == namespace
                && a["MetricName"] == metric
                && a["Dimensions"] == json!([dimension])
                && a["Threshold"] == 0
                && a["ComparisonOperator"] == "GreaterThanThreshold"
                && a["AlarmActions"].as_array().is_some_and(|actions| actions.len() == 1)
        })
    };
    for dead_letters in
        ["ChangesDeadLetterQueue", "WritesDeadLetterQueue", "SubscriptionsDeadLetterQueue"]
    {
        let queue =
            json!({"Name": "QueueName", "Value": {"Fn::GetAtt": [dead_letters, "QueueName"]}});
        assert!(watches("AWS/SQS", "ApproximateNumberOfMessagesVisible", queue), "{dead_letters}");
    }
    for (function, _) in FUNCTIONS {
        let name = json!({"Name": "FunctionName", "Value": {"Ref": function}});
        assert!(watches("AWS/Lambda", "Errors", name), "{function}");
    }
}
