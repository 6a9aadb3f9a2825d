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

/// Body bytes one write `$batch` carries before the next one starts (Dataverse answers 413
/// to a request that is too large, A1; its exact limit is not documented).
pub const MAX_BATCH_BYTES: usize = 16 * 1024 * 1024;

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
    // Chunks run in order, so parents stay ahead of replies.
    for chunk in chunks(activities) {
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

/// Batches of at most [`MAX_OPERATIONS`] requests (two per email) and about
/// [`MAX_BATCH_BYTES`] of bodies, so a huge email refused as too large (413) goes alone.
fn chunks(activities: &[EmailActivity]) -> Vec<&[EmailActivity]> {
    let mut chunks = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (at, activity) in activities.iter().enumerate() {
        let size = activity.create.to_string().len();
        let full = at - start == MAX_OPERATIONS / 2 || bytes + size > MAX_BATCH_BYTES;
        if at > start && full {
            chunks.push(&activities[start..at]);
            (start, bytes) = (at, 0);
        }
        bytes += size;
    }
    if start < activities.len() {
        chunks.push(&activities[start..]);
    }
    chunks
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn activity(body_bytes: usize) -> EmailActivity {
        EmailActivity {
            activity_id: RecordId::nil(),
            create: json!({"description": "x".repeat(body_bytes)}),
            close: json!({}),
            regarding: None,
        }
    }

    #[test]
    fn batches_are_cut_by_request_count_and_by_size() {
        let many: Vec<EmailActivity> = (0..1001).map(|_| activity(10)).collect();
        let sizes: Vec<usize> = chunks(&many).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, vec![500, 500, 1]);
        let big = vec![activity(10), activity(MAX_BATCH_BYTES), activity(10), activity(10)];
        let sizes: Vec<usize> = chunks(&big).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, vec![1, 1, 2], "the huge one goes alone");
        assert!(chunks(&[]).is_empty());
    }
}
