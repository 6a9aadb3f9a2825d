//! The contract every twin of a port passes: generic async tests over `Arc<dyn Port>`, run
//! against the SQLite twins here and against the AWS twins by the `tests` crate (feature
//! `contract-tests`).
//!
//! Each function takes fresh, empty ports and panics on a breach. The timings respect SQS:
//! leases and delays are whole seconds, and a receive may return fewer messages than are
//! visible, so the suites poll with a deadline instead of expecting one receive to see all.
//! [`queue_contract!`](crate::queue_contract), [`store_contract!`](crate::store_contract) and
//! [`limiter_contract!`](crate::limiter_contract) expand into one `#[tokio::test]` per contract,
//! given an async expression that builds a twin.

pub mod limiter;
pub mod passes;
pub mod queue;
pub mod store;

use std::{any::Any, fmt, sync::Arc, time::Duration};

use crate::{
    domain::{Folder, MailboxAddress},
    jobs::{Envelope, Job, QueueName, Trigger},
    ports::{
        CursorStore, DeadLetters, DedupeStore, Delivery, JobQueue, JobSource, PassStore,
        QueueDepths, StatusStore, SubscriptionStore,
    },
};

/// What a twin needs kept alive for the length of a test (a temporary directory, a moto
/// server); dropped with the twin.
#[derive(Clone)]
pub struct Guard(pub Arc<dyn Any + Send + Sync>);

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Guard")
    }
}

/// The queue capabilities under test, all over the same fresh queues.
#[derive(Debug, Clone)]
pub struct QueueTwin {
    /// Enqueues.
    pub queue: Arc<dyn JobQueue>,
    /// Receives, acks, dead-letters.
    pub source: Arc<dyn JobSource>,
    /// Lists and replays dead letters.
    pub dead_letters: Arc<dyn DeadLetters>,
    /// Counts.
    pub depths: Arc<dyn QueueDepths>,
    /// Kept alive with the twin.
    pub guard: Option<Guard>,
}

impl QueueTwin {
    /// The twin made of one adapter that implements every queue port.
    pub fn of<T>(adapter: Arc<T>) -> Self
    where
        T: JobQueue + JobSource + DeadLetters + QueueDepths + 'static,
    {
        Self {
            queue: adapter.clone(),
            source: adapter.clone(),
            dead_letters: adapter.clone(),
            depths: adapter,
            guard: None,
        }
    }

    /// The same twin, keeping `guard` alive as long as it lives.
    pub fn holding(self, guard: impl Any + Send + Sync) -> Self {
        Self { guard: Some(Guard(Arc::new(guard))), ..self }
    }
}

/// The store capabilities under test, over the same fresh store.
#[derive(Debug, Clone)]
pub struct StoreTwin {
    /// Subscriptions.
    pub subscriptions: Arc<dyn SubscriptionStore>,
    /// Delta cursors.
    pub cursors: Arc<dyn CursorStore>,
    /// Pass coalescing.
    pub passes: Arc<dyn PassStore>,
    /// Message-ID de-duplication.
    pub dedupe: Arc<dyn DedupeStore>,
    /// Mailbox status.
    pub status: Arc<dyn StatusStore>,
    /// Kept alive with the twin.
    pub guard: Option<Guard>,
}

impl StoreTwin {
    /// The twin made of one adapter that implements every store port.
    pub fn of<T>(adapter: Arc<T>) -> Self
    where
        T: SubscriptionStore + CursorStore + PassStore + DedupeStore + StatusStore + 'static,
    {
        Self {
            subscriptions: adapter.clone(),
            cursors: adapter.clone(),
            passes: adapter.clone(),
            dedupe: adapter.clone(),
            status: adapter,
            guard: None,
        }
    }

    /// The same twin, keeping `guard` alive as long as it lives.
    pub fn holding(self, guard: impl Any + Send + Sync) -> Self {
        Self { guard: Some(Guard(Arc::new(guard))), ..self }
    }
}

/// The shortest lease SQS allows (whole seconds).
const LEASE: Duration = Duration::from_secs(1);

/// How long a suite waits for something that should happen within a second or two.
const PATIENCE: Duration = Duration::from_secs(10);

fn mailbox(local: &str) -> MailboxAddress {
    MailboxAddress::parse(format!("{local}@contract.example")).expect("a valid address")
}

fn sync_job(local: &str) -> Envelope {
    Envelope::new(Job::SyncFolder {
        mailbox: mailbox(local),
        folder: Folder::Inbox,
        trigger: Trigger::Notification,
        ticket: 0,
    })
}

/// Receives until `count` messages came or [`PATIENCE`] ran out.
async fn receive_n(
    twin: &QueueTwin,
    queue: QueueName,
    count: usize,
    lease: Duration,
) -> Vec<Delivery> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut got = Vec::new();
    while got.len() < count && tokio::time::Instant::now() < deadline {
        let batch = twin.source.receive(queue, count - got.len(), lease).await.expect("receive");
        if batch.is_empty() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        got.extend(batch);
    }
    got
}

fn envelope_of(delivery: &Delivery) -> Envelope {
    Envelope::from_body(&delivery.body).expect("the body is the envelope that was enqueued")
}

/// Expands to one `#[tokio::test]` per queue contract; `$twin` is an async expression giving a
/// fresh [`QueueTwin`].
#[macro_export]
macro_rules! queue_contract {
    ($twin:expr) => {
        $crate::queue_contract!(@tests $twin;
            a_job_is_delivered_until_acked,
            jobs_are_invisible_while_leased,
            an_expired_lease_makes_a_job_visible_again,
            a_delayed_job_is_invisible_until_its_delay,
            a_dead_lettered_job_keeps_its_reason_and_can_be_replayed,
            replay_all_and_purge_empty_the_dead_letters,
            enqueue_is_all_or_nothing,
            a_delay_beyond_the_queue_maximum_is_refused,
            queues_are_separate,
            every_job_enqueued_is_received,
            acking_twice_is_harmless,
            ack_all_removes_every_message_it_names,
            depth_counts_ready_in_flight_delayed_and_dead_jobs,
        );
    };
    (@tests $twin:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $crate::ports::contract::queue::$name($twin.await).await;
            }
        )*
    };
}

/// Expands to one `#[tokio::test]` per store contract; `$twin` is an async expression giving a
/// fresh [`StoreTwin`].
#[macro_export]
macro_rules! store_contract {
    ($twin:expr) => {
        $crate::store_contract!(@tests $twin; store;
            a_subscription_is_found_by_id_and_by_mailbox_until_deleted,
            a_subscription_put_again_replaces_the_old_one,
            a_cursor_moves_from_next_to_delta_and_can_be_cleared,
            cursors_are_kept_per_mailbox_and_folder,
            the_first_activity_recorded_for_a_message_id_wins,
            activities_are_looked_up_and_recorded_a_batch_at_a_time,
            concurrent_records_of_one_message_id_agree_on_one_activity,
            status_counters_add_up_under_concurrent_reports,
            health_follows_failures_throttling_and_success,
            a_report_answers_the_health_before_it,
            only_a_probe_heals_a_park,
            the_admin_disables_and_enables_a_mailbox_whatever_its_health,
            statuses_lists_every_reported_mailbox,
        );
        $crate::store_contract!(@tests $twin; passes;
            a_pass_requested_twice_before_it_begins_is_queued_once,
            a_request_after_a_pass_began_queues_another,
            a_stale_pass_mark_does_not_block_forever,
            a_request_that_never_enqueued_leaves_no_mark,
            a_mark_for_a_pass_that_already_began_is_refused,
            an_older_pass_beginning_late_leaves_a_newer_mark,
            concurrent_requests_get_distinct_tickets_and_then_join,
            passes_of_different_folders_and_mailboxes_do_not_coalesce,
        );
    };
    (@tests $twin:expr; $module:ident; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $crate::ports::contract::$module::$name($twin.await).await;
            }
        )*
    };
}
