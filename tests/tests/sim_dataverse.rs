//! The Dataverse Web API simulator, over real HTTPS, pinned to the reference
//! (`dataverse-entra.md` part A, checklist C and the sources cited in `exsync_sim::dataverse`).

#[path = "sim_dataverse/access.rs"]
mod access;
#[path = "sim_dataverse/batches.rs"]
mod batches;
#[path = "sim_dataverse/emails.rs"]
mod emails;
#[path = "sim_dataverse/limits.rs"]
mod limits;
#[path = "sim_dataverse/queries.rs"]
mod queries;
#[path = "sim_dataverse/validation.rs"]
mod validation;
#[path = "sim_dataverse/world.rs"]
mod world;
