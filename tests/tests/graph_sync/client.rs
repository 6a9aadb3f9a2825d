//! Client operations and refusals that do not need a whole pass.

use exsync_shared::{
    domain::{Folder, GraphItemId},
    graph::{ErrorClass, MailboxAccess, Missing},
    handlers::sync::sync_folder,
    jobs::Trigger,
    outcome::Outcome,
    ports::{CredentialKey, CursorStore, DeltaCursor, TokenError},
    status::Health,
};
use exsync_sim::graph::NewMessage;

use super::common::{ALICE, Env, Options, mailbox};

fn alice(env: &Env) -> MailboxAccess {
    MailboxAccess::of(&env.config, &env.config.mailboxes[0])
}

#[tokio::test]
async fn attachments_are_listed_with_their_content() {
    let env = Env::start().await;
    let message =
        NewMessage::new("invoice").attachment("invoice.pdf", "application/pdf", b"%PDF-1.4");
    let ids = env.sim.deliver(ALICE, message);
    let id = GraphItemId::parse(ids.immutable_id).unwrap();
    let attachments = env.graph.attachments(&alice(&env), &id).await.unwrap();
    assert_eq!(attachments.len(), 1);
    assert_eq!(attachments[0].name.as_deref(), Some("invoice.pdf"));
    assert_eq!(attachments[0].content_bytes.as_deref(), Some("JVBERi0xLjQ="));
    assert!(!attachments[0].is_inline);
}

#[tokio::test]
async fn a_deleted_message_is_not_found_as_an_item() {
    let env = Env::start().await;
    let ids = env.sim.deliver(ALICE, NewMessage::new("gone soon"));
    assert!(env.sim.delete(ALICE, &ids.id));
    let id = GraphItemId::parse(ids.immutable_id).unwrap();
    let error = env.graph.message(&alice(&env), &id).await.unwrap_err();
    assert_eq!(error.class(), ErrorClass::NotFound(Missing::Item));
    assert_eq!(error.code(), Some("ErrorItemNotFound"));
}

#[tokio::test]
async fn a_mailbox_the_tenant_does_not_have_is_parked_with_the_address_named() {
    let env = Env::with(Options { mailboxes: vec![ALICE], ..Options::default() }).await;
    let ghost = "ghost@contoso.example";
    let config = env.config.clone();
    // A configured mailbox the simulator never created.
    let mut with_ghost = (*config).clone();
    let mut extra = with_ghost.mailboxes[0].clone();
    extra.address = mailbox(ghost);
    with_ghost.mailboxes.push(extra);
    let mut deps = env.sync_deps();
    deps.config = std::sync::Arc::new(with_ghost);
    let outcome = sync_folder(&deps, &mailbox(ghost), Folder::Inbox, Trigger::Sweep, 0).await;
    let Outcome::Parked { reason } = outcome else { panic!("{outcome:?}") };
    assert!(reason.contains("ErrorInvalidUser"), "{reason}");
    assert!(reason.contains("no user ghost@contoso.example"), "{reason}");
}

#[tokio::test]
async fn a_token_service_refusal_carries_the_entra_code_and_its_verdict() {
    let env = Env::start().await;
    let key = CredentialKey::Profile(env.config.profiles[0].name.clone());
    let message = "the client secret of profile contoso expired: create a new one".to_string();
    let code = Some("AADSTS7000222".to_string());
    let refusal = |retryable| match retryable {
        false => TokenError::permanent(&key, code.clone(), message.clone()),
        true => TokenError::transient(&key, code.clone(), message.clone()),
    };
    *env.tokens.fail_with.lock().unwrap() = Some(refusal(false));
    let outcome =
        sync_folder(&env.sync_deps(), &mailbox(ALICE), Folder::Inbox, Trigger::Sweep, 0).await;
    let Outcome::Parked { reason } = outcome else { panic!("{outcome:?}") };
    assert!(reason.starts_with("inbox pass of alice@contoso.example: AADSTS7000222"), "{reason}");

    *env.tokens.fail_with.lock().unwrap() = Some(refusal(true));
    // Past the few seconds the callers' cache answers a failure from memory.
    env.clock.advance(std::time::Duration::from_secs(6));
    let outcome =
        sync_folder(&env.sync_deps(), &mailbox(ALICE), Folder::Inbox, Trigger::Sweep, 0).await;
    assert!(matches!(outcome, Outcome::Failed { retryable: true, .. }), "{outcome:?}");
    let health = env.status(ALICE).await.health;
    assert!(matches!(health, Health::Failing { retryable: true, .. }), "{health:?}");
}

#[tokio::test]
async fn a_stored_link_outside_graph_url_is_not_followed_and_the_folder_starts_over() {
    let env = Env::start().await;
    env.sim.deliver(ALICE, NewMessage::new("still found"));
    let foreign = DeltaCursor::Delta("https://graph.elsewhere.example/v1.0/users/x/mailFolders('inbox')/messages/delta?$deltatoken=abc".into());
    env.store.put_cursor(&mailbox(ALICE), Folder::Inbox, &foreign).await.unwrap();
    let outcome =
        sync_folder(&env.sync_deps(), &mailbox(ALICE), Folder::Inbox, Trigger::Sweep, 0).await;
    assert_eq!(outcome, Outcome::Done);
    assert_eq!(env.queue.drain_writes().len(), 1);
    let Some(DeltaCursor::Delta(link)) = env.cursor(ALICE, Folder::Inbox).await else { panic!() };
    assert!(link.starts_with(env.config.cloud.graph_url.as_str()), "{link}");
}

#[tokio::test]
async fn a_user_without_an_exchange_mailbox_is_parked_with_what_to_do() {
    let unlicensed = "intern@contoso.example";
    let options = Options {
        mailboxes: vec![ALICE, unlicensed],
        without_mailbox: vec![unlicensed],
        ..Options::default()
    };
    let env = Env::with(options).await;
    let outcome =
        sync_folder(&env.sync_deps(), &mailbox(unlicensed), Folder::Inbox, Trigger::Sweep, 0).await;
    let Outcome::Parked { reason } = outcome else { panic!("{outcome:?}") };
    assert!(reason.contains("MailboxNotEnabledForRESTAPI"), "{reason}");
    assert!(reason.contains("has no Exchange Online mailbox"), "{reason}");
    assert_eq!(
        sync_folder(&env.sync_deps(), &mailbox(ALICE), Folder::Inbox, Trigger::Sweep, 0).await,
        Outcome::Done
    );
}
