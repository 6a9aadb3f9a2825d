//! `exsync demo`: the newcomer's first command. Simulated tenants, the real pipeline with
//! webhooks, a stream of realistic mail, and what landed in Dataverse.

use std::{
    collections::{BTreeMap, HashMap},
    path::PathBuf,
    process::ExitCode,
    time::{Duration, Instant},
};

use anyhow::Context;
use exsync_shared::{config::Config, embedded::Embedded};
use exsync_sim::scenario::{DemoOrg, MailStream};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Options of `exsync demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// How many emails to send through the mailboxes.
    #[arg(long, default_value_t = 60)]
    emails: usize,
    /// Emails per second.
    #[arg(long, default_value_t = 20.0)]
    rate: f64,
    /// Keep the configuration and state here (default: a temporary folder, removed at the end).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Seed of the mail stream (the same seed sends the same mail).
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

/// How long to wait for the last emails to land before calling the demo failed.
const SETTLE: Duration = Duration::from_secs(60);

pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    println!("Starting a simulated Microsoft cloud on 127.0.0.1 (Entra ID, Graph, Dataverse)...");
    let org = DemoOrg::start().await.context("cannot start the simulators")?;
    let dir = args.dir.clone().unwrap_or_else(|| org.cloud.dir().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    println!("  Exchange Online tenant fabrikam.example  {}", org.fabrikam.tenant_id);
    println!("  Exchange Online tenant contoso.example   {}", org.contoso.tenant_id);
    println!("  Dataverse on tenant northwind.example    {}", org.dataverse.env.url());

    let socket = TcpListener::bind("127.0.0.1:0").await?;
    let port = socket.local_addr()?.port();
    org.cloud.ca.write_server_pem(&dir.join("listener.pem"), &dir.join("listener.key"))?;
    let runtime = format!(
        "state = \"sqlite:exsync.db\"\nlisten = \"127.0.0.1:{port}\"\n\
         public_url = \"https://127.0.0.1:{port}\"\ntls_cert = \"listener.pem\"\ntls_key = \"listener.key\"\n"
    );
    let path = org.config(&runtime).write(&dir)?;
    println!("\nConfiguration: {} ({} mailboxes on 2 profiles)", path.display(), org.staff.len());

    let exsync = Embedded::open(Config::load(&path)?)?;
    let stop = CancellationToken::new();
    let serving = tokio::spawn({
        let (exsync, stop) = (exsync.clone(), stop.clone());
        async move { exsync.serve_on(socket, stop).await }
    });

    let wanted = org.staff.len() * 2;
    let subscribed =
        wait_until(Duration::from_secs(30), || org.cloud.graph.subscriptions().len() >= wanted)
            .await;
    println!(
        "exsync serves https://127.0.0.1:{port}: {} of {wanted} Graph subscriptions validated",
        org.cloud.graph.subscriptions().len()
    );
    if !subscribed {
        stop.cancel();
        let _ = serving.await;
        anyhow::bail!("the subscriptions were not created; run with RUST_LOG=info to see why");
    }

    println!("\nSending {} emails at {}/s...", args.emails, args.rate);
    let mut stream = MailStream::new(args.seed);
    let mut sent_at: HashMap<String, Instant> = HashMap::new();
    let mut landed: HashMap<String, Instant> = HashMap::new();
    let pause = Duration::from_secs_f64(1.0 / args.rate.max(0.1));
    for i in 1..=args.emails {
        let mail = stream.next(&org, time::OffsetDateTime::now_utc());
        sent_at.entry(mail.internet_message_id).or_insert_with(Instant::now);
        observe(&org, &mut landed);
        if i % 10 == 0 || i == args.emails {
            println!("  sent {i:>4}/{}   in Dataverse {:>4}", args.emails, landed.len());
        }
        tokio::time::sleep(pause).await;
    }
    let deadline = Instant::now() + SETTLE;
    while landed.len() < sent_at.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        observe(&org, &mut landed);
    }
    println!("  all sent          in Dataverse {:>4}", landed.len());
    stop.cancel();
    serving.await??;

    let ok = report(&org, &stream, &sent_at, &landed);
    if args.dir.is_some() {
        println!("\nState and configuration kept in {}", dir.display());
    }
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Records when each email first shows up in Dataverse.
fn observe(org: &DemoOrg, landed: &mut HashMap<String, Instant>) {
    let now = Instant::now();
    for email in org.dataverse.env.emails() {
        if let Some(id) = email.messageid {
            landed.entry(id).or_insert(now);
        }
    }
}

async fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    true
}

/// Prints what landed; true when every email is there exactly once.
fn report(
    org: &DemoOrg,
    stream: &MailStream,
    sent_at: &HashMap<String, Instant>,
    landed: &HashMap<String, Instant>,
) -> bool {
    let emails = org.dataverse.env.emails();
    let copies: usize = stream.sent().iter().map(|m| m.copies).sum();
    let mut by_message: HashMap<&str, usize> = HashMap::new();
    for e in &emails {
        *by_message.entry(e.messageid.as_deref().unwrap_or("")).or_default() += 1;
    }
    let duplicates = by_message.values().filter(|n| **n > 1).count();
    let missing = sent_at.keys().filter(|id| !by_message.contains_key(id.as_str())).count();
    let outgoing = emails.iter().filter(|e| e.directioncode).count();

    let mut parties: BTreeMap<&str, usize> = BTreeMap::new();
    for p in emails.iter().flat_map(|e| &e.parties) {
        *parties.entry(p.party.as_ref().map_or("unresolved address", |r| r.table)).or_default() +=
            1;
    }
    let replies = stream.sent().iter().filter(|m| m.in_reply_to.is_some()).count();
    let linked = emails.iter().filter(|e| e.parent.is_some()).count();

    let mut latencies: Vec<Duration> = sent_at
        .iter()
        .filter_map(|(id, sent)| landed.get(id).map(|l| l.saturating_duration_since(*sent)))
        .collect();
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or_default()
    };

    println!("\nWhat landed in Dataverse");
    println!("  emails sent           {} ({} copies in synced mailboxes)", sent_at.len(), copies);
    println!(
        "  email activities      {} ({} received, {} sent)",
        emails.len(),
        emails.len() - outgoing,
        outgoing
    );
    println!("  duplicates            {duplicates}");
    println!("  missing               {missing}");
    println!("  activity parties      {}", parties.values().sum::<usize>());
    for (table, n) in &parties {
        println!("    {table:20}{n}");
    }
    println!("  replies threaded      {linked} of {replies} (parent activity and regarding)");
    println!(
        "  latency               p50 {} ms, p95 {} ms, max {} ms (delivery to committed activity, 20 ms polling)",
        pct(0.5).as_millis(),
        pct(0.95).as_millis(),
        pct(1.0).as_millis()
    );
    let graph: u64 = org.cloud.graph.all_request_stats().iter().map(|(_, _, s)| s.requests).sum();
    let dataverse = org.dataverse.env.requests(&org.dataverse.app_id);
    let notifications = org.cloud.graph.notification_stats();
    println!(
        "  cost                  {graph} Graph requests, {} Dataverse operations, {} notifications",
        dataverse.total, notifications.delivered
    );
    let ok = duplicates == 0 && missing == 0;
    println!(
        "\n{}",
        if ok {
            "Every email is in Dataverse exactly once."
        } else {
            "Some emails are missing or duplicated."
        }
    );
    ok
}
