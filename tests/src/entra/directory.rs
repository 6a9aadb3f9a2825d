//! Seeding the directory: tenants, app registrations and their credentials, resource apps,
//! service principals and admin consent.
//!
//! Consent follows reference B1 and D7: a grant puts the app's service principal in the tenant
//! and records the app roles; with no grant the endpoint still issues a token, without `roles`.

use std::collections::BTreeSet;

use super::{
    EntraSim,
    model::{
        App, Directory, GRAPH_APP_ID, GRAPH_APP_ROLES, GRAPH_RESOURCE, Resource, Tenant,
        is_dns_name, is_guid,
    },
};

/// A seeding call that does not describe a possible directory.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    /// Tenant and application ids are GUIDs; domains are DNS names.
    #[error("{0:?} is not a valid {1}")]
    Invalid(String, &'static str),
    /// The tenant, app or resource is already there.
    #[error("{0} already exists")]
    Exists(String),
    /// No such tenant, app, resource, role or credential.
    #[error("{0} is not known")]
    Unknown(String),
    /// Consent outside the home tenant needs a multi-tenant app.
    #[error("app {0} is single-tenant and cannot be consented in tenant {1}")]
    SingleTenant(String, String),
    /// The resource has no service principal in the tenant (see `provision_resource`).
    #[error("resource {0} is not provisioned in tenant {1}")]
    NotProvisioned(String, String),
}

pub(super) type Result<T> = std::result::Result<T, SetupError>;

impl EntraSim {
    pub(super) fn with_dir<T>(&self, f: impl FnOnce(&mut Directory) -> Result<T>) -> Result<T> {
        f(&mut self.shared.dir.lock().expect("directory lock"))
    }

    pub(super) fn with_app(&self, client_id: &str, f: impl FnOnce(&mut App)) -> Result<()> {
        self.with_dir(|dir| {
            f(app_mut(dir, client_id)?);
            Ok(())
        })
    }

    /// Adds a tenant with its verified domains (e.g. `contoso.onmicrosoft.com`).
    pub fn add_tenant(&self, tenant_id: &str, domains: &[&str]) -> Result<()> {
        if !is_guid(tenant_id) {
            return Err(SetupError::Invalid(tenant_id.into(), "tenant id"));
        }
        if let Some(bad) = domains.iter().find(|d| !is_dns_name(d)) {
            return Err(SetupError::Invalid(bad.to_string(), "domain"));
        }
        self.with_dir(|dir| {
            if let Some(taken) =
                std::iter::once(&tenant_id).chain(domains).find(|n| dir.tenant(n).is_some())
            {
                return Err(SetupError::Exists(taken.to_string()));
            }
            dir.tenants.push(Tenant {
                id: tenant_id.to_ascii_lowercase(),
                domains: domains.iter().map(|d| d.to_ascii_lowercase()).collect(),
            });
            Ok(())
        })
    }

    /// Registers a resource app (an API) with its application permissions; returns its
    /// application id (Microsoft Graph's well-known id for `https://graph.microsoft.com`, a
    /// fresh one otherwise). A Dataverse environment defines no app roles for app-only use.
    pub fn register_resource(&self, identifier_uri: &str, app_roles: &[&str]) -> Result<String> {
        let identifier_uri = identifier_uri.trim_end_matches('/').to_string();
        if url::Url::parse(&identifier_uri).is_err() {
            return Err(SetupError::Invalid(identifier_uri, "identifier URI"));
        }
        let app_id = if identifier_uri.eq_ignore_ascii_case(GRAPH_RESOURCE) {
            GRAPH_APP_ID.to_string()
        } else {
            uuid::Uuid::new_v4().to_string()
        };
        self.with_dir(|dir| {
            if dir.resource(&identifier_uri).is_some() {
                return Err(SetupError::Exists(identifier_uri));
            }
            let app_roles = app_roles.iter().map(|r| r.to_string()).collect();
            dir.resources.push(Resource { app_id: app_id.clone(), identifier_uri, app_roles });
            Ok(app_id)
        })
    }

    /// Registers Microsoft Graph with [`GRAPH_APP_ROLES`].
    pub fn register_graph(&self) -> Result<String> {
        self.register_resource(GRAPH_RESOURCE, GRAPH_APP_ROLES)
    }

    /// Puts the resource's service principal in the tenant (the API is available there).
    pub fn provision_resource(&self, tenant: &str, resource: &str) -> Result<()> {
        self.with_dir(|dir| {
            let tenant_id = tenant_id(dir, tenant)?;
            let app_id = resource_of(dir, resource)?.app_id.clone();
            dir.service_principals.entry((tenant_id, app_id)).or_insert_with(new_object_id);
            Ok(())
        })
    }

    /// Registers an app (single-tenant) in its home tenant, which also gets its service
    /// principal, as an app registration does.
    pub fn add_app(&self, home_tenant: &str, client_id: &str) -> Result<()> {
        if !is_guid(client_id) {
            return Err(SetupError::Invalid(client_id.into(), "client id"));
        }
        let client_id = client_id.to_ascii_lowercase();
        self.with_dir(|dir| {
            let home = tenant_id(dir, home_tenant)?;
            if dir.apps.contains_key(&client_id) {
                return Err(SetupError::Exists(client_id));
            }
            dir.service_principals.insert((home.clone(), client_id.clone()), new_object_id());
            let app = App {
                client_id: client_id.clone(),
                home_tenant: home,
                multi_tenant: false,
                disabled: false,
                secrets: Vec::new(),
                certificates: Vec::new(),
            };
            dir.apps.insert(client_id, app);
            Ok(())
        })
    }

    /// Makes an app multi-tenant (it can then be consented in other tenants) or single-tenant.
    pub fn set_multi_tenant(&self, client_id: &str, multi_tenant: bool) -> Result<()> {
        self.with_app(client_id, |app| app.multi_tenant = multi_tenant)
    }

    /// Disables the app's sign-in (AADSTS7000112) or enables it again.
    pub fn set_app_disabled(&self, client_id: &str, disabled: bool) -> Result<()> {
        self.with_app(client_id, |app| app.disabled = disabled)
    }

    /// Admin consent in `tenant`: creates the app's service principal there (a multi-tenant
    /// app outside its home tenant) and grants `roles` of `resource`, which must be provisioned
    /// in the tenant. An empty `roles` still creates the service principal.
    pub fn consent(
        &self,
        tenant: &str,
        client_id: &str,
        resource: &str,
        roles: &[&str],
    ) -> Result<()> {
        self.with_dir(|dir| {
            let tenant_id = tenant_id(dir, tenant)?;
            let app = app_mut(dir, client_id)?;
            if app.home_tenant != tenant_id && !app.multi_tenant {
                return Err(SetupError::SingleTenant(app.client_id.clone(), tenant_id));
            }
            let client_id = app.client_id.clone();
            let res = resource_of(dir, resource)?;
            if let Some(unknown) = roles.iter().find(|r| !res.app_roles.contains(**r)) {
                return Err(SetupError::Unknown(format!("app role {unknown} of {resource}")));
            }
            let res_app = res.app_id.clone();
            if dir.service_principal(&tenant_id, &res_app).is_none() {
                return Err(SetupError::NotProvisioned(resource.into(), tenant_id));
            }
            dir.service_principals
                .entry((tenant_id.clone(), client_id.clone()))
                .or_insert_with(new_object_id);
            let granted: &mut BTreeSet<String> =
                dir.grants.entry((tenant_id, client_id, res_app)).or_default();
            granted.extend(roles.iter().map(|r| r.to_string()));
            Ok(())
        })
    }

    /// Removes granted roles (all of them when `roles` is empty); the service principal stays.
    pub fn revoke(
        &self,
        tenant: &str,
        client_id: &str,
        resource: &str,
        roles: &[&str],
    ) -> Result<()> {
        self.with_dir(|dir| {
            let key = (
                tenant_id(dir, tenant)?,
                app_mut(dir, client_id)?.client_id.clone(),
                resource_of(dir, resource)?.app_id.clone(),
            );
            if let Some(granted) = dir.grants.get_mut(&key) {
                granted.retain(|r| !roles.is_empty() && !roles.contains(&r.as_str()));
            }
            Ok(())
        })
    }

    /// Deletes the app's service principal (and its grants) from a tenant, as removing the
    /// enterprise application does: its token requests then get AADSTS700016.
    pub fn remove_service_principal(&self, tenant: &str, client_id: &str) -> Result<()> {
        self.with_dir(|dir| {
            let tenant_id = tenant_id(dir, tenant)?;
            let client_id = app_mut(dir, client_id)?.client_id.clone();
            dir.service_principals
                .remove(&(tenant_id.clone(), client_id.clone()))
                .ok_or_else(|| SetupError::Unknown(format!("service principal of {client_id}")))?;
            dir.grants.retain(|(t, c, _), _| !(*t == tenant_id && *c == client_id));
            Ok(())
        })
    }

    /// The object id of the app's service principal in the tenant (the token's `oid`).
    pub fn service_principal_id(&self, tenant: &str, client_id: &str) -> Option<String> {
        let dir = self.shared.dir.lock().expect("directory lock");
        let tenant_id = dir.tenant(tenant)?.id.clone();
        dir.service_principal(&tenant_id, &client_id.to_ascii_lowercase()).cloned()
    }
}

fn tenant_id(dir: &Directory, tenant: &str) -> Result<String> {
    dir.tenant(tenant)
        .map(|t| t.id.clone())
        .ok_or_else(|| SetupError::Unknown(format!("tenant {tenant}")))
}

pub(super) fn app_mut<'a>(dir: &'a mut Directory, client_id: &str) -> Result<&'a mut App> {
    dir.apps
        .get_mut(&client_id.to_ascii_lowercase())
        .ok_or_else(|| SetupError::Unknown(format!("app {client_id}")))
}

fn resource_of<'a>(dir: &'a Directory, resource: &str) -> Result<&'a Resource> {
    dir.resource(resource).ok_or_else(|| SetupError::Unknown(format!("resource {resource}")))
}

fn new_object_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
