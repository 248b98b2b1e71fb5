//! The dynamic contract schema: speak XLANG to a service whose Rust types
//! are unknown, from what its producer publishes (the contract bundle:
//! `contract.bin`, one `types/<hash>.bin` per user type, `manifest.json`).
//!
//! Spec: `spec/dynamic.md` (§4.7) states every rule below with examples;
//! JSON spelling is JSON mode's (§4.5, [`crate::codec::json`]), so the same
//! JSON can be sent to a JSON-mode or an XLANG-mode service.
//!
//! ```text
//! contract.bin + types/*.bin (+ manifest.json)      manifest.json alone
//!            \                                         /
//!        bundle::resolve                  from_manifest::resolve
//!               \                                    /
//!                 one StructSchema per type: field types, first guess
//!                 + alternatives for what G1 lost, manifest defaults
//!                               |
//!                 ContractSchema: a dynamic Registry, MethodSchemas
//!                               |
//!   encode_request(JSON) -> XLANG payload   decode_response(XLANG) -> JSON
//!                                           (hash search on a mismatch)
//! ```
//!
//! # What G1 loses, and how we get it back
//!
//! A G1 TypeDef (aster-rpc 0.1.2) writes kind ANY for `int8`, `int16`,
//! `int32`, `float32`, for enums, and for any container or `Optional` inside
//! a container ([`super::field_mapping`]). Its manifest writes `kind:
//! "string"` for the four sized numbers (the reference's classifier falls
//! back), but their `default_value` keeps its JSON type. The rules:
//!
//! 1. **ANY top-level field** (no container), by the manifest field of the
//!    same name (the type must be some method's request or response for the
//!    manifest to describe it, [`Manifest::type_fields`]):
//!    - `kind: "enum"` ⇒ that enum: variants are `enum_values` in order (the
//!      ordinal is the index), spelled in JSON as the `enum_values` entry;
//!    - `kind: "string"` with an integer default ⇒ `int32`;
//!    - `kind: "string"` with a float default ⇒ `float32`;
//!    - anything else, or no manifest entry ⇒ `int32`.
//!
//!    `optional` in the TypeDef wraps the guess in `Optional`. The other
//!    sized numbers (and, without a manifest hint, an enum of unknown
//!    variants) stay as *alternatives* for rule 3.
//! 2. **ANY inside a container** (a LIST element, a MAP key or value): the
//!    struct hash cannot see inside containers, so only the manifest's
//!    `item_*` / `key_kind` / `value_*` keys decide, and a wrong guess is
//!    not detected:
//!    - `"string"`, nullable ⇒ `Optional<String>`; `"string"`, not nullable
//!      ⇒ `int32` (a sized number: unverifiable guess);
//!    - `"int"` / `"float"` / `"bool"` / `"bytes"` / `"ref"`, nullable ⇒
//!      `Optional` of that type (the struct found by `item_wire_tag`, or by
//!      type name for `item_ref` / `value_ref`);
//!    - `"enum"` ⇒ the enum named by `item_ref` / `value_ref`, its variants
//!      taken from any manifest field that lists that enum's `enum_values`
//!      (an enum of unknown variants otherwise);
//!    - `"list"` / `"map"` (a container in a container), a missing hint, or
//!      anything else ⇒ the field cannot be described: its type, and every
//!      method that reaches it, is unavailable ([`ContractSchema::lookup`]
//!      says why). [`TypeHints`] can state the type.
//! 3. **Hash search.** Every struct payload carries the producer's struct
//!    version hash (§4.4.10), computed from each field's name, Fory type id
//!    and nullability, so it *reveals* the types of top-level fields. When a
//!    decoded struct's hash differs from the one of our first guess, the
//!    decoder tries the assignments of the struct's alternatives (`int32`,
//!    `int8`, `int16`, `float32`, unknown enum per ANY field; fewest fields
//!    changed first, at most [`MAX_LAYOUT_SEARCH`] assignments) and
//!    continues with the one whose hash matches; no match is
//!    [`MessageError::NoMatchingLayout`]. At most
//!    [`MAX_ADAPTED_TYPES`] structs are re-typed per payload. Encoding cannot
//!    search (nothing to compare with): a request is always written with the
//!    first guess, and a producer whose field is really `int16` refuses it
//!    with a hash mismatch.
//! 4. **Enums without variants.** An enum nothing describes is spelled in
//!    JSON as its ordinal (a number below [`UNKNOWN_ENUM_VARIANTS`]).
//! 5. **References G1 cannot name.** Inside a multi-type cycle G1 writes REF
//!    with 32 zero bytes (wire.md §5.6); SELF_REF carries a name. A zero REF
//!    is resolved by the manifest's `wire_tag` / `item_wire_tag` (or type
//!    name); a SELF_REF by the name `package.Name`, else by the type name
//!    after the last `.` when one type of the bundle has it.
//! 6. **Tags.** A TypeDef's wire tag is `package/name` (`name` when the
//!    package is empty), unless the manifest names it (a method's request or
//!    response wire tag, a field's `wire_tag`) with the same type name: G1
//!    uses the Python module as the package of a type tagged without `/`.
//! 7. **Missing JSON fields** take the manifest's `default_value` when the
//!    manifest gives one (`default_kind: "value"`, not bytes, which it spells
//!    as a Python repr) and it fits the field's type; otherwise the zero
//!    value of the type (§4.5.2). This is the producer's dataclass default,
//!    which is what a typed Rust client's `Default` gives when its manifest
//!    was built with the same defaults.
//!
//! JSON is spelled as JSON mode spells the same Rust type (§4.5): bytes in
//! base64, an enum as its spelling, map keys as strings, non-finite floats
//! as `null`, `float32` values widened to `f64` as the typed path does. Map
//! entries are written in JSON document order, as the reference writes its
//! `dict`; a typed `BTreeMap` sorts them, so the bytes are equal when the
//! keys are sorted. Input is strict with JSON mode's messages
//! ([`JsonValueError`]), and nesting is bounded by [`crate::xlang::MAX_DEPTH`].
//!
//! Verification on build: each `types/<hash>.bin` must hash to its name;
//! every REF (other than G1's zero REF), every method slot other than zero,
//! must be in the bundle; the manifest, when given, must name the bundle's
//! contract id; sizes and counts are bounded ([`MAX_CONTRACT_BYTES`],
//! [`MAX_TYPE_FILE_BYTES`], [`MAX_SCHEMA_TYPES`], [`MAX_SCHEMA_METHODS`],
//! [`MAX_STRUCT_FIELDS`]). Those failures refuse the
//! whole bundle. A type that cannot be described only makes the methods that
//! reach it unavailable. Nothing here panics on any input, and nothing does
//! I/O: callers fetch the bundle and pass its bytes.
//!
//! ```
//! use aster_proto::call::{Pattern, Scope};
//! use aster_proto::contract::ContractSchema;
//! use aster_proto::service::{MethodDescriptor, ServiceDescriptor};
//! use aster_proto::wire_struct;
//!
//! #[derive(Default)]
//! struct CountRequest { count: i32 }
//! wire_struct!(CountRequest, "demo/CountRequest", { count: i32 => "count" });
//!
//! const METHODS: &[MethodDescriptor] = &[MethodDescriptor::of::<CountRequest, CountRequest>("count", Pattern::Unary)];
//! let svc = ServiceDescriptor::new("Counter", 1, Scope::Shared, METHODS);
//! // What a producer publishes: contract.bin, types/<hash>.bin, manifest.json.
//! let graph = svc.type_graph();
//! let contract = svc.contract_in(&graph).canonical_bytes();
//! let types: Vec<_> = graph.types().iter().map(|t| (t.hash, t.def.canonical_bytes())).collect();
//! let manifest = svc.manifest();
//!
//! let schema = ContractSchema::from_bundle(&contract, &types, Some(&manifest)).unwrap();
//! let count = schema.method("count").unwrap();
//! let payload = count.encode_request(&serde_json::json!({ "count": 7 })).unwrap();
//! assert_eq!(payload, aster_proto::xlang::to_bytes(&CountRequest { count: 7 }).freeze());
//! assert_eq!(count.decode_response(&payload).unwrap(), serde_json::json!({ "count": 7 }));
//! ```

mod bundle;
mod from_manifest;
mod json;
mod resolve;
mod search;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use serde_json::Value as Json;

use crate::call::Pattern;
use crate::codec::json::root_path;
use crate::status::Status;
use crate::xlang::DecodeError;
use crate::xlang::dynamic::{
    DynField, DynType, EncodeError, Registry, SchemaError, TypeDef as DynTypeDef, Value,
};

use super::canonical::CanonicalError;
use super::hash::{ContractId, TypeHash};
use super::manifest::Manifest;

pub use json::JsonValueError;

/// Most TypeDefs a bundle may hold (a real service has tens).
pub const MAX_SCHEMA_TYPES: usize = 4096;
/// Largest `contract.bin` accepted (10,000 methods of ~100 bytes). The
/// canonical reader reserves a list by the bytes left, so the file bounds
/// bound what it can be made to allocate.
pub const MAX_CONTRACT_BYTES: usize = 1024 * 1024;
/// Largest `types/<hash>.bin` accepted (1,000 fields of ~250 bytes).
pub const MAX_TYPE_FILE_BYTES: usize = 256 * 1024;
/// Most methods a contract or manifest may hold (the manifest reader's cap).
pub const MAX_SCHEMA_METHODS: usize = 10_000;
/// Most fields one struct may have (the manifest reader's per-method cap).
pub const MAX_STRUCT_FIELDS: usize = 1_000;
/// Most field type assignments tried per struct by the hash search (rule 3).
pub const MAX_LAYOUT_SEARCH: usize = 1_024;
/// Most structs re-typed by the hash search while decoding one payload.
pub const MAX_ADAPTED_TYPES: usize = 16;
/// Ordinals accepted for an enum whose variants nothing describes (rule 4).
pub const UNKNOWN_ENUM_VARIANTS: u32 = 256;

/// Why a schema could not be built, or why one type or method of it is
/// unavailable (then it is kept in [`ContractSchema::unavailable`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaBuildError {
    #[error("contract.bin: {0}")]
    Contract(CanonicalError),
    #[error("type file {index} (named {claimed}): {source}")]
    TypeBytes {
        index: usize,
        claimed: TypeHash,
        source: CanonicalError,
    },
    #[error("type file {index} is named {claimed} but its bytes hash to {actual}")]
    TypeHashMismatch {
        index: usize,
        claimed: TypeHash,
        actual: TypeHash,
    },
    #[error("{what}: {count} exceeds the limit of {limit}")]
    TooMany {
        what: &'static str,
        count: usize,
        limit: usize,
    },
    #[error("{from} refers to type {hash}, which the bundle does not contain")]
    MissingType { from: String, hash: TypeHash },
    #[error("types {first} and {second} both have the wire tag `{tag}`")]
    DuplicateTag {
        tag: String,
        first: TypeHash,
        second: TypeHash,
    },
    #[error("the manifest is for contract `{manifest}`, the bundle is contract {contract}")]
    ManifestMismatch {
        manifest: String,
        contract: ContractId,
    },
    #[error("`{tag}` has two fields named `{field}`")]
    DuplicateField { tag: String, field: String },
    #[error("cannot describe field `{field}` of `{tag}`: {reason}")]
    Undescribable {
        tag: String,
        field: String,
        reason: String,
    },
    #[error("type `{tag}` is not described: {reason}")]
    UndescribedType { tag: String, reason: String },
    #[error("`{tag}` uses `{on}`, which is unavailable: {cause}")]
    Dependency {
        tag: String,
        on: String,
        cause: Box<SchemaBuildError>,
    },
    #[error("method `{method}`: {reason}")]
    MethodType { method: String, reason: String },
    #[error("the schema's types do not form a registry: {0}")]
    Registry(SchemaError),
}

/// A method that [`ContractSchema::lookup`] cannot give.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MethodLookupError {
    #[error("service `{service}` has no method `{method}`")]
    NotFound { service: String, method: String },
    #[error("method `{method}` cannot be called dynamically: {reason}")]
    Unavailable {
        method: String,
        reason: SchemaBuildError,
    },
}

/// Why one message could not be encoded or decoded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MessageError {
    /// The JSON does not fit the type (a strict-JSON contract violation).
    #[error(transparent)]
    Json(#[from] JsonValueError),
    #[error("cannot encode: {0}")]
    Encode(#[from] EncodeError),
    #[error("XLANG payload: {0}")]
    Decode(#[from] DecodeError),
    #[error("payload holds a `{found}`, expected a `{expected}`")]
    UnexpectedType { expected: String, found: String },
    #[error(
        "struct hash {found:#010x} of `{tag}` matches none of the {tried} field type assignments \
         searched (the producer's type differs from its contract)"
    )]
    NoMatchingLayout {
        tag: String,
        found: u32,
        tried: usize,
    },
    #[error("struct `{tag}` appears with two different struct hashes in one payload")]
    ConflictingLayouts { tag: String },
    #[error("more than {limit} structs of one payload differ from the contract's types")]
    TooManyAdapted { limit: usize },
    #[error("decoded value does not fit its type at {path}: {reason}")]
    ValueShape { path: String, reason: String },
    #[error("cannot re-type the payload's structs: {0}")]
    Schema(SchemaError),
}

impl MessageError {
    /// The status a receiver answers with (spec §4.6): JSON that does not
    /// fit is CONTRACT_VIOLATION, as in JSON mode; anything else INTERNAL.
    pub fn to_status(&self) -> Status {
        match self {
            MessageError::Json(e) => e.to_status(),
            other => Status::internal(format!("cannot decode payload: {other}")),
        }
    }
}

/// Field types a caller knows better than the bundle (the escape hatch for
/// rule 2's undescribable fields). A hinted field has exactly that type:
/// no guess, no search.
#[derive(Debug, Clone, Default)]
pub struct TypeHints {
    fields: HashMap<(String, String), DynType>,
    enums: BTreeMap<String, Vec<String>>,
}

impl TypeHints {
    pub fn new() -> TypeHints {
        TypeHints::default()
    }

    /// Field `field` of the struct tagged `tag` has type `ty`. A
    /// [`DynType::Named`] must name a struct of the bundle or an enum given
    /// with [`TypeHints::enum_type`].
    pub fn field(
        mut self,
        tag: impl Into<String>,
        field: impl Into<String>,
        ty: DynType,
    ) -> TypeHints {
        self.fields.insert((tag.into(), field.into()), ty);
        self
    }

    /// Declares an enum (variant names in ordinal order) for use in hints.
    pub fn enum_type(
        mut self,
        tag: impl Into<String>,
        variants: impl IntoIterator<Item = impl Into<String>>,
    ) -> TypeHints {
        self.enums
            .insert(tag.into(), variants.into_iter().map(Into::into).collect());
        self
    }

    pub(crate) fn field_type(&self, tag: &str, field: &str) -> Option<&DynType> {
        self.fields.get(&(tag.to_owned(), field.to_owned()))
    }
}

/// One struct as resolved: fields in declaration order.
#[derive(Debug, Clone)]
pub(crate) struct StructSchema {
    pub tag: String,
    pub fields: Vec<FieldSchema>,
}

#[derive(Debug, Clone)]
pub(crate) struct FieldSchema {
    pub name: String,
    /// The first guess: what requests are encoded with.
    pub ty: DynType,
    /// Other candidates for the hash search (rule 3); empty when certain.
    pub alternatives: Vec<DynType>,
    /// The manifest's default, as JSON, before it is checked against `ty`.
    pub manifest_default: Option<Json>,
    /// The default for a missing JSON field, when not the type's zero value.
    pub default: Option<Value>,
}

/// An enum: how each ordinal is spelled in JSON.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EnumSchema {
    /// For messages: the enum's name.
    pub display: String,
    /// JSON spelling per ordinal; empty for an enum of unknown variants.
    pub spellings: Vec<Json>,
}

impl EnumSchema {
    fn variant_names(&self) -> Vec<String> {
        if self.spellings.is_empty() {
            return (0..UNKNOWN_ENUM_VARIANTS).map(|i| i.to_string()).collect();
        }
        self.spellings
            .iter()
            .map(|s| match s {
                Json::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect()
    }
}

/// A method as a resolver found it.
#[derive(Debug, Clone)]
pub(crate) struct MethodSource {
    pub name: String,
    pub pattern: Pattern,
    pub request: Result<String, SchemaBuildError>,
    pub response: Result<String, SchemaBuildError>,
    pub request_hash: Option<TypeHash>,
    pub response_hash: Option<TypeHash>,
}

/// What a resolver produces; [`assemble`] checks and links it.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub service: String,
    pub version: i64,
    pub contract_id: Option<ContractId>,
    pub structs: BTreeMap<String, Result<StructSchema, SchemaBuildError>>,
    pub enums: BTreeMap<String, EnumSchema>,
    pub methods: Vec<MethodSource>,
}

/// The types every method shares.
pub(crate) struct SchemaTypes {
    pub structs: BTreeMap<String, StructSchema>,
    pub enums: BTreeMap<String, EnumSchema>,
    /// Every usable struct with its first guess, and every enum.
    pub registry: Registry,
}

impl fmt::Debug for SchemaTypes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SchemaTypes")
            .field("structs", &self.structs)
            .field("enums", &self.enums)
            .finish_non_exhaustive()
    }
}

/// A service's methods as dynamic XLANG codecs.
#[derive(Debug, Clone)]
pub struct ContractSchema {
    service: String,
    version: i64,
    contract_id: Option<ContractId>,
    methods: Vec<MethodSchema>,
    unavailable: Vec<(String, SchemaBuildError)>,
}

/// One callable method: request and response codecs between JSON and XLANG.
#[derive(Debug, Clone)]
pub struct MethodSchema {
    name: String,
    pattern: Pattern,
    request_tag: String,
    response_tag: String,
    request_hash: Option<TypeHash>,
    response_hash: Option<TypeHash>,
    types: Arc<SchemaTypes>,
}

impl ContractSchema {
    /// From a contract bundle: `contract.bin`, each `types/<hash>.bin` with
    /// the hash it is published under, and the manifest if there is one
    /// (it supplies rules 1, 2, 5, 6 and 7).
    pub fn from_bundle<B: AsRef<[u8]>>(
        contract: &[u8],
        types: &[(TypeHash, B)],
        manifest: Option<&Manifest>,
    ) -> Result<ContractSchema, SchemaBuildError> {
        ContractSchema::from_bundle_with(contract, types, manifest, &TypeHints::default())
    }

    /// [`ContractSchema::from_bundle`] with field types the caller states.
    pub fn from_bundle_with<B: AsRef<[u8]>>(
        contract: &[u8],
        types: &[(TypeHash, B)],
        manifest: Option<&Manifest>,
        hints: &TypeHints,
    ) -> Result<ContractSchema, SchemaBuildError> {
        assemble(bundle::resolve(contract, types, manifest, hints)?, hints)
    }

    /// From a manifest alone: only types that are some method's request or
    /// response have fields in a manifest, so a method reaching any other
    /// struct is unavailable (an [`SchemaBuildError::UndescribedType`] names
    /// it). Field kinds are the manifest's (`"string"` with a numeric default
    /// is a sized number, as in rule 1); nothing can be checked against
    /// hashes except by the decoder's search.
    pub fn from_manifest(manifest: &Manifest) -> Result<ContractSchema, SchemaBuildError> {
        ContractSchema::from_manifest_with(manifest, &TypeHints::default())
    }

    pub fn from_manifest_with(
        manifest: &Manifest,
        hints: &TypeHints,
    ) -> Result<ContractSchema, SchemaBuildError> {
        assemble(from_manifest::resolve(manifest, hints)?, hints)
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    pub fn version(&self) -> i64 {
        self.version
    }

    /// The id of the bundle's `contract.bin` (`None` from a manifest alone).
    pub fn contract_id(&self) -> Option<ContractId> {
        self.contract_id
    }

    /// The methods that can be called, in contract order.
    pub fn methods(&self) -> &[MethodSchema] {
        &self.methods
    }

    pub fn method(&self, name: &str) -> Option<&MethodSchema> {
        self.methods.iter().find(|m| m.name == name)
    }

    /// The method, or why there is none.
    pub fn lookup(&self, name: &str) -> Result<&MethodSchema, MethodLookupError> {
        if let Some(m) = self.method(name) {
            return Ok(m);
        }
        match self.unavailable.iter().find(|(n, _)| n == name) {
            Some((method, reason)) => Err(MethodLookupError::Unavailable {
                method: method.clone(),
                reason: reason.clone(),
            }),
            None => Err(MethodLookupError::NotFound {
                service: self.service.clone(),
                method: name.to_owned(),
            }),
        }
    }

    /// Methods that cannot be called dynamically, with the reason.
    pub fn unavailable(&self) -> &[(String, SchemaBuildError)] {
        &self.unavailable
    }
}

impl MethodSchema {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn pattern(&self) -> Pattern {
        self.pattern
    }

    pub fn request_tag(&self) -> &str {
        &self.request_tag
    }

    pub fn response_tag(&self) -> &str {
        &self.response_tag
    }

    /// The request type's TypeDef hash (`None` from a manifest alone).
    pub fn request_hash(&self) -> Option<TypeHash> {
        self.request_hash
    }

    pub fn response_hash(&self) -> Option<TypeHash> {
        self.response_hash
    }

    /// The types with their first guesses (shared by all methods).
    pub fn registry(&self) -> &Registry {
        &self.types.registry
    }

    /// A request message in JSON (§4.5 spelling) as an XLANG payload.
    pub fn encode_request(&self, request: &Json) -> Result<Bytes, MessageError> {
        encode(&self.types, &self.request_tag, request)
    }

    /// An XLANG request payload as JSON (a generic server's side).
    pub fn decode_request(&self, payload: &[u8]) -> Result<Json, MessageError> {
        decode(&self.types, &self.request_tag, payload)
    }

    /// A response message in JSON as an XLANG payload (a generic server's side).
    pub fn encode_response(&self, response: &Json) -> Result<Bytes, MessageError> {
        encode(&self.types, &self.response_tag, response)
    }

    /// An XLANG response payload as JSON, re-typing lost fields by the
    /// payload's struct hashes (rule 3).
    pub fn decode_response(&self, payload: &[u8]) -> Result<Json, MessageError> {
        decode(&self.types, &self.response_tag, payload)
    }
}

fn encode(types: &SchemaTypes, tag: &str, message: &Json) -> Result<Bytes, MessageError> {
    let codec = json::JsonCodec {
        registry: &types.registry,
        enums: &types.enums,
        defaults: Some(&types.structs),
    };
    let value = codec.to_value(
        &DynType::Named(tag.to_owned()),
        message,
        &mut root_path(tag).to_owned(),
        0,
    )?;
    let mut buf = BytesMut::new();
    types.registry.encode(tag, &value, &mut buf)?;
    Ok(buf.freeze())
}

/// Decodes with the first guesses; on a struct hash mismatch, re-types that
/// struct by [`search::find_assignment`] and decodes again (rule 3).
fn decode(types: &SchemaTypes, tag: &str, payload: &[u8]) -> Result<Json, MessageError> {
    let mut overrides: BTreeMap<String, Vec<DynType>> = BTreeMap::new();
    let mut adapted: Option<Registry> = None;
    loop {
        let registry = adapted.as_ref().unwrap_or(&types.registry);
        match registry.decode(payload) {
            Ok((found, value)) => {
                if found != tag {
                    return Err(MessageError::UnexpectedType {
                        expected: tag.to_owned(),
                        found,
                    });
                }
                let codec = json::JsonCodec {
                    registry,
                    enums: &types.enums,
                    defaults: None,
                };
                return codec.to_json(
                    &DynType::Named(found),
                    &value,
                    &mut root_path(tag).to_owned(),
                );
            }
            Err(DecodeError::HashMismatch {
                tag: mismatched,
                found,
                expected,
            }) => {
                let Some(schema) = types.structs.get(&mismatched) else {
                    return Err(DecodeError::HashMismatch {
                        tag: mismatched,
                        found,
                        expected,
                    }
                    .into());
                };
                if overrides.contains_key(&mismatched) {
                    return Err(MessageError::ConflictingLayouts { tag: mismatched });
                }
                if overrides.len() >= MAX_ADAPTED_TYPES {
                    return Err(MessageError::TooManyAdapted {
                        limit: MAX_ADAPTED_TYPES,
                    });
                }
                let assignment =
                    search::find_assignment(schema, found as i32).map_err(|tried| {
                        MessageError::NoMatchingLayout {
                            tag: mismatched.clone(),
                            found,
                            tried,
                        }
                    })?;
                overrides.insert(mismatched, assignment);
                adapted = Some(registry_for(types, tag, &overrides).map_err(MessageError::Schema)?);
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// A registry of the types reachable from `root`, with `overrides` in place
/// of the first guesses of some structs.
fn registry_for(
    types: &SchemaTypes,
    root: &str,
    overrides: &BTreeMap<String, Vec<DynType>>,
) -> Result<Registry, SchemaError> {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut pending = vec![root.to_owned()];
    let mut defs = Vec::new();
    while let Some(tag) = pending.pop() {
        if !seen.insert(tag.clone()) {
            continue;
        }
        if let Some(e) = types.enums.get(&tag) {
            defs.push(DynTypeDef::Enum {
                tag,
                variants: e.variant_names(),
            });
            continue;
        }
        let Some(s) = types.structs.get(&tag) else {
            continue;
        };
        let chosen = overrides.get(&tag);
        let fields: Vec<DynField> = s
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| DynField {
                name: f.name.clone(),
                ty: chosen.and_then(|c| c.get(i)).unwrap_or(&f.ty).clone(),
            })
            .collect();
        for f in &fields {
            resolve::named_tags(&f.ty, &mut |t| pending.push(t.to_owned()));
        }
        defs.push(DynTypeDef::Struct { tag, fields });
    }
    Registry::new(defs)
}

/// Checks and links what a resolver found: drops structs that use an
/// unavailable type (worklist over reverse edges, linear), builds the
/// registry, converts manifest defaults, and sorts methods into callable
/// and unavailable.
fn assemble(resolved: Resolved, hints: &TypeHints) -> Result<ContractSchema, SchemaBuildError> {
    let Resolved {
        service,
        version,
        contract_id,
        structs,
        mut enums,
        methods,
    } = resolved;
    for (tag, variants) in &hints.enums {
        let spellings = variants.iter().map(|v| Json::String(v.clone())).collect();
        enums.insert(
            tag.clone(),
            EnumSchema {
                display: crate::xlang::split_tag(tag).1.to_owned(),
                spellings,
            },
        );
    }

    let mut ok: BTreeMap<String, StructSchema> = BTreeMap::new();
    let mut failed: BTreeMap<String, SchemaBuildError> = BTreeMap::new();
    for (tag, s) in structs {
        match s {
            Ok(s) => {
                ok.insert(tag, s);
            }
            Err(e) => {
                failed.insert(tag, e);
            }
        }
    }
    let mut dependents: HashMap<String, Vec<String>> = HashMap::new();
    let mut queue: VecDeque<String> = failed.keys().cloned().collect();
    let mut unknown: Vec<(String, String)> = Vec::new();
    for (tag, s) in &ok {
        for f in &s.fields {
            for ty in std::iter::once(&f.ty).chain(&f.alternatives) {
                resolve::named_tags(ty, &mut |target| {
                    if enums.contains_key(target) {
                        return;
                    }
                    if !ok.contains_key(target) && !failed.contains_key(target) {
                        unknown.push((tag.clone(), target.to_owned()));
                    }
                    dependents
                        .entry(target.to_owned())
                        .or_default()
                        .push(tag.clone());
                });
            }
        }
    }
    for (_, target) in unknown {
        if !failed.contains_key(&target) {
            let reason = "no type of the bundle or manifest has this wire tag".to_owned();
            failed.insert(
                target.clone(),
                SchemaBuildError::UndescribedType {
                    tag: target.clone(),
                    reason,
                },
            );
            queue.push_back(target);
        }
    }
    while let Some(on) = queue.pop_front() {
        let Some(users) = dependents.remove(&on) else {
            continue;
        };
        for user in users {
            if ok.remove(&user).is_none() {
                continue;
            }
            let cause = match failed.get(&on) {
                Some(SchemaBuildError::Dependency { cause, .. }) => cause.clone(),
                Some(other) => Box::new(other.clone()),
                None => Box::new(SchemaBuildError::UndescribedType {
                    tag: on.clone(),
                    reason: String::new(),
                }),
            };
            failed.insert(
                user.clone(),
                SchemaBuildError::Dependency {
                    tag: user.clone(),
                    on: on.clone(),
                    cause,
                },
            );
            queue.push_back(user);
        }
    }

    let mut defs: Vec<DynTypeDef> = ok
        .values()
        .map(|s| DynTypeDef::Struct {
            tag: s.tag.clone(),
            fields: s
                .fields
                .iter()
                .map(|f| DynField {
                    name: f.name.clone(),
                    ty: f.ty.clone(),
                })
                .collect(),
        })
        .collect();
    defs.extend(enums.iter().map(|(tag, e)| DynTypeDef::Enum {
        tag: tag.clone(),
        variants: e.variant_names(),
    }));
    let registry = Registry::new(defs).map_err(SchemaBuildError::Registry)?;

    // Manifest defaults that fit their field's type (rule 7).
    let mut defaults: Vec<(String, usize, Value)> = Vec::new();
    {
        let codec = json::JsonCodec {
            registry: &registry,
            enums: &enums,
            defaults: None,
        };
        for s in ok.values() {
            for (i, f) in s.fields.iter().enumerate() {
                let Some(d) = &f.manifest_default else {
                    continue;
                };
                let mut path = String::new();
                if let Ok(v) = codec.to_value(&f.ty, d, &mut path, 0) {
                    defaults.push((s.tag.clone(), i, v));
                }
            }
        }
    }
    for (tag, i, v) in defaults {
        if let Some(f) = ok.get_mut(&tag).and_then(|s| s.fields.get_mut(i)) {
            f.default = Some(v);
        }
    }

    let types = Arc::new(SchemaTypes {
        structs: ok,
        enums,
        registry,
    });
    let mut callable = Vec::new();
    let mut unavailable = Vec::new();
    for m in methods {
        let check = |side: Result<String, SchemaBuildError>| -> Result<String, SchemaBuildError> {
            let tag = side?;
            if types.structs.contains_key(&tag) {
                return Ok(tag);
            }
            Err(match failed.get(&tag) {
                Some(e) => e.clone(),
                None if types.enums.contains_key(&tag) => SchemaBuildError::MethodType {
                    method: m.name.clone(),
                    reason: format!("`{tag}` is an enum; a payload must be a struct"),
                },
                None => SchemaBuildError::UndescribedType {
                    tag: tag.clone(),
                    reason: "unknown type".to_owned(),
                },
            })
        };
        match (check(m.request.clone()), check(m.response.clone())) {
            (Ok(request_tag), Ok(response_tag)) => callable.push(MethodSchema {
                name: m.name,
                pattern: m.pattern,
                request_tag,
                response_tag,
                request_hash: m.request_hash,
                response_hash: m.response_hash,
                types: Arc::clone(&types),
            }),
            (Err(e), _) | (_, Err(e)) => unavailable.push((m.name, e)),
        }
    }
    Ok(ContractSchema {
        service,
        version,
        contract_id,
        methods: callable,
        unavailable,
    })
}
