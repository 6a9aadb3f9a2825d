//! The handlers: plain async functions over ports, one per kind of job, run the same way by
//! the Lambda functions and the local runner. Each returns an [`crate::outcome::Outcome`].

mod failure;
pub mod passes;
pub mod subscribe;
pub mod sync;
