//! The durable queue: one `jobs` table for the three queues, leased by moving `visible_at`.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

use super::{Database, DbError, ms, now_ms};
use crate::{
    jobs::{Envelope, QueueName},
    ports::{
        Delivery, JobQueue, JobSource, MAX_BODY_BYTES, MAX_DELAY, QueueDepth, QueueDepths,
        QueueError,
    },
};

/// The most messages one receive leases.
const MAX_RECEIVE: usize = 1000;

/// [`JobQueue`], [`JobSource`], [`QueueDepths`] and
/// [`DeadLetters`](crate::ports::DeadLetters) over the state database.
///
/// A receive sets the message's `visible_at` to the end of its lease and counts the receive;
/// an ack deletes it. A consumer that crashes simply never acks: at the end of the lease
/// the message is visible again. Receipts are `id:receive_count`, so a stale receipt (the lease
/// ran out and another consumer received it) neither acks nor dead-letters the newer delivery.
/// Wakeups are in-process; a job enqueued by another process is seen at the waiter's timeout.
#[derive(Debug, Clone)]
pub struct SqliteQueue {
    pub(super) db: Arc<Database>,
}

impl SqliteQueue {
    /// The queues of `db`.
    pub fn new(db: Arc<Database>) -> Self {
        Self { db }
    }
}

impl SqliteQueue {
    /// Enqueues a raw body, as an older or broken producer might have (tests of unreadable jobs).
    #[cfg(test)]
    pub(crate) async fn enqueue_raw(&self, queue: QueueName, body: &str) -> Result<(), DbError> {
        let (name, body) = (queue.as_str(), body.to_string());
        self.db
            .call(move |conn| {
                let now = now_ms();
                conn.execute(
                    "INSERT INTO jobs (queue, body, visible_at, enqueued_at) VALUES (?1, ?2, ?3, ?3)",
                    params![name, body, now],
                )?;
                Ok(())
            })
            .await
    }
}

/// Splits a receipt into the row id and the receive it belongs to.
pub(super) fn parse_receipt(queue: QueueName, receipt: &str) -> Result<(i64, i64), QueueError> {
    receipt
        .split_once(':')
        .and_then(|(id, count)| Some((id.parse().ok()?, count.parse().ok()?)))
        .ok_or_else(|| {
            DbError::permanent(format!("receipt {receipt:?} was not made by this queue"))
                .on_queue(queue.as_str())
        })
}

/// The name stored in the tables, back to the queue.
pub(super) fn queue_named(name: &str) -> Result<QueueName, DbError> {
    QueueName::ALL
        .into_iter()
        .find(|q| q.as_str() == name)
        .ok_or_else(|| DbError::permanent(format!("unknown queue {name:?} in the database")))
}

#[async_trait]
impl JobQueue for SqliteQueue {
    async fn enqueue(
        &self,
        queue: QueueName,
        jobs: &[Envelope],
        delay: Duration,
    ) -> Result<(), QueueError> {
        let name = queue.as_str();
        if delay > MAX_DELAY {
            let message = format!("a delay of {delay:?} is over the {MAX_DELAY:?} a queue allows");
            return Err(DbError::permanent(message).on_queue(name));
        }
        let mut bodies = Vec::with_capacity(jobs.len());
        for job in jobs {
            let body = job.to_body();
            if body.len() > MAX_BODY_BYTES {
                let message = format!(
                    "job {} is {} bytes, over the {MAX_BODY_BYTES} a message may hold; \
                     nothing of this batch was enqueued",
                    job.id(),
                    body.len()
                );
                return Err(DbError::permanent(message).on_queue(name));
            }
            bodies.push(body);
        }
        if bodies.is_empty() {
            return Ok(());
        }
        let (delay, bodies_len) = (ms(delay), bodies.len());
        self.db
            .call(move |conn| {
                let now = now_ms();
                let mut insert = conn.prepare_cached(
                    "INSERT INTO jobs (queue, body, visible_at, enqueued_at) VALUES (?1, ?2, ?3, ?4)",
                )?;
                for body in &bodies {
                    insert.execute(params![name, body, now + delay, now])?;
                }
                Ok(())
            })
            .await
            .map_err(|e| e.on_queue(name))?;
        // One idle lane woken per job: a lane takes up to a batch, so that is always enough.
        // Waking every lane instead cost each of them a receive and a look at the queue for
        // nothing (~20 calls to the SQLite thread per email when lanes are idle). With no lane
        // waiting, the first call leaves a permit for one between an empty receive and its wait
        // (it would otherwise sleep through this enqueue); the others then do nothing.
        let wakeup = self.db.wakeup(queue);
        for _ in 0..bodies_len {
            wakeup.notify_one();
        }
        Ok(())
    }
}

#[async_trait]
impl JobSource for SqliteQueue {
    async fn receive(
        &self,
        queue: QueueName,
        max: usize,
        lease: Duration,
    ) -> Result<Vec<Delivery>, QueueError> {
        let name = queue.as_str();
        let max = i64::try_from(max.min(MAX_RECEIVE)).unwrap_or(0);
        let lease = ms(lease);
        let rows = self
            .db
            .call(move |conn| {
                let now = now_ms();
                let mut lease_some = conn.prepare_cached(
                    "UPDATE jobs SET visible_at = ?1, leased = 1, receive_count = receive_count + 1
                     WHERE id IN (SELECT id FROM jobs WHERE queue = ?2 AND visible_at <= ?3
                                  ORDER BY visible_at LIMIT ?4)
                     RETURNING id, body, receive_count",
                )?;
                let rows = lease_some
                    .query_map(params![now.saturating_add(lease), name, now, max], |r| {
                        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(rows)
            })
            .await
            .map_err(|e| e.on_queue(name))?;
        let mut rows = rows;
        // RETURNING comes in no particular order; hand jobs out in enqueue order.
        rows.sort_by_key(|(id, _, _)| *id);
        let deliveries = rows
            .into_iter()
            .map(|(id, body, count)| Delivery {
                queue,
                receipt: format!("{id}:{count}"),
                body,
                receive_count: u32::try_from(count).unwrap_or(u32::MAX),
            })
            .collect();
        Ok(deliveries)
    }

    async fn ack(&self, delivery: &Delivery) -> Result<(), QueueError> {
        self.ack_all(std::slice::from_ref(delivery)).await
    }

    async fn ack_all(&self, deliveries: &[Delivery]) -> Result<(), QueueError> {
        let Some(first) = deliveries.first() else {
            return Ok(());
        };
        let receipts = deliveries
            .iter()
            .map(|d| parse_receipt(d.queue, &d.receipt))
            .collect::<Result<Vec<_>, _>>()?;
        self.db
            .call(move |conn| {
                let mut delete =
                    conn.prepare_cached("DELETE FROM jobs WHERE id = ?1 AND receive_count = ?2")?;
                for (id, count) in &receipts {
                    delete.execute([id, count])?;
                }
                Ok(())
            })
            .await
            .map_err(|e| e.on_queue(first.queue.as_str()))
    }

    async fn dead_letter(&self, delivery: &Delivery, reason: &str) -> Result<(), QueueError> {
        let (id, count) = parse_receipt(delivery.queue, &delivery.receipt)?;
        let reason = reason.to_string();
        self.db
            .call(move |conn| {
                let mut park = conn.prepare_cached(
                    "INSERT INTO dead_letters
                        (queue, body, reason, receive_count, enqueued_at, dead_lettered_at)
                     SELECT queue, body, ?3, receive_count, enqueued_at, ?4
                     FROM jobs WHERE id = ?1 AND receive_count = ?2",
                )?;
                park.execute(params![id, count, reason, now_ms()])?;
                let mut delete =
                    conn.prepare_cached("DELETE FROM jobs WHERE id = ?1 AND receive_count = ?2")?;
                delete.execute([id, count])?;
                Ok(())
            })
            .await
            .map_err(|e| e.on_queue(delivery.queue.as_str()))
    }

    async fn wait_for(&self, queue: QueueName, timeout: Duration) {
        let name = queue.as_str();
        let notified = self.db.wakeup(queue).notified();
        tokio::pin!(notified);
        // Registered before looking, so an enqueue from now on wakes us.
        notified.as_mut().enable();
        let next = self
            .db
            .read(move |conn| {
                let mut first =
                    conn.prepare_cached("SELECT MIN(visible_at) FROM jobs WHERE queue = ?1")?;
                Ok(first.query_row([name], |r| r.get::<_, Option<i64>>(0)).optional()?.flatten())
            })
            .await;
        // A delayed job or a lease running out makes a job visible with no enqueue: sleep only
        // until then.
        let wait = match next {
            Ok(Some(at)) => {
                timeout.min(Duration::from_millis(at.saturating_sub(now_ms()).max(0) as u64))
            }
            Ok(None) | Err(_) => timeout,
        };
        if wait.is_zero() {
            return;
        }
        tokio::select! {
            () = notified => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

#[async_trait]
impl QueueDepths for SqliteQueue {
    async fn depth(&self, queue: QueueName) -> Result<QueueDepth, QueueError> {
        let name = queue.as_str();
        self.db
            .read(move |conn| {
                let now = now_ms();
                let mut count = conn.prepare_cached(
                    "SELECT COALESCE(SUM(visible_at <= ?2), 0),
                            COALESCE(SUM(visible_at > ?2 AND leased = 1), 0),
                            COALESCE(SUM(visible_at > ?2 AND leased = 0), 0),
                            (SELECT COUNT(*) FROM dead_letters WHERE queue = ?1)
                     FROM jobs WHERE queue = ?1",
                )?;
                Ok(count.query_row(params![name, now], |r| {
                    let n = |i| r.get::<_, i64>(i).map(|n| u64::try_from(n).unwrap_or(0));
                    Ok(QueueDepth {
                        visible: n(0)?,
                        in_flight: n(1)?,
                        delayed: n(2)?,
                        dead_lettered: n(3)?,
                    })
                })?)
            })
            .await
            .map_err(|e| e.on_queue(name))
    }
}
