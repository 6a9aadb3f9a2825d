//! The moto harness keeps its promises: a server of one's own resets to nothing, and is gone
//! once dropped.

use std::time::Duration;

use crate::moto::Moto;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_of_its_own_resets_to_nothing_and_stops_when_dropped() {
    let moto = Moto::start();
    let pair = moto.create_queue("before-reset", 3).await;
    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
    sqs.get_queue_url().queue_name("before-reset").send().await.expect("the queue exists");
    moto.reset();
    let gone = sqs.get_queue_url().queue_name("before-reset").send().await.unwrap_err();
    assert!(gone.as_service_error().is_some_and(|e| e.is_queue_does_not_exist()), "{gone:?}");
    let endpoint = moto.endpoint();
    drop(moto);
    let address = endpoint.trim_start_matches("http://").to_string();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(std::net::TcpStream::connect(&address).is_err(), "{address} still answers");
    assert!(pair.dead_letter_url.ends_with("/before-reset-dlq"));
}
