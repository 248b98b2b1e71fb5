//! The contract manifest: the reference's `ContractManifest` JSON, written
//! from a [`ServiceDescriptor`] byte for byte as aster-rpc 0.1.2 writes it
//! for the same service, and read back (bounded) for dynamic clients.
//!
//! Spec: trust-registry.md §2.1–2.4 (where manifests live), wire.md §5 (the
//! identity fields) and §8.3 (who reads them). Vectors:
//! `conformance/vectors/manifests.json`, produced by the reference package
//! (`conformance/generate/manifest_vectors.py`) and checked by
//! `proto/tests/manifest.rs`.
//!
//! # Who writes a manifest in 0.1.2, and how the two differ
//!
//! | [`Producer`] | Reference code | Where the text goes |
//! |---|---|---|
//! | [`Producer::Runtime`] | `publication.build_collection(.., service_info)` | `manifest.json` in the contract collection, registry key `manifests/<contract_id>` |
//! | [`Producer::ContractGen`] | `aster contract gen` (`aster_cli/contract.py`) | `.aster/manifest.json` (the server's startup check); a JSON array for several services ([`contract_gen_json`]) |
//!
//! Both write `json.dumps(asdict(m), indent=2)` (see [`text`]) with the same
//! keys in the same order. They differ in `serialization_modes`: the runtime
//! writes the contract's lowercase names (`["xlang", "json"]`), `contract gen`
//! the `IntEnum` values (`[0, 3]`); and in the publication fields, which the
//! runtime leaves at their defaults and `contract gen` fills from git, the
//! clock and `--semver` ([`Publication`]; time and publisher are parameters
//! here, nothing reads a clock).
//!
//! The fact sheet (trust-registry.md §2.4) also lists `producer_language`,
//! `description`, `tags`, and per method `request_style`, `inline_params`,
//! `description`, `tags`, `deprecated`: those are repo-HEAD (G2) keys, absent
//! from 0.1.2, and **must not be written**: 0.1.2 reads a manifest with
//! `ContractManifest(**data)`, which raises `TypeError` on an unknown key.
//! For the same reason the descriptors' `doc` strings are not written.
//! `canonical_encoding` is the constant `"fory-xlang/0.15"` in both
//! producers (even though 0.1.2 runs pyfory 0.16).
//!
//! # Field by field
//!
//! Byte-identical to the reference, given the same service:
//! `v` (1), `service`, `version`, `canonical_encoding`, `method_count`,
//! `serialization_modes`, `scoped`, the publication fields; per method
//! `name` (methods sorted by code point, as Python sorts `str`), `pattern`,
//! `request_wire_tag`, `response_wire_tag`, `idempotent`; per field `name`
//! (declaration order), `kind`, `nullable`, the type keys (`ref_name`,
//! `wire_tag`, `item_*`, `key_kind`, `value_*`, included exactly when the
//! reference includes them) and `properties` (`{}`).
//! `contract_id`, `type_hashes` (sorted lowercase hex) and `type_count` are
//! our contract identity ([`ServiceDescriptor::contract_in`]); they equal
//! G1's under the conditions in the [`super::graph`] module doc. (A 0.1.2
//! `@service` cannot use a recursive type at all: its tag validation recurses
//! without end, so those caveats do not arise for services a G1 peer can
//! declare.)
//!
//! Where the reference writes Python-only facts, our rules are:
//!
//! | Key | 0.1.2 writes | We write | Equal when |
//! |---|---|---|---|
//! | `request_type`, `response_type`, `ref_name`, `item_ref`, `value_ref` | the class `__name__` | the tag's type name (after the last `/`) | the class is named like its tag (the usual style) |
//! | `kind` of `i8` `i16` `i32` `f32` | `"string"`: `pyfory.int32` etc. are `TypeVar`s the classifier does not know, so it falls back | `"string"` (reproduced) | always |
//! | `enum_values` | the members' `.value`s | the variant names | a `str` enum whose values are the names (`class C(str, Enum): Red = "Red"`) |
//! | `timeout` | the decorator's value as given (`30`, `30.0`), `null` when unset | `timeout_secs` as a float, `null` when `0` | the Python value is a float other than `0.0` (or unset) |
//! | `required` | `true` for a field without a default | `false` | every Python field has a default |
//! | `default_value`, `default_kind` | from the dataclass default | see below | see below |
//!
//! # Defaults
//!
//! A [`crate::xlang::FieldDesc`] has no default value, so by default we
//! write the defaults of a `#[derive(Default)]` struct, spelled as the
//! reference spells the equivalent Python dataclass default:
//!
//! | Field type | `default_value`, `default_kind` | Python declaration it equals |
//! |---|---|---|
//! | `Option<T>` | `null`, `"value"` | `= None` |
//! | `String`, `bool`, integers, floats | `""` / `false` / `0` / `0.0`, `"value"` | `= ""` / `= False` / `= 0` / `= 0.0` |
//! | `Vec<u8>` | `"b''"`, `"value"` (Python's `str(b"")`: bytes are not JSON-safe) | `= b""` |
//! | `Vec<T>` / maps | `null`, `"empty_list"` / `"empty_map"` | `field(default_factory=list / dict)` |
//! | a struct | `null`, `"factory"` | `field(default_factory=T)` |
//! | an enum | the first variant's name, `"value"` | `= C.First` of a `str` enum as above |
//!
//! A type whose `Default` differs (Mission Control's `status = "idle"`) can
//! give its real defaults through [`FieldDefaults`]: `T::default()` in its
//! JSON-mode form, converted with the same spelling (a non-empty list, map
//! or `Some(struct)` becomes `"factory"`, bytes their Python repr). With
//! them, every field of such a type is byte-identical too, except that
//! `f32` values print as their `f64` widening (`0.1f32` ⇒
//! `0.10000000149011612`) and non-finite floats as `null` (Python: `NaN`).
//!
//! Interop consequence: readers use the defaults to fill fields a caller
//! leaves out (the reference's `DynamicTypeFactory`, the shell). Our JSON
//! mode fills an omitted field from the Rust `Default`, so the manifest
//! tells the truth exactly when the type is `#[derive(Default)]` or its
//! [`FieldDefaults`] were given; otherwise a dynamic client may send the
//! type default where the server would have used its own. `required` is
//! always `false`, which is true of every Rust wire type (a missing JSON
//! field is never an error).
//!
//! # Reading
//!
//! [`Manifest::from_json`] reads what any producer wrote, the way 0.1.2's
//! `ContractManifest.from_json` does, with these bounds and tolerances:
//! - lists are cut, not refused, at the reference's caps
//!   ([`MAX_MANIFEST_METHODS`], [`MAX_MANIFEST_FIELDS_PER_METHOD`],
//!   [`MAX_MANIFEST_TYPE_HASHES`]); elements past a cap are skipped without
//!   being stored. The reference does not cap `response_fields`; we cap it
//!   like `fields`. Memory is otherwise linear in the input;
//! - unknown keys are ignored at every level (0.1.2 raises on them), so
//!   HEAD manifests read too;
//! - `version`, `type_count`, `method_count` (and our other integers) go
//!   through Python's `int()`: `3`, `3.7`, `"3"`, `true` are accepted; a
//!   `null` or absent key takes the dataclass default;
//! - a field without `kind` is upgraded from the legacy (unversioned)
//!   schema with the reference's `upgrade_legacy_field` rules (0.1.2 does it
//!   only when `v` is absent; fields of a `v: 1` manifest always have a kind).
//!
//! Writing a parsed manifest again gives the same text for everything a
//! 0.1.2 producer writes (timeouts keep their int/float spelling); legacy
//! fields come out in the v1 key order.

mod build;
mod parse;
pub mod text;

use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Number, Value};

use crate::call::{Pattern, Scope};
use crate::codec::SerializationMode;
use crate::service::ServiceDescriptor;

use super::hash::ContractId;

pub use build::{FieldDefaults, ManifestBuilder, Producer, Publication};
pub use parse::ManifestError;
pub use text::{PythonPrettyFormatter, python_bytes_repr, to_python_pretty_json};

/// The field schema version 0.1.2 writes (`FIELD_SCHEMA_VERSION`).
pub const FIELD_SCHEMA_VERSION: i64 = 1;
/// `canonical_encoding` as both 0.1.2 producers write it.
pub const CANONICAL_ENCODING: &str = "fory-xlang/0.15";
/// Reader caps (reference `aster/limits.py`, trust-registry.md §6).
pub const MAX_MANIFEST_METHODS: usize = 10_000;
pub const MAX_MANIFEST_FIELDS_PER_METHOD: usize = 1_000;
pub const MAX_MANIFEST_TYPE_HASHES: usize = 100_000;

/// A `ContractManifest`. Keys are declared in the reference's order, which
/// is the order they are written in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "parse::RawManifest")]
pub struct Manifest {
    /// Field schema version ([`FIELD_SCHEMA_VERSION`]).
    pub v: i64,
    pub service: String,
    pub version: i64,
    /// Lowercase hex of the contract id (text, as the reference stores it;
    /// see [`Manifest::id`]).
    pub contract_id: String,
    pub canonical_encoding: String,
    pub type_count: i64,
    /// Sorted lowercase hex of every TypeDef hash.
    pub type_hashes: Vec<String>,
    pub method_count: i64,
    /// Sorted by name when we write them.
    pub methods: Vec<ManifestMethod>,
    /// Names (`"xlang"`) from the runtime, numbers (`0`) from `contract gen`.
    pub serialization_modes: Vec<ModeToken>,
    /// `"shared"` or `"session"`.
    pub scoped: String,
    pub deprecated: bool,
    pub semver: Option<String>,
    pub vcs_revision: Option<String>,
    pub vcs_tag: Option<String>,
    pub vcs_url: Option<String>,
    pub changelog: Option<String>,
    pub published_by: String,
    pub published_at_epoch_ms: i64,
}

/// One method entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "parse::RawMethod")]
pub struct ManifestMethod {
    pub name: String,
    #[serde(serialize_with = "pattern_name")]
    pub pattern: Pattern,
    /// Type names (Python class names; ours: the tag's type name).
    pub request_type: String,
    pub response_type: String,
    pub request_wire_tag: String,
    pub response_wire_tag: String,
    /// Seconds, spelled as written (`30` or `30.0`); `None` = no default.
    pub timeout: Option<Number>,
    pub idempotent: bool,
    /// The request type's fields, in declaration order.
    pub fields: Vec<ManifestField>,
    /// The response type's fields, in declaration order.
    pub response_fields: Vec<ManifestField>,
}

/// One field in the v1 "kind" schema. The optional keys are written only
/// when set, in this order (the reference's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "parse::RawField")]
pub struct ManifestField {
    pub name: String,
    pub kind: ValueKind,
    pub nullable: bool,
    pub required: bool,
    /// A JSON scalar (or `null`); meaningful with `default_kind == Value`.
    pub default_value: Value,
    pub default_kind: DefaultKind,
    /// Struct or enum name (`kind` `ref` / `enum`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ref_name: Option<String>,
    /// The struct's wire tag (`kind` `ref`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wire_tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enum_values: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_kind: Option<ValueKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_wire_tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_nullable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_kind: Option<ValueKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_kind: Option<ValueKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_nullable: Option<bool>,
    /// Always `{}` in 0.1.2.
    pub properties: Map<String, Value>,
}

/// A `kind` of the v1 field schema.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ValueKind {
    String,
    Int,
    Float,
    Bool,
    Bytes,
    List,
    Map,
    /// A nested struct (`ref_name`, `wire_tag`).
    Ref,
    /// An enum (`ref_name`, `enum_values`).
    Enum,
    /// Any other spelling, kept as read.
    Other(String),
}

impl ValueKind {
    pub fn as_str(&self) -> &str {
        match self {
            ValueKind::String => "string",
            ValueKind::Int => "int",
            ValueKind::Float => "float",
            ValueKind::Bool => "bool",
            ValueKind::Bytes => "bytes",
            ValueKind::List => "list",
            ValueKind::Map => "map",
            ValueKind::Ref => "ref",
            ValueKind::Enum => "enum",
            ValueKind::Other(s) => s,
        }
    }

    pub fn from_name(s: &str) -> ValueKind {
        match s {
            "string" => ValueKind::String,
            "int" => ValueKind::Int,
            "float" => ValueKind::Float,
            "bool" => ValueKind::Bool,
            "bytes" => ValueKind::Bytes,
            "list" => ValueKind::List,
            "map" => ValueKind::Map,
            "ref" => ValueKind::Ref,
            "enum" => ValueKind::Enum,
            other => ValueKind::Other(other.to_owned()),
        }
    }
}

/// `default_kind`: how a reader builds the default.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DefaultKind {
    /// `default_value` is the default.
    Value,
    EmptyList,
    EmptyMap,
    /// Built by a factory (a nested struct, a non-empty collection).
    Factory,
    /// No default: the field is required.
    None,
    /// `None` (legacy upgrade of an optional field).
    Null,
    Other(String),
}

impl DefaultKind {
    pub fn as_str(&self) -> &str {
        match self {
            DefaultKind::Value => "value",
            DefaultKind::EmptyList => "empty_list",
            DefaultKind::EmptyMap => "empty_map",
            DefaultKind::Factory => "factory",
            DefaultKind::None => "none",
            DefaultKind::Null => "null",
            DefaultKind::Other(s) => s,
        }
    }

    pub fn from_name(s: &str) -> DefaultKind {
        match s {
            "value" => DefaultKind::Value,
            "empty_list" => DefaultKind::EmptyList,
            "empty_map" => DefaultKind::EmptyMap,
            "factory" => DefaultKind::Factory,
            "none" => DefaultKind::None,
            "null" => DefaultKind::Null,
            other => DefaultKind::Other(other.to_owned()),
        }
    }
}

macro_rules! serde_as_str {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Ok(<$t>::from_name(&s))
            }
        }
    };
}
serde_as_str!(ValueKind);
serde_as_str!(DefaultKind);

/// An entry of `serialization_modes`: a name (runtime) or an `IntEnum`
/// value (`contract gen`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ModeToken {
    Name(String),
    Code(i64),
}

impl ModeToken {
    /// The mode, when it is one we know under either spelling.
    pub fn mode(&self) -> Option<SerializationMode> {
        match self {
            ModeToken::Name(n) => SerializationMode::from_name(n),
            ModeToken::Code(c) => SerializationMode::from_i64(*c),
        }
    }
}

fn pattern_name<S: Serializer>(p: &Pattern, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(p.name())
}

impl Manifest {
    /// The JSON text, exactly as the reference writes it (`to_json()`:
    /// indent 2, ASCII, no trailing newline).
    pub fn to_json(&self) -> String {
        to_python_pretty_json(self)
    }

    /// The contract id, when `contract_id` is 64 hex digits.
    pub fn id(&self) -> Option<ContractId> {
        ContractId::from_hex(&self.contract_id)
    }

    /// The modes we know, in order (either spelling).
    pub fn modes(&self) -> Vec<SerializationMode> {
        self.serialization_modes
            .iter()
            .filter_map(ModeToken::mode)
            .collect()
    }

    /// `scoped` as a [`Scope`]; `"stream"` is the legacy name of session.
    pub fn scope(&self) -> Option<Scope> {
        match self.scoped.as_str() {
            "shared" => Some(Scope::Shared),
            "session" | "stream" => Some(Scope::Session),
            _ => None,
        }
    }

    pub fn method(&self, name: &str) -> Option<&ManifestMethod> {
        self.methods.iter().find(|m| m.name == name)
    }

    /// The name and fields of the type with `wire_tag`, from the first
    /// method that has it as request or response (what the reference's
    /// `DynamicTypeFactory` does). Nested types that are no method's request
    /// or response have no field list in a manifest.
    pub fn type_fields(&self, wire_tag: &str) -> Option<(&str, &[ManifestField])> {
        self.methods.iter().find_map(|m| {
            if m.request_wire_tag == wire_tag {
                Some((m.request_type.as_str(), m.fields.as_slice()))
            } else if m.response_wire_tag == wire_tag {
                Some((m.response_type.as_str(), m.response_fields.as_slice()))
            } else {
                None
            }
        })
    }
}

impl ManifestMethod {
    /// The default timeout in seconds, if any.
    pub fn timeout_secs(&self) -> Option<f64> {
        self.timeout.as_ref().and_then(Number::as_f64)
    }
}

/// The file `aster contract gen` writes for these manifests: the manifest
/// itself for one, a JSON array of them for several (`json.dumps([...],
/// indent=2)`). An empty slice gives `[]`.
pub fn contract_gen_json(manifests: &[Manifest]) -> String {
    match manifests {
        [one] => one.to_json(),
        many => to_python_pretty_json(many),
    }
}

impl ServiceDescriptor {
    /// The manifest the 0.1.2 runtime publishes for this service (registry
    /// `manifests/<cid>`, bundle `manifest.json`), with type defaults and
    /// our type graph. [`ManifestBuilder`] sets the rest.
    pub fn manifest(&self) -> Manifest {
        ManifestBuilder::new(self).build()
    }
}
