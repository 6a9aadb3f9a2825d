//! Delta queries (reference 6): per-folder rounds of pages linked by opaque state tokens
//! (`$skiptoken` for the next page, `$deltatoken` for the next round) kept in a bounded cache
//! per mailbox, as Outlook keeps them: evicted or expired tokens answer 410.

use std::collections::{HashMap, VecDeque};

use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::{
    errors::GraphError,
    ids,
    odata::Filter,
    render::{self, View},
    request::{ApiRequest, Prefer, encode_component},
    store::{Item, ItemData, Mailbox},
};

/// What a delta round tracks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scope {
    Messages { folder: u32 },
    CalendarView { folder: u32, start: OffsetDateTime, end: OffsetDateTime },
    Contacts { folder: u32 },
    Tasks { folder: u32 },
}

impl Scope {
    /// Whether a token of scope `self` may be used on a request for `other` (a calendar
    /// view token keeps its own window).
    fn same_target(&self, other: &Scope) -> bool {
        match (self, other) {
            (Self::CalendarView { folder: a, .. }, Self::CalendarView { folder: b, .. }) => a == b,
            _ => self == other,
        }
    }
}

/// The query options of a round's first request, kept in its tokens.
#[derive(Debug, Clone, Default)]
pub(crate) struct Options {
    pub select: Option<Vec<String>>,
    pub filter: Option<Filter>,
    /// The `changeType` custom option: `created`, `updated` or `deleted`.
    pub change_type: Option<String>,
    pub order_desc: bool,
    pub top: Option<usize>,
    /// The first request's query, to rebuild its URL for a sync reset's `Location`.
    pub initial_query: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
struct Known {
    regular: String,
    immutable: String,
}

/// What a client knows after a round: the items it has seen, up to a change number.
#[derive(Debug, Clone)]
pub(crate) struct SyncState {
    scope: Scope,
    options: Options,
    known: HashMap<u64, Known>,
    watermark: u64,
}

#[derive(Debug, Clone)]
enum Entry {
    Upsert(u64),
    Removed(Known),
}

#[derive(Debug, Clone)]
enum Token {
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
    generation: u32,
    map: HashMap<String, (u32, Token)>,
    order: VecDeque<String>,
}

impl TokenCache {
    pub fn new(capacity: usize) -> Self {
        Self { capacity, generation: 0, map: HashMap::new(), order: VecDeque::new() }
    }

    fn insert(&mut self, token: Token) -> String {
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
fn sync_state_not_found(generation: u32) -> GraphError {
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

/// Where a scope's links point (below `/v1.0`).
fn scope_path(mb: &Mailbox, scope: &Scope) -> String {
    match scope {
        Scope::Messages { folder } => {
            format!(
                "/users/{}/mailFolders('{}')/messages/delta",
                mb.id, mb.folders[*folder as usize].id
            )
        }
        Scope::CalendarView { .. } => format!("/users/{}/calendarView/delta", mb.id),
        Scope::Contacts { folder } => format!(
            "/users/{}/contactFolders('{}')/contacts/delta",
            mb.id, mb.folders[*folder as usize].id
        ),
        Scope::Tasks { folder } => {
            format!("/users/{}/todo/lists/{}/tasks/delta", mb.id, mb.folders[*folder as usize].id)
        }
    }
}

fn type_name(scope: &Scope) -> &'static str {
    match scope {
        Scope::Messages { .. } => "message",
        Scope::CalendarView { .. } => "event",
        Scope::Contacts { .. } => "contact",
        Scope::Tasks { .. } => "todoTask",
    }
}

fn in_scope(item: &Item, scope: &Scope, options: &Options) -> bool {
    match (scope, &item.data) {
        (Scope::Messages { folder }, ItemData::Message(_)) => {
            item.folder == *folder && options.filter.as_ref().is_none_or(|f| f.matches(item))
        }
        (Scope::CalendarView { folder, start, end }, ItemData::Event(e)) => {
            item.folder == *folder && e.start < *end && e.end > *start
        }
        (Scope::Contacts { folder }, ItemData::Contact(_))
        | (Scope::Tasks { folder }, ItemData::Task(_)) => item.folder == *folder,
        _ => false,
    }
}

fn received(item: &Item) -> OffsetDateTime {
    item.message().map_or(item.created, |m| m.received)
}

/// Computes a round: every entry the client must see, and what it knows afterwards.
fn round(
    mb: &Mailbox,
    scope: &Scope,
    options: &Options,
    prev: Option<&SyncState>,
    filter_cap: usize,
) -> (VecDeque<Entry>, SyncState) {
    let mut members: Vec<&Item> =
        mb.items.values().filter(|i| in_scope(i, scope, options)).collect();
    if prev.is_none() && options.filter.is_some() && members.len() > filter_cap {
        // With $filter an initial round returns at most 5,000 messages (reference 6.1):
        // the newest.
        members.sort_by_key(|i| std::cmp::Reverse(received(i)));
        members.truncate(filter_cap);
        members.sort_by_key(|i| i.key);
    }
    if options.order_desc {
        members.sort_by_key(|i| std::cmp::Reverse(received(i)));
    }
    let known: HashMap<u64, Known> = members
        .iter()
        .map(|i| (i.key, Known { regular: mb.regular_id(i), immutable: mb.immutable_id(i) }))
        .collect();
    let wants = |change: &str| options.change_type.as_deref().is_none_or(|c| c == change);
    let mut entries = VecDeque::new();
    match prev {
        None => entries.extend(members.iter().map(|i| Entry::Upsert(i.key))),
        Some(p) => {
            for i in &members {
                let change = match p.known.contains_key(&i.key) {
                    false => "created",
                    true if i.changed_seq > p.watermark => "updated",
                    true => continue,
                };
                if wants(change) {
                    entries.push_back(Entry::Upsert(i.key));
                }
            }
            if wants("deleted") {
                let mut gone: Vec<(&u64, &Known)> =
                    p.known.iter().filter(|(k, _)| !known.contains_key(k)).collect();
                gone.sort_by_key(|(k, _)| **k);
                entries.extend(gone.into_iter().map(|(_, k)| Entry::Removed(k.clone())));
                // Calendar view delta also reports events outside the window that changed
                // as removed (reference 6.3).
                if let Scope::CalendarView { folder, .. } = scope {
                    entries.extend(
                        mb.items
                            .values()
                            .filter(|i| i.folder == *folder && i.changed_seq > p.watermark)
                            .filter(|i| {
                                !known.contains_key(&i.key) && !p.known.contains_key(&i.key)
                            })
                            .map(|i| {
                                Entry::Removed(Known {
                                    regular: mb.regular_id(i),
                                    immutable: mb.immutable_id(i),
                                })
                            }),
                    );
                }
            }
        }
    }
    let next =
        SyncState { scope: scope.clone(), options: options.clone(), known, watermark: mb.seq };
    (entries, next)
}

/// Settings of one delta request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PageSettings<'a> {
    pub base: &'a str,
    pub prefer: Prefer,
    pub default_page: usize,
    pub max_page: usize,
    pub filter_cap: usize,
    /// Items of this request must not include restricted properties (Mail.ReadBasic).
    pub basic_only: bool,
}

/// How a delta request starts: fresh, or from a token.
#[derive(Debug, Clone)]
pub(crate) enum Start {
    Initial(Scope, Options),
    SkipToken(String, Scope),
    DeltaToken(String, Scope),
}

/// Reads how a delta request starts. Query options belong on the initial request only; Graph
/// encodes them into the tokens (docs: concepts/delta-query-overview.md, which also says
/// "Delta queries with both `$select` and `$skipToken` will not be supported"), so options
/// next to a token are refused. An empty `$deltatoken=` (the `Location` of a sync reset) is
/// an initial request.
pub(crate) fn start(
    req: &ApiRequest,
    scope: Scope,
    options: impl FnOnce() -> Result<Options, GraphError>,
) -> Result<Start, GraphError> {
    let token = |name| req.query_value(name).filter(|t| !t.is_empty()).map(str::to_string);
    let (skip, delta) = (token("$skiptoken"), token("$deltatoken"));
    if skip.is_none() && delta.is_none() {
        return Ok(Start::Initial(scope, options()?));
    }
    if req.query.len() > 1 {
        return Err(GraphError::bad_request(
            "Query options cannot be combined with $skiptoken or $deltatoken; they are encoded in the token.",
        ));
    }
    Ok(match skip {
        Some(t) => Start::SkipToken(t, scope),
        None => Start::DeltaToken(delta.unwrap_or_default(), scope),
    })
}

/// Serves one delta request.
pub(crate) fn serve(
    mb: &mut Mailbox,
    start: Start,
    settings: &PageSettings,
) -> Result<(Value, Option<usize>), GraphError> {
    let (entries, next) = match start {
        Start::Initial(scope, options) => round(mb, &scope, &options, None, settings.filter_cap),
        Start::SkipToken(t, scope) | Start::DeltaToken(t, scope) => {
            let (generation, token) = match mb.tokens.map.get(&t) {
                Some((g, tok)) => (*g, tok.clone()),
                None => return Err(sync_state_not_found(mb.tokens.generation)),
            };
            let state = match &token {
                Token::Page { next, .. } => next,
                Token::Delta(state) => state,
            };
            if !state.scope.same_target(&scope) {
                return Err(sync_state_not_found(mb.tokens.generation));
            }
            if generation != mb.tokens.generation {
                return Err(sync_reset(mb, state, settings.base));
            }
            match token {
                Token::Page { entries, next } => (entries, next),
                Token::Delta(state) => {
                    round(mb, &state.scope, &state.options, Some(&state), settings.filter_cap)
                }
            }
        }
    };
    Ok(page(mb, entries, next, settings))
}

/// The 410 of a synchronization reset: `Location` is the initial URL with an empty
/// `$deltatoken` (docs: concepts/delta-query-overview.md, "Synchronization reset"). The code
/// is UNCONFIRMED (`resyncRequired` per reference 6.2).
fn sync_reset(mb: &Mailbox, state: &SyncState, base: &str) -> GraphError {
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

fn page(
    mb: &mut Mailbox,
    mut entries: VecDeque<Entry>,
    next: SyncState,
    s: &PageSettings,
) -> (Value, Option<usize>) {
    let preferred = s.prefer.max_page_size.map(|n| n.clamp(1, s.max_page));
    let size = preferred.or(next.options.top).unwrap_or(s.default_page).clamp(1, s.max_page);
    let kind = type_name(&next.scope);
    let view = View {
        select: next.options.select.as_deref(),
        immutable: s.prefer.immutable_ids,
        text_body: s.prefer.text_body,
    };
    let mut value = Vec::new();
    while value.len() < size {
        let Some(entry) = entries.pop_front() else { break };
        let rendered = match entry {
            Entry::Upsert(key) => match mb.items.get(&key) {
                Some(item) if in_scope(item, &next.scope, &next.options) => {
                    render_item(mb, item, &view, s.basic_only)
                }
                _ => continue,
            },
            Entry::Removed(known) => {
                let id = if s.prefer.immutable_ids { known.immutable } else { known.regular };
                let mut m = Map::new();
                m.insert("id".into(), id.into());
                m.insert("@removed".into(), json!({"reason": "deleted"}));
                m
            }
        };
        let mut with_type = Map::new();
        with_type.insert("@odata.type".into(), format!("#microsoft.graph.{kind}").into());
        with_type.extend(rendered);
        value.push(Value::Object(with_type));
    }
    let path = scope_path(mb, &next.scope);
    let mut body = json!({
        "@odata.context": format!("{}/v1.0/$metadata#Collection({kind})", s.base),
        "value": value,
    });
    if entries.is_empty() {
        let token = mb.tokens.insert(Token::Delta(next));
        body["@odata.deltaLink"] = format!("{}/v1.0{path}?$deltatoken={token}", s.base).into();
    } else {
        let token = mb.tokens.insert(Token::Page { entries, next });
        body["@odata.nextLink"] = format!("{}/v1.0{path}?$skiptoken={token}", s.base).into();
    }
    (body, preferred)
}

fn render_item(mb: &Mailbox, item: &Item, view: &View, basic_only: bool) -> Map<String, Value> {
    match &item.data {
        ItemData::Message(_) => {
            let mut m = render::message(mb, item, view);
            if basic_only {
                for p in render::FULL_READ_PROPS {
                    m.remove(*p);
                }
            }
            m
        }
        ItemData::Event(_) => render::event(mb, item, view.immutable),
        ItemData::Contact(_) => render::contact(mb, item, view.immutable, view.select),
        ItemData::Task(_) => render::task(mb, item, view.immutable),
    }
}
