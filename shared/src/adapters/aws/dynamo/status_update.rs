//! A status event as one `UpdateItem`: what always applies, and the guarded parts.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use time::OffsetDateTime;

use super::item::{Item, Read, instant, n, s};
use crate::{
    domain::MailboxAddress,
    ports::StoreError,
    status::{Health, StatusEvent},
};

/// A part of an update that applies only under a condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Guarded {
    /// The new health, unless the mailbox is disabled.
    Health,
    /// Healthy, unless the mailbox is disabled or parked (a pass that began before a park).
    HealthUnlessParked,
    /// No failures in a row, unless the mailbox is parked.
    ResetUnlessParked,
    /// `last_success`, if the event is newer.
    LastSuccess,
    /// `updated_at`, if the event is newer.
    UpdatedAt,
}

impl Guarded {
    fn set(self) -> &'static str {
        match self {
            Self::Health | Self::HealthUnlessParked => "health = :health, health_state = :state",
            Self::ResetUnlessParked => "consecutive_failures = :zero",
            Self::LastSuccess => "last_success = :at",
            Self::UpdatedAt => "updated_at = :at",
        }
    }

    fn condition(self) -> &'static str {
        match self {
            Self::Health => "(attribute_not_exists(health_state) OR health_state <> :disabled)",
            Self::HealthUnlessParked => {
                "(attribute_not_exists(health_state) OR (health_state <> :disabled AND \
                 health_state <> :parked))"
            }
            Self::ResetUnlessParked => {
                "(attribute_not_exists(health_state) OR health_state <> :parked)"
            }
            Self::LastSuccess => "(attribute_not_exists(last_success) OR last_success < :at)",
            Self::UpdatedAt => "(attribute_not_exists(updated_at) OR updated_at < :at)",
        }
    }

    /// Whether the condition holds on the item as it is now.
    pub(super) fn holds(self, item: Option<&Item>, at: OffsetDateTime) -> Result<bool, StoreError> {
        let Some(item) = item else { return Ok(true) };
        let read = Read::new(item);
        Ok(match self {
            Self::Health => read.opt_s("health_state") != Some(state_name(&Health::Disabled)),
            Self::HealthUnlessParked => {
                !matches!(read.opt_s("health_state"), Some(DISABLED | PARKED))
            }
            Self::ResetUnlessParked => read.opt_s("health_state") != Some(PARKED),
            Self::LastSuccess => read.opt_instant("last_success")?.is_none_or(|t| t < at),
            Self::UpdatedAt => read.opt_instant("updated_at")?.is_none_or(|t| t < at),
        })
    }
}

const DISABLED: &str = "disabled";
const PARKED: &str = "parked";

/// The name of a health state, as the `health_state` attribute holds it (a parked mailbox's
/// is `parked`, a failing one that heals by itself `failing`).
fn state_name(health: &Health) -> &'static str {
    match health {
        Health::CatchingUp => "catching_up",
        Health::Disabled => DISABLED,
        health if health.is_parked() => PARKED,
        other => other.name(),
    }
}

/// One event as an update: the parts that always apply, and the guarded ones.
#[derive(Debug)]
pub(super) struct Update {
    always: Vec<&'static str>,
    add: Vec<&'static str>,
    remove: Vec<&'static str>,
    pub(super) guarded: Vec<Guarded>,
    values: HashMap<String, AttributeValue>,
}

impl Update {
    pub(super) fn of(
        mailbox: &MailboxAddress,
        event: StatusEvent,
        at: OffsetDateTime,
    ) -> Result<Self, StoreError> {
        let mut update = Self {
            always: vec!["mailbox = :mailbox"],
            add: Vec::new(),
            remove: Vec::new(),
            guarded: vec![Guarded::UpdatedAt],
            values: HashMap::from([
                (":mailbox".to_string(), s(mailbox.as_str())),
                (":at".to_string(), instant(at)),
                (":one".to_string(), n(1)),
            ]),
        };
        let health = match event {
            StatusEvent::PassSucceeded { emails } => {
                update.add.push("emails_seen :emails");
                update.values.insert(":emails".into(), n(emails));
                update.always.push("consecutive_failures = :zero");
                update.values.insert(":zero".into(), n(0));
                update.guarded.push(Guarded::LastSuccess);
                update.remove.push("next_retry");
                Some(Health::Healthy)
            }
            StatusEvent::PassEnded { emails } => {
                update.add.push("emails_seen :emails");
                update.values.insert(":emails".into(), n(emails));
                update.values.insert(":zero".into(), n(0));
                update.values.insert(":parked".into(), s(PARKED));
                update.values.insert(":disabled".into(), s(DISABLED));
                update.guarded.push(Guarded::LastSuccess);
                update.guarded.push(Guarded::ResetUnlessParked);
                update.set_health(mailbox, &Health::Healthy)?;
                update.guarded.push(Guarded::HealthUnlessParked);
                None
            }
            StatusEvent::CatchingUp { emails } => {
                update.add.push("emails_seen :emails");
                update.values.insert(":emails".into(), n(emails));
                update.always.push("consecutive_failures = :zero");
                update.values.insert(":zero".into(), n(0));
                update.remove.push("next_retry");
                Some(Health::CatchingUp)
            }
            StatusEvent::EmailsWritten { created, duplicate } => {
                if created > 0 {
                    update.add.push("emails_written :created");
                    update.values.insert(":created".into(), n(created));
                }
                if duplicate > 0 {
                    update.add.push("emails_duplicate :duplicate");
                    update.values.insert(":duplicate".into(), n(duplicate));
                }
                None
            }
            StatusEvent::EmailsSkipped { emails } => {
                update.add.push("emails_skipped :emails");
                update.values.insert(":emails".into(), n(emails));
                None
            }
            StatusEvent::Throttled { until } => Some(Health::Throttled { until }),
            StatusEvent::Failed { reason, retryable, retry_at } => {
                update.add.push("consecutive_failures :one");
                match retry_at {
                    Some(retry_at) => {
                        update.always.push("next_retry = :retry");
                        update.values.insert(":retry".into(), instant(retry_at));
                    }
                    None => update.remove.push("next_retry"),
                }
                Some(Health::Failing { reason, retryable })
            }
            // The admin's switch applies whatever the record says.
            StatusEvent::Disabled => {
                update.remove.push("next_retry");
                update.set_health(mailbox, &Health::Disabled)?;
                update.always.push("health = :health, health_state = :state");
                None
            }
            StatusEvent::Enabled => {
                update.remove.push("next_retry");
                update.always.push("consecutive_failures = :zero");
                update.values.insert(":zero".into(), n(0));
                update.set_health(mailbox, &Health::Pending)?;
                update.always.push("health = :health, health_state = :state");
                None
            }
        };
        if let Some(health) = health {
            update.set_health(mailbox, &health)?;
            update.values.insert(":disabled".into(), s(state_name(&Health::Disabled)));
            update.guarded.push(Guarded::Health);
        }
        Ok(update)
    }

    /// The values of a new health.
    fn set_health(&mut self, mailbox: &MailboxAddress, health: &Health) -> Result<(), StoreError> {
        let json = serde_json::to_string(health).map_err(|e| StoreError {
            message: format!("status of {mailbox}: cannot write its health: {e}"),
            retryable: false,
        })?;
        self.values.insert(":health".into(), s(json));
        self.values.insert(":state".into(), s(state_name(health)));
        Ok(())
    }

    /// The update and condition expressions with the guarded parts still in play.
    pub(super) fn expressions(&self) -> (String, Option<String>) {
        let set: Vec<&str> =
            self.always.iter().copied().chain(self.guarded.iter().map(|g| g.set())).collect();
        let mut expression = format!("SET {}", set.join(", "));
        if !self.add.is_empty() {
            expression.push_str(&format!(" ADD {}", self.add.join(", ")));
        }
        if !self.remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", self.remove.join(", ")));
        }
        let conditions: Vec<&str> = self.guarded.iter().map(|g| g.condition()).collect();
        (expression, (!conditions.is_empty()).then(|| conditions.join(" AND ")))
    }

    /// The values the expressions use (DynamoDB refuses unused ones).
    pub(super) fn values(&self) -> HashMap<String, AttributeValue> {
        let (expression, condition) = self.expressions();
        let text = format!("{expression} {}", condition.unwrap_or_default());
        self.values
            .iter()
            .filter(|(name, _)| {
                text.match_indices(name.as_str()).any(|(i, _)| {
                    !text[i + name.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
                })
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::adapters::aws::dynamo::{item::key, keys};

    const AT: OffsetDateTime = datetime!(2026-11-23 10:00 UTC);

    fn mailbox() -> MailboxAddress {
        MailboxAddress::parse("alice@fabrikam.example").unwrap()
    }

    #[test]
    fn a_success_adds_emails_resets_failures_and_guards_health_and_times() {
        let update = Update::of(&mailbox(), StatusEvent::PassSucceeded { emails: 3 }, AT).unwrap();
        let (expression, condition) = update.expressions();
        assert_eq!(
            expression,
            "SET mailbox = :mailbox, consecutive_failures = :zero, updated_at = :at, \
             last_success = :at, health = :health, health_state = :state ADD emails_seen :emails \
             REMOVE next_retry"
        );
        let condition = condition.unwrap();
        assert!(
            condition.contains("health_state <> :disabled")
                && condition.contains("last_success < :at")
        );
        let mut names: Vec<String> = update.values().into_keys().collect();
        names.sort();
        assert_eq!(
            names,
            [":at", ":disabled", ":emails", ":health", ":mailbox", ":state", ":zero"]
        );
    }

    #[test]
    fn a_late_written_email_only_counts() {
        let mut update =
            Update::of(&mailbox(), StatusEvent::EmailsWritten { created: 0, duplicate: 2 }, AT)
                .unwrap();
        let mut newer = key(keys::status(&mailbox()));
        newer.insert("updated_at".into(), instant(AT + time::Duration::SECOND));
        assert!(!Guarded::UpdatedAt.holds(Some(&newer), AT).unwrap());
        update.guarded.retain(|g| g.holds(Some(&newer), AT).unwrap());
        assert_eq!(
            update.expressions(),
            ("SET mailbox = :mailbox ADD emails_duplicate :duplicate".into(), None)
        );
        assert_eq!(update.values().len(), 2, "{:?}", update.values());
    }

    #[test]
    fn the_admin_switch_sets_health_unguarded_and_a_park_sets_its_probe() {
        let (expression, condition) =
            Update::of(&mailbox(), StatusEvent::Enabled, AT).unwrap().expressions();
        assert_eq!(
            expression,
            "SET mailbox = :mailbox, consecutive_failures = :zero, health = :health, \
             health_state = :state, updated_at = :at REMOVE next_retry"
        );
        assert_eq!(
            condition.as_deref(),
            Some("(attribute_not_exists(updated_at) OR updated_at < :at)")
        );
        let parked = StatusEvent::Failed {
            reason: "AADSTS7000222".into(),
            retryable: false,
            retry_at: Some(AT + time::Duration::MINUTE),
        };
        let update = Update::of(&mailbox(), parked, AT).unwrap();
        assert!(
            update.expressions().0.contains("next_retry = :retry"),
            "{:?}",
            update.expressions()
        );
        assert!(update.values().contains_key(":retry"));
    }

    #[test]
    fn a_disabled_mailbox_keeps_its_health() {
        let mut disabled = key(keys::status(&mailbox()));
        disabled.insert("health_state".into(), s("disabled"));
        assert!(!Guarded::Health.holds(Some(&disabled), AT).unwrap());
        assert!(Guarded::Health.holds(None, AT).unwrap());
    }
}
