//! Serving a delta request: a page of entries and the link to what follows.

use std::collections::VecDeque;

use serde_json::{Map, Value, json};

use super::{
    Entry, Start, SyncState, in_scope, round, scope_path,
    tokens::{Token, sync_reset, sync_state_not_found},
    type_name,
};
use crate::graph::{
    errors::GraphError,
    render::{self, View},
    request::Prefer,
    store::{Item, ItemData, Mailbox},
};

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
