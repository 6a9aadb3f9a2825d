//! The embedded runtime under chaos: the `exsync serve` binary over SQLite, killed with
//! SIGKILL at random moments while the mail flows and the faults fire, restarted on the same
//! state and port each time.
//!
//! The binary is the one `cargo test --workspace` builds beside this test
//! (`target/<profile>/exsync`), or `EXSYNC_BIN`; build it first when running this test alone
//! (`cargo build -p exsync`).

use std::{
    fs::File,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use exsync_shared::{config::Config, embedded::Embedded};
use exsync_sim::scenario::DemoOrg;
use rand::{SeedableRng, rngs::StdRng};
use tokio::time::{Instant, sleep};

use crate::{
    plan::Plan,
    verdict::{judge, wait_idle, wait_landed},
    world::{self, between},
};

/// The `exsync` binary: `EXSYNC_BIN`, else the one beside this test's target folder.
fn exsync_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("EXSYNC_BIN") {
        return path.into();
    }
    let exe = std::env::current_exe().expect("the test's path");
    // target/<profile>/deps/chaos-<hash> -> target/<profile>/exsync
    let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>");
    let binary = profile_dir.join("exsync");
    assert!(
        binary.is_file(),
        "{} is missing: build it first (`cargo build -p exsync`; `cargo test --workspace` \
         builds it) or name it in EXSYNC_BIN",
        binary.display()
    );
    binary
}

fn serve(binary: &Path, config: &Path, log: &Path) -> Child {
    let log = File::create(log).expect("a log file");
    Command::new(binary)
        .env("RUST_LOG", "info")
        .env_remove("EXSYNC_CONFIG")
        .arg("--config")
        .arg(config)
        .arg("serve")
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log handle"))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("exsync serve starts")
}

fn free_port() -> u16 {
    let socket = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    socket.local_addr().expect("bound").port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_killed_at_random_under_faults_syncs_every_email_once_within_the_limits() {
    let plan = Plan::from_env("embedded");
    let binary = exsync_binary();
    println!("exsync binary: {}", binary.display());
    let mut rng = StdRng::seed_from_u64(plan.seed);
    let org = Arc::new(world::organisation(DemoOrg::start().await.unwrap(), &plan));
    let dir = org.cloud.dir().to_path_buf();
    let port = free_port();
    let runtime = world::webhook_runtime(&org, &dir, port);
    let config = world::config(&org, &runtime).write(&dir).unwrap();
    // EXSYNC_E2E_LOGS=folder keeps the serve logs there (the run's tempdir is removed).
    let log_dir = std::env::var_os("EXSYNC_E2E_LOGS").map_or(dir.clone(), Into::into);
    let started = Instant::now();
    world::arm_faults(&org, plan.seed);
    let stop_events = Arc::new(AtomicBool::new(false));
    let events = world::raise_lifecycle_events(org.clone(), plan.seed, stop_events.clone());
    let sending = world::send_mail(org.clone(), plan);

    // Kills spread over the stream's length.
    let stream_length = plan.pace * plan.emails as u32;
    let mean_run = stream_length.as_millis() as u64 / (plan.kills as u64 + 1);
    let mut runs = 0;
    for _ in 0..plan.kills {
        let log = log_dir.join(format!("serve-{runs}.log"));
        runs += 1;
        let mut child = serve(&binary, &config, &log);
        sleep(between(&mut rng, mean_run / 2..mean_run * 3 / 2)).await;
        child.kill().expect("SIGKILL");
        child.wait().expect("reaped");
    }
    let mut child = serve(&binary, &config, &log_dir.join(format!("serve-{runs}.log")));
    let sent = sending.await.unwrap();
    // Once the stream ended, one more kill: the restart's sweep is the safety net for mail
    // whose notifications were all dropped.
    sleep(between(&mut rng, 200..1500)).await;
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let mut last = serve(&binary, &config, &log_dir.join("serve-last.log"));
    stop_events.store(true, Ordering::Relaxed);

    let state = Embedded::open(Config::load(&config).unwrap()).unwrap();
    wait_landed(&org, &sent, state.queue().as_ref(), plan.settle).await;
    let depths = wait_idle(state.queue().as_ref(), Duration::from_secs(60)).await;
    let wall = started.elapsed();
    let stopped = Command::new("kill").args(["-TERM", &last.id().to_string()]).status().unwrap();
    assert!(stopped.success());
    let status = tokio::task::spawn_blocking(move || last.wait()).await.unwrap().unwrap();
    assert_eq!(status.code(), Some(0), "SIGTERM stops serve cleanly");

    let mut figures = judge(&org, &sent, &depths);
    figures.kills = plan.kills + 1;
    figures.lifecycles = events.await.unwrap();
    figures.wall = wall;
    figures.print("embedded");
}
