//! JSON plumbing shared by the registry records: size caps, the decode error,
//! `null`-as-default fields and Python's *default* `json.dumps` separators.
//!
//! Two JSON styles meet in the registry, and they are not the same bytes:
//! ArtifactRef, EndpointLease and gossip events are written by the reference
//! with `json.dumps(..., separators=(",", ":"))` (compact, what
//! [`to_python_json`] produces), while the ACL lists are written with a bare
//! `json.dumps(values)`, whose separators are `", "` and `": "`. Both escape
//! every non-ASCII character (`ensure_ascii`).

use serde::{Deserialize, Deserializer};

use crate::codec::json::to_python_json;

/// Why a registry value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// A value over its byte limit (checked before parsing).
    #[error("{what} value is {len} bytes, over the {max}-byte limit")]
    TooLarge {
        what: &'static str,
        len: usize,
        max: usize,
    },
    /// A value that is not JSON of the expected shape.
    #[error("{what} value is not valid: {detail}")]
    Malformed { what: &'static str, detail: String },
    /// A gossip event whose `type` is not one of the six of §2.6.
    #[error("gossip event type {found} is not one of 0..=5")]
    UnknownEventType { found: i64 },
    /// An ACL list longer than [`super::MAX_ACL_LIST_LEN`].
    #[error("ACL list has {len} entries, over the {max}-entry limit")]
    TooManyAclEntries { len: usize, max: usize },
}

/// Refuses values over `max` bytes, before any parsing.
pub(crate) fn check_size(what: &'static str, bytes: &[u8], max: usize) -> Result<(), RecordError> {
    if bytes.len() > max {
        return Err(RecordError::TooLarge {
            what,
            len: bytes.len(),
            max,
        });
    }
    Ok(())
}

/// `serde_json::from_slice` with the error mapped to [`RecordError::Malformed`].
pub(crate) fn parse<'a, T: Deserialize<'a>>(
    what: &'static str,
    bytes: &'a [u8],
) -> Result<T, RecordError> {
    serde_json::from_slice(bytes).map_err(|e| RecordError::Malformed {
        what,
        detail: e.to_string(),
    })
}

/// For fields that have a default: a missing key (with `#[serde(default)]`)
/// and an explicit `null` both give the default, as Python's `d.get(k) or
/// default` / dataclass defaults would leave them usable.
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A list of strings as Python's default `json.dumps(list)` writes it:
/// `["a", "b"]` (comma *and space*), `[]` when empty, strings escaped as in
/// compact mode (`ensure_ascii`).
pub(crate) fn python_default_string_list(items: &[String]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + items.iter().map(|s| s.len() + 4).sum::<usize>());
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        out.extend_from_slice(&to_python_json(item.as_str()));
    }
    out.push(b']');
    out
}
