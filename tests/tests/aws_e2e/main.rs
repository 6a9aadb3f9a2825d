//! The incoming path on AWS's APIs: the Lambda handlers of `exsync_shared::lambda` over moto's
//! SQS, DynamoDB, Secrets Manager and S3 (the configuration object), against the simulators of
//! Entra, Graph and Dataverse, driven the way Lambda drives them.
//!
//! - [`world`]: `AwsApp`: the resources the template makes, made on moto; one [`Pipeline`]
//!   per function, as each function has its own instances; notify behind a TLS listener that
//!   hands each request to the Function URL handler; `tokens` invoked with its JSON payloads.
//! - [`mapping`]: an event source mapping: receives from SQS, invokes a function with a real
//!   `SqsEvent`, deletes what the batch response does not list, leaves the rest to come back.
//! - [`incoming`]: mail of two tenants lands once each; a redelivered batch and a Dataverse
//!   outage create nothing twice; the configuration is read again only when it changed.
//! - [`batches`]: a poison message is dead-lettered with its reason and its batch goes on; a
//!   message that cannot be settled is a batch item failure, and SQS's redrive parks it.
//! - [`admin`]: `exsync --aws`: statuses switched and dead letters replayed on the deployment.
//! - [`emulator`]: the real function binaries under cargo-lambda's runtime emulator.
//!
//! [`Pipeline`]: exsync_shared::lambda::Pipeline

#[path = "../aws_contract/moto/mod.rs"]
#[allow(dead_code, unused_imports)]
mod moto;

mod admin;
mod batches;
mod emulator;
mod incoming;
mod mapping;
mod world;
