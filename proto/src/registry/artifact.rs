//! `ArtifactRef`, the value at `contracts/{contract_id}` (trust-registry.md
//! §2.3, §2.4): where the contract's blob collection lives.

use serde::{Deserialize, Serialize};

use super::json::{RecordError, check_size, null_as_default, parse};
use super::keys::is_contract_id;
use crate::codec::json::to_python_json;

/// Largest ArtifactRef value accepted, in bytes. A reference ArtifactRef is a
/// few hundred bytes; the blob ticket is the only long field.
pub const MAX_ARTIFACT_REF_LEN: usize = 16 * 1024;

/// How the contract bytes are stored in iroh-blobs (§2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CollectionFormat {
    /// One blob: `collection_hash == contract_id`. The default for records
    /// written before the field existed (the reference's `setdefault`).
    #[default]
    Raw,
    /// A HashSeq collection (`contract.bin`, `types/*.bin`, `manifest.json`);
    /// what the reference runtime writes.
    Index,
}

/// The value at `contracts/{contract_id}`.
///
/// Encoding is the reference's `ArtifactRef.to_json()`: compact JSON, keys in
/// this declaration order, `null` for absent options. Decoding follows the
/// reference core's serde model: `contract_id` and `collection_hash` are
/// required, every other field defaults (missing *or* `null`), and unknown
/// keys are ignored (the Python `ArtifactRef(**data)` raises on them; we keep
/// records from newer writers readable). `collection_format` must be `raw` or
/// `index`: an unknown format is refused rather than read as raw, because
/// fetching the wrong blob layout is worse than not fetching.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactRef {
    /// BLAKE3 hex of the canonical ServiceContract bytes.
    pub contract_id: String,
    /// Hex hash of the collection root (or of the single blob when raw).
    pub collection_hash: String,
    /// Endpoint serving the blobs ALPN, if advertised.
    #[serde(default)]
    pub provider_endpoint_id: Option<String>,
    /// Relay of that endpoint.
    #[serde(default)]
    pub relay_url: Option<String>,
    /// Bearer blob (collection) ticket.
    #[serde(default)]
    pub ticket: Option<String>,
    /// AuthorId of the publisher.
    #[serde(default, deserialize_with = "null_as_default")]
    pub published_by: String,
    /// Publication time, epoch ms.
    #[serde(default, deserialize_with = "null_as_default")]
    pub published_at_epoch_ms: i64,
    /// Raw or index; missing (or `null`) means raw.
    #[serde(default, deserialize_with = "null_as_default")]
    pub collection_format: CollectionFormat,
}

impl ArtifactRef {
    /// The bytes the reference writes for this record.
    pub fn encode(&self) -> Vec<u8> {
        to_python_json(self)
    }

    /// Reads a stored value (bounded by [`MAX_ARTIFACT_REF_LEN`]).
    pub fn decode(bytes: &[u8]) -> Result<ArtifactRef, RecordError> {
        check_size("ArtifactRef", bytes, MAX_ARTIFACT_REF_LEN)?;
        parse("ArtifactRef", bytes)
    }

    /// Checks what a fetcher relies on: both hashes are 64 lowercase hex, and
    /// a raw ref points at the contract blob itself (§2.4). The reference
    /// does not check; a reader should before it downloads anything.
    pub fn validate(&self) -> Result<(), RecordError> {
        let bad = |detail: String| RecordError::Malformed {
            what: "ArtifactRef",
            detail,
        };
        if !is_contract_id(&self.contract_id) {
            return Err(bad("contract_id is not 64 lowercase hex digits".into()));
        }
        if !is_contract_id(&self.collection_hash) {
            return Err(bad("collection_hash is not 64 lowercase hex digits".into()));
        }
        if self.collection_format == CollectionFormat::Raw
            && self.collection_hash != self.contract_id
        {
            return Err(bad(
                "a raw ArtifactRef must have collection_hash == contract_id".into(),
            ));
        }
        Ok(())
    }
}
