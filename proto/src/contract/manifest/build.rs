//! From a [`ServiceDescriptor`] to a [`Manifest`]: the reference's
//! `extract_method_descriptors` and `_classify_type`, driven by our
//! [`FieldType`]s instead of Python annotations. The rules and where they
//! differ from Python are in the [module doc](super).

use std::collections::HashMap;

use base64::Engine as _;
use serde_json::{Map, Number, Value};

use crate::codec::json::WireJson;
use crate::service::{MethodDescriptor, ServiceDescriptor};
use crate::xlang::{FieldDesc, FieldType, NamedType, TypeDesc, WireStruct};

use super::super::graph::{TypeGraph, split_tag};
use super::text::python_bytes_repr;
use super::{
    CANONICAL_ENCODING, DefaultKind, FIELD_SCHEMA_VERSION, Manifest, ManifestField, ManifestMethod,
    ModeToken, ValueKind,
};

/// Which 0.1.2 code path's output to reproduce (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Producer {
    /// `build_collection`: modes as names (`"xlang"`).
    #[default]
    Runtime,
    /// `aster contract gen`: modes as `IntEnum` values (`0`).
    ContractGen,
}

/// The manifest keys that describe a publication, not the service. The
/// default is what the 0.1.2 runtime writes; `contract gen` fills the VCS
/// fields from git, `published_at_epoch_ms` from the clock and `semver`
/// from `--semver` (and always writes `published_by: ""`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Publication {
    pub deprecated: bool,
    pub semver: Option<String>,
    pub vcs_revision: Option<String>,
    pub vcs_tag: Option<String>,
    pub vcs_url: Option<String>,
    pub changelog: Option<String>,
    pub published_by: String,
    pub published_at_epoch_ms: i64,
}

/// Real field defaults of some wire structs, by tag: each is the JSON-mode
/// object of the type's `Default` value (what our JSON decoder fills an
/// omitted field from). Types without an entry get the type defaults of
/// the module doc.
#[derive(Debug, Clone, Default)]
pub struct FieldDefaults {
    by_tag: HashMap<String, Map<String, Value>>,
}

impl FieldDefaults {
    pub fn new() -> FieldDefaults {
        FieldDefaults::default()
    }

    /// Adds `T`'s defaults (`T::json_default()`, which `wire_struct!` and
    /// the derive make `T::default()`).
    pub fn with<T: WireStruct + WireJson>(mut self) -> FieldDefaults {
        self.insert(T::TAG, T::json_default().to_json());
        self
    }

    /// Adds the defaults of the struct tagged `tag` as a JSON object in our
    /// JSON-mode form; anything but an object is ignored.
    pub fn insert(&mut self, tag: &str, defaults: Value) {
        if let Value::Object(map) = defaults {
            self.by_tag.insert(tag.to_owned(), map);
        }
    }

    fn get(&self, tag: &str, field: &str) -> Option<&Value> {
        self.by_tag.get(tag).and_then(|m| m.get(field))
    }
}

/// Builds the manifest of one service.
///
/// ```
/// use aster_proto::call::{Pattern, Scope};
/// use aster_proto::contract::manifest::{ManifestBuilder, Producer, Publication};
/// use aster_proto::service::{MethodDescriptor, ServiceDescriptor};
/// use aster_proto::wire_struct;
///
/// #[derive(Default)]
/// struct EchoRequest { message: String }
/// wire_struct!(EchoRequest, "echo/EchoRequest", { message: String => "message" });
/// #[derive(Default)]
/// struct EchoResponse { reply: String }
/// wire_struct!(EchoResponse, "echo/EchoResponse", { reply: String => "reply" });
///
/// const METHODS: &[MethodDescriptor] = &[MethodDescriptor::of::<EchoRequest, EchoResponse>("echo", Pattern::Unary)];
/// let echo = ServiceDescriptor::new("Echo", 1, Scope::Shared, METHODS);
///
/// // What the runtime publishes under manifests/<contract_id>:
/// let published = echo.manifest();
/// assert_eq!(published.contract_id, "f7870d540a39beaddeee55e11c730e3a97e4db110f1062afd8130a6071e98f7b");
/// assert!(published.to_json().contains("\"serialization_modes\": [\n    \"xlang\"\n  ]"));
///
/// // What `aster contract gen` writes, with the publication facts supplied:
/// let publication = Publication { published_at_epoch_ms: 1_767_225_600_000, ..Publication::default() };
/// let file = ManifestBuilder::new(&echo).producer(Producer::ContractGen).publication(publication).build();
/// assert!(file.to_json().contains("\"serialization_modes\": [\n    0\n  ]"));
/// ```
#[derive(Debug, Clone)]
pub struct ManifestBuilder<'a> {
    service: &'a ServiceDescriptor,
    types: Option<&'a TypeGraph>,
    defaults: Option<&'a FieldDefaults>,
    producer: Producer,
    publication: Publication,
}

impl<'a> ManifestBuilder<'a> {
    pub fn new(service: &'a ServiceDescriptor) -> ManifestBuilder<'a> {
        ManifestBuilder {
            service,
            types: None,
            defaults: None,
            producer: Producer::Runtime,
            publication: Publication::default(),
        }
    }

    /// Type hashes from this graph (e.g. [`TypeGraph::build_named`] with
    /// Python names) instead of [`ServiceDescriptor::type_graph`].
    pub fn types(mut self, graph: &'a TypeGraph) -> Self {
        self.types = Some(graph);
        self
    }

    pub fn defaults(mut self, defaults: &'a FieldDefaults) -> Self {
        self.defaults = Some(defaults);
        self
    }

    pub fn producer(mut self, producer: Producer) -> Self {
        self.producer = producer;
        self
    }

    pub fn publication(mut self, publication: Publication) -> Self {
        self.publication = publication;
        self
    }

    pub fn build(self) -> Manifest {
        let owned;
        let graph = match self.types {
            Some(g) => g,
            None => {
                owned = self.service.type_graph();
                &owned
            }
        };
        let empty = FieldDefaults::default();
        let defaults = self.defaults.unwrap_or(&empty);
        let service = self.service;

        let mut type_hashes: Vec<String> = graph.types().iter().map(|t| t.hash.to_hex()).collect();
        type_hashes.sort();
        let mut methods: Vec<ManifestMethod> = service
            .methods
            .iter()
            .map(|m| method_entry(m, defaults))
            .collect();
        methods.sort_by(|a, b| a.name.cmp(&b.name));
        let serialization_modes = service
            .effective_modes()
            .iter()
            .map(|&m| match self.producer {
                Producer::Runtime => ModeToken::Name(m.name().to_owned()),
                Producer::ContractGen => ModeToken::Code(m as i64),
            })
            .collect();
        let p = self.publication;
        Manifest {
            v: FIELD_SCHEMA_VERSION,
            service: service.name.to_owned(),
            version: i64::from(service.version),
            contract_id: service.contract_in(graph).contract_id().to_hex(),
            canonical_encoding: CANONICAL_ENCODING.to_owned(),
            type_count: i64::try_from(graph.types().len()).unwrap_or(i64::MAX),
            type_hashes,
            method_count: i64::try_from(service.methods.len()).unwrap_or(i64::MAX),
            methods,
            serialization_modes,
            scoped: service.scope_name().to_owned(),
            deprecated: p.deprecated,
            semver: p.semver,
            vcs_revision: p.vcs_revision,
            vcs_tag: p.vcs_tag,
            vcs_url: p.vcs_url,
            changelog: p.changelog,
            published_by: p.published_by,
            published_at_epoch_ms: p.published_at_epoch_ms,
        }
    }
}

/// The type name the reference takes from `__name__`: the tag's last part.
fn type_name(ty: &NamedType) -> String {
    split_tag(ty.tag).1.to_owned()
}

fn method_entry(m: &MethodDescriptor, defaults: &FieldDefaults) -> ManifestMethod {
    // 0 means "no timeout" in a descriptor; the reference writes None then.
    let timeout = if m.timeout_secs == 0.0 {
        None
    } else {
        Number::from_f64(m.timeout_secs)
    };
    ManifestMethod {
        name: m.name.to_owned(),
        pattern: m.pattern,
        request_type: type_name(&m.request),
        response_type: type_name(&m.response),
        request_wire_tag: m.request.tag.to_owned(),
        response_wire_tag: m.response.tag.to_owned(),
        timeout,
        idempotent: m.idempotent,
        fields: struct_fields(&m.request, defaults),
        response_fields: struct_fields(&m.response, defaults),
    }
}

/// The v1 field list of a struct; an enum root has none (it is not a
/// dataclass in Python).
fn struct_fields(ty: &NamedType, defaults: &FieldDefaults) -> Vec<ManifestField> {
    match (ty.describe)() {
        TypeDesc::Struct(fields) => fields
            .iter()
            .map(|f| field_entry(ty.tag, f, defaults))
            .collect(),
        TypeDesc::Enum(_) => Vec::new(),
    }
}

fn field_entry(tag: &str, f: &FieldDesc, defaults: &FieldDefaults) -> ManifestField {
    let c = classify(&f.ty);
    let (default_value, default_kind) = default_of(&f.ty, defaults.get(tag, f.name));
    ManifestField {
        name: f.name.to_owned(),
        kind: c.kind.unwrap_or(ValueKind::String),
        nullable: c.nullable,
        required: false,
        default_value,
        default_kind,
        ref_name: c.ref_name,
        wire_tag: c.wire_tag,
        enum_values: c.enum_values,
        item_kind: c.item_kind,
        item_ref: c.item_ref,
        item_wire_tag: c.item_wire_tag,
        item_nullable: c.item_nullable,
        key_kind: c.key_kind,
        value_kind: c.value_kind,
        value_ref: c.value_ref,
        value_nullable: c.value_nullable,
        properties: Map::new(),
    }
}

/// What `_classify_type` returns for a type.
#[derive(Debug, Default)]
struct Classified {
    kind: Option<ValueKind>,
    nullable: bool,
    ref_name: Option<String>,
    wire_tag: Option<String>,
    enum_values: Option<Vec<Value>>,
    item_kind: Option<ValueKind>,
    item_ref: Option<String>,
    item_wire_tag: Option<String>,
    item_nullable: Option<bool>,
    key_kind: Option<ValueKind>,
    value_kind: Option<ValueKind>,
    value_ref: Option<String>,
    value_nullable: Option<bool>,
}

/// `_classify_type`: one `Optional` is unwrapped into `nullable`, then the
/// type is looked at once; list elements and map keys/values are
/// classified recursively, keeping only their kind, nullability and (when
/// non-empty) ref name and wire tag.
fn classify(ty: &FieldType) -> Classified {
    let (nullable, ty) = match ty {
        FieldType::Optional(inner) => (true, *inner),
        other => (false, other),
    };
    let mut c = Classified {
        nullable,
        ..Classified::default()
    };
    let kind = match ty {
        FieldType::Bool => ValueKind::Bool,
        FieldType::Int64 => ValueKind::Int,
        FieldType::Float64 => ValueKind::Float,
        FieldType::String => ValueKind::String,
        FieldType::Bytes => ValueKind::Bytes,
        // pyfory.int8/int16/int32/float32 are TypeVars: the fallback.
        FieldType::Int8 | FieldType::Int16 | FieldType::Int32 | FieldType::Float32 => {
            ValueKind::String
        }
        // Optional[Optional[T]] is Optional[T] in Python (not a wire shape).
        FieldType::Optional(_) => {
            return Classified {
                nullable: true,
                ..classify(ty)
            };
        }
        FieldType::Enum(n) => {
            c.ref_name = Some(type_name(n));
            c.enum_values = Some(match (n.describe)() {
                TypeDesc::Enum(names) => names.iter().map(|s| Value::from(*s)).collect(),
                TypeDesc::Struct(_) => Vec::new(),
            });
            ValueKind::Enum
        }
        FieldType::Struct(n) => {
            c.ref_name = Some(type_name(n));
            c.wire_tag = Some(n.tag.to_owned());
            ValueKind::Ref
        }
        FieldType::List(elem) => {
            let e = classify(elem);
            c.item_kind = e.kind;
            c.item_nullable = Some(e.nullable);
            c.item_ref = e.ref_name.filter(|s| !s.is_empty());
            c.item_wire_tag = e.wire_tag.filter(|s| !s.is_empty());
            ValueKind::List
        }
        FieldType::Map(k, v) => {
            let (k, v) = (classify(k), classify(v));
            c.key_kind = k.kind;
            c.value_kind = v.kind;
            c.value_nullable = Some(v.nullable);
            c.value_ref = v.ref_name.filter(|s| !s.is_empty());
            ValueKind::Map
        }
    };
    c.kind = Some(kind);
    c
}

/// `(default_value, default_kind)` for a field of type `ty` whose default
/// (in our JSON-mode form) is `given`, or the type default when unknown.
fn default_of(ty: &FieldType, given: Option<&Value>) -> (Value, DefaultKind) {
    let inner = match ty {
        FieldType::Optional(inner) => *inner,
        other => other,
    };
    let value = |v: Value| (v, DefaultKind::Value);
    match given {
        None => type_default(ty),
        Some(Value::Null) => value(Value::Null),
        Some(v) => match (inner, v) {
            (FieldType::List(_), Value::Array(a)) if a.is_empty() => {
                (Value::Null, DefaultKind::EmptyList)
            }
            (FieldType::Map(..), Value::Object(m)) if m.is_empty() => {
                (Value::Null, DefaultKind::EmptyMap)
            }
            (FieldType::List(_), Value::Array(_))
            | (FieldType::Map(..), Value::Object(_))
            | (FieldType::Struct(_), _) => (Value::Null, DefaultKind::Factory),
            (FieldType::Bytes, Value::String(b64)) => {
                match base64::engine::general_purpose::STANDARD.decode(b64) {
                    Ok(bytes) => value(Value::String(python_bytes_repr(&bytes))),
                    Err(_) => type_default(ty),
                }
            }
            (FieldType::List(_) | FieldType::Map(..) | FieldType::Bytes, _) => type_default(ty),
            (_, v) => value(v.clone()),
        },
    }
}

/// The default of a `#[derive(Default)]` field, as the reference spells the
/// equivalent dataclass default.
fn type_default(ty: &FieldType) -> (Value, DefaultKind) {
    let value = |v: Value| (v, DefaultKind::Value);
    match ty {
        FieldType::Optional(_) => value(Value::Null),
        FieldType::Bool => value(Value::Bool(false)),
        FieldType::Int8 | FieldType::Int16 | FieldType::Int32 | FieldType::Int64 => {
            value(Value::from(0))
        }
        FieldType::Float32 | FieldType::Float64 => value(Value::from(0.0)),
        FieldType::String => value(Value::from("")),
        FieldType::Bytes => value(Value::String(python_bytes_repr(b""))),
        FieldType::List(_) => (Value::Null, DefaultKind::EmptyList),
        FieldType::Map(..) => (Value::Null, DefaultKind::EmptyMap),
        FieldType::Struct(_) => (Value::Null, DefaultKind::Factory),
        FieldType::Enum(n) => match (n.describe)() {
            TypeDesc::Enum([first, ..]) => value(Value::from(*first)),
            _ => value(Value::Null),
        },
    }
}
