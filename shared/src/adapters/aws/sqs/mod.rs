//! The queue ports over SQS: three standard queues, each with its dead-letter queue.
//!
//! # Standard queues, not FIFO
//!
//! FIFO queues would buy two things: order within a message group, and exactly-once sends
//! within a five-minute deduplication window. exsync needs neither, and FIFO would cost what
//! it does need:
//! - **Order is not needed.** A `SyncFolder` job is a trigger ("this folder changed"), not the
//!   change: the pass reads the folder's delta query from its stored cursor, so passes that run
//!   out of order, twice or together each read what is there. `WriteEmail` jobs of one mailbox
//!   are independent emails; de-duplication by Internet Message-ID (a conditional put) makes
//!   the second copy of any job a no-op (DESIGN: handling a job twice has the effect of once).
//! - **Coalescing happens in the store, not the queue.** Bursts of notifications for a folder
//!   are folded into one queued pass by the `PassStore` mark (a conditional write), before
//!   anything is sent; a FIFO deduplication id could only fold identical sends within five
//!   minutes, and would also swallow a legitimate second pass.
//! - **Per-message delays are needed, and FIFO has none.** Retries, backoff and Retry-After
//!   are all "enqueue again with a delay"; "FIFO queues don't support timers on individual
//!   messages" (SQS Developer Guide, *Amazon SQS message timers*,
//!   <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-timers.html>).
//! - **Per-mailbox concurrency is better bounded elsewhere.** A FIFO group per mailbox would
//!   run one job per mailbox at a time, but a failing job would also block its mailbox's
//!   group until it is dead-lettered, and write throughput would be capped by the slowest
//!   mailbox. Graph's and Dataverse's limits are honoured by throttling outcomes (Retry-After),
//!   the event source's maximum concurrency and the profile's connection limit instead.
//!
//! What standard queues cost, and how it is paid: at-least-once delivery (idempotent
//! handlers, conditional writes), no order (cursors and coalescing, above), and a short poll
//! that may miss messages (receivers poll again; [`JobSource::wait_for`] long-polls).
//!
//! # Delays beyond SQS's 15 minutes
//!
//! A message timer (`DelaySeconds`) is at most 900 s, and so is the queue port's
//! [`MAX_DELAY`](crate::ports::MAX_DELAY) today: `enqueue` refuses more, as the SQLite twin
//! does, and the runtime caps backoff and Retry-After there (a job throttled for an hour runs
//! again every 15 minutes and is throttled again, losing nothing). The adapter already carries
//! longer delays, for the day the port allows them: a delay over the timer cap is sent with
//! the cap as its timer and an `exsync.not_before` attribute; a receive that meets it early
//! sends it again with the time that is left and deletes the early copy, so it never reaches a
//! handler early and never uses up its receive count (which would move it to the dead-letter
//! queue). See [`timer`]; the tests lower the cap to a second to see the hops.
//!
//! # What the template must give the queues
//!
//! - One dead-letter queue per queue, named by `EXSYNC_*_DLQ_URL` ([`env`](mod@super::env)), retention 14 days
//!   (`MessageRetentionPeriod: 1209600`) so parked jobs wait for an admin.
//! - A redrive policy whose `maxReceiveCount` is above the runtime's own limit
//!   (`RetryPolicy::max_receives`, 5): the runtime dead-letters a job with its reason first;
//!   SQS's redrive is the backstop for a job that kills its consumer every time (listed with
//!   "SQS moved it here after N receives").
//! - `MaximumMessageSize: 1048576` on the dead-letter queues: a body at the port's 256 KiB
//!   limit plus its reason attribute must still fit.
//!
//! [`JobSource::wait_for`]: crate::ports::JobSource::wait_for

mod attributes;
mod dead_letters;
mod delete;
mod depth;
mod receive;
mod send;
pub mod timer;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use super::{
    env::{self, MissingVariable, QueueMap, QueueUrls},
    error::AwsFailure,
};
use crate::{
    jobs::QueueName,
    ports::{Clock, QueueError, SystemClock},
};

pub use timer::SQS_MAX_TIMER;

/// Resends of the entries of a `SendMessageBatch` that SQS failed for a passing reason,
/// before the enqueue fails.
const RESENDS: u32 = 3;

/// The queue ports ([`JobQueue`](crate::ports::JobQueue), [`JobSource`](crate::ports::JobSource),
/// the dead letters and the depths) over SQS standard queues.
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    queues: QueueMap,
    clock: Arc<dyn Clock>,
    timer_cap: Duration,
    resends: u32,
    stash: Mutex<HashMap<QueueName, Vec<receive::Stashed>>>,
    max_receives: Mutex<HashMap<QueueName, u32>>,
}

impl std::fmt::Debug for SqsQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqsQueue")
            .field("queues", &self.queues)
            .field("timer_cap", &self.timer_cap)
            .finish_non_exhaustive()
    }
}

impl SqsQueue {
    /// The queues of `queues`, through `client`.
    pub fn new(client: aws_sdk_sqs::Client, queues: QueueMap) -> Self {
        Self {
            client,
            queues,
            clock: Arc::new(SystemClock),
            timer_cap: SQS_MAX_TIMER,
            resends: RESENDS,
            stash: Mutex::default(),
            max_receives: Mutex::default(),
        }
    }

    /// The queues named by the environment ([`env::queue_url_variable`] and
    /// [`env::dead_letter_url_variable`]), with the SDK configured from it too.
    pub async fn from_env() -> Result<Self, MissingVariable> {
        let queues = QueueMap::from_env()?;
        Ok(Self::new(aws_sdk_sqs::Client::new(&env::sdk_config().await), queues))
    }

    /// Tells the time for long delays with `clock` (the system clock by default).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Sends delays up to `cap` as SQS message timers and longer ones in hops
    /// ([`SQS_MAX_TIMER`] by default). Tests lower it to see the hops without waiting 15 minutes.
    pub fn with_timer_cap(mut self, cap: Duration) -> Self {
        self.timer_cap = cap.max(Duration::from_secs(1));
        self
    }

    fn urls(&self, queue: QueueName) -> Result<&QueueUrls, QueueError> {
        self.queues.of(queue).ok_or_else(|| QueueError {
            queue: queue.as_str(),
            message: format!(
                "no URL configured for this queue (set {})",
                env::queue_url_variable(queue)
            ),
            retryable: false,
        })
    }
}

/// A queue error from a failed AWS call.
fn queue_error(queue: QueueName, failure: AwsFailure) -> QueueError {
    QueueError { queue: queue.as_str(), message: failure.message, retryable: failure.retryable }
}

/// Whole seconds, rounded up (a lease or delay is never shorter than asked), as SQS wants them.
fn whole_seconds(duration: Duration, max: u64) -> i32 {
    let seconds = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    i32::try_from(seconds.min(max)).unwrap_or(i32::MAX)
}
