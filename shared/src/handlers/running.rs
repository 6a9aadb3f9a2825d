//! The folder passes running in this process: one at a time per folder.
//!
//! Two passes of one folder at once read the same delta pages twice, and when a mailbox hangs
//! (Graph never answers for it, each request runs into its timeout) every new trigger would
//! take another worker lane, until the mailbox held them all and the others stopped syncing.
//! A pass that finds its folder busy is put back on the queue for a moment instead (without
//! spending an attempt), so a hung mailbox holds at most one lane per folder.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};

use crate::domain::{Folder, MailboxAddress};

/// The folders with a pass running; share one per process (clones share it).
#[derive(Debug, Clone, Default)]
pub struct RunningPasses(Arc<Mutex<HashSet<(MailboxAddress, Folder)>>>);

/// Held while a pass runs; dropping it frees the folder.
#[derive(Debug)]
pub(crate) struct Running {
    passes: RunningPasses,
    key: (MailboxAddress, Folder),
}

impl RunningPasses {
    /// Marks a pass of `folder` as running, unless one already is.
    pub(crate) fn start(&self, mailbox: &MailboxAddress, folder: Folder) -> Option<Running> {
        let key = (mailbox.clone(), folder);
        let fresh = self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(key.clone());
        fresh.then(|| Running { passes: self.clone(), key })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.passes.0.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_runs_one_pass_at_a_time_and_is_free_once_it_ends() {
        let running = RunningPasses::default();
        let alice = MailboxAddress::parse("alice@fabrikam.example").unwrap();
        let first = running.start(&alice, Folder::Inbox).expect("free");
        assert!(running.clone().start(&alice, Folder::Inbox).is_none(), "busy");
        assert!(running.start(&alice, Folder::SentItems).is_some(), "other folders are free");
        drop(first);
        assert!(running.start(&alice, Folder::Inbox).is_some());
    }
}
