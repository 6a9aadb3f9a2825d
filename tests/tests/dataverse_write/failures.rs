//! Failures: one email's failure holds back no other, and each failure says whether a retry
//! can help.

use exsync_shared::domain::Folder;
use exsync_sim::faults::{Fault, FaultRule};

use super::*;

/// Deletes a record as a user would, behind exsync's back.
async fn delete(world: &World, entity_set: &str, id: RecordId) {
    let token = world.tokens.token(&CredentialKey::Dataverse, Resource::Dataverse).await.unwrap();
    let url = format!("{}{entity_set}({id})", world.env.web_api());
    let response = world
        .http
        .delete(url)
        .bearer_auth(token.token.expose())
        .header("OData-MaxVersion", "4.0")
        .header("OData-Version", "4.0")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
}

#[tokio::test]
async fn a_failed_email_holds_back_no_other_and_its_retry_resolves_afresh() {
    let world = World::start().await;
    let alice = mailbox("alice@corp.example");
    let gone = world.env.add_contact("gone@customer.example", "Gone", "Soon");
    world.env.add_contact("stays@customer.example", "Stays", "Here");
    let warm = vec![
        (
            alice.clone(),
            email(
                Folder::Inbox,
                Some("<w1@customer.example>"),
                "gone@customer.example",
                &["alice@corp.example"],
            ),
        ),
        (
            alice.clone(),
            email(
                Folder::Inbox,
                Some("<w2@customer.example>"),
                "stays@customer.example",
                &["alice@corp.example"],
            ),
        ),
    ];
    assert_done(&world.write(warm).await);
    // The contact is deleted while the party cache still knows it.
    delete(&world, "contacts", gone).await;

    let stale = email(
        Folder::Inbox,
        Some("<stale@customer.example>"),
        "gone@customer.example",
        &["alice@corp.example"],
    );
    let fine = email(
        Folder::Inbox,
        Some("<fine@customer.example>"),
        "stays@customer.example",
        &["alice@corp.example"],
    );
    let outcomes = world.write(vec![(alice.clone(), stale.clone()), (alice.clone(), fine)]).await;
    assert!(matches!(&outcomes[0], Outcome::Failed { retryable: true, .. }), "{outcomes:?}");
    assert_eq!(outcomes[1], Outcome::Done, "the other email of the batch is written");
    assert_eq!(world.env.emails().len(), 3);

    assert_done(&world.write(vec![(alice, stale)]).await);
    let written = world
        .env
        .emails()
        .into_iter()
        .find(|e| e.messageid.as_deref() == Some("<stale@customer.example>"))
        .unwrap();
    let sender = written.parties.iter().find(|p| p.mask == 1).unwrap();
    assert_eq!(
        (sender.party.as_ref(), sender.address.as_deref()),
        (None, Some("gone@customer.example")),
        "unresolved now"
    );
}

#[tokio::test]
async fn a_batch_dataverse_refuses_is_poison_not_retried() {
    let world = World::start().await;
    let alice = mailbox("alice@corp.example");
    let warm = email(Folder::SentItems, None, "alice@corp.example", &["pat@customer.example"]);
    assert_done(&world.write(vec![(alice.clone(), warm)]).await);
    world.sim.faults().arm(
        FaultRule::next(1, Fault::Status { status: 400, retry_after: None }).on_path("$batch"),
    );
    let message = email(Folder::SentItems, None, "alice@corp.example", &["pat@customer.example"]);
    let outcomes = world.write(vec![(alice, message)]).await;
    let Outcome::Failed { reason, retryable: false } = &outcomes[0] else { panic!("{outcomes:?}") };
    assert!(reason.contains("Dataverse refused email (Graph id AAMk-"), "{reason}");
    assert!(reason.contains("of mailbox alice@corp.example"), "{reason}");
}

#[tokio::test]
async fn an_unauthorized_write_is_kept_and_says_what_the_admin_must_do_without_the_token() {
    let world = World::start().await;
    world.sim.faults().arm(
        FaultRule::next(2, Fault::Status { status: 401, retry_after: None }).on_path("$batch"),
    );
    let message = email(
        Folder::Inbox,
        Some("<locked@customer.example>"),
        "pat@customer.example",
        &["alice@corp.example"],
    );
    let outcomes = world.write(vec![(mailbox("alice@corp.example"), message)]).await;
    let Outcome::Failed { reason, retryable: true } = &outcomes[0] else { panic!("{outcomes:?}") };
    assert!(reason.contains("application user of this environment"), "{reason}");
    assert_eq!(world.tokens.rejected.load(Ordering::SeqCst), 1, "one refresh, then give up");
    for token in world.tokens.issued.lock().unwrap().iter() {
        assert!(
            !reason.contains(token.as_str()) && !format!("{outcomes:?}").contains(token.as_str())
        );
    }
}
