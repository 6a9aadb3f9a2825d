//! exsync's SQS message attributes: a dead letter's reason and bookkeeping, and the due
//! instant of a hopping delay ([`super::timer::NOT_BEFORE`]).

use std::collections::HashMap;

use aws_sdk_sqs::types::{Message, MessageAttributeValue, MessageSystemAttributeName};
use time::OffsetDateTime;

/// Why a job was dead-lettered (what failed, on which ids; never a secret).
pub(super) const REASON: &str = "exsync.reason";
/// How many times it had been received when it was dead-lettered.
pub(super) const RECEIVE_COUNT: &str = "exsync.receive_count";
/// When it was dead-lettered (Unix milliseconds).
pub(super) const DEAD_LETTERED_AT: &str = "exsync.dead_lettered_at";

/// The longest reason kept: reasons are a line or two; a runaway one must not push the dead
/// letter over the message size limit.
pub(super) const MAX_REASON_BYTES: usize = 4 * 1024;

/// A `String` attribute.
pub(super) fn string(value: impl Into<String>) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .expect("the data type is set")
}

/// A `Number` attribute.
pub(super) fn number(value: impl ToString) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("Number")
        .string_value(value.to_string())
        .build()
        .expect("the data type is set")
}

/// Bytes the attributes add to a message's size (SQS counts name, type and value).
pub(super) fn size(attributes: &HashMap<String, MessageAttributeValue>) -> usize {
    attributes
        .iter()
        .map(|(name, v)| name.len() + v.data_type().len() + v.string_value().map_or(0, str::len))
        .sum()
}

/// `reason`, cut at a character boundary to at most [`MAX_REASON_BYTES`].
pub(super) fn bounded_reason(reason: &str) -> String {
    if reason.len() <= MAX_REASON_BYTES {
        return reason.to_string();
    }
    let mut end = MAX_REASON_BYTES - 3;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &reason[..end])
}

/// A received message, read.
#[derive(Debug, Clone)]
pub(super) struct Received {
    /// SQS's id of the message (stable across receives).
    pub message_id: String,
    /// The handle of this receive.
    pub receipt: String,
    /// The body.
    pub body: String,
    /// `ApproximateReceiveCount`, this receive included.
    pub receive_count: u32,
    /// `SentTimestamp`: when it was sent to this queue.
    pub sent_at: Option<OffsetDateTime>,
    /// exsync's message attributes (string and number values).
    pub attributes: HashMap<String, String>,
}

impl Received {
    /// Reads a message of a receive that asked for `ApproximateReceiveCount`, `SentTimestamp`
    /// and all message attributes; `None` without an id, a receipt or a body.
    pub fn read(message: Message) -> Option<Self> {
        let system = message.attributes();
        let system_attribute = |name: MessageSystemAttributeName| {
            system.and_then(|a| a.get(&name)).and_then(|v| v.parse::<i64>().ok())
        };
        let receive_count = system_attribute(MessageSystemAttributeName::ApproximateReceiveCount)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(1);
        let sent_at = system_attribute(MessageSystemAttributeName::SentTimestamp).and_then(|ms| {
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
        });
        let attributes = message
            .message_attributes()
            .map(|all| {
                all.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.string_value()?.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        Some(Self {
            message_id: message.message_id?,
            receipt: message.receipt_handle?,
            body: message.body?,
            receive_count,
            sent_at,
            attributes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_runaway_reason_is_cut_at_a_character_boundary() {
        assert_eq!(bounded_reason("Graph 503"), "Graph 503");
        let long = "é".repeat(MAX_REASON_BYTES);
        let cut = bounded_reason(&long);
        assert!(cut.len() <= MAX_REASON_BYTES && cut.ends_with("..."), "{}", cut.len());
    }

    #[test]
    fn a_message_is_read_with_its_count_time_and_attributes() {
        let message = Message::builder()
            .message_id("m-1")
            .receipt_handle("r-1")
            .body("{}")
            .attributes(MessageSystemAttributeName::ApproximateReceiveCount, "3")
            .attributes(MessageSystemAttributeName::SentTimestamp, "1795428000000")
            .message_attributes(REASON, string("poison"))
            .build();
        let read = Received::read(message).unwrap();
        assert_eq!((read.receive_count, read.receipt.as_str()), (3, "r-1"));
        assert_eq!(read.sent_at.unwrap().unix_timestamp(), 1_795_428_000);
        assert_eq!(read.attributes[REASON], "poison");
        assert!(Received::read(Message::builder().message_id("no-body").build()).is_none());
    }
}
