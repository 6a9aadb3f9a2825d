//! Rich notifications and the tracking rule, end to end: exsync in one process (`serve`, real
//! HTTPS webhooks) against the Entra, Graph and Dataverse simulators.

mod forge;
mod matrix;
mod notifications;
mod subscriptions;
mod world;
