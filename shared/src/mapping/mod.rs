//! Mappings from what Exchange says to what Dataverse stores, one file per kind of item.
//!
//! - [`email`]: a message to an email activity (and the id it always gets).

pub mod email;
