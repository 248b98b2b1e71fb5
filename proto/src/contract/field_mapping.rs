//! How a Rust wire field type becomes a G1 FieldDef.
//!
//! Spec: wire.md §5.6 (what the Python binding feeds in). G1 Python looks at
//! a field's annotation in two steps, and so does this module:
//!
//! 1. `Optional[T]` at the top sets `optional = true` and continues with `T`.
//! 2. `list[E]` sets container LIST and describes `E`; `dict[K, V]` sets MAP,
//!    describes `K` in `container_key_*` and `V` in the element members;
//!    anything else is described directly.
//!
//! "Describing" a type looks at it once, without unwrapping further:
//!
//! | Rust `FieldType`                      | Python annotation            | G1 result |
//! |---------------------------------------|------------------------------|-----------|
//! | `Bool` / `Int64` / `Float64`          | `bool` / `int` / `float`     | PRIMITIVE `"bool"` / `"int64"` / `"float64"` |
//! | `String` / `Bytes`                    | `str` / `bytes`              | PRIMITIVE `"string"` / `"binary"` |
//! | `Int8` `Int16` `Int32` `Float32`      | `pyfory.int8` ... `float32`  | ANY (G1 does not know pyfory's sized types) |
//! | named enum                            | `enum.Enum` subclass         | ANY (G1 emits no ENUM TypeDefs) |
//! | named struct                          | `@wire_type` dataclass       | REF hash, or SELF_REF name on a back-edge |
//! | `List`/`Map`/`Optional` *inside* a container | e.g. `list[Optional[str]]`, `dict[str, list[str]]` | ANY |
//!
//! A MAP key that is a back-edge becomes `container_key_kind = SELF_REF` with
//! no name (FieldDef has no key name member; G1 drops it). `ref_tracked` is
//! always false. These rules were checked against aster-rpc 0.1.2 for every
//! row above (see the `pipeline:` type vectors and `proto/tests/contract.rs`).

use crate::xlang::{FieldDesc, FieldType, NamedType};

use super::hash::TypeHash;
use super::kinds::{ContainerKind, TypeKind};
use super::typedef::FieldDef;

/// What one look at a type yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Slot {
    Primitive(&'static str),
    Ref(TypeHash),
    SelfRef(String),
    Any,
}

impl Slot {
    fn parts(self) -> (TypeKind, String, Option<TypeHash>, String) {
        match self {
            Slot::Primitive(p) => (TypeKind::Primitive, p.to_owned(), None, String::new()),
            Slot::Ref(h) => (TypeKind::Ref, String::new(), Some(h), String::new()),
            Slot::SelfRef(name) => (TypeKind::SelfRef, String::new(), None, name),
            Slot::Any => (TypeKind::Any, String::new(), None, String::new()),
        }
    }
}

/// Describes `ty` without unwrapping it; `named` decides for named types.
fn describe(ty: &FieldType, named: &mut dyn FnMut(&NamedType) -> Slot) -> Slot {
    match ty {
        FieldType::Bool => Slot::Primitive("bool"),
        FieldType::Int64 => Slot::Primitive("int64"),
        FieldType::Float64 => Slot::Primitive("float64"),
        FieldType::String => Slot::Primitive("string"),
        FieldType::Bytes => Slot::Primitive("binary"),
        FieldType::Int8 | FieldType::Int16 | FieldType::Int32 | FieldType::Float32 => Slot::Any,
        FieldType::Struct(n) | FieldType::Enum(n) => named(n),
        FieldType::List(_) | FieldType::Map(..) | FieldType::Optional(_) => Slot::Any,
    }
}

/// The FieldDef G1 builds for field `desc` with id `id`. `named` returns
/// REF/SELF_REF for structs of the graph and ANY for anything else.
pub(crate) fn field_def(
    id: i32,
    desc: &FieldDesc,
    named: &mut dyn FnMut(&NamedType) -> Slot,
) -> FieldDef {
    let (optional, ty) = match desc.ty {
        FieldType::Optional(inner) => (true, inner),
        ref other => (false, other),
    };
    let (container, key, element) = match ty {
        FieldType::List(elem) => (ContainerKind::List, None, describe(elem, named)),
        FieldType::Map(k, v) => {
            let key = describe(k, named);
            (ContainerKind::Map, Some(key), describe(v, named))
        }
        other => (ContainerKind::None, None, describe(other, named)),
    };
    let (type_kind, type_primitive, type_ref, self_ref_name) = element.parts();
    let (container_key_kind, container_key_primitive, container_key_ref, _key_name) = key.map_or(
        (TypeKind::Primitive, String::new(), None, String::new()),
        Slot::parts,
    );
    FieldDef {
        id,
        name: desc.name.to_owned(),
        type_kind,
        type_primitive,
        type_ref,
        self_ref_name,
        optional,
        ref_tracked: false,
        container,
        container_key_kind,
        container_key_primitive,
        container_key_ref,
    }
}

/// Every named type mentioned anywhere in `ty`, however deeply nested. G1's
/// reference graph has an edge for each, even where the field itself ends up
/// ANY (`list[list[Node]]` still links to `Node`).
pub(crate) fn mentioned(ty: &FieldType, out: &mut Vec<NamedType>) {
    match ty {
        FieldType::Struct(n) | FieldType::Enum(n) => out.push(*n),
        FieldType::List(inner) | FieldType::Optional(inner) => mentioned(inner, out),
        FieldType::Map(k, v) => {
            mentioned(k, out);
            mentioned(v, out);
        }
        _ => {}
    }
}
