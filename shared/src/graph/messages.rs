//! Reading one message and its attachments (reference graph.md 7).

use http::Method;
use serde::Deserialize;
use tracing::instrument;

use super::{
    access::MailboxAccess,
    client::{Call, GraphClient},
    error::{GraphError, Operation},
    model::{Attachment, MESSAGE_SELECT, Message},
};
use crate::domain::GraphItemId;

/// Attachment lists are short; a longer chain of pages than this is a loop.
const MAX_ATTACHMENT_PAGES: usize = 20;

#[derive(Deserialize)]
struct AttachmentPage {
    #[serde(default)]
    value: Vec<Attachment>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
}

impl GraphClient {
    /// One message, with the properties the mapping needs. Ids are mailbox-wide.
    #[instrument(skip_all, fields(mailbox = %access.address, id = %id))]
    pub async fn message(
        &self,
        access: &MailboxAccess,
        id: &GraphItemId,
    ) -> Result<Message, GraphError> {
        let mut url = self.url(&["users", access.address.as_str(), "messages", id.as_str()]);
        url.set_query(Some(&format!("$select={MESSAGE_SELECT}")));
        let call = get(Operation::GetMessage, access, url);
        let answer = self.send(call).await?;
        GraphClient::json((Operation::GetMessage, access), &answer)
    }

    /// A message's attachments, with their content (file attachments).
    #[instrument(skip_all, fields(mailbox = %access.address, id = %id))]
    pub async fn attachments(
        &self,
        access: &MailboxAccess,
        id: &GraphItemId,
    ) -> Result<Vec<Attachment>, GraphError> {
        let op = (Operation::ListAttachments, access);
        let mut url =
            self.url(&["users", access.address.as_str(), "messages", id.as_str(), "attachments"]);
        let mut all = Vec::new();
        for _ in 0..MAX_ATTACHMENT_PAGES {
            let answer = self.send(get(Operation::ListAttachments, access, url)).await?;
            let page: AttachmentPage = GraphClient::json(op, &answer)?;
            all.extend(page.value);
            match page.next_link {
                Some(next) => url = self.link(op, &next)?,
                None => return Ok(all),
            }
        }
        let why = format!("more than {MAX_ATTACHMENT_PAGES} pages of attachments");
        Err(super::client::error(op.0, access, super::error::ErrorKind::Decode(why)))
    }
}

fn get(operation: Operation, access: &MailboxAccess, url: url::Url) -> Call<'_> {
    Call { operation, access, method: Method::GET, url, body: None, idempotent: true, prefer: None }
}
