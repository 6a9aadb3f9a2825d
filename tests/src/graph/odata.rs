//! The OData query options the simulator understands: `$select`, a `$filter` subset for
//! messages (comparisons joined by `and`), `$orderby` on dates, `$top`.

use time::OffsetDateTime;

use super::{dates, errors::GraphError, store::Item};

/// Resolves a `$select` list against a type's properties (case-insensitive, as Graph is:
/// the docs use both `Subject` and `subject`). Unknown names are refused the way Graph's
/// URI parser refuses them (UNCONFIRMED code).
pub(crate) fn parse_select(
    raw: &str,
    known: &[&str],
    type_name: &str,
) -> Result<Vec<String>, GraphError> {
    raw.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            known.iter().find(|k| k.eq_ignore_ascii_case(p)).map(|k| (*k).to_string()).ok_or_else(
                || {
                    GraphError::new(
                        axum::http::StatusCode::BAD_REQUEST,
                        "RequestBroker--ParseUri",
                        format!("Could not find a property named '{p}' on type '{type_name}'."),
                    )
                },
            )
        })
        .collect()
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A literal in a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Literal {
    Date(OffsetDateTime),
    Str(String),
    Bool(bool),
}

/// One `property op literal` comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Clause {
    pub prop: &'static str,
    pub op: Op,
    pub value: Literal,
}

/// A message filter: clauses joined by `and`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Filter {
    pub clauses: Vec<Clause>,
}

const DATE_PROPS: &[&str] =
    &["receivedDateTime", "sentDateTime", "createdDateTime", "lastModifiedDateTime"];
const BOOL_PROPS: &[&str] = &["isRead", "isDraft", "hasAttachments"];
const STR_PROPS: &[&str] =
    &["importance", "subject", "internetMessageId", "conversationId", "from/emailAddress/address"];

fn invalid_filter(detail: &str) -> GraphError {
    // UNCONFIRMED wording; Exchange refuses filters it cannot evaluate with 400.
    GraphError::bad_request(format!("Invalid filter clause: {detail}"))
}

/// Parses a message `$filter`.
pub(crate) fn parse_filter(raw: &str) -> Result<Filter, GraphError> {
    let tokens = tokenize(raw)?;
    let mut clauses = Vec::new();
    let mut rest = tokens.as_slice();
    loop {
        let [prop, op, value, tail @ ..] = rest else {
            return Err(invalid_filter("expected 'property operator value'"));
        };
        clauses.push(parse_clause(prop, op, value)?);
        match tail {
            [] => break,
            [and, more @ ..] if and.eq_ignore_ascii_case("and") => rest = more,
            [other, ..] => return Err(invalid_filter(&format!("unsupported '{other}'"))),
        }
    }
    Ok(Filter { clauses })
}

fn parse_clause(prop: &str, op: &str, value: &str) -> Result<Clause, GraphError> {
    let op = match op.to_ascii_lowercase().as_str() {
        "eq" => Op::Eq,
        "ne" => Op::Ne,
        "gt" => Op::Gt,
        "ge" => Op::Ge,
        "lt" => Op::Lt,
        "le" => Op::Le,
        other => return Err(invalid_filter(&format!("unknown operator '{other}'"))),
    };
    let find = |list: &[&'static str]| list.iter().find(|p| p.eq_ignore_ascii_case(prop)).copied();
    if let Some(p) = find(DATE_PROPS) {
        // OData DateTimeOffset literals are unquoted; the message is OData's own.
        let date = dates::parse(value).filter(|_| !value.starts_with('\'')).ok_or_else(|| {
            GraphError::bad_request(format!(
                "The DateTimeOffset text '{value}' should be in format \
                 'yyyy-mm-ddThh:mm:ss('.'s+)?(zzzzzz)?' and each field value is within valid range."
            ))
        })?;
        return Ok(Clause { prop: p, op, value: Literal::Date(date) });
    }
    if let Some(p) = find(BOOL_PROPS) {
        let b = match value {
            "true" => true,
            "false" => false,
            _ => return Err(invalid_filter(&format!("'{value}' is not a boolean"))),
        };
        return Ok(Clause { prop: p, op, value: Literal::Bool(b) });
    }
    if let Some(p) = find(STR_PROPS) {
        let s = value
            .strip_prefix('\'')
            .and_then(|v| v.strip_suffix('\''))
            .ok_or_else(|| invalid_filter(&format!("'{value}' is not a string literal")))?;
        return Ok(Clause { prop: p, op, value: Literal::Str(s.replace("''", "'")) });
    }
    Err(GraphError::new(
        axum::http::StatusCode::BAD_REQUEST,
        "RequestBroker--ParseUri",
        format!("Could not find a property named '{prop}' on type 'microsoft.graph.message'."),
    ))
}

fn tokenize(raw: &str) -> Result<Vec<String>, GraphError> {
    let mut tokens = Vec::new();
    let mut chars = raw.trim().chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '\'' {
            let mut s = String::from(chars.next().expect("peeked"));
            loop {
                match chars.next() {
                    Some('\'') if chars.peek() == Some(&'\'') => {
                        s.push_str("''");
                        chars.next();
                    }
                    Some('\'') => break,
                    Some(ch) => s.push(ch),
                    None => return Err(invalid_filter("unterminated string literal")),
                }
            }
            s.push('\'');
            tokens.push(s);
        } else {
            let mut s = String::new();
            while let Some(&ch) = chars.peek() {
                if ch.is_whitespace() {
                    break;
                }
                s.push(ch);
                chars.next();
            }
            tokens.push(s);
        }
    }
    Ok(tokens)
}

impl Filter {
    /// Whether a stored message passes the filter.
    pub fn matches(&self, item: &Item) -> bool {
        let Some(m) = item.message() else { return false };
        self.clauses.iter().all(|c| {
            let actual = match c.prop {
                "receivedDateTime" => Literal::Date(m.received),
                "sentDateTime" => Literal::Date(m.sent),
                "createdDateTime" => Literal::Date(item.created),
                "lastModifiedDateTime" => Literal::Date(item.modified),
                "isRead" => Literal::Bool(m.is_read),
                "isDraft" => Literal::Bool(m.is_draft),
                "hasAttachments" => Literal::Bool(m.attachments.iter().any(|a| !a.is_inline)),
                "importance" => Literal::Str(m.importance.clone()),
                "subject" => Literal::Str(m.subject.clone()),
                "internetMessageId" => Literal::Str(m.internet_message_id.clone()),
                "conversationId" => Literal::Str(m.conversation_id.clone()),
                _ => Literal::Str(m.from.address.clone()),
            };
            compare(&actual, c.op, &c.value)
        })
    }

    /// The one form message delta accepts: `receivedDateTime ge|gt {value}` (reference 6.1).
    pub fn is_delta_form(&self) -> bool {
        matches!(
            self.clauses.as_slice(),
            [Clause { prop: "receivedDateTime", op: Op::Ge | Op::Gt, value: Literal::Date(_) }]
        )
    }
}

fn compare(actual: &Literal, op: Op, expected: &Literal) -> bool {
    let ord = match (actual, expected) {
        (Literal::Date(a), Literal::Date(b)) => a.cmp(b),
        (Literal::Bool(a), Literal::Bool(b)) => a.cmp(b),
        // Exchange compares strings case-insensitively.
        (Literal::Str(a), Literal::Str(b)) => a.to_lowercase().cmp(&b.to_lowercase()),
        _ => return false,
    };
    match op {
        Op::Eq => ord.is_eq(),
        Op::Ne => ord.is_ne(),
        Op::Gt => ord.is_gt(),
        Op::Ge => ord.is_ge(),
        Op::Lt => ord.is_lt(),
        Op::Le => ord.is_le(),
    }
}

/// Parses `$top`: a positive number up to `max`.
pub(crate) fn parse_top(raw: Option<&str>, max: usize) -> Result<Option<usize>, GraphError> {
    let Some(raw) = raw else { return Ok(None) };
    match raw.trim().parse::<usize>() {
        Ok(n) if n >= 1 && n <= max => Ok(Some(n)),
        // UNCONFIRMED wording; the 1,000 maximum is from config.rs's sources.
        Ok(n) if n > max => {
            Err(GraphError::bad_request(format!("The value of $top ({n}) exceeds {max}.")))
        }
        _ => Err(GraphError::bad_request(format!("Invalid $top value '{raw}'."))),
    }
}

/// `$orderby` for messages: a date property, `asc` (default) or `desc`. Returns the
/// property and whether descending.
pub(crate) fn parse_orderby(raw: &str) -> Result<(&'static str, bool), GraphError> {
    let mut parts = raw.split_whitespace();
    let prop = parts.next().unwrap_or_default();
    let desc = match parts.next().map(str::to_ascii_lowercase).as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(other) => return Err(GraphError::bad_request(format!("Invalid $orderby '{other}'."))),
    };
    let prop = DATE_PROPS
        .iter()
        .find(|p| p.eq_ignore_ascii_case(prop))
        .ok_or_else(|| GraphError::bad_request(format!("Unsupported $orderby '{raw}'.")))?;
    Ok((prop, desc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_and_only_the_received_lower_bound_suits_delta() {
        let f = parse_filter("receivedDateTime ge 2024-01-01T00:00:00Z").unwrap();
        assert!(f.is_delta_form());
        let f =
            parse_filter("ReceivedDateTime gt 2024-01-01T00:00:00Z and isRead eq false").unwrap();
        assert_eq!(f.clauses.len(), 2);
        assert!(!f.is_delta_form());
        let f = parse_filter("importance eq 'High' AND hasAttachments eq true").unwrap();
        assert_eq!(f.clauses[0].value, Literal::Str("High".into()));
    }

    #[test]
    fn malformed_filters_are_refused() {
        assert!(parse_filter("receivedDateTime ge '2024-01-01T00:00:00Z'").is_err());
        assert!(parse_filter("nosuch eq 1").is_err());
        assert!(parse_filter("isRead eq").is_err());
        assert!(parse_filter("isRead eq true or isRead eq false").is_err());
    }

    #[test]
    fn select_is_case_insensitive_and_strict() {
        let known = ["subject", "isRead"];
        assert_eq!(parse_select("Subject,ISREAD", &known, "t").unwrap(), ["subject", "isRead"]);
        assert_eq!(parse_select("body", &known, "t").unwrap_err().code, "RequestBroker--ParseUri");
    }
}
