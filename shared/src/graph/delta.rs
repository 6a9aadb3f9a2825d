//! Message delta per folder (reference graph.md 6.1, 6.2): the source of truth of a sync pass.

use http::Method;
use tracing::instrument;

use super::{
    access::MailboxAccess,
    client::{Call, GraphClient, error},
    error::{ErrorKind, GraphError, Operation},
    model::{DeltaItem, DeltaResponse, MESSAGE_SELECT},
};
use crate::{domain::Folder, ports::DeltaCursor};

/// Where a delta request starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeltaFrom<'a> {
    /// A new round: every message of the folder, then changes.
    Start,
    /// A stored `@odata.nextLink` or `@odata.deltaLink`, followed verbatim.
    Link(&'a str),
}

/// One page of a delta round.
#[derive(Debug, Clone, PartialEq)]
pub struct DeltaPage {
    /// Its entries, in Graph's order.
    pub items: Vec<DeltaItem>,
    /// Where to go on: `Next` while the round lasts, `Delta` when it is caught up.
    pub next: DeltaCursor,
}

impl GraphClient {
    /// Reads one page of a folder's message delta.
    ///
    /// The first request names the properties (`$select`), the change type and the page size
    /// (`Prefer: odata.maxpagesize`); Graph encodes them into its links, which are followed as
    /// given, with no query option added (reference 6.1). No `$filter` is sent: with one, delta
    /// returns at most 5,000 messages, and the rest would be lost, so the caller filters by date.
    #[instrument(skip_all, fields(mailbox = %access.address, %folder))]
    pub async fn delta_page(
        &self,
        access: &MailboxAccess,
        folder: Folder,
        from: DeltaFrom<'_>,
    ) -> Result<DeltaPage, GraphError> {
        let op = (Operation::Delta, access);
        let url = match from {
            DeltaFrom::Start => {
                let mut url = self.url(&[
                    "users",
                    access.address.as_str(),
                    "mailFolders",
                    folder.well_known_name(),
                    "messages",
                    "delta",
                ]);
                // Literal `$select`, as Graph documents it (a form encoder would write %24).
                // `changeType=created` (reference 6.1, initial request only): later rounds
                // bring new messages only, not every read, flag or category change, which
                // would each become a write job for an email Dataverse already has. The first
                // round still lists every message of the folder.
                url.set_query(Some(&format!("$select={MESSAGE_SELECT}&changeType=created")));
                url
            }
            DeltaFrom::Link(link) => self.link(op, link)?,
        };
        let call = Call {
            operation: Operation::Delta,
            access,
            method: Method::GET,
            url,
            body: None,
            idempotent: true,
            prefer: Some(format!("odata.maxpagesize={}", self.page_size())),
        };
        let answer = self.send(call).await?;
        let page: DeltaResponse = GraphClient::json(op, &answer)?;
        let next = match (page.next_link, page.delta_link) {
            (Some(next), _) => DeltaCursor::Next(next),
            (None, Some(delta)) => DeltaCursor::Delta(delta),
            (None, None) => {
                let why = "a delta page with neither @odata.nextLink nor @odata.deltaLink";
                return Err(error(Operation::Delta, access, ErrorKind::Decode(why.into())));
            }
        };
        Ok(DeltaPage { items: page.value.into_iter().map(DeltaItem::from_json).collect(), next })
    }
}
