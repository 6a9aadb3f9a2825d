//! Who exsync is when it calls Graph for a mailbox: which app, whose credential, which limits.

use crate::{
    config::{Config, Mailbox},
    domain::{Folder, MailboxAddress},
    ports::{CredentialKey, LimitKey},
};

/// How exsync reaches one mailbox on Graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxAccess {
    /// The mailbox (the Graph user: app-only calls always name it, never `/me`).
    pub address: MailboxAddress,
    /// The credential tokens are made with: the mailbox's own app, else its profile's.
    pub credential: CredentialKey,
    /// The limits its requests count against.
    pub limits: LimitKey,
}

impl MailboxAccess {
    /// The access of a configured mailbox.
    pub fn of(config: &Config, mailbox: &Mailbox) -> Self {
        let profile = config.profile_of(mailbox);
        let (credential, app) = match &mailbox.credential {
            Some(own) => (CredentialKey::Mailbox(mailbox.address.clone()), own.client_id.clone()),
            None => (CredentialKey::Profile(profile.name.clone()), profile.client_id.clone()),
        };
        Self {
            address: mailbox.address.clone(),
            credential,
            limits: LimitKey {
                app,
                mailbox: mailbox.address.clone(),
                profile: profile.name.clone(),
                profile_limit: profile.max_concurrent_connections,
            },
        }
    }
}

/// The subscription resource of a tracked folder (reference graph.md 1.1, well-known name form).
pub fn folder_resource(address: &MailboxAddress, folder: Folder) -> String {
    format!("users/{address}/mailFolders('{}')/messages", folder.well_known_name())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const CONFIG: &str = r#"
[dataverse]
url = "https://contoso.crm.dynamics.com"
tenant_id = "33333333-3333-3333-3333-333333333333"
client_id = "44444444-4444-4444-4444-444444444444"
client_secret = "env:DV"

[[profiles]]
name = "fabrikam"
tenant_id = "11111111-1111-1111-1111-111111111111"
client_id = "22222222-2222-2222-2222-222222222222"
client_secret = "env:FAB"
max_concurrent_connections = 8

[[mailboxes]]
address = "alice@fabrikam.example"
profile = "fabrikam"

[[mailboxes]]
address = "queue@fabrikam.example"
profile = "fabrikam"
client_id = "66666666-6666-6666-6666-666666666666"
client_secret = "env:QUEUE"
"#;

    #[test]
    fn a_mailbox_with_its_own_app_uses_its_credential_and_its_app_limits() {
        let config = Config::parse(CONFIG, Path::new(".")).unwrap();
        let alice = MailboxAccess::of(&config, &config.mailboxes[0]);
        assert_eq!(alice.credential.to_string(), "profile fabrikam");
        assert_eq!(alice.limits.app.as_str(), "22222222-2222-2222-2222-222222222222");
        assert_eq!(alice.limits.profile_limit, 8);
        let queue = MailboxAccess::of(&config, &config.mailboxes[1]);
        assert_eq!(queue.credential.to_string(), "mailbox queue@fabrikam.example");
        assert_eq!(queue.limits.app.as_str(), "66666666-6666-6666-6666-666666666666");
        assert_eq!(queue.limits.profile.as_str(), "fabrikam");
        assert_eq!(
            folder_resource(&alice.address, Folder::SentItems),
            "users/alice@fabrikam.example/mailFolders('sentitems')/messages"
        );
    }
}
