//! What the admin commands work on (`exsync status`, `exsync mailbox`, `exsync dead-letters`),
//! over either way of running: the SQLite state of one process
//! ([`Embedded::admin`](crate::embedded::Embedded::admin)), or an AWS deployment's table,
//! queues and `tokens` function (`Pipeline::admin`, feature `aws`). The commands read and
//! switch the same records the handlers use, so a running deployment obeys without a restart.

use std::sync::Arc;

use crate::{
    config::Config,
    domain::MailboxAddress,
    handlers::check::{CheckDeps, CheckError, TestReport, test_and_enable},
    ports::{DeadLetters, QueueDepths, StoreError},
    status::{Health, MailboxStatus, StatusEvent},
};

/// The queues as an admin sees them: their depths and their dead letters.
pub trait AdminQueues: QueueDepths + DeadLetters {}

impl<T: QueueDepths + DeadLetters> AdminQueues for T {}

/// One deployment's state, for the admin commands.
#[derive(Debug, Clone)]
pub struct Admin {
    check: CheckDeps,
    queues: Arc<dyn AdminQueues>,
}

impl Admin {
    /// Over the clients and status store of `check` and the queues of the same runtime.
    pub fn new(check: CheckDeps, queues: Arc<dyn AdminQueues>) -> Self {
        Self { check, queues }
    }

    /// The configuration (its mailboxes are the rows of `status`).
    pub fn config(&self) -> &Config {
        &self.check.config
    }

    /// Every mailbox's status record (a mailbox never synced has none).
    pub async fn statuses(&self) -> Result<Vec<MailboxStatus>, StoreError> {
        self.check.status.statuses().await
    }

    /// The queues' depths and dead letters.
    pub fn queues(&self) -> &dyn AdminQueues {
        self.queues.as_ref()
    }

    /// Test & Enable: checks everything `mailbox` needs and enables it when all pass.
    pub async fn test_mailbox(&self, mailbox: &MailboxAddress) -> Result<TestReport, CheckError> {
        test_and_enable(&self.check, mailbox).await
    }

    /// The admin's switch: a disabled mailbox syncs nothing until enabled; the runtime sees it
    /// at its next job (and revives an enabled mailbox within minutes). Answers the health
    /// before.
    pub async fn set_enabled(
        &self,
        mailbox: &MailboxAddress,
        enabled: bool,
    ) -> Result<Option<Health>, CheckError> {
        if self.check.config.mailbox(mailbox).is_none() {
            return Err(CheckError::NotConfigured(mailbox.clone()));
        }
        let event = if enabled { StatusEvent::Enabled } else { StatusEvent::Disabled };
        let before = self.check.status.report(mailbox, event, self.check.clock.now()).await?;
        tracing::info!(%mailbox, enabled, "the admin switched the mailbox");
        Ok(before)
    }
}
