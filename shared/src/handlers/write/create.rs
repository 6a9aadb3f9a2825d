//! The writes: per email one atomic changeset (create with its parties, then close it via
//! `PATCH $n`), all emails in one `$batch` that continues past a failed changeset.
//!
//! Because the changeset is atomic, an email in Dataverse is always complete and closed; and
//! because its `activityid` is deterministic, writing it again is answered "duplicate", which
//! means it is done. So a process killed between any two requests loses and repeats nothing.

use crate::{
    dataverse::{
        DataverseClient, DataverseError, ErrorClass,
        batch::{Batch, ItemResult, MAX_OPERATIONS, Target},
        model::EMAILS,
    },
    domain::RecordId,
    mapping::email::EmailActivity,
};

/// What a write achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// This write created the email.
    Created,
    /// It was there already (this id, created by an earlier attempt or another mailbox).
    Exists(RecordId),
}

/// Writes `activities` in order (a parent before its replies); one result each, in order.
pub async fn write(
    client: &DataverseClient,
    activities: &[EmailActivity],
) -> Vec<Result<Written, DataverseError>> {
    let mut results = Vec::with_capacity(activities.len());
    // Two requests per email; chunks run in order, so parents stay ahead of replies.
    for chunk in activities.chunks(MAX_OPERATIONS / 2) {
        let mut batch = Batch::new().continue_on_error();
        for activity in chunk {
            let mut changeset = batch.changeset();
            let created = changeset.create(EMAILS, activity.create.clone());
            changeset.update(Target::Created(created), activity.close.clone());
        }
        match client.batch(&batch).await {
            Ok(items) => {
                results.extend(items.into_iter().zip(chunk).map(|(item, a)| interpret(item, a)));
            }
            Err(error) => results.extend(chunk.iter().map(|_| Err(error.clone()))),
        }
    }
    results
}

fn interpret(item: ItemResult, activity: &EmailActivity) -> Result<Written, DataverseError> {
    let operation = format!("create email {}", activity.activity_id);
    match item {
        ItemResult::Succeeded(_) => Ok(Written::Created),
        ItemResult::Failed(part) => {
            let api = part.error();
            match api.class() {
                ErrorClass::Duplicate => Ok(Written::Exists(activity.activity_id)),
                _ => Err(DataverseError::Api { operation, api }),
            }
        }
        ItemResult::NotRun => Err(DataverseError::Protocol {
            operation,
            message: "the batch did not run this changeset".into(),
        }),
    }
}
