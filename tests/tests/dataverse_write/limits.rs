//! Service protection and throughput: Retry-After, concurrency, requests per email.

use exsync_shared::domain::Folder;
use exsync_sim::{
    dataverse::Limits,
    faults::{Fault, FaultRule},
};

use super::*;

#[tokio::test]
async fn a_429_pauses_the_client_for_its_retry_after() {
    let world = World::start().await;
    let alice = mailbox("alice@corp.example");
    let message = email(
        Folder::Inbox,
        Some("<busy@customer.example>"),
        "pat@customer.example",
        &["alice@corp.example"],
    );
    world.sim.faults().arm(
        FaultRule::next(1, Fault::Status { status: 429, retry_after: Some(1) }).on_path("$batch"),
    );

    let outcomes = world.write(vec![(alice.clone(), message.clone())]).await;
    let Outcome::Throttled { after, reason } = &outcomes[0] else { panic!("{outcomes:?}") };
    assert_eq!(*after, Duration::from_secs(1));
    assert!(reason.contains("0x80072322"), "{reason}");

    // Within the Retry-After nothing is sent: the job is throttled again at once.
    let sent = world.client.requests_sent();
    let outcomes = world.write(vec![(alice.clone(), message.clone())]).await;
    assert!(
        matches!(&outcomes[0], Outcome::Throttled { after, .. } if *after <= Duration::from_secs(1))
    );
    assert_eq!(world.client.requests_sent(), sent, "no request during the pause");

    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_done(&world.write(vec![(alice, message)]).await);
    assert_eq!(world.env.emails().len(), 1);
}

#[tokio::test]
async fn concurrent_writes_stay_under_the_clients_cap() {
    let limits = ClientLimits { max_concurrent: 3, ..ClientLimits::default() };
    let world = World::with_limits(limits).await;
    world.env.set_limits(Limits { concurrent: 4, ..Limits::default() });
    let jobs = (0..24).map(|n| {
        let message = email(
            Folder::Inbox,
            Some(&format!("<load-{n}@customer.example>")),
            "pat@customer.example",
            &["alice@corp.example"],
        );
        world.write(vec![(mailbox("alice@corp.example"), message)])
    });
    for outcomes in futures::future::join_all(jobs).await {
        assert_done(&outcomes);
    }
    assert_eq!(world.env.emails().len(), 24);
    assert!(world.env.peak_concurrency(APP) <= 3, "peak {}", world.env.peak_concurrency(APP));
    assert_eq!(world.env.requests(APP).throttled_total(), 0);
}

#[tokio::test]
async fn requests_per_email_at_steady_state() {
    const BATCH: usize = 10;
    const BATCHES: usize = 5;
    let world = World::start().await;
    let people: Vec<String> = (0..20).map(|n| format!("person{n}@customer.example")).collect();
    for (n, address) in people.iter().enumerate() {
        world.env.add_contact(address, "Person", &n.to_string());
    }
    let alice = mailbox("alice@corp.example");
    let batch = |round: usize| -> Vec<(MailboxAddress, EmailRecord)> {
        (0..BATCH)
            .map(|n| {
                let id = format!("<steady-{round}-{n}@customer.example>");
                let from = &people[(round * BATCH + n) % people.len()];
                (alice.clone(), email(Folder::Inbox, Some(&id), from, &["alice@corp.example"]))
            })
            .collect()
    };
    // Warm-up: two rounds meet every correspondent once.
    for round in 0..2 {
        assert_done(&world.write(batch(round)).await);
    }
    let (operations, requests) = (world.operations(), world.client.requests_sent());
    for round in 2..2 + BATCHES {
        assert_done(&world.write(batch(round)).await);
    }
    let emails = (BATCH * BATCHES) as f64;
    let per_email = (world.operations() - operations) as f64 / emails;
    let http_per_email = (world.client.requests_sent() - requests) as f64 / emails;
    println!(
        "steady state, batches of {BATCH}: {per_email:.2} Dataverse operations per email \
         (create + close + one messageid lookup per batch), {http_per_email:.2} HTTP requests per email"
    );
    assert!(per_email <= 2.0 + 1.0 / BATCH as f64 + 1e-9, "{per_email}");
    assert!(http_per_email <= 2.0 / BATCH as f64 + 1e-9, "{http_per_email}");
}
