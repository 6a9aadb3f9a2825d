//! The exsync configuration file for a [`SimCloud`], with secrets in files beside it.

use std::path::{Path, PathBuf};

use super::{DataverseTenant, ExchangeTenant, SimCloud};

/// Builds an `exsync.toml` that points at a simulated cloud. Secrets go into files under
/// `secrets/` next to it and the config references them as `file:` (tests cannot set
/// environment variables safely); the test CA goes beside it as `ca.pem`, so the folder is
/// complete on its own (the demo keeps it with `--dir`).
#[derive(Debug, Clone)]
pub struct ConfigBuilder {
    head: String,
    profiles: Vec<String>,
    mailboxes: Vec<String>,
    runtime: String,
    secrets: Vec<(String, String)>,
    ca_pem: String,
}

impl ConfigBuilder {
    pub(super) fn new(cloud: &SimCloud, dataverse: &DataverseTenant) -> Self {
        let head = format!(
            "[cloud]\nauthority_host = \"{}\"\ngraph_url = \"{}\"\nca_file = \"ca.pem\"\n\n\
             [dataverse]\nurl = \"{}\"\ntenant_id = \"{}\"\nclient_id = \"{}\"\n\
             client_secret = \"file:secrets/dataverse\"\n",
            trim(cloud.authority_host().as_str()),
            trim(cloud.graph_url().as_str()),
            dataverse.env.url(),
            dataverse.tenant_id,
            dataverse.app_id,
        );
        Self {
            head,
            profiles: Vec::new(),
            mailboxes: Vec::new(),
            runtime: String::new(),
            secrets: vec![("dataverse".into(), dataverse.secret.clone())],
            ca_pem: cloud.ca.cert_pem(),
        }
    }

    /// Adds lines to the `[cloud]` section (e.g. `request_timeout = "2s"`).
    pub fn cloud(mut self, lines: &str) -> Self {
        self.head = self.head.replacen("\n\n[dataverse]", &format!("\n{lines}\n[dataverse]"), 1);
        self
    }

    /// Adds a profile for `tenant`'s app; `extra` is more TOML lines for it (may be empty).
    pub fn profile(mut self, name: &str, tenant: &ExchangeTenant, extra: &str) -> Self {
        self.profiles.push(format!(
            "[[profiles]]\nname = \"{name}\"\ntenant_id = \"{}\"\nclient_id = \"{}\"\n\
             client_secret = \"file:secrets/{name}\"\n{extra}",
            tenant.tenant_id, tenant.app_id
        ));
        self.secrets.push((name.to_string(), tenant.secret.clone()));
        self
    }

    /// Adds a mailbox of `profile`; `extra` is more TOML lines for it (may be empty).
    pub fn mailbox(mut self, address: &str, profile: &str, extra: &str) -> Self {
        self.mailboxes.push(format!(
            "[[mailboxes]]\naddress = \"{address}\"\nprofile = \"{profile}\"\n{extra}"
        ));
        self
    }

    /// Sets the `[runtime]` section's lines (`state` defaults to `sqlite:exsync.db`).
    pub fn runtime(mut self, lines: &str) -> Self {
        self.runtime = lines.to_string();
        self
    }

    /// Replaces the stored secret of `name` (`dataverse` or a profile name) before writing.
    pub fn secret(mut self, name: &str, value: &str) -> Self {
        for (n, v) in &mut self.secrets {
            if n == name {
                *v = value.to_string();
            }
        }
        self
    }

    /// The configuration text.
    pub fn toml(&self) -> String {
        let mut text = self.head.clone();
        for section in self.profiles.iter().chain(&self.mailboxes) {
            text.push('\n');
            text.push_str(section);
        }
        text.push_str("\n[runtime]\n");
        text.push_str(&self.runtime);
        text
    }

    /// Writes `exsync.toml`, its secret files and `ca.pem` into `dir`; returns the config's
    /// path.
    pub fn write(&self, dir: &Path) -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(dir.join("secrets"))?;
        std::fs::write(dir.join("ca.pem"), &self.ca_pem)?;
        for (name, value) in &self.secrets {
            std::fs::write(dir.join("secrets").join(name), value)?;
        }
        let path = dir.join("exsync.toml");
        std::fs::write(&path, self.toml())?;
        Ok(path)
    }
}

fn trim(url: &str) -> &str {
    url.trim_end_matches('/')
}
