//! The contract bundle: the files a producer publishes for each service, so
//! that a consumer holding only the contract id can learn the whole contract.
//!
//! Spec: trust-registry.md §2.4, `spec/registry.md`. A bundle is a list of
//! named blobs — `contract.bin` (the canonical `ServiceContract`, whose
//! BLAKE3 *is* the contract id), one `types/<type hash hex>.bin` per TypeDef
//! (canonical bytes, BLAKE3 = the type hash) and `manifest.json` last — that
//! the runtime stores as an iroh-blobs collection. Everything here is pure:
//! the runtime moves the bytes, this module decides what they must be.
//!
//! Reading is where the trust is: a bundle fetched from any peer is accepted
//! only if `contract.bin` hashes to the contract id that was asked for and
//! every type file hashes to its name. The manifest is *not* covered by the
//! contract id (it carries non-canonical facts), so a reader that needs
//! certainty about types uses the TypeDefs, and treats the manifest as hints.

use super::CanonicalError;
use super::hash::{ContractId, TypeHash};
use super::manifest::{Manifest, ManifestError};
use super::service::ServiceContract;
use super::typedef::TypeDef;
use crate::service::ServiceDescriptor;

/// The canonical contract's entry name.
pub const CONTRACT_ENTRY: &str = "contract.bin";
/// The manifest's entry name.
pub const MANIFEST_ENTRY: &str = "manifest.json";
/// Prefix of the TypeDef entries (`types/<hex>.bin`).
pub const TYPE_ENTRY_PREFIX: &str = "types/";
/// Suffix of the TypeDef entries.
pub const TYPE_ENTRY_SUFFIX: &str = ".bin";

/// Most entries a bundle may have (types + 2); the manifest reader's
/// `type_hashes` cap (100,000) plus the two fixed files.
pub const MAX_BUNDLE_ENTRIES: usize = 100_002;
/// Largest single entry accepted from a peer: 16 MiB, the frame limit.
pub const MAX_BUNDLE_ENTRY_LEN: usize = 16 * 1024 * 1024;
/// Largest whole bundle accepted from a peer: 64 MiB.
pub const MAX_BUNDLE_LEN: usize = 64 * 1024 * 1024;

/// Why a fetched bundle was refused.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("the bundle has no {CONTRACT_ENTRY}")]
    MissingContract,
    #[error("{CONTRACT_ENTRY} hashes to {actual}, not the requested contract id {expected}")]
    ContractMismatch {
        expected: ContractId,
        actual: ContractId,
    },
    #[error("type entry {name} does not hash to its name")]
    TypeMismatch { name: String },
    #[error("entry name {0:?} is not contract.bin, manifest.json or types/<64 hex>.bin")]
    UnknownEntry(String),
    #[error("entry {0} appears twice")]
    Duplicate(String),
    #[error("entry {name} is {len} bytes (limit {limit})")]
    TooLarge {
        name: String,
        len: usize,
        limit: usize,
    },
    #[error("the bundle has more than {MAX_BUNDLE_ENTRIES} entries")]
    TooManyEntries,
    #[error("manifest.json is not UTF-8")]
    ManifestNotUtf8,
    #[error("{name}: {source}")]
    Canonical {
        name: String,
        source: CanonicalError,
    },
    #[error("the contract refers to type {0}, which the bundle lacks")]
    MissingType(TypeHash),
}

/// One service's published files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractBundle {
    pub contract_id: ContractId,
    /// Canonical `ServiceContract` bytes (BLAKE3 = `contract_id`).
    pub contract: Vec<u8>,
    /// Canonical TypeDef bytes by type hash, in type-graph order.
    pub types: Vec<(TypeHash, Vec<u8>)>,
    /// The manifest text; empty when the producer published none.
    pub manifest: String,
}

impl ContractBundle {
    /// The bundle of a Rust service, with `manifest` as its manifest (the
    /// runtime passes `ManifestBuilder` output, with real field defaults).
    pub fn of(service: &ServiceDescriptor, manifest: &Manifest) -> ContractBundle {
        let graph = service.type_graph();
        let contract = service.contract_in(&graph).canonical_bytes();
        let types = graph
            .types()
            .iter()
            .map(|t| (t.hash, t.def.canonical_bytes()))
            .collect();
        ContractBundle {
            contract_id: ContractId::of(&contract),
            contract,
            types,
            manifest: manifest.to_json(),
        }
    }

    /// The collection entries in publication order: `contract.bin`, the
    /// types, `manifest.json` (omitted when empty).
    pub fn entries(&self) -> Vec<(String, &[u8])> {
        let mut out = Vec::with_capacity(self.types.len() + 2);
        out.push((CONTRACT_ENTRY.to_owned(), self.contract.as_slice()));
        for (hash, bytes) in &self.types {
            out.push((type_entry_name(hash), bytes.as_slice()));
        }
        if !self.manifest.is_empty() {
            out.push((MANIFEST_ENTRY.to_owned(), self.manifest.as_bytes()));
        }
        out
    }

    /// Rebuilds a bundle from fetched entries, accepting it only if it is the
    /// contract `expected` names: `contract.bin` must hash to `expected`,
    /// every type file to its name, and every type the contract's methods
    /// name must be present. Sizes are capped before anything is hashed.
    pub fn from_entries<N, B>(
        expected: &ContractId,
        entries: impl IntoIterator<Item = (N, B)>,
    ) -> Result<ContractBundle, BundleError>
    where
        N: AsRef<str>,
        B: AsRef<[u8]>,
    {
        let mut contract = None;
        let mut manifest = None;
        let mut types: Vec<(TypeHash, Vec<u8>)> = Vec::new();
        let mut total = 0usize;
        for (count, (name, bytes)) in entries.into_iter().enumerate() {
            let (name, bytes) = (name.as_ref(), bytes.as_ref());
            if count >= MAX_BUNDLE_ENTRIES {
                return Err(BundleError::TooManyEntries);
            }
            if bytes.len() > MAX_BUNDLE_ENTRY_LEN {
                return Err(BundleError::TooLarge {
                    name: name.to_owned(),
                    len: bytes.len(),
                    limit: MAX_BUNDLE_ENTRY_LEN,
                });
            }
            total = total.saturating_add(bytes.len());
            if total > MAX_BUNDLE_LEN {
                return Err(BundleError::TooLarge {
                    name: "bundle".to_owned(),
                    len: total,
                    limit: MAX_BUNDLE_LEN,
                });
            }
            if name == CONTRACT_ENTRY {
                if contract.replace(bytes.to_vec()).is_some() {
                    return Err(BundleError::Duplicate(name.to_owned()));
                }
            } else if name == MANIFEST_ENTRY {
                let text = std::str::from_utf8(bytes).map_err(|_| BundleError::ManifestNotUtf8)?;
                if manifest.replace(text.to_owned()).is_some() {
                    return Err(BundleError::Duplicate(name.to_owned()));
                }
            } else {
                let hash = parse_type_entry_name(name)
                    .ok_or_else(|| BundleError::UnknownEntry(name.to_owned()))?;
                if TypeHash::of(bytes) != hash {
                    return Err(BundleError::TypeMismatch {
                        name: name.to_owned(),
                    });
                }
                if types.iter().any(|(h, _)| *h == hash) {
                    return Err(BundleError::Duplicate(name.to_owned()));
                }
                types.push((hash, bytes.to_vec()));
            }
        }
        let contract = contract.ok_or(BundleError::MissingContract)?;
        let actual = ContractId::of(&contract);
        if actual != *expected {
            return Err(BundleError::ContractMismatch {
                expected: *expected,
                actual,
            });
        }
        let bundle = ContractBundle {
            contract_id: actual,
            contract,
            types,
            manifest: manifest.unwrap_or_default(),
        };
        let decoded = bundle.service_contract()?;
        for m in &decoded.methods {
            for h in [&m.request_type, &m.response_type] {
                if !bundle.types.iter().any(|(t, _)| t == h) {
                    return Err(BundleError::MissingType(*h));
                }
            }
        }
        Ok(bundle)
    }

    /// The decoded contract.
    pub fn service_contract(&self) -> Result<ServiceContract, BundleError> {
        ServiceContract::decode(&self.contract).map_err(|source| BundleError::Canonical {
            name: CONTRACT_ENTRY.to_owned(),
            source,
        })
    }

    /// The decoded TypeDefs, with their hashes.
    pub fn type_defs(&self) -> Result<Vec<(TypeHash, TypeDef)>, BundleError> {
        self.types
            .iter()
            .map(|(h, b)| {
                TypeDef::decode(b)
                    .map(|d| (*h, d))
                    .map_err(|source| BundleError::Canonical {
                        name: type_entry_name(h),
                        source,
                    })
            })
            .collect()
    }

    /// The parsed manifest, if one was published.
    pub fn manifest(&self) -> Option<Result<Manifest, ManifestError>> {
        (!self.manifest.is_empty()).then(|| Manifest::from_json(&self.manifest))
    }
}

/// `types/<hex>.bin`.
pub fn type_entry_name(hash: &TypeHash) -> String {
    format!("{TYPE_ENTRY_PREFIX}{}{TYPE_ENTRY_SUFFIX}", hash.to_hex())
}

/// The hash in a `types/<64 lowercase hex>.bin` name.
pub fn parse_type_entry_name(name: &str) -> Option<TypeHash> {
    let hex = name
        .strip_prefix(TYPE_ENTRY_PREFIX)?
        .strip_suffix(TYPE_ENTRY_SUFFIX)?;
    if hex.len() != 64
        || !hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    TypeHash::from_hex(hex)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::{Pattern, Scope};
    use crate::service::MethodDescriptor;
    use crate::wire_struct;

    #[derive(Default)]
    struct Ping {
        text: String,
        inner: Option<Box<Ping>>,
    }
    wire_struct!(Ping, "test/Ping", { text: String => "text", inner: Option<Box<Ping>> => "inner" });
    #[derive(Default)]
    struct Pong {
        n: i64,
    }
    wire_struct!(Pong, "test/Pong", { n: i64 => "n" });

    const METHODS: &[MethodDescriptor] =
        &[MethodDescriptor::of::<Ping, Pong>("ping", Pattern::Unary)];
    const SERVICE: ServiceDescriptor = ServiceDescriptor::new("Pinger", 1, Scope::Shared, METHODS);

    fn bundle() -> ContractBundle {
        ContractBundle::of(&SERVICE, &SERVICE.manifest())
    }

    fn owned(b: &ContractBundle) -> Vec<(String, Vec<u8>)> {
        b.entries()
            .into_iter()
            .map(|(n, d)| (n, d.to_vec()))
            .collect()
    }

    #[test]
    fn round_trips_and_matches_the_descriptor() {
        let b = bundle();
        assert_eq!(b.contract_id, SERVICE.contract_id());
        let names: Vec<String> = b.entries().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names.first().map(String::as_str), Some(CONTRACT_ENTRY));
        assert_eq!(names.last().map(String::as_str), Some(MANIFEST_ENTRY));
        assert_eq!(names.len(), 4, "contract, Ping, Pong, manifest: {names:?}");
        let back = ContractBundle::from_entries(&b.contract_id, owned(&b)).expect("valid bundle");
        assert_eq!(back, b);
        assert_eq!(
            back.manifest()
                .expect("manifest")
                .expect("parses")
                .contract_id,
            b.contract_id.to_hex()
        );
        assert_eq!(back.type_defs().expect("types").len(), 2);
    }

    #[test]
    fn refuses_a_bundle_for_another_contract() {
        let b = bundle();
        let other = ContractId([7; 32]);
        let err = ContractBundle::from_entries(&other, owned(&b)).unwrap_err();
        assert!(matches!(err, BundleError::ContractMismatch { .. }), "{err}");
    }

    #[test]
    fn refuses_tampered_or_missing_types_and_odd_names() {
        let b = bundle();
        let mut tampered = owned(&b);
        tampered[1].1.push(0);
        assert!(matches!(
            ContractBundle::from_entries(&b.contract_id, tampered).unwrap_err(),
            BundleError::TypeMismatch { .. }
        ));
        let mut missing = owned(&b);
        missing.remove(1);
        assert!(matches!(
            ContractBundle::from_entries(&b.contract_id, missing).unwrap_err(),
            BundleError::MissingType(_)
        ));
        let mut odd = owned(&b);
        odd.push(("../etc/passwd".into(), vec![]));
        assert!(matches!(
            ContractBundle::from_entries(&b.contract_id, odd).unwrap_err(),
            BundleError::UnknownEntry(_)
        ));
        let mut upper = owned(&b);
        upper[1].0 = upper[1]
            .0
            .to_uppercase()
            .replace("TYPES/", "types/")
            .replace(".BIN", ".bin");
        assert!(ContractBundle::from_entries(&b.contract_id, upper).is_err());
        let mut twice = owned(&b);
        twice.push(twice[0].clone());
        assert!(matches!(
            ContractBundle::from_entries(&b.contract_id, twice).unwrap_err(),
            BundleError::Duplicate(_)
        ));
        assert!(matches!(
            ContractBundle::from_entries(&b.contract_id, Vec::<(String, Vec<u8>)>::new())
                .unwrap_err(),
            BundleError::MissingContract
        ));
    }

    #[test]
    fn a_contract_that_does_not_decode_is_refused_not_panicked_on() {
        let garbage = vec![0xff; 40];
        let cid = ContractId::of(&garbage);
        let err = ContractBundle::from_entries(&cid, [(CONTRACT_ENTRY, garbage)]).unwrap_err();
        assert!(matches!(err, BundleError::Canonical { .. }), "{err}");
    }
}
