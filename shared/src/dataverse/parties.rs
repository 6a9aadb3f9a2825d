//! Email addresses resolved to Dataverse records as server-side sync resolves them (A10):
//! a sender to the first table with a match (systemuser, contact, account, lead, queue), a
//! recipient to every match; more than [`MAX_MATCHES`] leaves an address unresolved.
//!
//! Addresses are looked up in bulk, one `In(...)` query per table (and chunk), and remembered
//! for a while, misses included, so a steady stream of mail from known correspondents costs no
//! lookups at all. The queries are handed out ([`PartyResolver::plan`]) so a caller can put them
//! in the same `$batch` as its other reads.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::Value;
use time::OffsetDateTime;

use super::{
    DataverseClient, DataverseError,
    model::{PartyRef, PartyTable},
    query::{Filter, Query},
};
use crate::ports::Clock;

/// An address with more matches than this stays unresolved (A10).
pub const MAX_MATCHES: usize = 100;
/// Addresses per `In(...)` query: keeps each URL well inside the limits.
const CHUNK: usize = 50;
/// Cached addresses kept before expired ones are swept.
const MAX_CACHED: usize = 100_000;

/// The records each address resolved to, in resolution order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartyMatches {
    by_address: HashMap<String, Vec<PartyRef>>,
}

impl PartyMatches {
    /// Every record `address` resolved to (a recipient's parties); empty when unresolved.
    pub fn all(&self, address: &str) -> &[PartyRef] {
        self.by_address.get(&normalise(address)).map_or(&[], Vec::as_slice)
    }

    /// The record a sender resolves to: the first match in resolution order.
    pub fn sender(&self, address: &str) -> Option<PartyRef> {
        self.all(address).first().copied()
    }
}

/// The reads a set of addresses needs, and what the cache already knew.
#[derive(Debug, Clone)]
pub struct PartyLookup {
    wanted: HashSet<String>,
    queries: Vec<(PartyTable, Query)>,
    known: PartyMatches,
}

impl PartyLookup {
    /// The queries to run, in order (none when the cache knew every address).
    pub fn queries(&self) -> impl Iterator<Item = &Query> {
        self.queries.iter().map(|(_, q)| q)
    }
}

/// Resolves addresses, with a cache shared by every job of the process.
#[derive(Debug)]
pub struct PartyResolver {
    clock: Arc<dyn Clock>,
    ttl: Duration,
    cache: Mutex<HashMap<String, (Vec<PartyRef>, OffsetDateTime)>>,
}

impl PartyResolver {
    /// A resolver whose answers are trusted for `ttl` (a new contact is found after at most
    /// that long).
    pub fn new(clock: Arc<dyn Clock>, ttl: Duration) -> Self {
        Self { clock, ttl, cache: Mutex::new(HashMap::new()) }
    }

    /// The reads needed to resolve `addresses`.
    pub fn plan<'a>(&self, addresses: impl IntoIterator<Item = &'a str>) -> PartyLookup {
        let now = self.clock.now();
        let cache = self.cache.lock().expect("party cache lock");
        let mut known = PartyMatches::default();
        let mut wanted = HashSet::new();
        for address in addresses.into_iter().map(normalise).filter(|a| !a.is_empty()) {
            match cache.get(&address) {
                Some((parties, at)) if now - *at < self.ttl => {
                    known.by_address.insert(address, parties.clone());
                }
                _ => {
                    wanted.insert(address);
                }
            }
        }
        let mut sorted: Vec<&String> = wanted.iter().collect();
        sorted.sort();
        let queries = sorted
            .chunks(CHUNK)
            .flat_map(|chunk| {
                PartyTable::RESOLUTION_ORDER.map(|table| (table, query(table, chunk)))
            })
            .collect();
        PartyLookup { wanted, queries, known }
    }

    /// Resolves with the rows each of `lookup`'s queries returned (same order), and caches.
    pub fn complete(
        &self,
        lookup: PartyLookup,
        rows: Vec<Vec<Value>>,
    ) -> Result<PartyMatches, String> {
        if rows.len() != lookup.queries.len() {
            return Err(format!("{} party queries, {} answers", lookup.queries.len(), rows.len()));
        }
        let mut found: HashMap<String, Vec<PartyRef>> =
            lookup.wanted.iter().map(|a| (a.clone(), Vec::new())).collect();
        for ((table, _), rows) in lookup.queries.iter().zip(rows) {
            for row in rows {
                let id = row
                    .get(table.id_column())
                    .and_then(Value::as_str)
                    .and_then(|id| id.parse().ok())
                    .ok_or(format!(
                        "a {} row without {}",
                        table.logical_name(),
                        table.id_column()
                    ))?;
                let party = PartyRef { table: *table, id };
                for column in table.email_columns() {
                    let address = row.get(*column).and_then(Value::as_str).map(normalise);
                    if let Some(parties) = address.and_then(|a| found.get_mut(&a))
                        && !parties.contains(&party)
                    {
                        parties.push(party);
                    }
                }
            }
        }
        let now = self.clock.now();
        let mut cache = self.cache.lock().expect("party cache lock");
        if cache.len() + found.len() > MAX_CACHED {
            cache.retain(|_, (_, at)| now - *at < self.ttl);
        }
        let mut matches = lookup.known;
        for (address, mut parties) in found {
            // Stable: rows keep their order within a table.
            parties.sort_by_key(|p| p.table);
            if parties.len() > MAX_MATCHES {
                parties.clear();
            }
            cache.insert(address.clone(), (parties.clone(), now));
            matches.by_address.insert(address, parties);
        }
        Ok(matches)
    }

    /// Forgets what is cached for `addresses` (a record they resolved to may be gone).
    pub fn forget<'a>(&self, addresses: impl IntoIterator<Item = &'a str>) {
        let mut cache = self.cache.lock().expect("party cache lock");
        for address in addresses {
            cache.remove(&normalise(address));
        }
    }

    /// Resolves `addresses` with plain queries (for callers without a batch of their own).
    pub async fn resolve<'a>(
        &self,
        client: &DataverseClient,
        addresses: impl IntoIterator<Item = &'a str>,
    ) -> Result<PartyMatches, DataverseError> {
        let lookup = self.plan(addresses);
        let mut rows = Vec::new();
        for query in lookup.queries() {
            rows.push(client.query(query).await?);
        }
        self.complete(lookup, rows).map_err(|message| DataverseError::Protocol {
            operation: "party lookup".into(),
            message,
        })
    }
}

/// How addresses are compared: Dataverse compares strings case-insensitively (A4).
fn normalise(address: &str) -> String {
    address.trim().to_lowercase()
}

fn query(table: PartyTable, addresses: &[&String]) -> Query {
    let mut select = vec![table.id_column()];
    select.extend(table.email_columns());
    let filters: Vec<Filter> = table
        .email_columns()
        .iter()
        .map(|column| Filter::is_in(column, addresses.iter().map(|a| a.as_str())))
        .collect();
    let filter = match <[Filter; 1]>::try_from(filters) {
        Ok([one]) => one,
        Err(many) => Filter::Or(many),
    };
    Query::new(table.entity_set()).select(&select).filter(filter)
}

#[cfg(test)]
mod tests;
