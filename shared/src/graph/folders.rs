//! Reading a mail folder: what Test & Enable (`exsync mailbox test`) uses to prove the app
//! reaches a mailbox and its tracked folders (reference graph.md: mailFolder).

use http::Method;
use serde::Deserialize;
use tracing::instrument;

use super::{
    access::MailboxAccess,
    client::{Call, GraphClient},
    error::{GraphError, Operation},
};
use crate::domain::Folder;

/// A mail folder as Graph describes it (the properties exsync reads).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MailFolder {
    /// Its id.
    pub id: String,
    /// Its name in the mailbox's language.
    #[serde(default)]
    pub display_name: String,
    /// Messages in it.
    #[serde(default)]
    pub total_item_count: Option<u64>,
}

impl GraphClient {
    /// A well-known folder of a mailbox (`GET /users/{mailbox}/mailFolders/{name}`).
    #[instrument(skip_all, fields(mailbox = %access.address, %folder))]
    pub async fn mail_folder(
        &self,
        access: &MailboxAccess,
        folder: Folder,
    ) -> Result<MailFolder, GraphError> {
        let url =
            self.url(&["users", access.address.as_str(), "mailFolders", folder.well_known_name()]);
        let call = Call {
            operation: Operation::GetFolder,
            access,
            method: Method::GET,
            url,
            body: None,
            idempotent: true,
            prefer: None,
        };
        let answer = self.send(call).await?;
        GraphClient::json((Operation::GetFolder, access), &answer)
    }
}
