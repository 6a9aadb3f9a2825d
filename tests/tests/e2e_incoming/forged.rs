//! A notification that does not prove it is Graph's (wrong clientState, unknown subscription,
//! no clientState, not JSON) is refused and starts nothing; the genuine one is accepted.

use std::time::Duration;

use serde_json::{Value, json};

use crate::app::{ALICE, TestApp};

fn notification(subscription: &str, client_state: Option<&str>, tenant: &str) -> Value {
    let mut n = json!({
        "subscriptionId": subscription,
        "subscriptionExpirationDateTime": "2030-01-01T00:00:00Z",
        "changeType": "created",
        "resource": "Users/00000000-0000-0000-0000-000000000001/Messages/AAMkAGUwNjQ4ZjIxAAA=",
        "resourceData": {
            "@odata.type": "#Microsoft.Graph.Message",
            "@odata.id": "Users/00000000-0000-0000-0000-000000000001/Messages/AAMkAGUwNjQ4ZjIxAAA=",
            "id": "AAMkAGUwNjQ4ZjIxAAA="
        },
        "tenantId": tenant,
    });
    if let Some(state) = client_state {
        n["clientState"] = json!(state);
    }
    json!({ "value": [n] })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_notifications_are_refused_and_start_no_pass_while_the_genuine_one_does() {
    let app = TestApp::builder().start().await;
    app.wait_subscribed(8).await;
    app.quiet().await;
    let graph = app.graph();
    let alice = graph.user_id(ALICE);
    let inbox = graph
        .subscriptions()
        .into_iter()
        .find(|s| s.user_id == alice && s.resource.to_lowercase().contains("'inbox'"))
        .expect("Alice's Inbox subscription");
    let client_state = inbox.client_state.clone().expect("a clientState");
    let tenant = app.org.fabrikam.tenant_id.clone();
    let requests = || graph.request_stats(&app.org.fabrikam.app_id, ALICE).requests;
    let http = app.org.cloud.ca.client();
    let url = format!("{}/graph/notify", app.url);
    let before = requests();

    let forged = [
        ("a wrong clientState", notification(&inbox.id, Some("forged-client-state"), &tenant)),
        (
            "an unknown subscription",
            notification("5522bd62-7c96-4530-85b0-00b916f6151a", Some(&client_state), &tenant),
        ),
        ("no clientState", notification(&inbox.id, None, &tenant)),
    ];
    for (what, body) in forged {
        let response = http.post(&url).json(&body).send().await.unwrap();
        assert_eq!(response.status(), 403, "{what} is refused");
        let text = response.text().await.unwrap();
        assert!(!text.contains(&client_state), "the answer does not give the clientState away");
    }
    for malformed in ["{not json", r#"{"value": "nope"}"#, ""] {
        let response = http
            .post(&url)
            .header("Content-Type", "application/json")
            .body(malformed)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{malformed:?} is refused as malformed");
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    app.quiet().await;
    assert_eq!(requests(), before, "no forged notification started a pass of Alice's Inbox");

    // The control: the same POST with the subscription's own clientState starts a pass.
    let genuine = notification(&inbox.id, Some(&client_state), &tenant);
    let response = http.post(&url).json(&genuine).send().await.unwrap();
    assert_eq!(response.status(), 202);
    crate::app::wait_for("a pass of Alice's Inbox", Duration::from_secs(10), || {
        (requests() > before).then_some(())
    })
    .await;
}
