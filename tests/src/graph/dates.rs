//! The date formats Graph writes, and the forms it reads.

use time::{
    OffsetDateTime, PrimitiveDateTime, UtcOffset,
    format_description::well_known::{Iso8601, Rfc3339},
    macros::format_description,
};

/// `innerError.date`: `2019-05-24T10:16:21`, UTC without an offset (reference 10.1).
pub(crate) fn inner_error_date(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    t.format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"))
        .expect("date format")
}

/// Message and event timestamps: `2014-01-01T00:00:00Z`, whole seconds, UTC (reference 7).
pub(crate) fn item(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    t.format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z"))
        .expect("date format")
}

/// Subscription `expirationDateTime`: seven fractional digits, `Z` (reference 1.1 example).
pub(crate) fn subscription(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    t.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]Z"
    ))
    .expect("date format")
}

/// `subscriptionExpirationDateTime` in notifications: seven fractional digits and an explicit
/// offset, as in the docs' examples (`…2257768+05:30`, reference 3.1). Written as `+00:00`
/// so that a client which only understands `Z` fails here as it would against Graph.
pub(crate) fn notification(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    t.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]+00:00"
    ))
    .expect("date format")
}

/// Event `start`/`end` `dateTime`: local time without offset, seven fractional digits,
/// paired with `timeZone` "UTC".
pub(crate) fn event_local(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    t.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:7]"
    ))
    .expect("date format")
}

/// Parses a DateTimeOffset as Graph accepts it: RFC 3339 / ISO 8601 with an offset, or
/// without one (then UTC, as Graph reads `"2018-07-20T12:00:00"` in subscription bodies).
pub(crate) fn parse(s: &str) -> Option<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t);
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Iso8601::DEFAULT) {
        return Some(t);
    }
    PrimitiveDateTime::parse(s, &Iso8601::DEFAULT).ok().map(PrimitiveDateTime::assume_utc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats_match_the_documented_examples() {
        let t = datetime!(2022-01-01 21:42:18.2257768 UTC);
        assert_eq!(subscription(t), "2022-01-01T21:42:18.2257768Z");
        assert_eq!(notification(t), "2022-01-01T21:42:18.2257768+00:00");
        assert_eq!(item(t), "2022-01-01T21:42:18Z");
        assert_eq!(inner_error_date(t), "2022-01-01T21:42:18");
    }

    #[test]
    fn parses_offsets_fractions_and_zone_less_times() {
        let expected = datetime!(2026-11-25 08:00:00 UTC);
        assert_eq!(parse("2026-11-25T08:00:00.0000000Z"), Some(expected));
        assert_eq!(parse("2026-11-25T09:00:00+01:00"), Some(expected));
        assert_eq!(parse("2026-11-25T08:00:00"), Some(expected));
        assert_eq!(parse("2026-11-25"), None);
    }
}
