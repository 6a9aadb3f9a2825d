//! `@odata.context` and paging links: `@odata.nextLink` with a paging cookie in `$skiptoken`,
//! as in `PAD:webapi/query/page-results.md`.

use uuid::Uuid;

use super::options::Options;
use crate::dataverse::{metadata::Table, state::Ctx};

/// `[root]$metadata#emails(subject,activityid)` (plus `/$entity` for one record).
pub fn context(ctx: &Ctx, set: &str, select: &[String], entity: bool) -> String {
    let columns = if select.is_empty() { String::new() } else { format!("({})", select.join(",")) };
    let suffix = if entity { "/$entity" } else { "" };
    format!("{}$metadata#{set}{columns}{suffix}", ctx.root())
}

/// The next page's URL: the same options and a paging cookie in `$skiptoken`, shaped like the
/// page-results doc's example.
pub fn next_link(
    ctx: &Ctx,
    table: &Table,
    opts: &Options,
    first: Option<Uuid>,
    last: Option<Uuid>,
) -> String {
    let braces = |id: Option<Uuid>| {
        id.map(|i| format!("%7b{}%7d", i.to_string().to_uppercase())).unwrap_or_default()
    };
    let inner = format!(
        "%3ccookie%20page%3d%22{}%22%3e%3c{}%20last%3d%22{}%22%20first%3d%22{}%22%20%2f%3e%3c%2fcookie%3e",
        opts.page,
        table.key,
        braces(last),
        braces(first)
    );
    let cookie = format!(
        "<cookie pagenumber=\"{}\" pagingcookie=\"{inner}\" istracking=\"False\" />",
        opts.page + 1
    );
    let mut query: Vec<String> =
        opts.params.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
    query.push(format!("$skiptoken={}", encode(&cookie)));
    format!("{}{}?{}", ctx.root(), table.set, query.join("&"))
}

/// The page number a paging cookie asks for.
pub fn page_number(cookie: &str) -> Option<usize> {
    let rest = cookie.strip_prefix("<cookie pagenumber=\"")?;
    rest[..rest.find('"')?].parse().ok().filter(|n| *n >= 1)
}

/// Percent-encodes a query value, keeping the characters OData URLs show literally.
fn encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~$,()'=:@/*".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
