//! `exsync sync --once`: a line per mailbox, exit 1 while any mailbox fails (with the reason an
//! admin can act on), 0 once it is fixed; configuration errors name the key; a missing secret
//! names its reference; nothing prints a secret.

use std::time::Duration;

use exsync_sim::{graph::NewMessage, scenario::DemoOrg};

use crate::common::{assert_debug_logs, assert_no_secrets, forbidden, run, secret_file};

const LIMIT: Duration = Duration::from_secs(60);
const EXPIRED: &str = "contoso~expired-secret-value";

/// The line of `mailbox` in a `sync --once` summary.
fn line<'a>(stdout: &'a str, mailbox: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.starts_with(mailbox))
        .unwrap_or_else(|| panic!("no line for {mailbox} in:\n{stdout}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_once_exits_1_naming_the_aadsts_code_while_a_secret_is_expired_and_0_once_fixed() {
    let org = DemoOrg::start().await.unwrap();
    // The contoso app's only working secret has expired.
    let yesterday = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    org.cloud.entra.add_secret(&org.contoso.app_id, EXPIRED, yesterday).unwrap();
    let config = org
        .config("state = \"sqlite:exsync.db\"\n")
        .secret("contoso", EXPIRED)
        .write(org.cloud.dir())
        .unwrap();
    let alice = &org.staff[0].address;
    let carol = &org.staff[2].address;
    let graph = &org.cloud.graph;
    let to_alice = graph.deliver(alice, NewMessage::new("Quote request").to(alice));
    let to_carol = graph.deliver(carol, NewMessage::new("Contract renewal").to(carol));

    let first = run(&config, &["sync", "--once"], LIMIT).await;
    assert_eq!(first.code, Some(1), "a mailbox failed: exit 1\n{}", first.stdout);
    assert_eq!(first.stdout.lines().count(), 4, "one line per mailbox:\n{}", first.stdout);
    let alice_line = line(&first.stdout, alice);
    assert!(alice_line.contains(" ok ") && alice_line.contains("written     1"), "{alice_line}");
    for mailbox in [carol, &org.staff[3].address] {
        let failed = line(&first.stdout, mailbox);
        assert!(failed.contains("failed"), "{failed}");
        assert!(failed.contains("AADSTS7000222"), "the reason has the Entra code: {failed}");
    }
    let emails = org.dataverse.env.emails();
    assert_eq!(emails.len(), 1, "only Alice's mail landed");
    assert_eq!(emails[0].messageid.as_deref(), Some(to_alice.internet_message_id.as_str()));

    // The admin writes a valid secret into the file; the next run heals the mailboxes.
    std::fs::write(secret_file(&config, "contoso"), &org.contoso.secret).unwrap();
    let second = run(&config, &["sync", "--once"], LIMIT).await;
    assert_eq!(second.code, Some(0), "every mailbox finished:\n{}", second.stdout);
    let carol_line = line(&second.stdout, carol);
    assert!(carol_line.contains(" ok ") && carol_line.contains("written     1"), "{carol_line}");
    let landed = org.dataverse.env.emails();
    assert_eq!(landed.len(), 2);
    assert!(landed.iter().any(|e| e.messageid.as_deref() == Some(&to_carol.internet_message_id)));

    let secrets = forbidden(&org, &[EXPIRED]);
    for (what, run) in [("first run", &first), ("second run", &second)] {
        assert_debug_logs(what, &run.stderr);
        assert_no_secrets(&format!("stdout of the {what}"), &run.stdout, &secrets);
        assert_no_secrets(&format!("logs of the {what}"), &run.stderr, &secrets);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configuration_error_names_the_key_and_a_missing_secret_names_its_reference() {
    let org = DemoOrg::start().await.unwrap();
    let dir = org.cloud.dir();
    let state = "state = \"sqlite:exsync.db\"\n";
    let alice = &org.staff[0].address;
    let secrets = forbidden(&org, &[]);

    let no_such_profile = org
        .cloud
        .config(&org.dataverse)
        .profile("fabrikam", &org.fabrikam, "")
        .mailbox(alice, "fabrikam", "")
        .mailbox(&org.staff[1].address, "x", "")
        .runtime(state)
        .write(dir)
        .unwrap();
    let refused = run(&no_such_profile, &["sync", "--once"], LIMIT).await;
    assert_ne!(refused.code, Some(0));
    assert!(
        refused.stderr.contains("mailboxes[1].profile: no profile named \"x\""),
        "{}",
        refused.stderr
    );

    let both = org
        .cloud
        .config(&org.dataverse)
        .profile("fabrikam", &org.fabrikam, "certificate = \"file:app.pem\"\n")
        .mailbox(alice, "fabrikam", "")
        .runtime(state)
        .write(dir)
        .unwrap();
    let refused_too = run(&both, &["serve"], LIMIT).await;
    assert_ne!(refused_too.code, Some(0));
    assert!(
        refused_too
            .stderr
            .contains("profiles[0].client_secret: both client_secret and certificate are set"),
        "{}",
        refused_too.stderr
    );

    // A secret that is not there: the run names the reference it could not read.
    let text = org
        .config(state)
        .toml()
        .replacen("file:secrets/fabrikam", "env:EXSYNC_E2E_NO_SUCH_VARIABLE", 1)
        .replacen("file:secrets/contoso", "file:secrets/not-there", 1);
    org.config(state).write(dir).unwrap();
    let missing = dir.join("missing.toml");
    std::fs::write(&missing, text).unwrap();
    let failed = run(&missing, &["sync", "--once"], LIMIT).await;
    assert_eq!(failed.code, Some(1), "{}", failed.stdout);
    let alice_line = line(&failed.stdout, alice);
    assert!(alice_line.contains("env:EXSYNC_E2E_NO_SUCH_VARIABLE"), "{alice_line}");
    let carol_line = line(&failed.stdout, &org.staff[2].address);
    assert!(carol_line.contains("secrets/not-there"), "{carol_line}");

    for (what, run) in [("profile", &refused), ("credential", &refused_too), ("secret", &failed)] {
        assert_no_secrets(&format!("the {what} error's stdout"), &run.stdout, &secrets);
        assert_no_secrets(&format!("the {what} error's logs"), &run.stderr, &secrets);
    }
}
