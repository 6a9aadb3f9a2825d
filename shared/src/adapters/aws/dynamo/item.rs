//! Items as attribute maps: building them, and reading them back with errors that name the
//! item and the attribute (never its value: an item may hold a clientState).

use std::{collections::HashMap, str::FromStr};

use aws_sdk_dynamodb::types::AttributeValue;
use time::OffsetDateTime;

use super::keys::{PK, SK};
use crate::ports::StoreError;

/// An item, or a key.
pub(super) type Item = HashMap<String, AttributeValue>;

/// A key.
pub(super) fn key((pk, sk): (String, String)) -> Item {
    HashMap::from([
        (PK.to_string(), AttributeValue::S(pk)),
        (SK.to_string(), AttributeValue::S(sk)),
    ])
}

/// A String value.
pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// A Number value.
pub(super) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// An instant as a Number of nanoseconds since the epoch: exact, and ordered in conditions.
pub(super) fn instant(at: OffsetDateTime) -> AttributeValue {
    n(at.unix_timestamp_nanos())
}

/// Reads the attributes of one item.
pub(super) struct Read<'a> {
    item: &'a Item,
}

impl<'a> Read<'a> {
    /// Reads `item`.
    pub fn new(item: &'a Item) -> Self {
        Self { item }
    }

    fn corrupt(&self, name: &str, expected: &str) -> StoreError {
        let part = |k: &str| match self.item.get(k) {
            Some(AttributeValue::S(v)) => v.as_str(),
            _ => "?",
        };
        StoreError {
            message: format!(
                "item {}/{}: attribute {name} is missing or not {expected}; the table was written \
                 by something else than exsync",
                part(PK),
                part(SK)
            ),
            retryable: false,
        }
    }

    /// A String attribute.
    pub fn s(&self, name: &str) -> Result<&'a str, StoreError> {
        self.opt_s(name).ok_or_else(|| self.corrupt(name, "a string"))
    }

    /// A String attribute that may be absent.
    pub fn opt_s(&self, name: &str) -> Option<&'a str> {
        match self.item.get(name) {
            Some(AttributeValue::S(v)) => Some(v.as_str()),
            _ => None,
        }
    }

    /// A String attribute made into `T` by `parse` (`expected` says what it should be).
    pub fn parsed<T, E>(
        &self,
        name: &str,
        expected: &str,
        parse: impl FnOnce(&'a str) -> Result<T, E>,
    ) -> Result<T, StoreError> {
        parse(self.s(name)?).map_err(|_| self.corrupt(name, expected))
    }

    /// A Number attribute; absent means `default`.
    pub fn n_or<T: FromStr>(&self, name: &str, default: T) -> Result<T, StoreError> {
        match self.item.get(name) {
            None => Ok(default),
            Some(AttributeValue::N(v)) => v.parse().map_err(|_| self.corrupt(name, "a number")),
            Some(_) => Err(self.corrupt(name, "a number")),
        }
    }

    /// An instant written by [`instant`], if present.
    pub fn opt_instant(&self, name: &str) -> Result<Option<OffsetDateTime>, StoreError> {
        match self.item.get(name) {
            None => Ok(None),
            Some(AttributeValue::N(v)) => v
                .parse::<i128>()
                .ok()
                .and_then(|ns| OffsetDateTime::from_unix_timestamp_nanos(ns).ok())
                .map(Some)
                .ok_or_else(|| self.corrupt(name, "an instant")),
            Some(_) => Err(self.corrupt(name, "an instant")),
        }
    }

    /// An instant written by [`instant`].
    pub fn instant(&self, name: &str) -> Result<OffsetDateTime, StoreError> {
        self.opt_instant(name)?.ok_or_else(|| self.corrupt(name, "an instant"))
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn instants_round_trip_exactly_and_corrupt_items_are_named_without_values() {
        let at = datetime!(2026-11-23 10:00:00.123456789 UTC);
        let mut item = key(("mbx#a@b.example".into(), "cursor#inbox".into()));
        item.insert("at".into(), instant(at));
        item.insert("client_state".into(), s("hunter2"));
        item.insert("count".into(), s("not a number"));
        let read = Read::new(&item);
        assert_eq!(read.instant("at").unwrap(), at);
        assert_eq!(read.n_or("absent", 7u64).unwrap(), 7);
        let error = read.n_or::<u64>("count", 0).unwrap_err().message;
        assert!(error.starts_with("item mbx#a@b.example/cursor#inbox: attribute count"), "{error}");
        assert!(
            !read
                .parsed("client_state", "a number", str::parse::<u32>)
                .unwrap_err()
                .message
                .contains("hunter2")
        );
    }
}
