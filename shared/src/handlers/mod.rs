//! Handlers: plain async functions over ports, the same on Lambda and in one process.
//!
//! - [`write`]: emails into Dataverse, exactly once.

pub mod write;
