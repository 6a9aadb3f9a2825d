//! Test & Enable (`exsync mailbox test ADDRESS`), as server-side sync's button: each thing a
//! mailbox needs is checked in turn, a failed check says exactly what to fix, and when all
//! pass the mailbox is enabled (a park or the admin's disable is cleared).
//!
//! The checks, each needing the one before:
//! 1. token: Entra gives the mailbox's app (its own, or its profile's) a Graph token;
//! 2. mailbox: the app reaches the mailbox (no application access policy or RBAC scope keeps
//!    it out, the address is a user of the tenant with an Exchange Online mailbox);
//! 3. folders: each tracked folder can be read;
//! 4. Dataverse: the environment's app gets a token and is an enabled application user.

use std::{fmt, sync::Arc};

use crate::{
    config::Config,
    dataverse::DataverseClient,
    domain::{Folder, MailboxAddress},
    graph::{GraphClient, MailboxAccess},
    ports::{Clock, Resource, StatusStore, StoreError, Tokens},
    status::{Health, StatusEvent},
};

/// What Test & Enable needs.
#[derive(Debug, Clone)]
pub struct CheckDeps {
    /// The configuration (the mailbox, its profile).
    pub config: Arc<Config>,
    /// Tokens (the token check asks directly, to show Entra's own answer).
    pub tokens: Arc<dyn Tokens>,
    /// Graph.
    pub graph: GraphClient,
    /// Dataverse.
    pub dataverse: Arc<DataverseClient>,
    /// Mailbox status (enabled when every check passes).
    pub status: Arc<dyn StatusStore>,
    /// Time.
    pub clock: Arc<dyn Clock>,
}

/// One check and how it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was checked.
    pub name: &'static str,
    /// `Ok(what was found)`, or `Err(what failed and what to fix)`; `None`: not checked,
    /// because a check it needs failed.
    pub result: Option<Result<String, String>>,
}

/// Every check of one mailbox, and whether it was enabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestReport {
    /// The mailbox.
    pub mailbox: MailboxAddress,
    /// The checks, in order.
    pub checks: Vec<Check>,
    /// The health it had before the test (`None`: never synced).
    pub before: Option<Health>,
    /// Every check passed and the mailbox was enabled.
    pub enabled: bool,
}

impl TestReport {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| matches!(c.result, Some(Ok(_))))
    }
}

impl fmt::Display for TestReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Test & Enable {}", self.mailbox)?;
        for check in &self.checks {
            match &check.result {
                Some(Ok(found)) => writeln!(f, "  ok      {:9} {found}", check.name)?,
                Some(Err(fix)) => writeln!(f, "  FAILED  {:9} {fix}", check.name)?,
                None => {
                    writeln!(f, "  -       {:9} not checked (needs the check above)", check.name)?
                }
            }
        }
        if self.enabled {
            writeln!(f, "All checks passed: the mailbox is enabled and syncs.")
        } else if self.passed() {
            writeln!(f, "All checks passed; the mailbox was already enabled.")
        } else {
            writeln!(
                f,
                "Fix what FAILED says, then run this test again; the mailbox is left as it was."
            )
        }
    }
}

/// Why the test could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The address is not a mailbox of the configuration.
    #[error("{0} is not in the configuration's [[mailboxes]]")]
    NotConfigured(MailboxAddress),
    /// The status could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Runs every check of `mailbox` and enables it when they all pass.
pub async fn test_and_enable(
    deps: &CheckDeps,
    mailbox: &MailboxAddress,
) -> Result<TestReport, CheckError> {
    let configured =
        deps.config.mailbox(mailbox).ok_or_else(|| CheckError::NotConfigured(mailbox.clone()))?;
    let access = MailboxAccess::of(&deps.config, configured);
    let profile = deps.config.profile_of(configured);
    let token = deps.tokens.token(&access.credential, Resource::Graph).await.map(|_| {
        format!(
            "Entra issued a Graph token to app {} in tenant {}",
            access.limits.app, profile.tenant_id
        )
    });
    let token = token.map_err(|e| match &e.code {
        Some(code) if !e.message.contains(code.as_str()) => format!("{code}: {e}"),
        _ => e.to_string(),
    });
    let reached = match &token {
        Ok(_) => Some(deps.graph.mail_folder(&access, Folder::Inbox).await),
        Err(_) => None,
    };
    let mailbox_check = reached.as_ref().map(|r| match r {
        Ok(_) => Ok(format!("app {} reaches {mailbox}", access.limits.app)),
        Err(e) => Err(e.to_string()),
    });
    let folders = match &reached {
        Some(Ok(inbox)) => Some(folders(deps, &access, inbox).await),
        _ => None,
    };
    let dataverse = match deps.dataverse.who_am_i().await {
        Ok(user) => Ok(format!("application user {user} in {}", deps.config.dataverse.url)),
        Err(e) => Err(e.to_string()),
    };
    let checks = vec![
        Check { name: "token", result: Some(token) },
        Check { name: "mailbox", result: mailbox_check },
        Check { name: "folders", result: folders },
        Check { name: "dataverse", result: Some(dataverse) },
    ];
    let before = deps.status.status(mailbox).await?.map(|s| s.health);
    let mut report = TestReport { mailbox: mailbox.clone(), checks, before, enabled: false };
    let stopped = !matches!(
        report.before,
        Some(Health::Healthy | Health::CatchingUp | Health::Throttled { .. })
    );
    if report.passed() && stopped {
        deps.status.report(mailbox, StatusEvent::Enabled, deps.clock.now()).await?;
        report.enabled = true;
        tracing::info!(%mailbox, "Test & Enable passed: the mailbox is enabled");
    }
    Ok(report)
}

/// Each tracked folder, with its message count; the inbox was read by the mailbox check.
async fn folders(
    deps: &CheckDeps,
    access: &MailboxAccess,
    inbox: &crate::graph::MailFolder,
) -> Result<String, String> {
    let mut found = Vec::new();
    for folder in Folder::ALL {
        let read = match folder {
            Folder::Inbox => inbox.clone(),
            other => deps.graph.mail_folder(access, other).await.map_err(|e| e.to_string())?,
        };
        let count = read.total_item_count.map(|n| format!(" ({n} messages)")).unwrap_or_default();
        found.push(format!("{folder}{count}"));
    }
    Ok(found.join(", "))
}
