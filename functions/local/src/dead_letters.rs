//! `exsync dead-letters`: the jobs that could not be handled, with their reason; replay them
//! once the cause is fixed, or purge them.

use std::process::ExitCode;

use exsync_shared::{
    admin::Admin,
    jobs::{Envelope, Job, QueueName},
    ports::DeadLetter,
};
use time::format_description::well_known::Rfc3339;

/// Most dead letters listed per queue.
const LIST_LIMIT: usize = 1000;

/// What to do with the dead letters.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum DeadLetterCommand {
    /// List them, oldest first, with their reason (the default).
    List,
    /// Put one (by ID) or all of them back on their queue, with a fresh set of attempts.
    Replay {
        /// The ID `list` shows.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        id: Option<String>,
        /// Every dead letter of every queue.
        #[arg(long)]
        all: bool,
    },
    /// Delete every dead letter of every queue.
    Purge {
        /// Required: purging cannot be undone.
        #[arg(long, required = true)]
        all: bool,
    },
}

/// Runs the command; `replay ID` of an unknown ID exits 1.
pub async fn run(admin: &Admin, command: DeadLetterCommand) -> anyhow::Result<ExitCode> {
    let queue = admin.queues();
    match command {
        DeadLetterCommand::List => {
            let mut all = Vec::new();
            for name in QueueName::ALL {
                all.extend(queue.dead_letters(name, LIST_LIMIT).await?);
            }
            print(&all);
        }
        DeadLetterCommand::Replay { all: true, .. } => {
            let mut total = 0;
            for name in QueueName::ALL {
                total += queue.replay_all(name).await?;
            }
            println!("{total} dead letter(s) replayed");
        }
        DeadLetterCommand::Replay { id, .. } => {
            let id = id.unwrap_or_default();
            for name in QueueName::ALL {
                if queue.replay(name, &id).await? {
                    println!("dead letter {id} replayed onto the {} queue", name.as_str());
                    return Ok(ExitCode::SUCCESS);
                }
            }
            eprintln!("error: no dead letter {id} (already replayed or purged?)");
            return Ok(ExitCode::FAILURE);
        }
        DeadLetterCommand::Purge { .. } => {
            let mut total = 0;
            for name in QueueName::ALL {
                total += queue.purge(name).await?;
            }
            println!("{total} dead letter(s) purged");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print(all: &[DeadLetter]) {
    if all.is_empty() {
        println!("no dead letters");
        return;
    }
    println!(
        "{:>6}  {:13}  {:20}  {:>8}  {:50}  REASON",
        "ID", "QUEUE", "DEAD-LETTERED", "RECEIVES", "JOB"
    );
    for d in all {
        let at = d
            .dead_lettered_at
            .replace_nanosecond(0)
            .ok()
            .and_then(|t| t.format(&Rfc3339).ok())
            .unwrap_or_default();
        println!(
            "{:>6}  {:13}  {at:20}  {:>8}  {:50}  {}",
            d.id,
            d.queue.as_str(),
            d.receive_count,
            describe(&d.body),
            d.reason
        );
    }
}

/// The job in a few words (the body may be unreadable: that can be why it is here).
fn describe(body: &str) -> String {
    let Ok(envelope) = Envelope::from_body(body) else {
        return "(unreadable job)".into();
    };
    match envelope.job() {
        Job::SyncFolder { mailbox, folder, .. } => format!("{folder} pass of {mailbox}"),
        Job::WriteEmail { mailbox, email, .. } => {
            format!("write {} of {mailbox}", email.graph_id)
        }
        Job::Screen { mailbox, folder, .. } => format!("screen {folder} of {mailbox}"),
        Job::EnsureSubscriptions { mailbox } => format!("subscriptions of {mailbox}"),
        Job::Lifecycle { subscription, event } => format!("{event:?} of {subscription}"),
    }
}
