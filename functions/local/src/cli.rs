//! The command line: one configuration file, a command per job.

use std::{path::PathBuf, process::ExitCode, time::Duration};

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use exsync_shared::{
    admin::Admin,
    config::{Config, DEFAULT_PATH},
    embedded::Embedded,
    telemetry::{self, LogFormat},
};
use tokio_util::sync::CancellationToken;

/// Keeps Dynamics 365 (Dataverse) in step with Exchange Online mailboxes of any Entra
/// tenant, driven by Microsoft Graph change notifications and delta queries.
#[derive(Debug, Parser)]
#[command(name = "exsync", version)]
pub struct Cli {
    /// The configuration file.
    #[arg(long, short, global = true, env = "EXSYNC_CONFIG", default_value = DEFAULT_PATH)]
    config: PathBuf,
    /// status, mailbox and dead-letters work on the AWS deployment named by the EXSYNC_*
    /// variables (export the stack's AdminEnvironment output) instead of the one-process
    /// state of --config.
    #[arg(long, global = true)]
    aws: bool,
    /// Log format on stderr (levels from RUST_LOG, default info).
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    log_format: Format,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run everything in one process: webhook listener, subscription upkeep, sync and write
    /// workers, delta polling when there is no public URL. Ctrl-C drains and exits.
    Serve,
    /// One catch-up pass of every enabled mailbox, then a line per mailbox; exit status 1
    /// when any mailbox failed.
    Sync {
        /// Run once and exit (the only mode; `serve` keeps running).
        #[arg(long, required = true)]
        once: bool,
        /// Give up after this long with work left (e.g. 10m, 1h).
        #[arg(long, default_value = "30m", value_parser = humantime_duration)]
        timeout: Duration,
    },
    /// Start simulated tenants and a Dataverse environment, sync a stream of realistic mail
    /// through webhooks, and show what landed. Needs no cloud account.
    Demo(crate::demo::DemoArgs),
    /// Each mailbox's health (healthy, catching up, throttled, failing with the reason,
    /// disabled), failures in a row, last success, next retry, counters, and the queues.
    /// Exit status 1 when a mailbox is failing.
    Status,
    /// Test & Enable a mailbox, or switch it on or off.
    #[command(subcommand)]
    Mailbox(crate::mailbox::MailboxCommand),
    /// Jobs that could not be handled, with their reason: list (default), replay, purge.
    DeadLetters {
        #[command(subcommand)]
        command: Option<crate::dead_letters::DeadLetterCommand>,
    },
}

fn humantime_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| e.to_string())
}

impl Cli {
    /// Runs the command; the exit code says whether it succeeded.
    pub async fn run(self) -> anyhow::Result<ExitCode> {
        let format = match self.log_format {
            Format::Json => LogFormat::Json,
            Format::Text => LogFormat::Text,
        };
        let quiet = matches!(
            self.command,
            Command::Demo(_) | Command::Status | Command::Mailbox(_) | Command::DeadLetters { .. }
        );
        telemetry::init(format, if quiet { "warn" } else { "info" });
        if self.aws
            && matches!(self.command, Command::Serve | Command::Sync { .. } | Command::Demo(_))
        {
            anyhow::bail!(
                "--aws is for status, mailbox and dead-letters: on AWS the five Lambda functions \
                 serve and sync (infra/README.md)"
            );
        }
        match self.command {
            Command::Serve => {
                let exsync = open(&self.config)?;
                let stop = CancellationToken::new();
                tokio::spawn(stop_on_signal(stop.clone()));
                exsync.serve(stop).await?;
                Ok(ExitCode::SUCCESS)
            }
            Command::Sync { once: _, timeout } => {
                let exsync = open(&self.config)?;
                let summary = exsync.sync_once(timeout).await?;
                print!("{summary}");
                Ok(if summary.success() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
            }
            Command::Demo(args) => crate::demo::run(args).await,
            Command::Status => crate::status::print(&admin(self.aws, &self.config).await?).await,
            Command::Mailbox(command) => {
                crate::mailbox::run(&admin(self.aws, &self.config).await?, command).await
            }
            Command::DeadLetters { command } => {
                let command = command.unwrap_or(crate::dead_letters::DeadLetterCommand::List);
                crate::dead_letters::run(&admin(self.aws, &self.config).await?, command).await
            }
        }
    }
}

fn open(path: &std::path::Path) -> anyhow::Result<Embedded> {
    let config = Config::load(path)?;
    Embedded::open(config).with_context(|| format!("cannot start with {}", path.display()))
}

/// The admin commands' state: the AWS deployment's with `--aws`, else the one of `config`.
async fn admin(aws: bool, config: &std::path::Path) -> anyhow::Result<Admin> {
    if aws { aws_admin().await } else { Ok(open(config)?.admin()) }
}

#[cfg(feature = "aws")]
async fn aws_admin() -> anyhow::Result<Admin> {
    let deployment = exsync_shared::lambda::Pipeline::from_env().await.context(
        "--aws names the deployment by the EXSYNC_* variables: export the stack's \
         AdminEnvironment output (infra/README.md, \"Operating it\")",
    )?;
    deployment.admin().await.context("--aws: cannot load the deployment's configuration")
}

#[cfg(not(feature = "aws"))]
async fn aws_admin() -> anyhow::Result<Admin> {
    anyhow::bail!(
        "this exsync was built without AWS support: build it with \
         `cargo build --release -p exsync --features aws`"
    )
}

/// Ctrl-C or SIGTERM: stop accepting, finish in-flight work, exit.
async fn stop_on_signal(stop: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    stop.cancel();
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("stopping: finishing work in flight");
    stop.cancel();
}
