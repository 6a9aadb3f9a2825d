//! `exsync-sim`: the simulated Microsoft cloud on its own, for manual runs and other tools.
//!
//! Starts Entra ID, Graph and Dataverse on 127.0.0.1 with the demo organisation (two Exchange
//! tenants, Dataverse on a third), writes an `exsync.toml` for them (secrets and the test CA
//! beside it), prints where everything is, optionally delivers a stream of mail, and runs
//! until Ctrl-C.

use std::{path::PathBuf, process::ExitCode, time::Duration};

use anyhow::Context;
use clap::Parser;
use exsync_sim::{
    cloud::{SimCloud, SimPorts},
    graph::GraphLimits,
    scenario::{DemoOrg, MailStream},
};

/// The simulated Microsoft cloud (Entra ID, Graph, Dataverse) with the demo organisation.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Port of Entra ID's token endpoint (0: any free port).
    #[arg(long, default_value_t = 0)]
    entra_port: u16,
    /// Port of Microsoft Graph (0: any free port).
    #[arg(long, default_value_t = 0)]
    graph_port: u16,
    /// Port of the Dataverse Web API (0: any free port).
    #[arg(long, default_value_t = 0)]
    dataverse_port: u16,
    /// Where to write exsync.toml, its secrets and the CA (default: a temporary folder,
    /// removed at exit).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Have Graph call exsync's webhook listener on this port of 127.0.0.1 (HTTPS with the
    /// test CA); without it the configuration polls with delta queries.
    #[arg(long)]
    webhook_port: Option<u16>,
    /// Deliver this many emails into the mailboxes, one every `--every`.
    #[arg(long, default_value_t = 0)]
    mail: usize,
    /// The pause between two emails.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    every: Duration,
    /// Seed of the mail stream.
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let ports =
        SimPorts { entra: args.entra_port, graph: args.graph_port, dataverse: args.dataverse_port };
    let cloud = SimCloud::start_on(ports, GraphLimits::default())
        .await
        .context("cannot start the simulators (is a chosen port in use?)")?;
    let org = DemoOrg::on(cloud);
    let dir = args.dir.clone().unwrap_or_else(|| org.cloud.dir().to_path_buf());
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;

    let runtime = match args.webhook_port {
        Some(port) => {
            org.cloud.ca.write_server_pem(&dir.join("listener.pem"), &dir.join("listener.key"))?;
            format!(
                "state = \"sqlite:exsync.db\"\nlisten = \"127.0.0.1:{port}\"\n\
                 public_url = \"https://127.0.0.1:{port}\"\ntls_cert = \"listener.pem\"\n\
                 tls_key = \"listener.key\"\n"
            )
        }
        None => "state = \"sqlite:exsync.db\"\npoll_interval = \"5s\"\n".to_string(),
    };
    let config = org.config(&runtime).write(&dir)?;

    println!("entra      {}", org.cloud.authority_host().as_str().trim_end_matches('/'));
    println!("graph      {}", org.cloud.graph_url().as_str().trim_end_matches('/'));
    println!("dataverse  {}", org.dataverse.env.url());
    println!("ca_file    {}", dir.join("ca.pem").display());
    println!("config     {}", config.display());
    for s in &org.staff {
        println!("mailbox    {} ({})", s.address, s.profile);
    }
    println!("ready: run `exsync serve --config {}`; Ctrl-C stops", config.display());

    let mut stream = MailStream::new(args.seed);
    let mut sent = 0;
    let mut tick = tokio::time::interval(args.every);
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = tick.tick(), if sent < args.mail => {
                let mail = stream.next(&org, time::OffsetDateTime::now_utc());
                sent += 1;
                println!("sent       {} {}", mail.internet_message_id, mail.subject);
            }
        }
    }
    let landed = org.dataverse.env.emails().len();
    println!("stopped: {sent} emails sent, {landed} email activities in Dataverse");
    Ok(())
}
