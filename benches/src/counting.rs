//! Counts what the embedded pipeline does to its state, as the AWS twins would do it: SQLite
//! triggers installed (for a benchmark run only) on the state file count jobs enqueued and
//! acknowledged per queue, and writes per state table. Reads cannot be triggered; the cost
//! model derives them from the steps (one per notification, pass and write job).

use std::{collections::BTreeMap, path::Path};

use anyhow::Context;

/// Tables whose writes are counted (one DynamoDB write each on AWS).
const STATE_TABLES: &[&str] =
    &["subscriptions", "cursors", "pass_marks", "activities", "mailbox_status"];

/// Installs the counters into the state at `path` (after exsync created its schema).
pub fn install(path: &Path) -> anyhow::Result<()> {
    let conn = rusqlite::Connection::open(path).context("the state for counting")?;
    let mut sql = String::from(
        "CREATE TABLE IF NOT EXISTS bench_counts (name TEXT PRIMARY KEY, n INTEGER NOT NULL);\n",
    );
    let bump = |name: &str| {
        format!(
            "INSERT INTO bench_counts VALUES ({name}, 1) ON CONFLICT (name) DO UPDATE SET n = n + 1;"
        )
    };
    sql.push_str(&format!(
        "CREATE TRIGGER IF NOT EXISTS bench_enqueue AFTER INSERT ON jobs BEGIN {} END;\n",
        bump("'enqueue:' || NEW.queue")
    ));
    sql.push_str(&format!(
        "CREATE TRIGGER IF NOT EXISTS bench_ack AFTER DELETE ON jobs BEGIN {} END;\n",
        bump("'ack:' || OLD.queue")
    ));
    for table in STATE_TABLES {
        for event in ["INSERT", "UPDATE", "DELETE"] {
            sql.push_str(&format!(
                "CREATE TRIGGER IF NOT EXISTS bench_{table}_{event} AFTER {event} ON {table} BEGIN {} END;\n",
                bump(&format!("'write:{table}'"))
            ));
        }
    }
    conn.execute_batch(&sql)?;
    Ok(())
}

/// The counts so far.
pub fn read(path: &Path) -> anyhow::Result<BTreeMap<String, u64>> {
    let conn = rusqlite::Connection::open(path)?;
    let mut select = conn.prepare("SELECT name, n FROM bench_counts")?;
    let rows =
        select.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// `after - before`, per name.
pub fn diff(
    before: &BTreeMap<String, u64>,
    after: &BTreeMap<String, u64>,
) -> BTreeMap<String, u64> {
    after.iter().map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0))).collect()
}
