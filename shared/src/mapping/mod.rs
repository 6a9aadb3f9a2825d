//! Mappings between what Exchange says and what exsync carries and Dataverse stores, one file
//! per kind of item.
//!
//! - [`message`]: a Graph message to an `EmailRecord` (what `sync` hands to `write`).
//! - [`email`]: a message to an email activity (and the id it always gets).

pub mod email;
pub mod message;
