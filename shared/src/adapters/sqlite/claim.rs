//! One consuming process per state file. `serve` and `sync --once` claim the state (an
//! exclusive lock on `{state}.lock`, held while they run), so whatever the claimant finds
//! leased or marked was left by a process that died without finishing it (kill -9, OOM, power
//! cut): its jobs are made visible at once, rather than when their leases run out (minutes),
//! and its pass marks are dropped, so that the restart's catch-up queues every folder's pass
//! instead of coalescing into a job that is no longer running. Readers (`exsync status`) need
//! no claim.

use std::{
    fs::{File, OpenOptions, TryLockError},
    path::{Path, PathBuf},
};

use super::{Database, DbError, now_ms};

/// The claim on a state file; dropping it releases the lock.
#[derive(Debug)]
pub struct Claim {
    _lock: File,
}

/// What a claim found left behind by a process that stopped without finishing it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recovered {
    /// Jobs that were in flight: visible again now.
    pub jobs: u64,
    /// Pass marks cleared: their jobs are still queued, but a restart is a cheap moment to
    /// make sure no mark outlives its job (a cleared mark costs one pass at most).
    pub pass_marks: u64,
}

/// The lock file beside a state file.
pub fn lock_path(state: &Path) -> PathBuf {
    let mut name = state.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

impl Database {
    /// Claims the state for this process, or says which other process holds it; then releases
    /// what a dead predecessor left in flight.
    pub async fn claim(&self) -> Result<(Claim, Recovered), DbError> {
        let path = lock_path(&self.path);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| DbError::permanent(format!("cannot open {}: {e}", path.display())))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(DbError::permanent(format!(
                    "another exsync (serve or sync --once) is running on the state {}: stop it \
                     first (`exsync status` can run beside it)",
                    self.path.display()
                )));
            }
            Err(TryLockError::Error(e)) => {
                return Err(DbError::permanent(format!("cannot lock {}: {e}", path.display())));
            }
        }
        let recovered = self
            .call(|conn| {
                let now = now_ms();
                let jobs = conn.execute(
                    "UPDATE jobs SET visible_at = ?1, leased = 0 WHERE leased = 1 AND visible_at > ?1",
                    [now],
                )?;
                let pass_marks = conn.execute(
                    "UPDATE pass_marks SET queued = NULL, queued_at = NULL WHERE queued IS NOT NULL",
                    [],
                )?;
                Ok(Recovered { jobs: jobs as u64, pass_marks: pass_marks as u64 })
            })
            .await?;
        Ok((Claim { _lock: lock }, recovered))
    }
}
