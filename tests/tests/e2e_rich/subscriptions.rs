//! Rich subscriptions: created with the certificate and a `$select`, kept to a day, rotated
//! by a PATCH, recreated when rich notifications are switched on.

use base64::{Engine, engine::general_purpose::STANDARD};
use exsync_shared::graph::rich::RICH_SELECT;
use exsync_shared::ports::StatusStore;
use exsync_sim::graph::{NewMessage, SubscriptionInfo};
use serde_json::Value;

use super::{
    forge,
    world::{CONTACT, Cloud, Serving, TestCertificate, eventually},
};

/// The subscriptions of `address`'s user.
fn subscriptions_of(cloud: &Cloud, address: &str) -> Vec<SubscriptionInfo> {
    let user = cloud.cloud.graph.user_id(address);
    cloud.cloud.graph.subscriptions().into_iter().filter(|s| s.user_id == user).collect()
}

/// A subscription as Graph shows it to exsync's app.
async fn read_subscription(cloud: &Cloud, id: &str) -> Value {
    let client = cloud.cloud.ca.client();
    let graph = cloud.cloud.graph_url().to_string();
    let graph = graph.trim_end_matches('/');
    let token: Value = client
        .post(format!(
            "{}{}/oauth2/v2.0/token",
            cloud.cloud.authority_host(),
            cloud.tenant.tenant_id
        ))
        .form(&[
            ("client_id", cloud.tenant.app_id.as_str()),
            ("client_secret", cloud.tenant.secret.as_str()),
            ("scope", &format!("{graph}/.default")),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bearer = token["access_token"].as_str().unwrap();
    client
        .get(format!("{graph}/v1.0/subscriptions/{id}"))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_rich_subscription_carries_the_certificate_a_select_of_what_the_rule_needs_and_lives_a_day()
 {
    let cloud = Cloud::start().await;
    let alice = cloud.mailbox("alice");
    let certificate = TestCertificate::generate("enc-2026-12");
    cloud.write_certificates(&[&certificate]);
    let profile = format!("{}track = \"crm-records\"\n", certificate.profile_lines());
    let serving = Serving::start(&cloud, &profile, &[(&alice, "")]).await;
    eventually("two subscriptions", || subscriptions_of(&cloud, &alice).len() == 2).await;

    let now = time::OffsetDateTime::now_utc();
    for s in subscriptions_of(&cloud, &alice) {
        assert!(s.include_resource_data, "{s:?}");
        assert!(
            s.resource.ends_with(&format!("/messages?$select={RICH_SELECT}")),
            "{}",
            s.resource
        );
        assert!(!RICH_SELECT.contains("body"), "Graph refuses the body in rich notifications");
        let lifetime = s.expiration - now;
        assert!(lifetime <= time::Duration::days(1), "{lifetime}");
        assert!(lifetime > time::Duration::hours(23), "{lifetime}");
        let remote = read_subscription(&cloud, &s.id).await;
        assert_eq!(remote["encryptionCertificateId"], "enc-2026-12");
        assert_eq!(remote["encryptionCertificate"], STANDARD.encode(&certificate.der));
    }
    serving.stop().await;
}

#[tokio::test]
async fn a_rotated_certificate_is_patched_in_and_the_previous_one_still_decrypts() {
    let cloud = Cloud::start().await;
    let alice = cloud.mailbox("alice");
    let (old, new) = (TestCertificate::generate("enc-1"), TestCertificate::generate("enc-2"));
    cloud.write_certificates(&[&old, &new]);
    let serving = Serving::start(&cloud, &old.profile_lines(), &[(&alice, "")]).await;
    eventually("two subscriptions", || subscriptions_of(&cloud, &alice).len() == 2).await;
    let before: Vec<String> = subscriptions_of(&cloud, &alice).into_iter().map(|s| s.id).collect();
    let port = serving.port;
    serving.stop().await;

    let rotated = format!(
        "{}previous_encryption_certificate = \"file:secrets/enc-1.pem\"\n\
         previous_encryption_certificate_id = \"enc-1\"\n",
        new.profile_lines()
    );
    let serving = Serving::start_on(&cloud, port, &rotated, &[(&alice, "")]).await;
    for id in &before {
        let mut rotated = false;
        for _ in 0..400 {
            let remote = read_subscription(&cloud, id).await;
            if remote["encryptionCertificateId"] == "enc-2" {
                rotated = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        assert!(rotated, "subscription {id} still has the old certificate");
    }
    let after: Vec<String> = subscriptions_of(&cloud, &alice).into_iter().map(|s| s.id).collect();
    assert_eq!(after.len(), 2);
    assert!(after.iter().all(|id| before.contains(id)), "rotated in place, not recreated");

    // Graph now encrypts for the new certificate.
    let m = NewMessage::new("Rotated: order").from("Maria Garcia", CONTACT).to(&alice);
    cloud.cloud.graph.deliver(&alice, m);
    eventually("the email", || cloud.emails("Rotated:").len() == 1).await;

    // A notification still on its way, encrypted for the previous certificate, decrypts.
    let inbox = subscriptions_of(&cloud, &alice)
        .into_iter()
        .find(|s| s.resource.contains("inbox"))
        .unwrap();
    let signer = cloud.cloud.entra.signing_key();
    let token = forge::token(&signer, &cloud.tenant.app_id, &cloud.tenant.tenant_id, |_| {});
    let content = forge::encrypt(&old, &forge::message_from(CONTACT));
    let (status, answer) =
        forge::post(&cloud, &serving, &forge::post_body(&inbox, content, vec![token])).await;
    assert_eq!((status, &answer["accepted"], &answer["ignored"]), (202, &1.into(), &0.into()));
    serving.stop().await;
}

#[tokio::test]
async fn switching_rich_notifications_on_recreates_the_subscriptions_with_resource_data() {
    let cloud = Cloud::start().await;
    let alice = cloud.mailbox("alice");
    let certificate = TestCertificate::generate("enc-1");
    cloud.write_certificates(&[&certificate]);
    let serving = Serving::start(&cloud, "", &[(&alice, "")]).await;
    eventually("two subscriptions", || subscriptions_of(&cloud, &alice).len() == 2).await;
    assert!(subscriptions_of(&cloud, &alice).iter().all(|s| !s.include_resource_data));
    let port = serving.port;
    serving.stop().await;

    let serving =
        Serving::start_on(&cloud, port, &certificate.profile_lines(), &[(&alice, "")]).await;
    eventually("two rich subscriptions and no basic one", || {
        let all = subscriptions_of(&cloud, &alice);
        all.len() == 2 && all.iter().all(|s| s.include_resource_data)
    })
    .await;
    let m = NewMessage::new("Switched: hello").from("Maria Garcia", CONTACT).to(&alice);
    cloud.cloud.graph.deliver(&alice, m);
    eventually("the email", || cloud.emails("Switched:").len() == 1).await;
    serving.stop().await;
}

#[tokio::test]
async fn an_unreadable_encryption_certificate_fails_the_mailbox_with_the_key_to_fix() {
    let cloud = Cloud::start().await;
    let alice = cloud.mailbox("alice");
    let missing = TestCertificate::generate("enc-1");
    let serving = Serving::start(&cloud, &missing.profile_lines(), &[(&alice, "")]).await;
    let mailbox = exsync_shared::domain::MailboxAddress::parse(alice.as_str()).unwrap();
    let mut reason = String::new();
    let mut last = None;
    // 30 s: the machine may be busy running other suites.
    for _ in 0..1200 {
        let status = serving.exsync.store().status(&mailbox).await.unwrap();
        if let Some(exsync_shared::status::Health::Failing { reason: r, retryable: false }) =
            status.as_ref().map(|s| s.health.clone())
        {
            reason = r;
            break;
        }
        last = status;
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(
        reason.contains("profile fabrikam: encryption certificate \"enc-1\"")
            && reason.contains("secrets/enc-1.pem"),
        "{reason} (last status: {last:?})"
    );
    assert!(subscriptions_of(&cloud, &alice).is_empty(), "no subscription without its certificate");
    serving.stop().await;
}
