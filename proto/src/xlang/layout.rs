//! Field types, pyfory's field order and the struct version hash.
//!
//! In schema-consistent mode (the reference's configuration) a struct body is
//! `i32 LE version hash` followed by the field values in an order pyfory
//! derives from the field types and names — not declaration order:
//!
//! 1. non-nullable primitives, by (varint last, larger size first, higher type
//!    id first, name);
//! 2. nullable primitives, same order;
//! 3. strings and binary, by (type id, name);
//! 4. lists, by name; 5. sets; 6. maps, by name;
//! 7. nested structs and enums, by name.
//!
//! The hash is the low 32 bits (as `i32`) of MurmurHash3_x64_128, seed 47, over
//! the fingerprint `"<name>,<type id>,<ref 0>,<nullable 0|1>;"` of every field
//! sorted by name, where nested structs and enums count as type id 0.

use super::murmur3::murmur3_x64_128;

/// Fory type ids (0.16) used by Aster payloads.
pub mod type_id {
    pub const UNKNOWN: u8 = 0;
    pub const BOOL: u8 = 1;
    pub const INT8: u8 = 2;
    pub const INT16: u8 = 3;
    pub const VARINT32: u8 = 5;
    pub const VARINT64: u8 = 7;
    pub const FLOAT32: u8 = 19;
    pub const FLOAT64: u8 = 20;
    pub const STRING: u8 = 21;
    pub const LIST: u8 = 22;
    pub const MAP: u8 = 24;
    pub const NAMED_ENUM: u8 = 26;
    pub const NAMED_STRUCT: u8 = 29;
    pub const BINARY: u8 = 41;
}

/// The declared type of a field, list element or map entry.
///
/// It is `Copy` and `const`-constructible so a wire-type derive can describe
/// a struct in a `const` table (`<T as WireField>::TYPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Bool,
    Int8,
    Int16,
    /// Zigzag varint32; pyfory `int32`.
    Int32,
    /// Zigzag varint64; Python `int`.
    Int64,
    Float32,
    Float64,
    String,
    /// Python `bytes`.
    Bytes,
    List(&'static FieldType),
    Map(&'static FieldType, &'static FieldType),
    /// `Optional[T]`: a null flag precedes the value.
    Optional(&'static FieldType),
    /// A named struct.
    Struct(NamedType),
    /// A named enum, sent as its ordinal.
    Enum(NamedType),
}

/// A named struct or enum as a field type: its tag, and a way to reach its
/// own description so that walks over the type graph (strict JSON, contract
/// identity, manifests) can descend into it. A function, not a reference,
/// because recursive types would otherwise be cyclic constants.
#[derive(Clone, Copy)]
pub struct NamedType {
    /// `"namespace/TypeName"`.
    pub tag: &'static str,
    pub describe: fn() -> TypeDesc,
    /// A struct's encoded type info (`None` for enums).
    pub type_info: Option<fn() -> &'static super::StructTypeInfo>,
}

impl std::fmt::Debug for NamedType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.tag)
    }
}

impl PartialEq for NamedType {
    fn eq(&self, other: &Self) -> bool {
        self.tag == other.tag
    }
}

impl Eq for NamedType {}

/// The body of a named type.
#[derive(Debug, Clone, Copy)]
pub enum TypeDesc {
    /// Fields in declaration order.
    Struct(&'static [FieldDesc]),
    /// Variant names in declaration order (the ordinal is the index).
    Enum(&'static [&'static str]),
}

impl FieldType {
    /// Fory type id of the (unwrapped) type as written in type info.
    pub const fn type_id(&self) -> u8 {
        match self {
            FieldType::Bool => type_id::BOOL,
            FieldType::Int8 => type_id::INT8,
            FieldType::Int16 => type_id::INT16,
            FieldType::Int32 => type_id::VARINT32,
            FieldType::Int64 => type_id::VARINT64,
            FieldType::Float32 => type_id::FLOAT32,
            FieldType::Float64 => type_id::FLOAT64,
            FieldType::String => type_id::STRING,
            FieldType::Bytes => type_id::BINARY,
            FieldType::List(_) => type_id::LIST,
            FieldType::Map(..) => type_id::MAP,
            FieldType::Optional(inner) => inner.type_id(),
            FieldType::Struct(_) => type_id::NAMED_STRUCT,
            FieldType::Enum(_) => type_id::NAMED_ENUM,
        }
    }

    /// True for `Optional(Optional(..))` anywhere in the type: pyfory has no
    /// such shape, so wire types must not declare it.
    pub const fn has_nested_optional(&self) -> bool {
        match self {
            FieldType::Optional(FieldType::Optional(_)) => true,
            FieldType::Optional(inner) | FieldType::List(inner) => inner.has_nested_optional(),
            FieldType::Map(k, v) => k.has_nested_optional() || v.has_nested_optional(),
            _ => false,
        }
    }

    /// The shape used for ordering and hashing.
    pub fn kind(&self) -> FieldKind {
        match self {
            FieldType::Optional(inner) => FieldKind {
                type_id: inner.type_id(),
                nullable: true,
            },
            other => FieldKind {
                type_id: other.type_id(),
                nullable: false,
            },
        }
    }
}

/// One field of a struct as a derive declares it.
#[derive(Debug, Clone, Copy)]
pub struct FieldDesc {
    /// The name on the wire (and in the fingerprint): as declared or renamed.
    pub name: &'static str,
    pub ty: FieldType,
}

/// What ordering and hashing need to know about a field's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldKind {
    pub type_id: u8,
    pub nullable: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Group {
    Primitive,
    NullablePrimitive,
    Internal,
    List,
    Map,
    Other,
}

fn primitive_size(id: u8) -> Option<i32> {
    Some(match id {
        type_id::BOOL | type_id::INT8 => 1,
        type_id::INT16 => 2,
        type_id::VARINT32 | type_id::FLOAT32 => 4,
        type_id::VARINT64 | type_id::FLOAT64 => 8,
        _ => return None,
    })
}

fn is_compressed(id: u8) -> bool {
    matches!(id, type_id::VARINT32 | type_id::VARINT64)
}

fn group_of(kind: FieldKind) -> Group {
    match kind.type_id {
        id if primitive_size(id).is_some() => {
            if kind.nullable {
                Group::NullablePrimitive
            } else {
                Group::Primitive
            }
        }
        type_id::LIST => Group::List,
        type_id::MAP => Group::Map,
        type_id::NAMED_STRUCT | type_id::NAMED_ENUM | type_id::UNKNOWN => Group::Other,
        _ => Group::Internal,
    }
}

/// The wire order and version hash of a struct, computed once per type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructLayout {
    /// Indices into the declared field list, in wire order.
    pub order: Vec<usize>,
    /// The struct version hash written before the fields.
    pub hash: i32,
    /// The fingerprint the hash was computed from (kept for diagnostics).
    pub fingerprint: String,
}

impl StructLayout {
    /// Computes the layout from `(wire name, kind)` pairs in declaration order.
    pub fn new<'a>(fields: impl IntoIterator<Item = (&'a str, FieldKind)>) -> StructLayout {
        let fields: Vec<(&str, FieldKind)> = fields.into_iter().collect();
        let mut order: Vec<usize> = (0..fields.len()).collect();
        order.sort_by(|&a, &b| {
            let (name_a, ka) = fields[a];
            let (name_b, kb) = fields[b];
            let (ga, gb) = (group_of(ka), group_of(kb));
            ga.cmp(&gb).then_with(|| match ga {
                Group::Primitive | Group::NullablePrimitive => {
                    let key = |k: FieldKind| {
                        (
                            is_compressed(k.type_id),
                            -primitive_size(k.type_id).unwrap_or(0),
                            -i32::from(k.type_id),
                        )
                    };
                    key(ka).cmp(&key(kb)).then_with(|| name_a.cmp(name_b))
                }
                Group::Other => name_a.cmp(name_b),
                _ => ka.type_id.cmp(&kb.type_id).then_with(|| name_a.cmp(name_b)),
            })
        });

        let mut by_name: Vec<&(&str, FieldKind)> = fields.iter().collect();
        by_name.sort_by(|a, b| a.0.cmp(b.0));
        let mut fingerprint = String::new();
        for (name, kind) in by_name {
            let id = match kind.type_id {
                type_id::NAMED_STRUCT | type_id::NAMED_ENUM => type_id::UNKNOWN,
                id => id,
            };
            fingerprint.push_str(&format!("{name},{id},0,{};", u8::from(kind.nullable)));
        }
        let hash = if fingerprint.is_empty() {
            47
        } else {
            murmur3_x64_128(fingerprint.as_bytes(), 47).0 as u32 as i32
        };
        StructLayout {
            order,
            hash,
            fingerprint,
        }
    }

    /// Layout of a statically described struct.
    pub fn from_descs(fields: &[FieldDesc]) -> StructLayout {
        StructLayout::new(fields.iter().map(|f| (f.name, f.ty.kind())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST_STR: FieldType = FieldType::List(&FieldType::String);

    #[test]
    fn stream_header_layout_matches_reference() {
        let fields = [
            FieldDesc {
                name: "service",
                ty: FieldType::String,
            },
            FieldDesc {
                name: "method",
                ty: FieldType::String,
            },
            FieldDesc {
                name: "version",
                ty: FieldType::Int64,
            },
            FieldDesc {
                name: "callId",
                ty: FieldType::String,
            },
            FieldDesc {
                name: "deadlineEpochMs",
                ty: FieldType::Int64,
            },
            FieldDesc {
                name: "serializationMode",
                ty: FieldType::Int64,
            },
            FieldDesc {
                name: "metadataKeys",
                ty: LIST_STR,
            },
            FieldDesc {
                name: "metadataValues",
                ty: LIST_STR,
            },
        ];
        let layout = StructLayout::from_descs(&fields);
        assert_eq!(
            layout.fingerprint,
            "callId,21,0,0;deadlineEpochMs,7,0,0;metadataKeys,22,0,0;metadataValues,22,0,0;\
             method,21,0,0;serializationMode,7,0,0;service,21,0,0;version,7,0,0;"
        );
        assert_eq!(layout.hash.to_le_bytes(), [0xa4, 0x05, 0x18, 0xde]);
        let names: Vec<_> = layout.order.iter().map(|&i| fields[i].name).collect();
        assert_eq!(
            names,
            [
                "deadlineEpochMs",
                "serializationMode",
                "version",
                "callId",
                "method",
                "service",
                "metadataKeys",
                "metadataValues"
            ]
        );
    }

    #[test]
    fn count_request_int32_hash() {
        let layout = StructLayout::from_descs(&[FieldDesc {
            name: "count",
            ty: FieldType::Int32,
        }]);
        assert_eq!(layout.hash.to_le_bytes(), [0xae, 0x6f, 0xd0, 0x21]);
    }

    #[test]
    fn nested_optional_is_detected() {
        const BAD: FieldType =
            FieldType::List(&FieldType::Optional(&FieldType::Optional(&FieldType::Bool)));
        assert!(BAD.has_nested_optional());
        assert!(!FieldType::Optional(&LIST_STR).has_nested_optional());
    }
}
