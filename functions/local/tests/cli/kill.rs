//! `exsync serve` killed with SIGKILL at random moments while mail keeps arriving, restarted on
//! the same state and port each time: in the end every email is in Dataverse exactly once,
//! the queues are empty and nothing was dead-lettered.

use std::{
    collections::HashMap,
    fs::File,
    path::Path,
    process::{Child, Command, Stdio},
    sync::Arc,
    time::Duration,
};

use exsync_shared::{
    config::Config,
    embedded::Embedded,
    jobs::QueueName,
    ports::{QueueDepth, QueueDepths},
};
use exsync_sim::scenario::{DemoOrg, MailStream, SentMail};
use rand::{Rng, SeedableRng, rngs::StdRng};
use tokio::time::{Instant, sleep};

use crate::common::{
    assert_debug_logs, assert_no_secrets, exsync, forbidden, free_port, webhook_runtime,
};

/// Emails in the stream, and the pause between two.
const EMAILS: usize = 120;
const PACE: Duration = Duration::from_millis(40);
/// How many times `serve` is killed.
const KILLS: usize = 5;

fn serve(config: &Path, log: &Path) -> Child {
    let log = File::create(log).expect("a log file");
    exsync()
        .arg("--config")
        .arg(config)
        .arg("serve")
        .stdout(log.try_clone().expect("log handle"))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("exsync serve starts")
}

async fn depths(exsync: &Embedded) -> Vec<(QueueName, QueueDepth)> {
    let mut all = Vec::new();
    for queue in QueueName::ALL {
        all.push((queue, exsync.queue().depth(queue).await.expect("depth")));
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_killed_at_random_moments_mid_stream_loses_and_duplicates_nothing() {
    let seed: u64 = rand::random();
    println!("seed {seed}");
    let mut rng = StdRng::seed_from_u64(seed);
    let org = Arc::new(DemoOrg::start().await.unwrap());
    let dir = org.cloud.dir().to_path_buf();
    let port = free_port();
    let config = org.config(&webhook_runtime(&org, &dir, port)).write(&dir).unwrap();
    // EXSYNC_E2E_LOGS=folder keeps the serve logs there (a failed run's tempdir is removed).
    let log_dir = std::env::var_os("EXSYNC_E2E_LOGS").map_or(dir.clone(), Into::into);

    let sending = tokio::spawn({
        let org = org.clone();
        async move {
            let mut stream = MailStream::new(seed);
            for _ in 0..EMAILS {
                stream.next(&org, time::OffsetDateTime::now_utc());
                sleep(PACE).await;
            }
            stream.sent().to_vec()
        }
    });

    let mut logs = Vec::new();
    for round in 0..KILLS {
        let log = log_dir.join(format!("serve-{round}.log"));
        let mut child = serve(&config, &log);
        logs.push(log);
        sleep(Duration::from_millis(rng.random_range(200..1500))).await;
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
    }
    let log = log_dir.join("serve-last.log");
    let mut last = serve(&config, &log);
    logs.push(log);

    let sent: Vec<SentMail> = sending.await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let landed = org.dataverse.env.emails();
        let missing = sent
            .iter()
            .filter(|m| {
                !landed.iter().any(|e| e.messageid.as_ref() == Some(&m.internet_message_id))
            })
            .count();
        if missing == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{missing} of {} emails missing after 60 s", sent.len());
        sleep(Duration::from_millis(100)).await;
    }
    // Nothing may be left behind: no job waiting, leased or delayed. Graph retries the
    // notifications it could not deliver while serve was down a minute later (its time), and
    // each may ask for a pass: their simulated time is moved on until all have arrived and
    // been handled, so none lands after the final look.
    let state = Embedded::open(Config::load(&config).unwrap()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = depths(&state).await;
        let retrying = org.cloud.graph.notification_stats().retrying;
        if retrying == 0 && left.iter().all(|(_, d)| d.is_idle()) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the queues did not empty: {left:?}; {retrying} notifications still retried"
        );
        if retrying > 0 {
            org.cloud.clock.advance(Duration::from_secs(60));
        }
        sleep(Duration::from_millis(100)).await;
    }
    let stopped = Command::new("kill").args(["-TERM", &last.id().to_string()]).status().unwrap();
    assert!(stopped.success());
    let status = tokio::task::spawn_blocking(move || last.wait()).await.unwrap().unwrap();
    assert_eq!(status.code(), Some(0), "SIGTERM stops serve cleanly");

    let landed = org.dataverse.env.emails();
    let mut count: HashMap<&str, usize> = HashMap::new();
    for email in &landed {
        *count.entry(email.messageid.as_deref().unwrap_or("")).or_default() += 1;
    }
    for mail in &sent {
        assert_eq!(count.get(mail.internet_message_id.as_str()), Some(&1), "{mail:?}");
    }
    let unique: std::collections::HashSet<&str> =
        sent.iter().map(|m| m.internet_message_id.as_str()).collect();
    assert_eq!(landed.len(), unique.len(), "nothing but the stream was written");
    for (queue, depth) in depths(&state).await {
        assert!(depth.is_idle(), "{queue:?}: {depth:?}");
        assert_eq!(depth.dead_lettered, 0, "{queue:?}: dead letters");
    }

    let secrets = forbidden(&org, &[]);
    let mut all = String::new();
    for log in &logs {
        let text = std::fs::read_to_string(log).unwrap();
        assert_no_secrets(&log.display().to_string(), &text, &secrets);
        all.push_str(&text);
    }
    assert_debug_logs("the serve runs", &all);
}
