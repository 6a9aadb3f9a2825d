//! Change and lifecycle notifications (reference 3, 4, 5).

use std::time::Duration;

use exsync_sim::graph::{
    DeliveryLimits, GraphLimits, LifecycleEvent, MessageUpdate, NewContact, NewEvent, NewMessage,
    NotificationFaults, Recipient,
};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn a_notification_round_trip_ends_in_a_delta_that_returns_the_message() {
    let env = Env::start().await;
    let token = env.token(READER);
    let mut receiver = Receiver::start(&env.ca, Handshake::Echo).await;
    let id =
        subscribe(&env, &inbox_subscription(&env, &receiver.url("/graph/notify?tenant=abc"), 60))
            .await;
    assert_eq!(receiver.handshakes().len(), 1);

    let ids = env.sim.deliver(ALICE, NewMessage::new("Hello from Dana"));
    let (query, body) = receiver.next().await;
    assert_eq!(query, "tenant=abc", "the notification URL's query string is kept");
    let n = &body["value"][0];
    assert_eq!(n["subscriptionId"], id);
    assert_eq!(n["changeType"], "created");
    assert_eq!(n["clientState"], "secret-client-state");
    assert_eq!(n["tenantId"], TENANT);
    assert!(n["subscriptionExpirationDateTime"].as_str().unwrap().ends_with("+00:00"));
    let user = env.sim.user_id(ALICE);
    assert_eq!(n["resource"], format!("Users/{user}/Messages/{}", ids.id));
    assert_eq!(n["resourceData"]["id"], ids.id);
    assert_eq!(n["resourceData"]["@odata.type"], "#Microsoft.Graph.Message");
    assert_eq!(n["resourceData"]["@odata.id"], n["resource"]);
    assert!(n["resourceData"]["@odata.etag"].as_str().unwrap().starts_with("W/\""));
    assert!(n.get("encryptedContent").is_none() && body.get("validationTokens").is_none());

    let (status, _, m) = env.get(&format!("/users/{ALICE}/messages/{}", ids.id), &token).await;
    assert_eq!((status.as_u16(), m["subject"].as_str()), (200, Some("Hello from Dana")));
    let (_, _, page) =
        env.get(&format!("/users/{ALICE}/mailFolders/inbox/messages/delta"), &token).await;
    assert_eq!(page["value"][0]["id"], ids.id);
}

#[tokio::test]
async fn only_matching_folders_and_change_types_are_notified() {
    let env = Env::start().await;
    let mut receiver = Receiver::start(&env.ca, Handshake::Echo).await;
    let mut body = inbox_subscription(&env, &receiver.url("/n"), 60);
    body["changeType"] = "created".into();
    subscribe(&env, &body).await;
    env.sim.deliver_to(ALICE, "sentitems", NewMessage::new("not the inbox"));
    env.sim.deliver(BOB, NewMessage::new("another mailbox"));
    let m = env.sim.deliver(ALICE, NewMessage::new("inbox"));
    let (_, first) = receiver.next().await;
    assert_eq!(first["value"].as_array().unwrap().len(), 1);
    assert_eq!(first["value"][0]["resourceData"]["id"], m.id);
    env.sim.update(ALICE, &m.id, MessageUpdate { is_read: Some(true), ..Default::default() });
    receiver.expect_nothing(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn updates_moves_deletes_and_send_mail_notify_with_their_change_types() {
    let env = Env::start().await;
    let mut receiver = Receiver::start(&env.ca, Handshake::Echo).await;
    subscribe(&env, &inbox_subscription(&env, &receiver.url("/n"), 60)).await;
    let mailbox_wide = json!({
        "changeType": "created",
        "notificationUrl": receiver.url("/sent"),
        "resource": format!("users/{ALICE}/messages"),
        "expirationDateTime": expiry(&env, 60),
    });
    subscribe(&env, &mailbox_wide).await;
    let a = env.sim.deliver(ALICE, NewMessage::new("a"));
    let mut got = Vec::new();
    while got.len() < 2 {
        let (_, body) = receiver.next().await;
        got.extend(body["value"].as_array().unwrap().clone());
    }
    assert!(got.iter().all(|n| n["changeType"] == "created"));
    env.sim.update(ALICE, &a.id, MessageUpdate { is_read: Some(true), ..Default::default() });
    assert_eq!(receiver.next().await.1["value"][0]["changeType"], "updated");
    env.sim.move_to(ALICE, &a.id, "archive");
    let (_, moved) = receiver.next().await;
    assert_eq!(moved["value"][0]["changeType"], "deleted");
    assert_eq!(moved["value"][0]["resourceData"]["id"], a.id, "the id the client knew");
    // sendMail from Alice: the Sent Items copy matches the mailbox-wide subscription.
    let send = json!({"message": {"subject": "out", "toRecipients": [{"emailAddress": {"address": CAROL}}]}});
    assert_eq!(
        env.post(&format!("/users/{ALICE}/sendMail"), &env.token(READER), &send).await.0,
        202
    );
    let (_, sent) = receiver.next().await;
    let sent_id = sent["value"][0]["resourceData"]["id"].as_str().unwrap();
    assert_eq!(env.sim.messages(ALICE, "sentitems")[0].ids.id, sent_id);
}

#[tokio::test]
async fn failed_notifications_are_retried_until_acknowledged() {
    let limits = GraphLimits {
        delivery: DeliveryLimits { retry_first: Duration::from_millis(50), ..Default::default() },
        ..Default::default()
    };
    let env = Env::with_limits(limits).await;
    let mut receiver = Receiver::start(&env.ca, Handshake::Echo).await;
    receiver.state.lock().unwrap().notification_statuses.extend([500, 503]);
    subscribe(&env, &inbox_subscription(&env, &receiver.url("/n"), 60)).await;
    let m = env.sim.deliver(ALICE, NewMessage::new("retry me"));
    for _ in 0..3 {
        let (_, body) = receiver.next().await;
        assert_eq!(body["value"][0]["resourceData"]["id"], m.id);
    }
    receiver.expect_nothing(Duration::from_millis(300)).await;
    let stats = env.sim.notification_stats();
    assert_eq!((stats.posts, stats.failed_posts, stats.delivered), (3, 2, 1));
}

#[tokio::test]
async fn notifications_still_failing_after_the_give_up_time_are_discarded() {
    let limits = GraphLimits {
        delivery: DeliveryLimits { retry_first: Duration::from_secs(3600), ..Default::default() },
        ..Default::default()
    };
    let env = Env::with_limits(limits).await;
    let mut receiver = Receiver::start(&env.ca, Handshake::Echo).await;
    receiver.state.lock().unwrap().notification_statuses.extend([500; 20]);
    subscribe(&env, &inbox_subscription(&env, &receiver.url("/n"), 600)).await;
    env.sim.deliver(ALICE, NewMessage::new("doomed"));
    receiver.next().await;
    // Simulated time moves on; the retries run as simulated time passes.
    for _ in 0..6 {
        env.clock.advance(Duration::from_secs(3600));
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let stats = env.sim.notification_stats();
    assert_eq!(stats.dropped_expired, 1, "{stats:?}");
    assert!(stats.posts >= 2 && stats.posts <= 6, "{stats:?}");
}

#[tokio::test]
async fn a_slow_endpoint_loses_notifications_and_is_told_it_missed_some() {
    let limits = GraphLimits {
        delivery: DeliveryLimits {
            slow_threshold: Duration::from_millis(100),
            slow_min_notifications: 3,
            ..Default::default()
        },
        ..Default::default()
    };
    let env = Env::with_limits(limits).await;
    let mut receiver = Receiver::start(&env.ca, Handshake::Echo).await;
    receiver.state.lock().unwrap().notification_delay = Some(Duration::from_millis(200));
    let mut body = inbox_subscription(&env, &receiver.url("/n"), 60);
    body["lifecycleNotificationUrl"] = receiver.url("/lifecycle").into();
    let id = subscribe(&env, &body).await;
    // Three slow answers: 100 % slow, over the 15 % drop threshold.
    for i in 0..3 {
        env.sim.deliver(ALICE, NewMessage::new(&format!("m{i}")));
        receiver.next().await;
    }
    receiver.state.lock().unwrap().notification_delay = None;
    env.sim.deliver(ALICE, NewMessage::new("dropped"));
    let (query, missed) = receiver.next().await;
    assert_eq!(query, "");
    assert_eq!(missed["value"][0]["lifecycleEvent"], "missed");
    assert_eq!(missed["value"][0]["subscriptionId"], id);
    let stats = env.sim.notification_stats();
    assert_eq!((stats.dropped_slow, stats.slow_responses), (1, 3), "{stats:?}");
}

#[tokio::test]
async fn injected_faults_drop_duplicate_and_delay_notifications() {
    let env = Env::start().await;
    let mut receiver = Receiver::start(&env.ca, Handshake::Echo).await;
    subscribe(&env, &inbox_subscription(&env, &receiver.url("/n"), 60)).await;
    env.sim.notification_faults(NotificationFaults { drop: 1.0, ..Default::default() });
    env.sim.deliver(ALICE, NewMessage::new("lost"));
    receiver.expect_nothing(Duration::from_millis(300)).await;
    env.sim.notification_faults(NotificationFaults { duplicate: 1.0, ..Default::default() });
    let m = env.sim.deliver(ALICE, NewMessage::new("twice"));
    let (_, a) = receiver.next().await;
    let (_, b) = receiver.next().await;
    assert_eq!(a, b);
    assert_eq!(a["value"][0]["resourceData"]["id"], m.id);
    let stats = env.sim.notification_stats();
    assert_eq!((stats.dropped_by_fault, stats.duplicated), (1, 1));
    let delay = Duration::from_millis(400);
    env.sim.notification_faults(NotificationFaults { delay: Some(delay), ..Default::default() });
    let started = std::time::Instant::now();
    env.sim.deliver(ALICE, NewMessage::new("late"));
    receiver.next().await;
    assert!(started.elapsed() >= delay);
}

#[tokio::test]
async fn reordered_notifications_arrive_one_per_post_in_any_order() {
    let env = Env::start().await;
    let mut receiver = Receiver::start(&env.ca, Handshake::Echo).await;
    subscribe(&env, &inbox_subscription(&env, &receiver.url("/n"), 60)).await;
    env.sim.notification_faults(NotificationFaults {
        reorder_window: Some(Duration::from_millis(200)),
        ..Default::default()
    });
    let mut sent: Vec<String> =
        (0..5).map(|i| env.sim.deliver(ALICE, NewMessage::new(&format!("m{i}"))).id).collect();
    let mut got = Vec::new();
    for _ in 0..5 {
        let (_, body) = receiver.next().await;
        assert_eq!(body["value"].as_array().unwrap().len(), 1);
        got.push(body["value"][0]["resourceData"]["id"].as_str().unwrap().to_string());
    }
    got.sort();
    sent.sort();
    assert_eq!(got, sent);
}

#[tokio::test]
async fn lifecycle_events_reach_the_lifecycle_url_and_removal_deletes_the_subscription() {
    let limits = GraphLimits {
        delivery: DeliveryLimits {
            reauthorization_grace: Duration::from_secs(60),
            ..Default::default()
        },
        ..Default::default()
    };
    let env = Env::with_limits(limits).await;
    let mut notify = Receiver::start(&env.ca, Handshake::Echo).await;
    let mut lifecycle = Receiver::start(&env.ca, Handshake::Echo).await;
    let mut body = inbox_subscription(&env, &notify.url("/n"), 600);
    body["lifecycleNotificationUrl"] = lifecycle.url("/l").into();
    let id = subscribe(&env, &body).await;

    assert!(env.sim.lifecycle(&id, LifecycleEvent::ReauthorizationRequired));
    let (_, l) = lifecycle.next().await;
    let n = &l["value"][0];
    assert_eq!(n["lifecycleEvent"], "reauthorizationRequired");
    assert_eq!(
        (n["subscriptionId"].as_str(), n["tenantId"].as_str()),
        (Some(id.as_str()), Some(TENANT))
    );
    assert_eq!(n["clientState"], "secret-client-state");
    assert!(n.get("changeType").is_none() && n.get("resource").is_none());
    // Past the grace period delivery pauses until the app reauthorizes.
    env.clock.advance(Duration::from_secs(120));
    env.sim.deliver(ALICE, NewMessage::new("lost while paused"));
    notify.expect_nothing(Duration::from_millis(300)).await;
    assert_eq!(env.sim.notification_stats().dropped_paused, 1);
    let reauth = env.client.post(env.url(&format!("/subscriptions/{id}/reauthorize")));
    assert_eq!(env.send(reauth, &env.token(READER)).await.0, 204);
    env.sim.deliver(ALICE, NewMessage::new("flowing again"));
    notify.next().await;

    assert!(env.sim.lifecycle(&id, LifecycleEvent::Missed));
    assert_eq!(lifecycle.next().await.1["value"][0]["lifecycleEvent"], "missed");
    assert!(env.sim.lifecycle(&id, LifecycleEvent::SubscriptionRemoved));
    assert_eq!(lifecycle.next().await.1["value"][0]["lifecycleEvent"], "subscriptionRemoved");
    assert!(env.sim.subscriptions().is_empty());
    assert_error(
        &env.get(&format!("/subscriptions/{id}"), &env.token(READER)).await,
        404,
        "ResourceNotFound",
    );
    // Without a lifecycle URL there is nowhere to send lifecycle events.
    let plain = subscribe(&env, &inbox_subscription(&env, &notify.url("/n"), 60)).await;
    assert!(!env.sim.lifecycle(&plain, LifecycleEvent::Missed));
}

#[tokio::test]
async fn a_filtered_subscription_turns_leaving_the_filter_into_deleted_and_entering_into_created() {
    let env = Env::start().await;
    let mut receiver = Receiver::start(&env.ca, Handshake::Echo).await;
    let mut body = inbox_subscription(&env, &receiver.url("/unread"), 60);
    body["resource"] =
        format!("users/{ALICE}/mailFolders('inbox')/messages?$filter=isRead eq false").into();
    subscribe(&env, &body).await;
    let m = env.sim.deliver(ALICE, NewMessage::new("unread"));
    assert_eq!(receiver.next().await.1["value"][0]["changeType"], "created");
    let read = MessageUpdate { is_read: Some(true), ..Default::default() };
    env.sim.update(ALICE, &m.id, read);
    assert_eq!(receiver.next().await.1["value"][0]["changeType"], "deleted");
    env.sim.update(
        ALICE,
        &m.id,
        MessageUpdate { subject: Some("still read".into()), ..Default::default() },
    );
    receiver.expect_nothing(Duration::from_millis(200)).await;
    env.sim.update(ALICE, &m.id, MessageUpdate { is_read: Some(false), ..Default::default() });
    assert_eq!(receiver.next().await.1["value"][0]["changeType"], "created");
}

#[tokio::test]
async fn event_and_contact_subscriptions_notify_their_own_items() {
    let env = Env::start().await;
    let mut receiver = Receiver::start(&env.ca, Handshake::Echo).await;
    for resource in ["events", "contacts"] {
        let body = json!({
            "changeType": "created,updated,deleted",
            "notificationUrl": receiver.url(&format!("/{resource}")),
            "resource": format!("users/{ALICE}/{resource}"),
            "expirationDateTime": expiry(&env, 60),
            "clientState": resource,
        });
        subscribe(&env, &body).await;
    }
    let event = env.sim.add_event(
        ALICE,
        NewEvent {
            subject: "Review".into(),
            start: env.clock.now() + time::Duration::days(1),
            end: env.clock.now() + time::Duration::days(1) + time::Duration::hours(1),
            location: String::new(),
            organizer: Recipient::new("Alice Smith", ALICE),
            attendees: vec![],
            body: String::new(),
            is_all_day: false,
        },
    );
    let (_, n) = receiver.next().await;
    assert_eq!(n["value"][0]["clientState"], "events");
    assert_eq!(n["value"][0]["resourceData"]["@odata.type"], "#Microsoft.Graph.Event");
    assert_eq!(
        n["value"][0]["resource"],
        format!("Users/{}/Events/{event}", env.sim.user_id(ALICE))
    );
    env.sim.deliver(ALICE, NewMessage::new("mail is not an event"));
    receiver.expect_nothing(Duration::from_millis(200)).await;
    let contact = env.sim.add_contact(
        ALICE,
        NewContact {
            given_name: "Dana".into(),
            surname: "Swope".into(),
            emails: vec![Recipient::address("danas@fabrikam.example")],
            company: None,
            job_title: None,
            business_phones: vec![],
            mobile_phone: None,
        },
    );
    let (_, n) = receiver.next().await;
    assert_eq!(n["value"][0]["clientState"], "contacts");
    assert_eq!(n["value"][0]["resourceData"]["id"], contact);
}
