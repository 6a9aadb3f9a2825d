//! What every request goes through, over HTTP or inside `$batch`: route, mailbox lookup in
//! the token's tenant, roles, application access policy, throttling, injected faults, then
//! the handler.

use std::sync::Arc;

use axum::http::StatusCode;
use time::OffsetDateTime;

use super::{
    Inner,
    batch::Arrival,
    errors::GraphError,
    folders, messages, pim,
    request::{ApiRequest, ApiResponse, Prefer},
    routes::{self, Route, UserOp},
    sendmail, subscriptions,
};
use crate::{auth::AppToken, faults::Fault};

/// A request with its caller.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub sim: &'a Arc<Inner>,
    pub token: &'a AppToken,
    pub req: &'a ApiRequest,
    pub prefer: Prefer,
    /// Base URL standing for `https://graph.microsoft.com`.
    pub base: String,
    pub now: OffsetDateTime,
}

impl Ctx<'_> {
    /// Whether the token holds one of `roles`.
    pub fn has_any(&self, roles: &[&str]) -> bool {
        self.token.roles.iter().any(|r| roles.iter().any(|x| x.eq_ignore_ascii_case(r)))
    }

    /// An app with `Mail.ReadBasic(.All)` but neither `Mail.Read` nor `Mail.ReadWrite`.
    pub fn basic_only(&self) -> bool {
        !self.has_any(&["Mail.Read", "Mail.ReadWrite"])
    }
}

/// Runs one request for an authenticated caller.
pub(crate) async fn run(
    sim: &Arc<Inner>,
    token: &AppToken,
    req: &ApiRequest,
    base: &str,
) -> Result<ApiResponse, GraphError> {
    run_in_wave(sim, token, req, base, None).await
}

/// Runs one request; inside a `$batch` wave it waits, once admitted, until the whole wave is
/// admitted, so parallel sub-requests count as concurrent.
pub(crate) async fn run_in_wave(
    sim: &Arc<Inner>,
    token: &AppToken,
    req: &ApiRequest,
    base: &str,
    arrival: Option<&Arrival>,
) -> Result<ApiResponse, GraphError> {
    let ctx = Ctx {
        sim,
        token,
        req,
        prefer: req.prefer(),
        base: base.to_string(),
        now: sim.config.clock.now(),
    };
    let route = routes::parse(req)?;
    if let (Some(arrival), false) = (arrival, matches!(route, Route::User { .. })) {
        arrival.arrive();
    }
    match route {
        Route::User { user, op } => {
            let mailbox_id = admit_user(&ctx, &user, &op)?;
            let _permit = match op.throttled() {
                true => Some(sim.throttle.admit(&token.app_id, &mailbox_id)?),
                false => None,
            };
            if let Some(arrival) = arrival {
                arrival.arrive_and_wait().await;
            }
            apply_fault(sim, req).await?;
            user_op(&ctx, &mailbox_id, op)
        }
        Route::Subscriptions if req.method == axum::http::Method::GET => {
            apply_fault(sim, req).await?;
            Ok(subscriptions::list(&ctx))
        }
        Route::Subscriptions => subscriptions::create(&ctx).await,
        Route::Subscription { id } => subscriptions::by_id(&ctx, &id).await,
        Route::Reauthorize { id } => subscriptions::reauthorize(&ctx, &id).await,
    }
}

/// Resolves the mailbox and checks the caller may use it for `op`.
fn admit_user(ctx: &Ctx, user: &str, op: &UserOp) -> Result<String, GraphError> {
    let state = ctx.sim.state.lock().expect("state lock");
    let mailbox_id = match op {
        UserOp::GetUser => state.find_user(&ctx.token.tenant_id, user)?,
        _ => state.find_mailbox(&ctx.token.tenant_id, user)?,
    };
    if !ctx.has_any(op.roles()) {
        return Err(GraphError::access_denied());
    }
    if op.mailbox_scoped()
        && !state.policy_allows(&ctx.token.tenant_id, &ctx.token.app_id, &mailbox_id)
    {
        return Err(GraphError::odata_disabled());
    }
    Ok(mailbox_id)
}

/// Applies an armed fault: a status answer, latency, or a hang.
pub(crate) async fn apply_fault(sim: &Inner, req: &ApiRequest) -> Result<(), GraphError> {
    match sim.faults.pick(req.method.as_str(), &req.path) {
        None => Ok(()),
        Some(Fault::Latency(d)) => {
            tokio::time::sleep(d).await;
            Ok(())
        }
        Some(Fault::Hang) => std::future::pending().await,
        Some(Fault::Status { status, retry_after }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let mut e = match status.as_u16() {
                429 => GraphError::too_many_requests(retry_after.unwrap_or(1)),
                503 => GraphError::new(status, "ServiceUnavailable", "Service unavailable."),
                504 => GraphError::new(status, "GatewayTimeout", "Gateway timeout."),
                500 => GraphError::new(status, "InternalServerError", "Internal server error."),
                _ => GraphError::new(status, "UnknownError", "An unknown error occurred."),
            };
            e.retry_after = retry_after;
            Err(e)
        }
    }
}

fn user_op(ctx: &Ctx, mailbox_id: &str, op: UserOp) -> Result<ApiResponse, GraphError> {
    match op {
        UserOp::GetUser => folders::get_user(ctx, mailbox_id),
        UserOp::ListMessages { folder } => messages::list(ctx, mailbox_id, folder.as_deref()),
        UserOp::GetMessage { id } => messages::get(ctx, mailbox_id, &id),
        UserOp::ListAttachments { id } => messages::attachments(ctx, mailbox_id, &id),
        UserOp::GetAttachment { id, attachment, raw } => {
            messages::attachment(ctx, mailbox_id, &id, &attachment, raw)
        }
        UserOp::ListMailFolders => folders::folders(ctx, mailbox_id),
        UserOp::GetMailFolder { folder } => folders::folder(ctx, mailbox_id, &folder),
        UserOp::MessagesDelta { folder } => messages::delta(ctx, mailbox_id, &folder),
        UserOp::SendMail => sendmail::send_mail(ctx, mailbox_id),
        UserOp::ListEvents => pim::events(ctx, mailbox_id),
        UserOp::GetEvent { id } => pim::item(ctx, mailbox_id, &id, pim::Kind::Event),
        UserOp::CalendarView => pim::calendar_view(ctx, mailbox_id),
        UserOp::CalendarViewDelta => pim::calendar_view_delta(ctx, mailbox_id),
        UserOp::ListContacts { folder } => pim::contacts(ctx, mailbox_id, folder.as_deref()),
        UserOp::GetContact { id } => pim::item(ctx, mailbox_id, &id, pim::Kind::Contact),
        UserOp::ContactsDelta { folder } => pim::contacts_delta(ctx, mailbox_id, folder.as_deref()),
        UserOp::ListTaskLists => pim::task_lists(ctx, mailbox_id),
        UserOp::ListTasks { list } => pim::tasks(ctx, mailbox_id, &list),
        UserOp::GetTask { list, id } => pim::task(ctx, mailbox_id, &list, &id),
        UserOp::TasksDelta { list } => pim::tasks_delta(ctx, mailbox_id, &list),
    }
}
