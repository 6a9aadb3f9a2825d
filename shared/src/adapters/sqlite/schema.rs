//! The schema, created and migrated when the database opens.
//!
//! `schema_version` holds one row: how many of [`MIGRATIONS`] have run. A later version of
//! exsync appends a migration (never edits one); opening runs the missing ones in one
//! transaction. A database written by a newer exsync is refused rather than misread.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use super::error::DbError;

/// Each entry moves the schema one version up. Times are Unix milliseconds in the queue tables
/// and Unix nanoseconds in the state tables (exact round trips of `OffsetDateTime`).
const MIGRATIONS: &[&str] = &[
    // 1: queues, dead letters and state.
    "
    CREATE TABLE jobs (
        id            INTEGER PRIMARY KEY,
        queue         TEXT    NOT NULL,
        body          TEXT    NOT NULL,
        -- Delayed until, or leased until once received: receive scans (queue, visible_at).
        visible_at    INTEGER NOT NULL,
        leased        INTEGER NOT NULL DEFAULT 0,
        receive_count INTEGER NOT NULL DEFAULT 0,
        enqueued_at   INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX jobs_by_visibility ON jobs (queue, visible_at);

    CREATE TABLE dead_letters (
        id               INTEGER PRIMARY KEY,
        queue            TEXT    NOT NULL,
        body             TEXT    NOT NULL,
        reason           TEXT    NOT NULL,
        receive_count    INTEGER NOT NULL,
        enqueued_at      INTEGER NOT NULL,
        dead_lettered_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX dead_letters_by_queue ON dead_letters (queue, id);

    CREATE TABLE subscriptions (
        id           TEXT    PRIMARY KEY,
        mailbox      TEXT    NOT NULL,
        folder       TEXT    NOT NULL,
        expires_at   INTEGER NOT NULL,
        client_state TEXT    NOT NULL
    ) STRICT;
    CREATE INDEX subscriptions_by_mailbox ON subscriptions (mailbox);

    CREATE TABLE cursors (
        mailbox TEXT NOT NULL,
        folder  TEXT NOT NULL,
        kind    TEXT NOT NULL CHECK (kind IN ('next', 'delta')),
        link    TEXT NOT NULL,
        PRIMARY KEY (mailbox, folder)
    ) STRICT, WITHOUT ROWID;

    CREATE TABLE pass_marks (
        mailbox      TEXT    NOT NULL,
        folder       TEXT    NOT NULL,
        requested_at INTEGER NOT NULL,
        PRIMARY KEY (mailbox, folder)
    ) STRICT, WITHOUT ROWID;

    CREATE TABLE activities (
        message_id  TEXT    PRIMARY KEY,
        activity    TEXT    NOT NULL,
        recorded_at INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID;

    CREATE TABLE mailbox_status (
        mailbox              TEXT    PRIMARY KEY,
        health               TEXT    NOT NULL, -- serde JSON of status::Health
        consecutive_failures INTEGER NOT NULL,
        last_success         INTEGER,
        emails_seen          INTEGER NOT NULL,
        emails_written       INTEGER NOT NULL,
        emails_duplicate     INTEGER NOT NULL,
        updated_at           INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID;
    ",
    // 2: emails the tracking rule left out.
    "ALTER TABLE mailbox_status ADD COLUMN emails_skipped INTEGER NOT NULL DEFAULT 0;",
    // 3: when a parked mailbox is probed again (Unix nanoseconds).
    "ALTER TABLE mailbox_status ADD COLUMN next_retry INTEGER;",
    // 4: what a subscription was created as (ports::SubscriptionShape; NULL: not known yet).
    "ALTER TABLE subscriptions ADD COLUMN shape TEXT;",
    // 5: pass marks with tickets: a mark is written after its job is enqueued and refused once
    // that job began (the old marks only coalesce: dropping them costs a pass at most).
    "
    DROP TABLE pass_marks;
    CREATE TABLE pass_marks (
        mailbox   TEXT    NOT NULL,
        folder    TEXT    NOT NULL,
        ticket    INTEGER NOT NULL,           -- the last ticket issued
        begun     INTEGER NOT NULL DEFAULT 0, -- the last ticket whose pass began
        queued    INTEGER,                    -- the ticket of the queued pass, if any
        queued_at INTEGER,                    -- when its job was enqueued (Unix nanoseconds)
        PRIMARY KEY (mailbox, folder)
    ) STRICT, WITHOUT ROWID;
    ",
];

/// The version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the schema to [`SCHEMA_VERSION`], or refuses a database from a newer exsync.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), DbError> {
    apply(conn, MIGRATIONS)
}

/// Runs the `migrations` a database has not had yet.
fn apply(conn: &mut Connection, migrations: &[&str]) -> Result<(), DbError> {
    let latest = migrations.len() as i64;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")?;
    let found: Option<i64> =
        tx.query_row("SELECT version FROM schema_version", [], |r| r.get(0)).optional()?;
    let found = found.unwrap_or(0);
    if found > latest {
        return Err(DbError::permanent(format!(
            "the state database has schema version {found}, newer than this exsync knows \
             ({latest}): run the exsync that wrote it, or a newer one"
        )));
    }
    for sql in &migrations[found as usize..] {
        tx.execute_batch(sql)?;
    }
    tx.execute("DELETE FROM schema_version", [])?;
    tx.execute("INSERT INTO schema_version (version) VALUES (?1)", [latest])?;
    tx.commit()?;
    Ok(())
}

/// The version a database is at.
pub(super) fn version(conn: &Connection) -> Result<i64, DbError> {
    Ok(conn.query_row("SELECT version FROM schema_version", [], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_later_version_migrates_in_place_and_keeps_the_data() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        conn.execute("INSERT INTO activities VALUES ('<a@b>', 'x', 1)", []).unwrap();
        let mut next = MIGRATIONS.to_vec();
        next.push("ALTER TABLE activities ADD COLUMN mailbox TEXT");
        apply(&mut conn, &next).unwrap();
        assert_eq!(version(&conn).unwrap(), SCHEMA_VERSION + 1);
        let kept: (String, Option<String>) = conn
            .query_row("SELECT message_id, mailbox FROM activities", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(kept, ("<a@b>".to_string(), None));
        // Opening again at the same version runs nothing.
        apply(&mut conn, &next).unwrap();
    }

    #[test]
    fn a_database_from_a_newer_exsync_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        conn.execute("UPDATE schema_version SET version = ?1", [SCHEMA_VERSION + 1]).unwrap();
        let error = migrate(&mut conn).unwrap_err();
        assert!(error.message.contains("newer than this exsync knows"), "{error}");
    }
}
