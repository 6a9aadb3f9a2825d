//! Exchange-style opaque ids.
//!
//! Item ids look like Graph's (`AAMkA…=`, URL-safe base64 with padding) and carry the
//! mailbox, the item and, for regular ids, the item's current location: a message that moves
//! gets a new regular id and the old one answers 404 `ErrorItemNotFound`. Immutable ids
//! (`AAkAL…`, returned with `Prefer: IdType="ImmutableId"`) omit the location and so survive
//! moves (docs: concepts/outlook-immutable-id.md, as summarised in reference 6.1 and 7).

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE},
};
use rand::RngCore;

// Leading bytes that make the base64 text start like Exchange's: "AAMkA" for regular item
// ids, "AAkALg" for immutable ones, "AQMkA" for folders, "AAQkA" for conversations.
const REGULAR: [u8; 4] = [0x00, 0x03, 0x24, 0x00];
const IMMUTABLE: [u8; 4] = [0x00, 0x09, 0x00, 0x2e];
const FOLDER: [u8; 4] = [0x01, 0x03, 0x24, 0x00];
const CONVERSATION: [u8; 4] = [0x00, 0x04, 0x24, 0x00];

/// What an item id points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ItemRef {
    /// A regular id: the item as long as it stays at `location`.
    Regular { key: u64, location: u32 },
    /// An immutable id: the item wherever it is.
    Immutable { key: u64 },
    /// An attachment of an item.
    Attachment { key: u64, index: u32 },
}

/// Why an id did not resolve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdError {
    /// Not an id of ours at all (400 `ErrorInvalidIdMalformed`).
    Malformed,
    /// Well formed, but no longer valid (404 `ErrorItemNotFound`).
    NotFound,
    /// Well formed, but of another mailbox (404 `ErrorInvalidMailboxItemId`).
    OtherMailbox,
}

const ATTACHMENT_KIND: u8 = 0xa7;
const ITEM_KIND: u8 = 0x46;

fn encode(prefix: [u8; 4], tag: &[u8; 16], kind: u8, key: u64, extra: u32) -> String {
    let mut bytes = Vec::with_capacity(35);
    bytes.extend_from_slice(&prefix);
    bytes.extend_from_slice(tag);
    bytes.push(kind);
    bytes.extend_from_slice(&key.to_be_bytes());
    bytes.extend_from_slice(&extra.to_be_bytes());
    bytes.extend_from_slice(&[0, 0]);
    URL_SAFE.encode(bytes)
}

/// The regular id of item `key` at `location`.
pub(crate) fn regular(tag: &[u8; 16], key: u64, location: u32) -> String {
    encode(REGULAR, tag, ITEM_KIND, key, location)
}

/// The immutable id of item `key`.
pub(crate) fn immutable(tag: &[u8; 16], key: u64) -> String {
    encode(IMMUTABLE, tag, ITEM_KIND, key, 0)
}

/// The id of attachment `index` of item `key` (stable: attachments do not move alone).
pub(crate) fn attachment(tag: &[u8; 16], key: u64, index: u32) -> String {
    encode(REGULAR, tag, ATTACHMENT_KIND, key, index)
}

/// The id of folder number `index` of a mailbox.
pub(crate) fn folder(tag: &[u8; 16], index: u32) -> String {
    encode(FOLDER, tag, 0x01, 0, index)
}

/// Decodes a folder id of this mailbox into its folder number.
pub(crate) fn parse_folder(tag: &[u8; 16], id: &str) -> Result<u32, IdError> {
    let bytes = decode(id)?;
    if bytes[..4] != FOLDER || bytes[20] != 0x01 {
        return Err(IdError::Malformed);
    }
    same_mailbox(tag, &bytes)?;
    Ok(u32::from_be_bytes(bytes[29..33].try_into().expect("4 bytes")))
}

/// Decodes an item or attachment id of this mailbox.
pub(crate) fn parse_item(tag: &[u8; 16], id: &str) -> Result<ItemRef, IdError> {
    let bytes = decode(id)?;
    let key = u64::from_be_bytes(bytes[21..29].try_into().expect("8 bytes"));
    let extra = u32::from_be_bytes(bytes[29..33].try_into().expect("4 bytes"));
    let parsed = match (&bytes[..4], bytes[20]) {
        (p, ITEM_KIND) if p == REGULAR => ItemRef::Regular { key, location: extra },
        (p, ITEM_KIND) if p == IMMUTABLE => ItemRef::Immutable { key },
        (p, ATTACHMENT_KIND) if p == REGULAR => ItemRef::Attachment { key, index: extra },
        _ => return Err(IdError::Malformed),
    };
    same_mailbox(tag, &bytes)?;
    Ok(parsed)
}

fn decode(id: &str) -> Result<Vec<u8>, IdError> {
    let bytes = URL_SAFE.decode(id).map_err(|_| IdError::Malformed)?;
    if bytes.len() != 35 {
        return Err(IdError::Malformed);
    }
    Ok(bytes)
}

fn same_mailbox(tag: &[u8; 16], bytes: &[u8]) -> Result<(), IdError> {
    if &bytes[4..20] == tag { Ok(()) } else { Err(IdError::OtherMailbox) }
}

/// A fresh `conversationId` (`AAQkA…`).
pub(crate) fn conversation(tag: &[u8; 16]) -> String {
    let mut bytes = CONVERSATION.to_vec();
    bytes.extend_from_slice(tag);
    let mut random = [0u8; 16];
    rand::rng().fill_bytes(&mut random);
    bytes.extend_from_slice(&random);
    URL_SAFE.encode(bytes)
}

/// A `changeKey` for version `version` of item `key` (standard base64, as in
/// `CQAAABYAAACQ2fKdhq8oSKEDSVrdi3lRAAGDUUXn`, reference 3.1).
pub(crate) fn change_key(tag: &[u8; 16], key: u64, version: u32) -> String {
    let mut bytes = vec![0x09, 0, 0, 0, 0x16, 0, 0, 0];
    bytes.extend_from_slice(&tag[..8]);
    bytes.extend_from_slice(&key.to_be_bytes());
    bytes.extend_from_slice(&version.to_be_bytes());
    bytes.extend_from_slice(&[0, 0]);
    STANDARD.encode(bytes)
}

/// An opaque random token (delta state tokens, validation tokens' request ids).
pub(crate) fn random_token(len: usize) -> String {
    let mut bytes = vec![0u8; len];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAG: [u8; 16] = [7; 16];

    #[test]
    fn ids_look_like_exchange_ids_and_round_trip() {
        let id = regular(&TAG, 42, 3);
        assert!(id.starts_with("AAMkA") && id.ends_with('='), "{id}");
        assert_eq!(parse_item(&TAG, &id), Ok(ItemRef::Regular { key: 42, location: 3 }));
        let id = immutable(&TAG, 42);
        assert!(id.starts_with("AAkALg"), "{id}");
        assert_eq!(parse_item(&TAG, &id), Ok(ItemRef::Immutable { key: 42 }));
        assert!(folder(&TAG, 1).starts_with("AQMkA"));
        assert_eq!(parse_folder(&TAG, &folder(&TAG, 5)), Ok(5));
        assert_eq!(
            parse_item(&TAG, &attachment(&TAG, 9, 1)),
            Ok(ItemRef::Attachment { key: 9, index: 1 })
        );
    }

    #[test]
    fn foreign_and_garbage_ids_are_told_apart() {
        let other = regular(&[8; 16], 42, 3);
        assert_eq!(parse_item(&TAG, &other), Err(IdError::OtherMailbox));
        assert_eq!(parse_item(&TAG, "not-an-id"), Err(IdError::Malformed));
        assert_eq!(parse_folder(&TAG, &regular(&TAG, 1, 1)), Err(IdError::Malformed));
    }
}
