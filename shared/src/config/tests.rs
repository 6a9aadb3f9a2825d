use std::path::Path;

use super::*;

const GOOD: &str = r#"
[cloud]
authority_host = "https://login.microsoftonline.com"
graph_url = "https://graph.microsoft.com"

[dataverse]
url = "https://contoso.crm.dynamics.com"
tenant_id = "33333333-3333-3333-3333-333333333333"
client_id = "44444444-4444-4444-4444-444444444444"
client_secret = "env:DATAVERSE_CLIENT_SECRET"

[[profiles]]
name = "fabrikam"
tenant_id = "11111111-1111-1111-1111-111111111111"
client_id = "22222222-2222-2222-2222-222222222222"
client_secret = "env:FABRIKAM_SECRET"
process_emails_from = "2026-01-01T00:00:00Z"
max_concurrent_connections = 8

[[profiles]]
name = "contoso"
tenant_id = "contoso.onmicrosoft.com"
client_id = "55555555-5555-5555-5555-555555555555"
certificate = "file:certs/contoso.pem"

[[mailboxes]]
address = "Alice@Fabrikam.example"
profile = "fabrikam"
process_email_received_after = "2026-06-01T00:00:00Z"
incoming = true

[[mailboxes]]
address = "bob@contoso.example"
profile = "contoso"

[runtime]
state = "sqlite:exsync.db"
listen = "127.0.0.1:8080"
public_url = "https://sync.example.com"
poll_interval = "60s"
"#;

fn parse(text: &str) -> Result<Config, (String, String)> {
    Config::parse(text, Path::new("/etc/exsync"))
}

fn error(text: &str) -> (String, String) {
    parse(text).expect_err("configuration should be refused")
}

#[test]
fn the_documented_shape_parses_with_defaults_and_relative_paths() {
    let c = parse(GOOD).unwrap();
    assert_eq!(c.profiles.len(), 2);
    assert_eq!(c.profiles[1].max_concurrent_connections, 10);
    assert_eq!(c.mailboxes[0].address.as_str(), "alice@fabrikam.example");
    assert!(c.mailboxes[1].incoming);
    assert_eq!(
        c.profiles[1].credential,
        Credential::Certificate(SecretRef::File("/etc/exsync/certs/contoso.pem".into()))
    );
    assert_eq!(c.runtime.state, StateLocation::Sqlite("/etc/exsync/exsync.db".into()));
    assert_eq!(c.runtime.poll_interval, Duration::from_secs(60));
    assert_eq!(c.runtime.subscription_lifetime, SAFE_SUBSCRIPTION_LIFETIME);
    // The mailbox's own date overrides the profile's; without one the profile's applies.
    assert_eq!(c.sync_from(&c.mailboxes[0]).unwrap().month(), time::Month::June);
    assert_eq!(c.sync_from(&c.mailboxes[1]), None);
}

#[test]
fn a_mailbox_naming_an_unknown_profile_is_named_by_key() {
    let text = GOOD.replace("profile = \"contoso\"", "profile = \"northwind\"");
    assert_eq!(
        error(&text),
        ("mailboxes[1].profile".into(), "no profile named \"northwind\"".into())
    );
}

#[test]
fn a_misspelt_key_is_named_with_its_path() {
    let text = GOOD.replace("incoming = true", "incomming = true");
    let (key, message) = error(&text);
    assert_eq!(key, "mailboxes[0].incomming");
    assert!(message.contains("unknown field `incomming`"), "{message}");
    assert!(message.contains("line"), "{message}");
}

#[test]
fn both_secret_and_certificate_is_refused() {
    let text = GOOD.replace(
        "client_secret = \"env:FABRIKAM_SECRET\"",
        "client_secret = \"env:FABRIKAM_SECRET\"\ncertificate = \"file:a.pem\"",
    );
    assert_eq!(
        error(&text),
        (
            "profiles[0].client_secret".into(),
            "both client_secret and certificate are set: keep one".into()
        )
    );
}

#[test]
fn a_secret_value_in_place_of_a_reference_is_refused_without_echoing_it() {
    let text = GOOD.replace("env:FABRIKAM_SECRET", "Zx8~s3cr3tV4lu3");
    let (key, message) = error(&text);
    assert_eq!(key, "profiles[0].client_secret");
    assert!(!message.contains("Zx8~s3cr3tV4lu3"), "{message}");
}

#[test]
fn out_of_range_and_malformed_values_name_their_keys() {
    let cases = [
        (
            "max_concurrent_connections = 8",
            "max_concurrent_connections = 0",
            "profiles[0].max_concurrent_connections",
        ),
        ("2026-01-01T00:00:00Z", "yesterday", "profiles[0].process_emails_from"),
        ("\"60s\"", "\"soon\"", "runtime.poll_interval"),
        ("https://sync.example.com", "http://sync.example.com", "runtime.public_url"),
        ("sqlite:exsync.db", "postgres://x", "runtime.state"),
        ("127.0.0.1:8080", "localhost", "runtime.listen"),
        ("Alice@Fabrikam.example", "alice", "mailboxes[0].address"),
        (
            "tenant_id = \"contoso.onmicrosoft.com\"",
            "tenant_id = \"common\"",
            "profiles[1].tenant_id",
        ),
    ];
    for (from, to, key) in cases {
        assert_eq!(error(&GOOD.replace(from, to)).0, key, "{from} -> {to}");
    }
    let dup = GOOD.replace("bob@contoso.example", "alice@fabrikam.example");
    assert_eq!(error(&dup).0, "mailboxes[1].address");
}

#[test]
fn a_profile_without_credential_says_what_to_set() {
    let text = GOOD.replace("certificate = \"file:certs/contoso.pem\"\n", "");
    let (key, message) = error(&text);
    assert_eq!(key, "profiles[1].client_secret");
    assert!(message.contains("certificate"), "{message}");
}

#[test]
fn load_reports_the_file_and_resolves_against_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("exsync.toml");
    std::fs::write(&path, GOOD).unwrap();
    let c = Config::load(&path).unwrap();
    assert_eq!(c.runtime.state, StateLocation::Sqlite(dir.path().join("exsync.db")));
    let err = Config::load(&dir.path().join("missing.toml")).unwrap_err().to_string();
    assert!(err.starts_with("cannot read the configuration"), "{err}");
}

#[test]
fn a_subscription_lifetime_beyond_graphs_maximum_is_refused() {
    let text = GOOD.replace("poll_interval = \"60s\"", "subscription_lifetime = \"7d\"");
    assert_eq!(parse(&text).unwrap().runtime.subscription_lifetime, MAX_SUBSCRIPTION_LIFETIME);
    let text = GOOD.replace("poll_interval = \"60s\"", "subscription_lifetime = \"8d\"");
    assert_eq!(error(&text).0, "runtime.subscription_lifetime");
}

#[test]
fn a_request_timeout_applies_when_set_and_is_bounded() {
    assert_eq!(parse(GOOD).unwrap().cloud.request_timeout, None);
    let set = GOOD.replace(
        "graph_url = \"https://graph.microsoft.com\"",
        "graph_url = \"https://graph.microsoft.com\"\nrequest_timeout = \"30s\"",
    );
    assert_eq!(parse(&set).unwrap().cloud.request_timeout, Some(Duration::from_secs(30)));
    let zero = set.replace("\"30s\"", "\"0s\"");
    assert_eq!(error(&zero).0, "cloud.request_timeout");
}
