//! `exsync status`: each mailbox's health as a table, then the queues.

use std::process::ExitCode;

use exsync_shared::{
    embedded::Embedded,
    jobs::QueueName,
    ports::{QueueDepths, StatusStore},
    status::{Health, MailboxStatus},
};
use time::format_description::well_known::Rfc3339;

/// Prints the table; exit status 1 when a mailbox is failing.
pub async fn print(exsync: &Embedded) -> anyhow::Result<ExitCode> {
    let statuses = exsync.store().statuses().await?;
    let width = exsync
        .config()
        .mailboxes
        .iter()
        .map(|m| m.address.as_str().len())
        .max()
        .unwrap_or(7)
        .max(7);
    println!(
        "{:width$}  {:11}  {:>8}  {:>8}  {:>9}  {:>8}  {:20}  reason",
        "MAILBOX", "HEALTH", "SEEN", "WRITTEN", "DUPLICATE", "SKIPPED", "LAST SUCCESS"
    );
    let mut failing = false;
    for mailbox in &exsync.config().mailboxes {
        let status = statuses.iter().find(|s| s.mailbox == mailbox.address);
        let (health, reason) = match status.map(|s| &s.health) {
            _ if !mailbox.incoming => ("not synced".to_string(), "incoming = false".to_string()),
            None | Some(Health::Pending) => ("pending".into(), String::new()),
            Some(h) => describe(h),
        };
        failing |= health == "failing";
        let counter = |f: fn(&MailboxStatus) -> u64| status.map_or(0, f);
        let last = status
            .and_then(|s| s.last_success)
            // Whole seconds: the column is 20 characters wide.
            .and_then(|t| t.replace_nanosecond(0).ok())
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_else(|| "never".into());
        println!(
            "{:width$}  {health:11}  {:>8}  {:>8}  {:>9}  {:>8}  {last:20}  {reason}",
            mailbox.address.as_str(),
            counter(|s| s.emails_seen),
            counter(|s| s.emails_written),
            counter(|s| s.emails_duplicate),
            counter(|s| s.emails_skipped),
        );
    }
    println!();
    for queue in QueueName::ALL {
        let d = exsync.queue().depth(queue).await?;
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

fn describe(health: &Health) -> (String, String) {
    match health {
        Health::Pending => ("pending".into(), String::new()),
        Health::Healthy => ("healthy".into(), String::new()),
        Health::CatchingUp => ("catching up".into(), String::new()),
        Health::Throttled { until } => {
            ("throttled".into(), format!("until {}", until.format(&Rfc3339).unwrap_or_default()))
        }
        Health::Failing { reason, .. } => ("failing".into(), reason.clone()),
        Health::Disabled => ("disabled".into(), "disabled by the admin".into()),
    }
}
