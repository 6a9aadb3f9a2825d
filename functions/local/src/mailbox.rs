//! `exsync mailbox test|enable|disable ADDRESS`: Test & Enable, and the admin's switch.

use std::process::ExitCode;

use exsync_shared::{admin::Admin, domain::MailboxAddress};

/// What to do with a mailbox.
#[derive(Debug, clap::Subcommand)]
pub enum MailboxCommand {
    /// Test & Enable: check the token, mailbox access (application access policies included),
    /// its folders and Dataverse access, say what to fix, and enable the mailbox when all pass.
    /// Exit status 1 when a check fails.
    Test {
        /// The mailbox (as in the configuration).
        address: String,
    },
    /// Switch a mailbox on again (also clears a park); a running `serve` resumes it within
    /// seconds, an AWS deployment at its next probe (every 5 minutes).
    Enable {
        /// The mailbox.
        address: String,
    },
    /// Switch a mailbox off: no pass and no subscription upkeep until enabled. A running
    /// `serve` obeys at its next job, without a restart.
    Disable {
        /// The mailbox.
        address: String,
    },
}

/// Runs the command.
pub async fn run(admin: &Admin, command: MailboxCommand) -> anyhow::Result<ExitCode> {
    let (address, enable) = match command {
        MailboxCommand::Test { address } => {
            let report = admin.test_mailbox(&MailboxAddress::parse(address)?).await?;
            print!("{report}");
            return Ok(if report.passed() { ExitCode::SUCCESS } else { ExitCode::FAILURE });
        }
        MailboxCommand::Enable { address } => (address, true),
        MailboxCommand::Disable { address } => (address, false),
    };
    let mailbox = MailboxAddress::parse(address)?;
    let before = admin.set_enabled(&mailbox, enable).await?;
    let before = before.map_or("pending", |h| h.name());
    let now = if enable { "enabled" } else { "disabled" };
    println!("{mailbox}: {now} (was {before})");
    Ok(ExitCode::SUCCESS)
}
