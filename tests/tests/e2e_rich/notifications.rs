//! Rich notifications at the webhook: what verifies leads to its activity, what the rule
//! leaves out costs no Graph read, what does not verify is ignored and answered 202.

use std::time::{Duration, Instant};

use exsync_shared::{domain::MailboxAddress, ports::StatusStore};
use exsync_sim::{graph::NewMessage, jwt::SigningKey};

use super::{
    forge,
    world::{CONTACT, Cloud, STRANGER, Serving, TestCertificate, eventually},
};

/// Alice's mailbox tracking `crm-records`, with rich notifications, served and settled.
async fn crm_records() -> (Cloud, Serving, String, TestCertificate) {
    let cloud = Cloud::start().await;
    let alice = cloud.mailbox("alice");
    let certificate = TestCertificate::generate("enc-1");
    cloud.write_certificates(&[&certificate]);
    let profile = format!("{}track = \"crm-records\"\n", certificate.profile_lines());
    let serving = Serving::start(&cloud, &profile, &[(&alice, "")]).await;
    let user = cloud.cloud.graph.user_id(&alice);
    eventually("two rich subscriptions", || {
        cloud.cloud.graph.subscriptions().iter().filter(|s| s.user_id == user).count() == 2
    })
    .await;
    serving.settle(&cloud).await;
    (cloud, serving, alice, certificate)
}

#[tokio::test]
async fn a_tracked_messages_notification_decrypts_and_leads_to_its_activity() {
    let (cloud, serving, alice, _) = crm_records().await;
    let m = NewMessage::new("Tracked: quote for 40 units").from("Maria Garcia", CONTACT).to(&alice);
    let ids = cloud.cloud.graph.deliver(&alice, m);
    eventually("the activity", || cloud.emails("Tracked:").len() == 1).await;
    let email = &cloud.emails("Tracked:")[0];
    assert_eq!(email.messageid.as_deref(), Some(ids.internet_message_id.as_str()));
    let sender = email.parties.iter().find(|p| p.mask == 1).unwrap();
    assert_eq!(sender.party.as_ref().map(|r| r.table), Some("contact"));
    serving.stop().await;
}

#[tokio::test]
async fn an_untracked_message_costs_no_graph_read_and_creates_nothing() {
    let (cloud, serving, alice, _) = crm_records().await;
    let reads = cloud.graph_requests(&alice);
    let delivered = cloud.cloud.graph.notification_stats().delivered;
    let m = NewMessage::new("Untracked: weekly digest").from("Weekly Digest", STRANGER).to(&alice);
    cloud.cloud.graph.deliver(&alice, m);
    eventually("the notification", || cloud.cloud.graph.notification_stats().delivered > delivered)
        .await;
    serving.settle(&cloud).await;
    assert_eq!(cloud.graph_requests(&alice), reads, "no Graph read for untracked mail");
    assert!(cloud.emails("Untracked:").is_empty());

    // The next tracked message's pass reads both; `write` leaves the stranger's out again.
    let m = NewMessage::new("Tracked: invoice").from("Maria Garcia", CONTACT).to(&alice);
    cloud.cloud.graph.deliver(&alice, m);
    eventually("the tracked email", || cloud.emails("Tracked:").len() == 1).await;
    serving.settle(&cloud).await;
    assert!(cloud.emails("Untracked:").is_empty());
    let mailbox = MailboxAddress::parse(alice.as_str()).unwrap();
    let status = serving.exsync.store().status(&mailbox).await.unwrap().unwrap();
    assert_eq!((status.emails_written, status.emails_skipped), (1, 1));
    serving.stop().await;
}

#[tokio::test]
async fn a_tampered_or_forged_rich_notification_is_ignored_and_answered_202() {
    let (cloud, serving, alice, certificate) = crm_records().await;
    let user = cloud.cloud.graph.user_id(&alice);
    let inbox = cloud
        .cloud
        .graph
        .subscriptions()
        .into_iter()
        .find(|s| s.user_id == user && s.resource.contains("inbox"))
        .unwrap();
    let (app, tenant) = (cloud.tenant.app_id.clone(), cloud.tenant.tenant_id.clone());
    let signer = cloud.cloud.entra.signing_key();
    let genuine = || forge::token(&signer, &app, &tenant, |_| {});
    let from_contact = || forge::encrypt(&certificate, &forge::message_from(CONTACT));
    let mut tampered = from_contact();
    forge::tamper(&mut tampered);
    let stranger_key = SigningKey::generate();
    let unknown_certificate = TestCertificate::generate("enc-1");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let cases = [
        ("tampered ciphertext", tampered, vec![genuine()]),
        ("no validation token", from_contact(), vec![]),
        (
            "another app's token",
            from_contact(),
            vec![forge::token(&signer, "99999999-9999-4999-8999-999999999999", &tenant, |_| {})],
        ),
        (
            "not the publisher",
            from_contact(),
            vec![forge::token(&signer, &app, &tenant, |c| c["appid"] = app.clone().into())],
        ),
        (
            "another issuer",
            from_contact(),
            vec![forge::token(&signer, &app, &tenant, |c| {
                c["iss"] = format!("https://login.microsoftonline.com/{tenant}/v2.0").into()
            })],
        ),
        (
            "expired token",
            from_contact(),
            vec![forge::token(&signer, &app, &tenant, |c| {
                c["exp"] = (now - 3600).into();
                c["nbf"] = (now - 7200).into();
            })],
        ),
        (
            "unknown signing key",
            from_contact(),
            vec![forge::token(&stranger_key, &app, &tenant, |_| {})],
        ),
        ("one bad token among good ones", from_contact(), vec![genuine(), "e30.e30.e30".into()]),
        (
            "encrypted for another certificate",
            forge::encrypt(&unknown_certificate, &forge::message_from(CONTACT)),
            vec![genuine()],
        ),
    ];
    let reads = cloud.graph_requests(&alice);
    for (case, content, tokens) in cases {
        let started = Instant::now();
        let (status, answer) =
            forge::post(&cloud, &serving, &forge::post_body(&inbox, content, tokens)).await;
        assert!(started.elapsed() < Duration::from_millis(2900), "{case}: Graph waits 3 s at most");
        assert_eq!(status, 202, "{case}: {answer}");
        assert_eq!(
            (answer["ignored"].as_u64(), answer["accepted"].as_u64()),
            (Some(1), Some(0)),
            "{case}: {answer}"
        );
    }
    serving.settle(&cloud).await;
    assert_eq!(cloud.graph_requests(&alice), reads, "nothing ignored was read");

    // The same notification, genuine, is accepted.
    let body = forge::post_body(&inbox, from_contact(), vec![genuine()]);
    let (status, answer) = forge::post(&cloud, &serving, &body).await;
    assert_eq!((status, answer["accepted"].as_u64()), (202, Some(1)), "{answer}");
    serving.stop().await;
}
