//! How events move a mailbox's status.

use time::macros::datetime;

use super::*;

#[test]
fn a_success_heals_a_failing_mailbox_and_a_written_email_only_counts() {
    let t0 = datetime!(2026-11-23 10:00 UTC);
    let mailbox = MailboxAddress::parse("alice@fabrikam.example").unwrap();
    let mut status = MailboxStatus::new(mailbox, t0);
    let failed =
        StatusEvent::Failed { reason: "Graph 503".into(), retryable: true, retry_at: None };
    status.apply(failed.clone(), t0);
    status.apply(failed, t0);
    assert_eq!(status.consecutive_failures, 2);
    status.apply(StatusEvent::EmailsWritten { created: 1, duplicate: 0 }, t0);
    assert!(matches!(status.health, Health::Failing { .. }));
    status.apply(StatusEvent::PassSucceeded { emails: 3 }, t0 + time::Duration::SECOND);
    assert_eq!(status.health, Health::Healthy);
    assert_eq!(status.consecutive_failures, 0);
    assert_eq!(status.last_success, Some(t0 + time::Duration::SECOND));
    assert_eq!((status.emails_seen, status.emails_written), (3, 1));
    // A report that arrives late does not move the record back in time.
    status.apply(StatusEvent::EmailsWritten { created: 2, duplicate: 3 }, t0);
    assert_eq!(status.updated_at, t0 + time::Duration::SECOND);
    assert_eq!((status.emails_written, status.emails_duplicate), (3, 3));
    status.apply(StatusEvent::EmailsSkipped { emails: 2 }, t0);
    assert_eq!((status.emails_skipped, status.health), (2, Health::Healthy));
}

#[test]
fn a_pass_that_leaves_a_backlog_shows_catching_up_until_one_finishes() {
    let t0 = datetime!(2026-11-23 10:00 UTC);
    let mailbox = MailboxAddress::parse("alice@fabrikam.example").unwrap();
    let mut status = MailboxStatus::new(mailbox, t0);
    status.apply(
        StatusEvent::Failed { reason: "Graph 503".into(), retryable: true, retry_at: None },
        t0,
    );
    status.apply(StatusEvent::CatchingUp { emails: 1000 }, t0);
    assert_eq!((status.health.clone(), status.consecutive_failures), (Health::CatchingUp, 0));
    assert_eq!(status.last_success, None);
    status.apply(StatusEvent::PassSucceeded { emails: 20 }, t0);
    assert_eq!((status.health, status.emails_seen), (Health::Healthy, 1020));
}

#[test]
fn a_disabled_mailbox_stays_disabled_but_counts() {
    let t0 = datetime!(2026-11-23 10:00 UTC);
    let mailbox = MailboxAddress::parse("alice@fabrikam.example").unwrap();
    let mut status = MailboxStatus::new(mailbox, t0);
    status.health = Health::Disabled;
    status.apply(StatusEvent::PassSucceeded { emails: 2 }, t0);
    status.apply(StatusEvent::Throttled { until: t0 }, t0);
    assert_eq!(status.health, Health::Disabled);
    assert_eq!(status.emails_seen, 2);
    status.apply(StatusEvent::Enabled, t0);
    assert_eq!((status.health, status.emails_seen), (Health::Pending, 2));
}

#[test]
fn a_park_holds_its_next_probe_until_a_pass_or_the_admin_clears_it() {
    let t0 = datetime!(2026-11-23 10:00 UTC);
    let probe = t0 + time::Duration::MINUTE;
    let mailbox = MailboxAddress::parse("alice@fabrikam.example").unwrap();
    let mut status = MailboxStatus::new(mailbox, t0);
    let reason = "AADSTS7000222: the client secret has expired".to_string();
    status.apply(
        StatusEvent::Failed { reason: reason.clone(), retryable: false, retry_at: Some(probe) },
        t0,
    );
    assert!(status.health.is_parked());
    assert_eq!(status.next_retry, Some(probe));
    status.apply(StatusEvent::Disabled, t0);
    assert_eq!((status.health.clone(), status.next_retry), (Health::Disabled, None));
    status.apply(StatusEvent::Enabled, t0);
    assert_eq!((status.health.clone(), status.consecutive_failures), (Health::Pending, 0));
    status.apply(StatusEvent::Failed { reason, retryable: false, retry_at: Some(probe) }, t0);
    // A pass that began before the park does not heal it; the probe does.
    status.apply(StatusEvent::PassEnded { emails: 3 }, probe);
    assert!(status.health.is_parked());
    assert_eq!((status.emails_seen, status.last_success), (3, Some(probe)));
    status.apply(StatusEvent::PassSucceeded { emails: 0 }, probe);
    assert_eq!((status.health.clone(), status.next_retry), (Health::Healthy, None));
    status.apply(
        StatusEvent::Failed { reason: "503".into(), retryable: true, retry_at: None },
        probe,
    );
    status.apply(StatusEvent::PassEnded { emails: 1 }, probe);
    assert_eq!((status.health, status.consecutive_failures), (Health::Healthy, 0));
}
