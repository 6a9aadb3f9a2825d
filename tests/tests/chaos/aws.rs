//! The AWS runtime under chaos: the handlers over SQS and DynamoDB on a moto server, as the
//! Lambda functions run them. Several instances each receive batches of every queue and run
//! them through `runtime::process_batch`, as an SQS event source mapping invokes a function;
//! their Graph clients share the DynamoDB request limiter; `notify` answers Graph on a TLS
//! listener (the Function URL); the subscribe schedule is played by the test (upkeep at start
//! and for mailboxes left without a subscription, a sweep at start and after the stream).
//! Without `EXSYNC_MOTO_SERVER` (set by `scripts/test`) the test says it is skipped.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use exsync_shared::{
    adapters::aws::env::QueueUrls,
    config::Config,
    domain::Folder,
    handlers::{notify, passes::request_pass},
    jobs::{Envelope, Job, QueueName, Trigger},
    listener,
    ports::{JobQueue, JobSource, SystemClock},
    runtime::{RetryPolicy, process_batch},
};
use exsync_sim::scenario::DemoOrg;
use tokio::{net::TcpListener, task::JoinSet, time::Instant};
use tokio_util::sync::CancellationToken;

use crate::{
    instance::{Instance, Resources},
    moto::{Moto, SERVER_VARIABLE},
    plan::Plan,
    verdict::{judge, wait_idle, wait_landed},
    world,
};

/// The SQS visibility timeout of a received batch, and the handler's deadline inside it.
const LEASE: Duration = Duration::from_secs(30);
const DEADLINE: Duration = Duration::from_secs(25);
/// The event source mapping's batch size.
const BATCH: usize = 10;

/// Receives batches of `queue` and runs them until `stop`, as an event source mapping does.
async fn event_source(instance: Instance, queue: QueueName, stop: CancellationToken) {
    let queues = instance.queues();
    let handler = instance
        .handlers()
        .iter()
        .find(|(q, _)| *q == queue)
        .map(|(_, h)| h.clone())
        .expect("a handler per queue");
    while !stop.is_cancelled() {
        match instance.queue.receive(queue, BATCH, LEASE).await {
            Ok(batch) if !batch.is_empty() => {
                // Unsettled messages are the batch item failures: SQS shows them again once
                // their visibility timeout ends.
                let _ = process_batch(
                    batch,
                    handler.as_ref(),
                    &queues,
                    &RetryPolicy::DEFAULT,
                    DEADLINE,
                )
                .await;
            }
            Ok(_) => {
                tokio::select! {
                    () = stop.cancelled() => {}
                    () = instance.queue.wait_for(queue, Duration::from_secs(1)) => {}
                }
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

/// The subscribe schedule: upkeep of every mailbox, then each tick of those with a folder
/// that has no subscription record (its upkeep failed).
async fn subscribe_schedule(instance: Instance, config: Arc<Config>, stop: CancellationToken) {
    let mut first = true;
    while !stop.is_cancelled() {
        let mut jobs = Vec::new();
        for mailbox in config.mailboxes.iter().filter(|m| m.incoming) {
            let records = instance.notify.subscriptions.subscriptions_of(&mailbox.address).await;
            let missing =
                records.is_ok_and(|r| Folder::ALL.iter().any(|f| r.iter().all(|s| s.folder != *f)));
            if first || missing {
                jobs.push(Envelope::new(Job::EnsureSubscriptions {
                    mailbox: mailbox.address.clone(),
                }));
            }
        }
        first = false;
        if !jobs.is_empty() {
            let _ = instance.queue.enqueue(QueueName::Subscriptions, &jobs, Duration::ZERO).await;
        }
        tokio::select! {
            () = stop.cancelled() => {}
            () = tokio::time::sleep(Duration::from_secs(2)) => {}
        }
    }
}

/// The scheduled sweep: a pass of every synced folder.
async fn sweep(instance: &Instance, config: &Config) {
    for mailbox in config.mailboxes.iter().filter(|m| m.incoming) {
        for folder in Folder::ALL {
            let passes = instance.notify.passes.as_ref();
            let queue = instance.queue.as_ref();
            request_pass(passes, queue, &SystemClock, &mailbox.address, folder, Trigger::Sweep)
                .await
                .expect("a sweep pass is requested");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_handlers_over_sqs_and_dynamodb_under_faults_sync_every_email_once_within_the_limits()
 {
    if std::env::var_os(SERVER_VARIABLE).is_none() {
        println!(
            "chaos aws: SKIPPED: {SERVER_VARIABLE} is not set (the moto_server executable; \
             scripts/test installs moto and sets it)"
        );
        return;
    }
    let plan = Plan::from_env("aws");
    // EXSYNC_E2E_LOGS=folder keeps the handlers' logs (info) in `aws.log` there.
    if let Some(dir) = std::env::var_os("EXSYNC_E2E_LOGS") {
        let file = std::fs::File::create(std::path::Path::new(&dir).join("aws.log")).unwrap();
        let _ = tracing_subscriber::fmt()
            .with_env_filter("info")
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .try_init();
    }
    let org = Arc::new(world::organisation(DemoOrg::start().await.unwrap(), &plan));
    let moto = Moto::shared();
    let stem = moto.unique("chaos");
    let mut urls = Vec::new();
    for queue in QueueName::ALL {
        let pair = moto.create_queue(&format!("{stem}-{}", queue.as_str()), 7).await;
        urls.push((queue, QueueUrls { url: pair.url, dead_letter_url: pair.dead_letter_url }));
    }
    let table = moto.unique("chaos");
    moto.create_table(&table).await;
    let resources =
        Resources { queues: exsync_shared::adapters::aws::env::QueueMap::new(urls), table };

    let dir = org.cloud.dir().to_path_buf();
    let socket = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = socket.local_addr().unwrap().port();
    let runtime = world::webhook_runtime(&org, &dir, port);
    let config =
        Arc::new(Config::load(&world::config(&org, &runtime).write(&dir).unwrap()).unwrap());
    let mut instances = Vec::new();
    for _ in 0..plan.instances {
        instances.push(Instance::new(config.clone(), &resources).await);
    }
    let stop = CancellationToken::new();
    let mut tasks = JoinSet::new();
    let tls = listener::tls_config(&dir.join("listener.pem"), &dir.join("listener.key")).unwrap();
    let app = notify::app(instances[0].notify.clone());
    tasks.spawn(listener::serve(app, socket, Some(tls), stop.clone()));
    for instance in &instances {
        for queue in QueueName::ALL {
            tasks.spawn(event_source(instance.clone(), queue, stop.clone()));
        }
    }
    tasks.spawn(subscribe_schedule(instances[0].clone(), config.clone(), stop.clone()));
    sweep(&instances[0], &config).await;

    let started = Instant::now();
    world::arm_faults(&org, plan.seed);
    let stop_events = Arc::new(AtomicBool::new(false));
    let events = world::raise_lifecycle_events(org.clone(), plan.seed, stop_events.clone());
    let sent = world::send_mail(org.clone(), plan).await.unwrap();
    stop_events.store(true, Ordering::Relaxed);
    sweep(&instances[0], &config).await;

    wait_landed(&org, &sent, instances[0].queue.as_ref(), plan.settle).await;
    let depths = wait_idle(instances[0].queue.as_ref(), Duration::from_secs(60)).await;
    let wall = started.elapsed();
    stop.cancel();
    while tasks.join_next().await.is_some() {}

    let mut figures = judge(&org, &sent, &depths);
    figures.lifecycles = events.await.unwrap();
    figures.wall = wall;
    figures.print("aws");
}
