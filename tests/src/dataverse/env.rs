//! [`Env`]: the control handle of one environment: seed records and application users, set
//! limits, and read back what clients did.

use std::sync::Arc;

use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    body,
    errors::{ApiError, Operation},
    headers::Prefer,
    limits::Limits,
    metadata::catalog,
    model::{AttachmentView, EmailView, PartyView, RequestStats},
    render::{Shape, related, render},
    state::{Ctx, EnvState, Shared},
    store::{Cell, EntityRef, Row},
    write,
};

/// A handle on one simulated environment. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Env {
    pub(super) shared: Arc<Shared>,
    pub(super) name: String,
    /// The SYSTEM user that owns seeded records.
    pub(super) system_user: Uuid,
}

impl Env {
    /// The environment's name (`""` for the one at the server's base URL).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The environment URL, e.g. `https://127.0.0.1:PORT/org1`: its identifier URI and the
    /// `aud` of its tokens (scope `{url}/.default`). Panics before the server is started.
    pub fn url(&self) -> String {
        self.shared.env_url(&self.name).expect("the Dataverse simulator is not started")
    }

    /// The Web API root, `{url}/api/data/v9.2/`.
    pub fn web_api(&self) -> String {
        format!("{}/api/data/v9.2/", self.url())
    }

    /// The tenant the environment belongs to.
    pub fn tenant_id(&self) -> String {
        self.with(|env| env.tenant_id.clone())
    }

    /// Registers an application user for an app registration (one per app per environment,
    /// reference A1) and returns its `systemuserid`.
    pub fn add_application_user(&self, app_id: &str) -> Uuid {
        let app = Uuid::parse_str(app_id).expect("an application id is a GUID");
        self.seed(
            "systemusers",
            json!({
                "firstname": "#",
                "lastname": app_id,
                "internalemailaddress": format!("{app_id}@application.invalid"),
                "applicationid": app,
                "azureactivedirectoryobjectid": Uuid::new_v4(),
                "accessmode": 4,
            }),
        )
    }

    /// Disables or enables a user (an application user that is disabled is refused).
    pub fn set_user_disabled(&self, systemuserid: Uuid, disabled: bool) {
        self.with(|env| {
            let row = env.store.get_mut("systemuser", systemuserid).expect("known systemuser");
            row.cells.insert("isdisabled", Cell::Bool(disabled));
        });
    }

    /// Seeds a (licensed, interactive) user with a primary email.
    pub fn add_systemuser(&self, email: &str, first: &str, last: &str) -> Uuid {
        self.seed(
            "systemusers",
            json!({"internalemailaddress": email, "firstname": first, "lastname": last}),
        )
    }

    /// Seeds a contact.
    pub fn add_contact(&self, email: &str, first: &str, last: &str) -> Uuid {
        self.seed("contacts", json!({"emailaddress1": email, "firstname": first, "lastname": last}))
    }

    /// Seeds an account.
    pub fn add_account(&self, email: &str, name: &str) -> Uuid {
        self.seed("accounts", json!({"emailaddress1": email, "name": name}))
    }

    /// Seeds a lead.
    pub fn add_lead(&self, email: &str, first: &str, last: &str) -> Uuid {
        self.seed("leads", json!({"emailaddress1": email, "firstname": first, "lastname": last}))
    }

    /// Seeds a queue.
    pub fn add_queue(&self, email: &str, name: &str) -> Uuid {
        self.seed("queues", json!({"emailaddress": email, "name": name}))
    }

    /// Seeds a mailbox for a user or queue (its read-only `regardingobjectid`).
    pub fn add_mailbox(&self, owner: EntityRef, email: &str) -> Uuid {
        let id = self.seed("mailboxes", json!({"emailaddress": email, "name": email}));
        self.with(|env| {
            let row = env.store.get_mut("mailbox", id).expect("just created");
            row.cells.insert("regardingobjectid", Cell::Ref(owner));
        });
        id
    }

    /// Creates a record from a Web API payload, validated exactly as a POST (owner SYSTEM).
    pub fn insert(&self, entity_set: &str, payload: Value) -> Result<Uuid, ApiError> {
        let table =
            catalog().by_set(entity_set).ok_or_else(|| ApiError::unknown_segment(entity_set))?;
        let ctx = Ctx {
            env_url: self.shared.env_url(&self.name).unwrap_or_default(),
            user_id: self.system_user,
            now: self.shared.clock.now(),
            content_ids: Default::default(),
        };
        self.with(|env| {
            let changes = body::parse(
                table,
                payload.to_string().as_bytes(),
                Operation::Create,
                &ctx,
                &env.store,
            )?;
            write::create(env, &ctx, table, None, changes)
        })
    }

    fn seed(&self, entity_set: &str, payload: Value) -> Uuid {
        self.insert(entity_set, payload).expect("valid seed record")
    }

    /// Sets the service protection limits (defaults: 6000 requests, 1,200,000 ms, 52 concurrent,
    /// 300 s window).
    pub fn set_limits(&self, limits: Limits) {
        self.with(|env| env.limits = limits);
    }

    /// The current limits.
    pub fn limits(&self) -> Limits {
        self.with(|env| env.limits)
    }

    /// Sets `maxuploadfilesize` in bytes (default 5 MB).
    pub fn set_max_upload_bytes(&self, bytes: usize) {
        self.with(|env| env.max_upload_bytes = bytes);
    }

    /// Every email with its parties, attachments and state, in creation order.
    pub fn emails(&self) -> Vec<EmailView> {
        self.with(|env| {
            env.store.rows("email").into_iter().map(|row| email_view(env, row)).collect()
        })
    }

    /// When each email was committed (real time), by `messageid`, in creation order: cheaper
    /// than [`emails`](Self::emails) for timing thousands.
    pub fn email_commits(&self) -> Vec<(Option<String>, std::time::Instant)> {
        self.with(|env| {
            env.store
                .rows("email")
                .into_iter()
                .map(|row| {
                    (row.get("messageid").and_then(Cell::as_str).map(str::to_string), row.committed)
                })
                .collect()
        })
    }

    /// The `messageid` of every email, in creation order: what a test polls while the
    /// environment is busy (building every [`EmailView`] holds the environment's lock for as
    /// long as it takes to join every party, which stalls requests meanwhile).
    pub fn email_message_ids(&self) -> Vec<Option<String>> {
        self.email_commits().into_iter().map(|(id, _)| id).collect()
    }

    /// How many emails there are.
    pub fn email_count(&self) -> usize {
        self.with(|env| env.store.count("email"))
    }

    /// One email.
    pub fn email(&self, id: Uuid) -> Option<EmailView> {
        self.with(|env| env.store.get("email", id).map(|row| email_view(env, row)))
    }

    /// Every record of an entity set, as a GET without `$select` would return it.
    pub fn records(&self, entity_set: &str) -> Vec<Value> {
        let table = catalog().by_set(entity_set).expect("known entity set");
        self.with(|env| {
            env.store
                .rows(table.logical)
                .into_iter()
                .map(|row| {
                    Value::Object(render(
                        &env.store,
                        table,
                        table,
                        row,
                        &Shape::default(),
                        &Prefer::default(),
                    ))
                })
                .collect()
        })
    }

    /// One record, as a GET without `$select` would return it.
    pub fn record(&self, entity_set: &str, id: Uuid) -> Option<Value> {
        let table = catalog().by_set(entity_set).expect("known entity set");
        self.with(|env| {
            let row = env.store.get(table.logical, id)?;
            Some(Value::Object(render(
                &env.store,
                table,
                table,
                row,
                &Shape::default(),
                &Prefer::default(),
            )))
        })
    }

    /// What an application did here: operations by method and entity set, and 429s by code.
    pub fn requests(&self, app_id: &str) -> RequestStats {
        self.with(|env| env.stats.get(app_id).cloned().unwrap_or_default())
    }

    /// The highest number of requests an application had in flight here at once, counting
    /// the ones refused for concurrency (what the client attempted).
    pub fn peak_concurrency(&self, app_id: &str) -> u32 {
        self.shared.gauge.peak(&format!("{}|{app_id}", self.name))
    }

    fn with<T>(&self, f: impl FnOnce(&mut EnvState) -> T) -> T {
        let mut envs = self.shared.envs();
        f(envs.get_mut(&self.name).expect("environment exists"))
    }
}

fn email_view(env: &EnvState, row: &Row) -> EmailView {
    let text = |r: &Row, a: &str| r.get(a).and_then(Cell::as_str).map(str::to_string);
    let int = |r: &Row, a: &str| r.get(a).and_then(Cell::as_int).unwrap_or_default();
    EmailView {
        id: row.id,
        subject: text(row, "subject"),
        description: text(row, "description"),
        messageid: text(row, "messageid"),
        directioncode: row.get("directioncode") == Some(&Cell::Bool(true)),
        statecode: int(row, "statecode"),
        statuscode: int(row, "statuscode"),
        regarding: row.get("regardingobjectid").and_then(Cell::as_ref),
        parent: row.get("parentactivityid").and_then(Cell::as_ref).map(|r| r.id),
        parties: related(&env.store, "activityparty", "activityid", row)
            .into_iter()
            .map(|p| PartyView {
                mask: int(p, "participationtypemask"),
                party: p.get("partyid").and_then(Cell::as_ref),
                address: text(p, "addressused"),
            })
            .collect(),
        attachments: related(&env.store, "activitymimeattachment", "objectid", row)
            .into_iter()
            .map(|a| AttachmentView {
                id: a.id,
                filename: text(a, "filename"),
                mimetype: text(a, "mimetype"),
                filesize: int(a, "filesize"),
            })
            .collect(),
    }
}
