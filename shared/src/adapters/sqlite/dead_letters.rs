//! Dead-letter inspection and replay over the `dead_letters` table.

use async_trait::async_trait;
use rusqlite::{Connection, params};

use super::{DbError, SqliteQueue, from_ms, now_ms, queue::queue_named};
use crate::{
    jobs::QueueName,
    ports::{DeadLetter, DeadLetters, QueueError, replay_body},
};

/// Moves the dead letters `condition` selects (with `?1` = queue, `?2` = id when given) back
/// onto their queue, visible at once and with a fresh receive count; returns how many.
fn replay_where(conn: &Connection, queue: &str, id: Option<i64>) -> Result<u64, DbError> {
    let mut select = conn.prepare_cached(
        "SELECT id, body FROM dead_letters WHERE queue = ?1 AND (?2 IS NULL OR id = ?2)",
    )?;
    let parked = select
        .query_map(params![queue, id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    let now = now_ms();
    let mut insert = conn.prepare_cached(
        "INSERT INTO jobs (queue, body, visible_at, enqueued_at) VALUES (?1, ?2, ?3, ?3)",
    )?;
    let mut delete = conn.prepare_cached("DELETE FROM dead_letters WHERE id = ?1")?;
    for (id, body) in &parked {
        insert.execute(params![queue, replay_body(body), now])?;
        delete.execute([id])?;
    }
    Ok(parked.len() as u64)
}

impl SqliteQueue {
    async fn replayed(&self, queue: QueueName, id: Option<i64>) -> Result<u64, QueueError> {
        let name = queue.as_str();
        let count = self
            .db
            .call(move |conn| replay_where(conn, name, id))
            .await
            .map_err(|e| e.on_queue(name))?;
        if count > 0 {
            self.db.wakeup(queue).notify_waiters();
            self.db.wakeup(queue).notify_one();
        }
        Ok(count)
    }
}

#[async_trait]
impl DeadLetters for SqliteQueue {
    async fn dead_letters(
        &self,
        queue: QueueName,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, QueueError> {
        let name = queue.as_str();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.db
            .read(move |conn| {
                let mut select = conn.prepare_cached(
                    "SELECT id, queue, body, reason, receive_count, dead_lettered_at
                     FROM dead_letters WHERE queue = ?1 ORDER BY id LIMIT ?2",
                )?;
                let rows = select
                    .query_map(params![name, limit], |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, String>(3)?,
                            r.get::<_, i64>(4)?,
                            r.get::<_, i64>(5)?,
                        ))
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                rows.into_iter()
                    .map(|(id, queue, body, reason, count, at)| {
                        Ok(DeadLetter {
                            id: id.to_string(),
                            queue: queue_named(&queue)?,
                            body,
                            reason,
                            receive_count: u32::try_from(count).unwrap_or(u32::MAX),
                            dead_lettered_at: from_ms(at)?,
                        })
                    })
                    .collect()
            })
            .await
            .map_err(|e| e.on_queue(name))
    }

    async fn replay(&self, queue: QueueName, id: &str) -> Result<bool, QueueError> {
        let Ok(id) = id.parse::<i64>() else {
            return Ok(false);
        };
        Ok(self.replayed(queue, Some(id)).await? > 0)
    }

    async fn replay_all(&self, queue: QueueName) -> Result<u64, QueueError> {
        self.replayed(queue, None).await
    }

    async fn purge(&self, queue: QueueName) -> Result<u64, QueueError> {
        let name = queue.as_str();
        self.db
            .call(move |conn| {
                let mut delete =
                    conn.prepare_cached("DELETE FROM dead_letters WHERE queue = ?1")?;
                Ok(delete.execute([name])? as u64)
            })
            .await
            .map_err(|e| e.on_queue(name))
    }
}
