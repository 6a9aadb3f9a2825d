//! exsync's Graph client, folder pass and subscription upkeep over real HTTPS against the
//! Graph simulator.

#[path = "graph_sync/client.rs"]
mod client;
#[path = "graph_sync/common.rs"]
mod common;
#[path = "graph_sync/limits.rs"]
mod limits;
#[path = "graph_sync/passes.rs"]
mod passes;
#[path = "graph_sync/receiver.rs"]
mod receiver;
#[path = "graph_sync/subscriptions.rs"]
mod subscriptions;
#[path = "graph_sync/twins.rs"]
mod twins;
