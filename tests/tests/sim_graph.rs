//! The Graph simulator, pinned to `/work/shared/reference/graph.md` over real HTTPS.

#[path = "sim_graph/common.rs"]
mod common;

#[path = "sim_graph/auth.rs"]
mod auth;
#[path = "sim_graph/batch.rs"]
mod batch;
#[path = "sim_graph/delta.rs"]
mod delta;
#[path = "sim_graph/messages.rs"]
mod messages;
#[path = "sim_graph/notifications.rs"]
mod notifications;
#[path = "sim_graph/pim.rs"]
mod pim;
#[path = "sim_graph/rich.rs"]
mod rich;
#[path = "sim_graph/sendmail.rs"]
mod sendmail;
#[path = "sim_graph/subscriptions.rs"]
mod subscriptions;
#[path = "sim_graph/throttling.rs"]
mod throttling;
