use std::path::Path;

use super::*;
use crate::tracking::TrackFilter;

const HEAD: &str = r#"
[dataverse]
url = "https://contoso.crm.dynamics.com"
tenant_id = "33333333-3333-3333-3333-333333333333"
client_id = "44444444-4444-4444-4444-444444444444"
client_secret = "env:DV"

[[profiles]]
name = "fabrikam"
tenant_id = "11111111-1111-1111-1111-111111111111"
client_id = "22222222-2222-2222-2222-222222222222"
client_secret = "env:FAB"
"#;

/// A config with `profile` lines in the profile and one mailbox with `mailbox` lines.
fn config(profile: &str, mailbox: &str) -> Result<Config, (String, String)> {
    let text = format!(
        "{HEAD}{profile}\n[[mailboxes]]\naddress = \"alice@fabrikam.example\"\n\
         profile = \"fabrikam\"\n{mailbox}\n[[mailboxes]]\naddress = \"bob@fabrikam.example\"\n\
         profile = \"fabrikam\"\n"
    );
    Config::parse(&text, Path::new("/etc/exsync"))
}

#[test]
fn without_tracking_keys_every_mailbox_tracks_all_mail_and_sent_items() {
    let c = config("", "").unwrap();
    assert_eq!(c.tracking(&c.mailboxes[0]), TrackingRule::default());
    assert!(c.profiles[0].rich.is_none());
}

#[test]
fn a_mailbox_overrides_its_profiles_rule_key_by_key() {
    let c =
        config("track = \"crm-records\"\ntrack_sent_items = false\n", "track = \"responses\"\n")
            .unwrap();
    let alice = c.tracking(&c.mailboxes[0]);
    assert_eq!((alice.filter, alice.sent_items), (TrackFilter::Responses, false));
    let bob = c.tracking(&c.mailboxes[1]);
    assert_eq!((bob.filter, bob.sent_items), (TrackFilter::CrmRecords, false));
    let c = config("", "track_sent_items = false\n").unwrap();
    assert!(!c.tracking(&c.mailboxes[0]).sent_items);
    assert!(c.tracking(&c.mailboxes[1]).sent_items);
}

#[test]
fn an_unknown_tracking_option_is_refused_by_its_key_with_the_options() {
    let (key, message) = config("", "track = \"everything\"\n").unwrap_err();
    assert_eq!(key, "mailboxes[0].track");
    assert!(message.contains("\"crm-records\""), "{message}");
    let (key, _) = config("track = \"crm\"\n", "").unwrap_err();
    assert_eq!(key, "profiles[0].track");
}

#[test]
fn rich_notifications_need_a_certificate_and_its_id() {
    let (key, message) = config("rich_notifications = true\n", "").unwrap_err();
    assert_eq!(key, "profiles[0].encryption_certificate");
    assert!(message.contains("file:enc.pem"), "{message}");
    let (key, _) =
        config("rich_notifications = true\nencryption_certificate = \"file:enc.pem\"\n", "")
            .unwrap_err();
    assert_eq!(key, "profiles[0].encryption_certificate_id");
    let (key, _) = config(
        "rich_notifications = true\nencryption_certificate = \"enc.pem\"\nencryption_certificate_id = \"e1\"\n",
        "",
    )
    .unwrap_err();
    assert_eq!(key, "profiles[0].encryption_certificate", "a path is not a secret reference");
    let long = "x".repeat(129);
    let (key, _) = config(
        &format!("rich_notifications = true\nencryption_certificate = \"file:e.pem\"\nencryption_certificate_id = \"{long}\"\n"),
        "",
    )
    .unwrap_err();
    assert_eq!(key, "profiles[0].encryption_certificate_id");
}

#[test]
fn a_rotation_keeps_the_previous_certificate_under_another_id() {
    let rotated = "rich_notifications = true\nencryption_certificate = \"file:new.pem\"\n\
                   encryption_certificate_id = \"enc-2\"\n\
                   previous_encryption_certificate = \"file:old.pem\"\n";
    let (key, _) = config(rotated, "").unwrap_err();
    assert_eq!(key, "profiles[0].previous_encryption_certificate_id");
    let (key, _) =
        config(&format!("{rotated}previous_encryption_certificate_id = \"enc-2\"\n"), "")
            .unwrap_err();
    assert_eq!(key, "profiles[0].previous_encryption_certificate_id");
    let c =
        config(&format!("{rotated}previous_encryption_certificate_id = \"enc-1\"\n"), "").unwrap();
    let rich = c.profiles[0].rich.as_ref().unwrap();
    let ids: Vec<&str> = rich.certificates().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["enc-2", "enc-1"]);
    assert_eq!(rich.certificate.pem, SecretRef::File("/etc/exsync/new.pem".into()));
}

#[test]
fn rich_keys_are_not_allowed_on_a_mailbox() {
    let (key, _) = config("", "rich_notifications = true\n").unwrap_err();
    assert_eq!(key, "mailboxes[0].rich_notifications");
}
