//! The state tokens of delta rounds and the per-mailbox cache that keeps them.

use std::collections::{HashMap, VecDeque};

use axum::http::StatusCode;

use super::{Entry, SyncState, scope_path};
use crate::graph::{errors::GraphError, ids, request::encode_component, store::Mailbox};

#[derive(Debug, Clone)]
pub(super) enum Token {
    /// The rest of a round: served page by page.
    Page { entries: VecDeque<Entry>, next: SyncState },
    /// A finished round.
    Delta(SyncState),
}

/// The state-token cache of one mailbox (reference 6.2: Outlook tokens live as long as an
/// internal cache keeps them; the oldest are evicted when it is full).
#[derive(Debug)]
pub(crate) struct TokenCache {
    capacity: usize,
    pub(super) generation: u32,
    pub(super) map: HashMap<String, (u32, Token)>,
    order: VecDeque<String>,
}

impl TokenCache {
    pub fn new(capacity: usize) -> Self {
        Self { capacity, generation: 0, map: HashMap::new(), order: VecDeque::new() }
    }

    pub(super) fn insert(&mut self, token: Token) -> String {
        let key = ids::random_token(24);
        self.map.insert(key.clone(), (self.generation, token));
        self.order.push_back(key.clone());
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.map.remove(&old);
            }
        }
        key
    }

    /// Forgets every token: each answers 410 `SyncStateNotFound`.
    pub fn expire_all(&mut self) {
        self.map.clear();
        self.order.clear();
    }

    /// Marks every token as needing a full resync: each answers 410 with `Location`.
    pub fn reset(&mut self) {
        self.generation += 1;
    }

    /// How many tokens are held.
    pub fn len(&self) -> usize {
        self.map.len()
    }
}

/// The 410 for an unknown, evicted or expired token. The docs name `syncStateNotFound`
/// (docs: concepts/delta-query-overview.md); Outlook's wire form is `SyncStateNotFound` with
/// "The sync state generation is not found; generation=…" (as recorded by several client
/// test suites, e.g. Java `SYNC_STATE_NOT_FOUND_MESSAGE` fixtures), so clients must compare
/// codes case-insensitively.
pub(super) fn sync_state_not_found(generation: u32) -> GraphError {
    GraphError::new(
        StatusCode::GONE,
        "SyncStateNotFound",
        format!(
            "The sync state generation is not found; generation={};[highest={}].",
            generation + 1,
            generation + 7
        ),
    )
}

/// The 410 of a synchronization reset: `Location` is the initial URL with an empty
/// `$deltatoken` (docs: concepts/delta-query-overview.md, "Synchronization reset"). The code
/// is UNCONFIRMED (`resyncRequired` per reference 6.2).
pub(super) fn sync_reset(mb: &Mailbox, state: &SyncState, base: &str) -> GraphError {
    let mut query: Vec<String> = state
        .options
        .initial_query
        .iter()
        .map(|(k, v)| format!("{k}={}", encode_component(v)))
        .collect();
    query.push("$deltatoken=".into());
    let mut e = GraphError::new(StatusCode::GONE, "resyncRequired", "Resync required.");
    e.location = Some(format!("{base}/v1.0{}?{}", scope_path(mb, &state.scope), query.join("&")));
    e
}
