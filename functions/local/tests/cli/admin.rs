//! `exsync mailbox test` (Test & Enable) says what to fix per check and enables a mailbox that
//! passes; `exsync dead-letters` lists poison jobs with their reason, replays and purges them.

use exsync_sim::{
    faults::{Fault, FaultRule},
    graph::NewMessage,
    scenario::DemoOrg,
};

use crate::{
    common::{assert_no_secrets, forbidden, run},
    ops::{EXPIRED, LIMIT, landed, line, runtime},
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_and_enable_says_what_to_fix_per_check_and_enables_a_mailbox_that_passes() {
    let org = DemoOrg::start().await.unwrap();
    let yesterday = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    org.cloud.entra.add_secret(&org.contoso.app_id, EXPIRED, yesterday).unwrap();
    let dir = org.cloud.dir().to_path_buf();
    let config = org.config(&runtime()).secret("contoso", EXPIRED).write(&dir).unwrap();
    let (alice, bob, carol) = (&org.staff[0].address, &org.staff[1].address, &org.staff[2].address);
    // An application access policy lets the fabrikam app reach Alice's mailbox only.
    org.cloud.graph.restrict_app(&org.fabrikam.tenant_id, &org.fabrikam.app_id, &[alice]);

    let excluded = run(&config, &["mailbox", "test", bob], LIMIT).await;
    assert_eq!(excluded.code, Some(1), "{}", excluded.stdout);
    let out = &excluded.stdout;
    assert!(line_with(out, "token").contains("ok"), "{out}");
    let mailbox = line_with(out, "mailbox ");
    assert!(mailbox.contains("FAILED") && mailbox.contains("application access policy"), "{out}");
    assert!(mailbox.contains("Test-ApplicationAccessPolicy"), "says how to check: {out}");
    assert!(line_with(out, "folders").contains("not checked"), "{out}");
    assert!(line_with(out, "dataverse").contains("ok"), "{out}");

    let expired = run(&config, &["mailbox", "test", carol], LIMIT).await;
    assert_eq!(expired.code, Some(1), "{}", expired.stdout);
    let token = line_with(&expired.stdout, "token");
    assert!(token.contains("FAILED") && token.contains("AADSTS7000222"), "{}", expired.stdout);
    assert!(token.contains("add a new secret"), "says what to do: {token}");

    // Dataverse: the application user is disabled.
    let user = org
        .dataverse
        .env
        .records("systemusers")
        .into_iter()
        .find(|u| {
            u["applicationid"]
                .as_str()
                .is_some_and(|a| a.eq_ignore_ascii_case(&org.dataverse.app_id))
        })
        .expect("the application user");
    let user_id = user["systemuserid"].as_str().unwrap().parse().unwrap();
    org.dataverse.env.set_user_disabled(user_id, true);
    let no_dataverse = run(&config, &["mailbox", "test", alice], LIMIT).await;
    assert_eq!(no_dataverse.code, Some(1), "{}", no_dataverse.stdout);
    let dataverse = line_with(&no_dataverse.stdout, "dataverse");
    assert!(dataverse.contains("FAILED") && dataverse.contains("is disabled"), "{dataverse}");
    assert!(dataverse.contains("enable it"), "{dataverse}");
    org.dataverse.env.set_user_disabled(user_id, false);

    // The admin disabled Alice; once every check passes, the test enables her again.
    let disabled = run(&config, &["mailbox", "disable", alice], LIMIT).await;
    assert_eq!(disabled.code, Some(0), "{}", disabled.stderr);
    let status = run(&config, &["status"], LIMIT).await;
    assert!(line(&status.stdout, alice).contains("disabled"), "{}", status.stdout);
    let once = run(&config, &["sync", "--once"], LIMIT).await;
    let alice_line = line(&once.stdout, alice);
    assert!(alice_line.contains("disabled") && alice_line.contains("seen     0"), "{alice_line}");
    let passed = run(&config, &["mailbox", "test", alice], LIMIT).await;
    assert_eq!(passed.code, Some(0), "{}", passed.stdout);
    let folders = line_with(&passed.stdout, "folders");
    assert!(folders.contains("ok") && folders.contains("inbox") && folders.contains("sentitems"));
    assert!(passed.stdout.contains("the mailbox is enabled"), "{}", passed.stdout);
    let status = run(&config, &["status"], LIMIT).await;
    assert!(line(&status.stdout, alice).contains("pending"), "{}", status.stdout);
    let unknown = run(&config, &["mailbox", "test", "nobody@fabrikam.example"], LIMIT).await;
    assert_ne!(unknown.code, Some(0));
    assert!(unknown.stderr.contains("not in the configuration"), "{}", unknown.stderr);

    let secrets = forbidden(&org, &[EXPIRED]);
    for run in [&excluded, &expired, &no_dataverse, &passed] {
        assert_no_secrets("mailbox test", &run.stdout, &secrets);
        assert_no_secrets("mailbox test logs", &run.stderr, &secrets);
    }
}

/// The check's line of a Test & Enable report.
fn line_with<'a>(stdout: &'a str, check: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.split_whitespace().nth(1).is_some_and(|w| check.trim() == w))
        .unwrap_or_else(|| panic!("no {check} check in:\n{stdout}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_job_is_listed_with_its_reason_replayed_once_fixed_and_purged() {
    let org = DemoOrg::start().await.unwrap();
    let dir = org.cloud.dir().to_path_buf();
    let config = org.config("state = \"sqlite:exsync.db\"\n").write(&dir).unwrap();
    let alice = &org.staff[0].address;
    let graph = &org.cloud.graph;
    let faults = org.cloud.dataverse.faults();

    let empty = run(&config, &["dead-letters"], LIMIT).await;
    assert_eq!((empty.code, empty.stdout.trim()), (Some(0), "no dead letters"));

    // Dataverse refuses the write once (400: no retry can help): the job is dead-lettered.
    let mail = graph.deliver(alice, NewMessage::new("Refused once").to(alice));
    faults.arm(
        FaultRule::next(1, Fault::Status { status: 400, retry_after: None }).on_path("$batch"),
    );
    let once = run(&config, &["sync", "--once"], LIMIT).await;
    assert_eq!(once.code, Some(1), "{}", once.stdout);
    assert!(once.stdout.contains("1 job(s) dead-lettered"), "{}", once.stdout);
    let listed = run(&config, &["dead-letters", "list"], LIMIT).await;
    assert_eq!(listed.code, Some(0), "{}", listed.stderr);
    let row = listed.stdout.lines().nth(1).unwrap_or_else(|| panic!("{}", listed.stdout));
    assert!(row.contains("writes") && row.contains(&format!("of {alice}")), "{row}");
    assert!(row.contains("Dataverse refused") && row.contains("HTTP 400"), "the reason: {row}");
    let id = row.split_whitespace().next().unwrap().to_string();

    let wrong = run(&config, &["dead-letters", "replay", "999999"], LIMIT).await;
    assert_eq!(wrong.code, Some(1));
    assert!(wrong.stderr.contains("no dead letter 999999"), "{}", wrong.stderr);
    let replayed = run(&config, &["dead-letters", "replay", &id], LIMIT).await;
    assert_eq!(replayed.code, Some(0), "{}", replayed.stderr);
    assert!(replayed.stdout.contains("onto the writes queue"), "{}", replayed.stdout);
    let again = run(&config, &["sync", "--once"], LIMIT).await;
    assert_eq!(again.code, Some(0), "{}", again.stdout);
    assert_eq!(landed(&org, &mail.internet_message_id), 1, "replayed once fixed: written once");
    let none = run(&config, &["dead-letters"], LIMIT).await;
    assert_eq!(none.stdout.trim(), "no dead letters");

    graph.deliver(alice, NewMessage::new("Refused for good").to(alice));
    faults.arm(
        FaultRule::next(1, Fault::Status { status: 400, retry_after: None }).on_path("$batch"),
    );
    assert_eq!(run(&config, &["sync", "--once"], LIMIT).await.code, Some(1));
    let refused = run(&config, &["dead-letters", "purge"], LIMIT).await;
    assert_ne!(refused.code, Some(0), "purging needs --all");
    let purged = run(&config, &["dead-letters", "purge", "--all"], LIMIT).await;
    assert_eq!(purged.stdout.trim(), "1 dead letter(s) purged", "{}", purged.stderr);
    assert_eq!(run(&config, &["dead-letters"], LIMIT).await.stdout.trim(), "no dead letters");
}
