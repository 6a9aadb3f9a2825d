//! Mappings between Graph's shapes and exsync's: one file per kind of item.

pub mod message;
