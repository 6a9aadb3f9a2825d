//! The reads a batch of emails needs, in one `$batch`: which of them (and of the emails they
//! answer) Dataverse already has, by `messageid`, and the records their addresses resolve to.

use std::collections::HashMap;

use serde_json::Value;

use crate::{
    dataverse::{
        DataverseClient, DataverseError,
        batch::{Batch, ItemResult, MAX_OPERATIONS},
        model::{EMAILS, RecordRef},
        parties::{PartyMatches, PartyResolver},
        query::{Filter, Query},
    },
    domain::RecordId,
    model::EmailRecord,
};

/// Message-IDs per `In(...)` query (each up to 320 characters; a `$batch` URL may be 64 KB).
const MESSAGE_IDS_PER_QUERY: usize = 50;
/// The annotation that names a lookup's table (A1).
const LOOKUP_TABLE: &str = "Microsoft.Dynamics.CRM.lookuplogicalname";
const REGARDING: &str = "_regardingobjectid_value";

/// An email Dataverse already has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    /// Its activity id.
    pub activity_id: RecordId,
    /// What it is Regarding.
    pub regarding: Option<RecordRef>,
}

/// What the reads found.
#[derive(Debug, Default)]
pub struct Found {
    /// Emails by `messageid` (lower case: Dataverse matches case-insensitively).
    pub emails: HashMap<String, Existing>,
    /// The records the addresses resolved to.
    pub parties: PartyMatches,
}

impl Found {
    /// The email with this Message-ID, if Dataverse has it.
    pub fn email(&self, message_id: &str) -> Option<&Existing> {
        self.emails.get(&message_id.to_lowercase())
    }
}

/// Reads what writing `emails` needs: one request, or none when nothing is unknown.
pub async fn look_up(
    client: &DataverseClient,
    resolver: &PartyResolver,
    emails: &[&EmailRecord],
) -> Result<Found, DataverseError> {
    let mut message_ids: Vec<&str> = emails
        .iter()
        .flat_map(|e| [e.internet_message_id.as_ref(), e.in_reply_to.as_ref()])
        .flatten()
        .map(|id| id.as_str())
        .collect();
    message_ids.sort_unstable();
    message_ids.dedup();
    let parties = resolver.plan(emails.iter().flat_map(|e| super::addresses(e)));

    let email_queries: Vec<Query> =
        message_ids.chunks(MESSAGE_IDS_PER_QUERY).map(emails_query).collect();
    let queries: Vec<&Query> = email_queries.iter().chain(parties.queries()).collect();
    let mut rows = Vec::with_capacity(queries.len());
    // One batch, unless an email names thousands of addresses.
    for chunk in queries.chunks(MAX_OPERATIONS) {
        rows.extend(read(client, chunk).await?);
    }
    let party_rows = rows.split_off(email_queries.len());
    let emails = rows.into_iter().flatten().filter_map(|row| existing(&row)).collect();
    let parties = resolver.complete(parties, party_rows).map_err(protocol)?;
    Ok(Found { emails, parties })
}

/// Runs `queries` in one `$batch`; the rows of each, all pages.
pub(super) async fn read(
    client: &DataverseClient,
    queries: &[&Query],
) -> Result<Vec<Vec<Value>>, DataverseError> {
    let mut batch = Batch::new();
    for query in queries {
        batch.query((*query).clone());
    }
    let answers = client.batch(&batch).await?;
    let mut rows = Vec::with_capacity(answers.len());
    for (answer, query) in answers.into_iter().zip(queries) {
        let operation = format!("GET {} in $batch", query.entity_set());
        let page = match answer {
            ItemResult::Succeeded(parts) if parts.len() == 1 => {
                parts[0].json().map_err(protocol)?
            }
            ItemResult::Failed(part) => {
                return Err(DataverseError::Api { operation, api: part.error() });
            }
            other => return Err(protocol(format!("{operation}: unexpected {other:?}"))),
        };
        let prefer = query.prefer();
        rows.push(client.collect_pages(&operation, page, prefer.as_deref()).await?);
    }
    Ok(rows)
}

pub(super) fn emails_query(message_ids: &[&str]) -> Query {
    Query::new(EMAILS)
        .select(&["activityid", "messageid", REGARDING])
        .filter(Filter::is_in("messageid", message_ids.iter().copied()))
        .annotations(LOOKUP_TABLE)
}

/// A row of the emails query as (lower-case messageid, what it is).
pub(super) fn existing(row: &Value) -> Option<(String, Existing)> {
    let message_id = row.get("messageid")?.as_str()?.to_lowercase();
    let activity_id = row.get("activityid")?.as_str()?.parse().ok()?;
    let regarding_id = row.get(REGARDING).and_then(Value::as_str).and_then(|id| id.parse().ok());
    let regarding_table = row.get(format!("{REGARDING}@{LOOKUP_TABLE}")).and_then(Value::as_str);
    let regarding = match (regarding_id, regarding_table) {
        (Some(id), Some(table)) => Some(RecordRef { logical_name: table.to_string(), id }),
        (Some(id), None) => {
            tracing::warn!(%activity_id, regarding = %id, "regarding without its table: not inherited");
            None
        }
        _ => None,
    };
    Some((message_id, Existing { activity_id, regarding }))
}

fn protocol(message: impl Into<String>) -> DataverseError {
    DataverseError::Protocol { operation: "lookup $batch".into(), message: message.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_existing_email_row_keeps_its_regarding_and_table() {
        let row = serde_json::json!({
            "activityid": "00000000-0000-0000-0000-000000000001",
            "messageid": "<A@X>",
            "_regardingobjectid_value": "00000000-0000-0000-0000-000000000002",
            "_regardingobjectid_value@Microsoft.Dynamics.CRM.lookuplogicalname": "account",
        });
        let (id, found) = existing(&row).unwrap();
        assert_eq!(id, "<a@x>");
        assert_eq!(found.regarding.unwrap().logical_name, "account");
        let bare = serde_json::json!({"activityid": "00000000-0000-0000-0000-000000000001", "messageid": "<b@x>"});
        assert_eq!(existing(&bare).unwrap().1.regarding, None);
    }
}
