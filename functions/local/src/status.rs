//! `exsync status`: each mailbox's health as a table, then the queues.

use std::process::ExitCode;

use exsync_shared::{
    admin::Admin,
    jobs::QueueName,
    status::{Health, MailboxStatus},
};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

/// Prints the table; exit status 1 when a mailbox is failing.
pub async fn print(admin: &Admin) -> anyhow::Result<ExitCode> {
    let statuses = admin.statuses().await?;
    let width =
        admin.config().mailboxes.iter().map(|m| m.address.as_str().len()).max().unwrap_or(7).max(7);
    println!(
        "{:width$}  {:11}  {:>8}  {:20}  {:20}  {:>7}  {:>7}  {:>9}  {:>7}  REASON",
        "MAILBOX",
        "HEALTH",
        "FAILURES",
        "LAST SUCCESS",
        "NEXT RETRY",
        "SEEN",
        "WRITTEN",
        "DUPLICATE",
        "SKIPPED"
    );
    let mut failing = false;
    for mailbox in &admin.config().mailboxes {
        let status = statuses.iter().find(|s| s.mailbox == mailbox.address);
        let (health, reason) = match status.map(|s| &s.health) {
            _ if !mailbox.incoming => ("not synced".to_string(), "incoming = false".to_string()),
            None => ("pending".into(), String::new()),
            Some(h) => describe(h),
        };
        failing |= health == "failing";
        let counter = |f: fn(&MailboxStatus) -> u64| status.map_or(0, f);
        let last = when(status.and_then(|s| s.last_success)).unwrap_or_else(|| "never".into());
        let next = match status.map(|s| &s.health) {
            Some(Health::Throttled { until }) => when(Some(*until)),
            Some(Health::Failing { retryable: true, .. }) => Some("with backoff".into()),
            _ => when(status.and_then(|s| s.next_retry)),
        };
        println!(
            "{:width$}  {health:11}  {:>8}  {last:20}  {:20}  {:>7}  {:>7}  {:>9}  {:>7}  {reason}",
            mailbox.address.as_str(),
            status.map_or(0, |s| s.consecutive_failures),
            next.unwrap_or_else(|| "-".into()),
            counter(|s| s.emails_seen),
            counter(|s| s.emails_written),
            counter(|s| s.emails_duplicate),
            counter(|s| s.emails_skipped),
        );
    }
    println!();
    for queue in QueueName::ALL {
        let d = admin.queues().depth(queue).await?;
        println!(
            "queue {:13} ready {:>6}  in flight {:>6}  delayed {:>6}  dead letters {:>6}",
            queue.as_str(),
            d.visible,
            d.in_flight,
            d.delayed,
            d.dead_lettered
        );
    }
    Ok(if failing { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// A time in whole seconds (the columns are 20 characters wide).
fn when(at: Option<OffsetDateTime>) -> Option<String> {
    at.and_then(|t| t.replace_nanosecond(0).ok()).and_then(|t| t.format(&Rfc3339).ok())
}

fn describe(health: &Health) -> (String, String) {
    let reason = match health {
        Health::Failing { reason, retryable: false } => {
            format!("parked (an admin must act): {reason}")
        }
        Health::Failing { reason, retryable: true } => reason.clone(),
        Health::Disabled => "disabled by the admin: `exsync mailbox enable`".into(),
        _ => String::new(),
    };
    (health.name().to_string(), reason)
}
