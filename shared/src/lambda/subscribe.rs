//! `subscribe`'s events: the EventBridge schedules' `{"action":"upkeep"}` (hourly: every
//! synced mailbox's subscriptions checked, renewed, recreated) and `{"action":"sweep"}` (a
//! delta pass of every synced folder, the safety net for lost notifications), or an SQS event
//! of subscription jobs (`EnsureSubscriptions`, lifecycle events).

use lambda_runtime::LambdaEvent;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Pipeline, sqs};
use crate::{
    handlers::schedule,
    jobs::{QueueName, Trigger},
};

/// What a schedule asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum ScheduleEvent {
    /// Queue `EnsureSubscriptions` for every synced mailbox.
    Upkeep,
    /// Request a pass of every synced folder.
    Sweep,
    /// Probe the parked mailboxes whose next probe is due (they heal without an admin once
    /// the cause is fixed, as `serve`'s prober does).
    Probe,
}

/// An event `subscribe` is invoked with.
#[derive(Debug, Clone)]
pub enum SubscribeEvent {
    /// A schedule.
    Schedule(ScheduleEvent),
    /// Subscription jobs from the queue.
    Queue(sqs::SqsEvent),
}

impl SubscribeEvent {
    /// Tells the two apart: SQS events carry `Records`, schedules an `action`.
    pub fn parse(value: Value) -> Result<Self, serde_json::Error> {
        if value.get("Records").is_some() {
            serde_json::from_value(value).map(SubscribeEvent::Queue)
        } else {
            serde_json::from_value(value).map(SubscribeEvent::Schedule)
        }
    }
}

/// Handles one invocation of `subscribe`: the batch response for SQS, a summary for a
/// schedule. A schedule that could not queue anything fails the invocation (the Errors alarm;
/// EventBridge retries it).
pub async fn handle(
    pipeline: &Pipeline,
    event: LambdaEvent<Value>,
) -> Result<Value, lambda_runtime::Error> {
    let (payload, context) = event.into_parts();
    match SubscribeEvent::parse(payload)? {
        SubscribeEvent::Queue(batch) => {
            let event = LambdaEvent::new(batch, context);
            Ok(serde_json::to_value(sqs::handle(pipeline, QueueName::Subscriptions, event).await?)?)
        }
        SubscribeEvent::Schedule(schedule) => run_schedule(pipeline, schedule).await,
    }
}

async fn run_schedule(
    pipeline: &Pipeline,
    event: ScheduleEvent,
) -> Result<Value, lambda_runtime::Error> {
    let wiring = pipeline.wiring().await?;
    let config = wiring.config();
    match event {
        ScheduleEvent::Upkeep => {
            let queued = schedule::queue_upkeep(config, pipeline.queue().as_ref()).await?;
            tracing::info!(queued, "queued subscription upkeep");
            Ok(json!({"action": "upkeep", "queued": queued}))
        }
        ScheduleEvent::Probe => {
            let probed = schedule::probe_parked(
                config,
                pipeline.store().as_ref(),
                pipeline.store().as_ref(),
                pipeline.queue().as_ref(),
                pipeline.clock().as_ref(),
            )
            .await?;
            Ok(json!({"action": "probe", "probed": probed.len()}))
        }
        ScheduleEvent::Sweep => {
            let done = schedule::request_passes(
                config,
                pipeline.store().as_ref(),
                pipeline.queue().as_ref(),
                pipeline.clock().as_ref(),
                Trigger::Sweep,
            )
            .await;
            tracing::info!(
                queued = done.queued,
                coalesced = done.coalesced,
                failed = done.failed.len(),
                "requested a sweep"
            );
            if done.queued + done.coalesced == 0 && !done.failed.is_empty() {
                return Err(
                    format!("no pass could be requested: {}", done.failed.join("; ")).into()
                );
            }
            Ok(
                json!({"action": "sweep", "queued": done.queued, "coalesced": done.coalesced, "failed": done.failed.len()}),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_and_queue_events_are_told_apart() {
        let parse = |v: Value| SubscribeEvent::parse(v);
        assert!(matches!(
            parse(json!({"action": "upkeep"})).unwrap(),
            SubscribeEvent::Schedule(ScheduleEvent::Upkeep)
        ));
        assert!(matches!(
            parse(json!({"action": "sweep"})).unwrap(),
            SubscribeEvent::Schedule(ScheduleEvent::Sweep)
        ));
        assert!(matches!(
            parse(json!({"action": "probe"})).unwrap(),
            SubscribeEvent::Schedule(ScheduleEvent::Probe)
        ));
        assert!(matches!(parse(json!({"Records": []})).unwrap(), SubscribeEvent::Queue(_)));
        assert!(parse(json!({"action": "sweeep"})).is_err());
        assert!(parse(json!({})).is_err());
    }
}
