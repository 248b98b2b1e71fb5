//! Typed encoding: [`WireField`] for every supported Rust type and
//! [`WireStruct`] for named structs.
//!
//! pyfory writes a value in one of three positions, and they differ:
//! - a *struct field* ([`write_field`]): an `Optional` gets a null flag, and a
//!   nested struct is preceded by its type info (pyfory treats struct-typed
//!   fields as polymorphic);
//! - a *list element or map entry* of a declared type: the raw value only,
//!   structs included (no type info);
//! - the *root*: header, flag, type info, body (see [`super::encode_into`]).
//!
//! `write_raw`/`read_raw` are the position-free encoding; the position rules
//! live in [`write_field`], the list and the map impls.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hash};

use bytes::{BufMut, Bytes};

use super::layout::{FieldDesc, FieldType, StructLayout};
use super::string::{read_small_string, read_string, write_string};
use super::{DecodeError, NOT_NULL_FLAG, NULL_FLAG, XBufMut, XlangReader, XlangWriter};

/// A Rust type with an XLANG encoding.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no Aster wire encoding",
    label = "not a wire type",
    note = "wire fields are String, bool, f64, f32, i64, i32, i16, i8, Vec<u8>, bytes::Bytes, Option<T>, Vec<T>, \
            HashMap<K, V>, BTreeMap<K, V>, Box<T>, and structs or fieldless enums with #[derive(WireType)]"
)]
pub trait WireField: Sized {
    /// The declared type, used for field order, hashing and type checks.
    const TYPE: FieldType;

    /// Writes the value without null flag or type info.
    fn write_raw(&self, w: &mut XlangWriter<'_, '_>);

    /// Reads a value written by [`WireField::write_raw`].
    fn read_raw(r: &mut XlangReader<'_>) -> Result<Self, DecodeError>;

    /// True only for `None` of an `Option`.
    #[doc(hidden)]
    fn is_null(&self) -> bool {
        false
    }

    /// The null value, if the type has one (`Some(None)` for `Option`).
    #[doc(hidden)]
    fn null() -> Option<Self> {
        None
    }
}

/// A named struct: the wire-type derive implements this (and [`WireField`]
/// through [`write_struct_body`] / [`read_struct_body`]).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a wire struct",
    label = "requests and responses are wire structs",
    note = "add #[derive(WireType)] and #[wire(tag = \"namespace/Name\")] to the struct"
)]
pub trait WireStruct: WireField {
    /// `"namespace/TypeName"`.
    const TAG: &'static str;
    /// Fields in declaration order, with their wire names.
    const FIELDS: &'static [FieldDesc];

    /// The layout of [`WireStruct::FIELDS`], computed once (`OnceLock`).
    fn layout() -> &'static StructLayout;

    /// The encoded type info of [`WireStruct::TAG`], computed once.
    fn type_info() -> &'static super::StructTypeInfo;

    /// Writes field `index` (declaration order) in struct-field position.
    fn write_field_at(&self, index: usize, w: &mut XlangWriter<'_, '_>);

    /// Reads all fields; `order` is the wire order of declaration indices.
    fn read_fields(r: &mut XlangReader<'_>, order: &[usize]) -> Result<Self, DecodeError>;
}

/// Writes the version hash and the fields in wire order.
pub fn write_struct_body<T: WireStruct>(value: &T, w: &mut XlangWriter<'_, '_>) {
    let layout = T::layout();
    w.buf.put_i32_le(layout.hash);
    for &i in &layout.order {
        value.write_field_at(i, w);
    }
}

/// Reads a struct body, checking the version hash first.
pub fn read_struct_body<T: WireStruct>(r: &mut XlangReader<'_>) -> Result<T, DecodeError> {
    let layout = T::layout();
    let found = r.r.i32_le()?;
    if found != layout.hash {
        return Err(DecodeError::HashMismatch {
            tag: T::TAG.to_string(),
            expected: layout.hash as u32,
            found: found as u32,
        });
    }
    r.enter()?;
    let value = T::read_fields(r, &layout.order);
    r.leave();
    value
}

/// Writes `value` in struct-field position.
pub fn write_field<T: WireField>(value: &T, w: &mut XlangWriter<'_, '_>) {
    let mut ty = &T::TYPE;
    if let FieldType::Optional(inner) = ty {
        if value.is_null() {
            w.buf.put_u8(NULL_FLAG);
            return;
        }
        w.buf.put_u8(NOT_NULL_FLAG);
        ty = inner;
    }
    if let FieldType::Struct(named) = ty {
        match named.type_info {
            Some(info) => w.write_static_struct_type_info(info()),
            None => w.write_struct_type_info(named.tag),
        }
    }
    value.write_raw(w);
}

/// Reads a value in struct-field position.
pub fn read_field<T: WireField>(r: &mut XlangReader<'_>) -> Result<T, DecodeError> {
    let mut ty = &T::TYPE;
    if let FieldType::Optional(inner) = ty {
        let offset = r.r.position();
        if !r.value_flag()? {
            return T::null().ok_or(DecodeError::UnexpectedNull { offset });
        }
        ty = inner;
    }
    if let FieldType::Struct(_) = ty {
        r.expect_type_info(ty)?;
    }
    T::read_raw(r)
}

macro_rules! scalar {
    ($t:ty, $ft:expr, |$v:ident, $w:ident| $write:expr, |$r:ident| $read:expr) => {
        impl WireField for $t {
            const TYPE: FieldType = $ft;
            #[inline]
            fn write_raw(&self, $w: &mut XlangWriter<'_, '_>) {
                let $v = *self;
                $write
            }
            #[inline]
            fn read_raw($r: &mut XlangReader<'_>) -> Result<Self, DecodeError> {
                $read
            }
        }
    };
}

scalar!(
    bool,
    FieldType::Bool,
    |v, w| w.buf.put_u8(u8::from(v)),
    |r| r.bool()
);
scalar!(i8, FieldType::Int8, |v, w| w.buf.put_i8(v), |r| r.r.i8());
scalar!(i16, FieldType::Int16, |v, w| w.buf.put_i16_le(v), |r| r
    .r
    .i16_le());
scalar!(i32, FieldType::Int32, |v, w| w.buf.put_var_i32(v), |r| r
    .r
    .var_i32());
scalar!(i64, FieldType::Int64, |v, w| w.buf.put_var_i64(v), |r| r
    .r
    .var_i64());
scalar!(f32, FieldType::Float32, |v, w| w.buf.put_f32_le(v), |r| r
    .r
    .f32_le());
scalar!(f64, FieldType::Float64, |v, w| w.buf.put_f64_le(v), |r| r
    .r
    .f64_le());

impl WireField for String {
    const TYPE: FieldType = FieldType::String;
    #[inline]
    fn write_raw(&self, w: &mut XlangWriter<'_, '_>) {
        write_string(w.buf, self);
    }
    #[inline]
    fn read_raw(r: &mut XlangReader<'_>) -> Result<Self, DecodeError> {
        read_string(&mut r.r)
    }
}

/// The same wire type as `String`.
impl WireField for crate::SmallString {
    const TYPE: FieldType = FieldType::String;
    #[inline]
    fn write_raw(&self, w: &mut XlangWriter<'_, '_>) {
        write_string(w.buf, self);
    }
    #[inline]
    fn read_raw(r: &mut XlangReader<'_>) -> Result<Self, DecodeError> {
        read_small_string(&mut r.r)
    }
}

fn write_binary(w: &mut XlangWriter<'_, '_>, data: &[u8]) {
    w.buf.put_var_u32(data.len() as u32);
    w.buf.put_slice(data);
}

fn read_binary<'a>(r: &mut XlangReader<'a>) -> Result<&'a [u8], DecodeError> {
    let n = r.r.length(1)?;
    r.r.take(n)
}

/// Python `bytes`.
impl WireField for Vec<u8> {
    const TYPE: FieldType = FieldType::Bytes;
    fn write_raw(&self, w: &mut XlangWriter<'_, '_>) {
        write_binary(w, self);
    }
    fn read_raw(r: &mut XlangReader<'_>) -> Result<Self, DecodeError> {
        Ok(read_binary(r)?.to_vec())
    }
}

/// Python `bytes`, without a copy on the way out.
impl WireField for Bytes {
    const TYPE: FieldType = FieldType::Bytes;
    fn write_raw(&self, w: &mut XlangWriter<'_, '_>) {
        w.buf.put_var_u32(self.len() as u32);
        w.put_bytes(self);
    }
    fn read_raw(r: &mut XlangReader<'_>) -> Result<Self, DecodeError> {
        let part = read_binary(r)?;
        Ok(r.bytes_of(part))
    }
}

impl<T: WireField> WireField for Option<T> {
    const TYPE: FieldType = FieldType::Optional(&T::TYPE);
    fn write_raw(&self, w: &mut XlangWriter<'_, '_>) {
        // Containers write the null flag themselves; only present values
        // reach here.
        if let Some(v) = self {
            v.write_raw(w);
        }
    }
    fn read_raw(r: &mut XlangReader<'_>) -> Result<Self, DecodeError> {
        T::read_raw(r).map(Some)
    }
    fn is_null(&self) -> bool {
        self.is_none()
    }
    fn null() -> Option<Self> {
        Some(None)
    }
}

/// A box is invisible on the wire; it lets a struct contain itself
/// (`next: Option<Box<Node>>`).
impl<T: WireField> WireField for Box<T> {
    const TYPE: FieldType = T::TYPE;
    fn write_raw(&self, w: &mut XlangWriter<'_, '_>) {
        (**self).write_raw(w);
    }
    fn read_raw(r: &mut XlangReader<'_>) -> Result<Self, DecodeError> {
        T::read_raw(r).map(Box::new)
    }
    fn is_null(&self) -> bool {
        (**self).is_null()
    }
    fn null() -> Option<Self> {
        T::null().map(Box::new)
    }
}

/// Collection header bits (pyfory `COLL_*`).
const COLL_TRACKING_REF: u8 = 0x01;
const COLL_HAS_NULL: u8 = 0x02;
const COLL_DECL_ELEMENT_TYPE: u8 = 0x04;
const COLL_SAME_TYPE: u8 = 0x08;

/// Writes the element of a declared-type container, with a null flag when
/// the container announced nulls.
fn write_elem<T: WireField>(v: &T, with_flag: bool, w: &mut XlangWriter<'_, '_>) {
    if with_flag {
        if v.is_null() {
            w.buf.put_u8(NULL_FLAG);
            return;
        }
        w.buf.put_u8(NOT_NULL_FLAG);
    }
    v.write_raw(w);
}

/// The declared type of elements, unwrapped from `Optional`.
fn elem_type(ty: &FieldType) -> &FieldType {
    match ty {
        FieldType::Optional(inner) => inner,
        other => other,
    }
}

impl<T: WireField> WireField for Vec<T> {
    const TYPE: FieldType = FieldType::List(&T::TYPE);

    fn write_raw(&self, w: &mut XlangWriter<'_, '_>) {
        w.buf.put_var_u32(self.len() as u32);
        if self.is_empty() {
            return;
        }
        let has_null = self.iter().any(WireField::is_null);
        let header =
            COLL_DECL_ELEMENT_TYPE | COLL_SAME_TYPE | if has_null { COLL_HAS_NULL } else { 0 };
        w.buf.put_u8(header);
        for v in self {
            write_elem(v, has_null, w);
        }
    }

    fn read_raw(r: &mut XlangReader<'_>) -> Result<Self, DecodeError> {
        let len = r.r.length(1)?;
        let mut out = Vec::with_capacity(len);
        if len == 0 {
            return Ok(out);
        }
        let offset = r.r.position();
        let header = r.r.u8()?;
        let per_elem_type = header & COLL_SAME_TYPE == 0;
        if header & !(COLL_TRACKING_REF | COLL_HAS_NULL | COLL_DECL_ELEMENT_TYPE | COLL_SAME_TYPE)
            != 0
            || (per_elem_type && header & COLL_DECL_ELEMENT_TYPE != 0)
        {
            return Err(DecodeError::BadCollectionHeader { offset, header });
        }
        if !per_elem_type && header & COLL_DECL_ELEMENT_TYPE == 0 {
            r.expect_type_info(elem_type(&T::TYPE))?;
        }
        let flagged = header & (COLL_HAS_NULL | COLL_TRACKING_REF) != 0;
        r.enter()?;
        for _ in 0..len {
            let offset = r.r.position();
            if flagged && !r.value_flag()? {
                out.push(T::null().ok_or(DecodeError::UnexpectedNull { offset })?);
                continue;
            }
            if per_elem_type {
                r.expect_type_info(elem_type(&T::TYPE))?;
            }
            out.push(T::read_raw(r)?);
        }
        r.leave();
        Ok(out)
    }
}

/// Map chunk header bits (pyfory).
const TRACKING_KEY_REF: u8 = 0x01;
const KEY_HAS_NULL: u8 = 0x02;
const KEY_DECL_TYPE: u8 = 0x04;
const TRACKING_VALUE_REF: u8 = 0x08;
const VALUE_HAS_NULL: u8 = 0x10;
const VALUE_DECL_TYPE: u8 = 0x20;
/// pyfory starts a new chunk after 255 entries.
const MAX_CHUNK: u8 = 255;

/// Writes map entries in iteration order: runs of non-null entries as chunks
/// of at most 255, each null-valued entry on its own (pyfory's layout).
pub(crate) fn write_map_entries<'e, K, V>(
    len: usize,
    entries: impl Iterator<Item = (&'e K, &'e V)>,
    w: &mut XlangWriter<'_, '_>,
) where
    K: WireField + 'e,
    V: WireField + 'e,
{
    w.buf.put_var_u32(len as u32);
    // Offset of the open chunk's size byte, and its count.
    let mut chunk: Option<(usize, u8)> = None;
    for (k, v) in entries {
        if v.is_null() {
            chunk = None;
            w.buf.put_u8(VALUE_HAS_NULL | KEY_DECL_TYPE);
            k.write_raw(w);
            continue;
        }
        let (at, count) = match chunk {
            Some((at, count)) if count < MAX_CHUNK => (at, count),
            _ => {
                w.buf.put_u8(KEY_DECL_TYPE | VALUE_DECL_TYPE);
                w.buf.put_u8(0);
                (w.buf.len() - 1, 0)
            }
        };
        k.write_raw(w);
        v.write_raw(w);
        w.buf[at] = count + 1;
        chunk = Some((at, count + 1));
    }
}

/// Reads map entries, handing each to `insert`.
pub(crate) fn read_map_entries<K, V>(
    r: &mut XlangReader<'_>,
    mut insert: impl FnMut(K, V),
) -> Result<(), DecodeError>
where
    K: WireField,
    V: WireField,
{
    let mut left = r.r.length(2)?;
    r.enter()?;
    while left > 0 {
        let offset = r.r.position();
        let header = r.r.u8()?;
        if header & KEY_HAS_NULL != 0 {
            return Err(DecodeError::UnexpectedNull { offset });
        }
        if header & VALUE_HAS_NULL != 0 {
            if header & TRACKING_KEY_REF != 0 && !r.value_flag()? {
                return Err(DecodeError::UnexpectedNull { offset });
            }
            if header & KEY_DECL_TYPE == 0 {
                r.expect_type_info(elem_type(&K::TYPE))?;
            }
            let key = K::read_raw(r)?;
            let value = V::null().ok_or(DecodeError::UnexpectedNull { offset })?;
            insert(key, value);
            left -= 1;
            continue;
        }
        let size = usize::from(r.r.u8()?);
        if size == 0 || size > left {
            return Err(DecodeError::BadCollectionHeader { offset, header });
        }
        if header & KEY_DECL_TYPE == 0 {
            r.expect_type_info(elem_type(&K::TYPE))?;
        }
        if header & VALUE_DECL_TYPE == 0 {
            r.expect_type_info(elem_type(&V::TYPE))?;
        }
        for _ in 0..size {
            if header & TRACKING_KEY_REF != 0 && !r.value_flag()? {
                return Err(DecodeError::UnexpectedNull { offset });
            }
            let key = K::read_raw(r)?;
            let value_offset = r.r.position();
            let value = if header & TRACKING_VALUE_REF != 0 && !r.value_flag()? {
                V::null().ok_or(DecodeError::UnexpectedNull {
                    offset: value_offset,
                })?
            } else {
                V::read_raw(r)?
            };
            insert(key, value);
        }
        left -= size;
    }
    r.leave();
    Ok(())
}

impl<K, V, S> WireField for HashMap<K, V, S>
where
    K: WireField + Eq + Hash,
    V: WireField,
    S: BuildHasher + Default,
{
    const TYPE: FieldType = FieldType::Map(&K::TYPE, &V::TYPE);
    fn write_raw(&self, w: &mut XlangWriter<'_, '_>) {
        write_map_entries(self.len(), self.iter(), w);
    }
    fn read_raw(r: &mut XlangReader<'_>) -> Result<Self, DecodeError> {
        let mut out = HashMap::default();
        read_map_entries(r, |k, v| {
            out.insert(k, v);
        })?;
        Ok(out)
    }
}

impl<K: WireField + Ord, V: WireField> WireField for BTreeMap<K, V> {
    const TYPE: FieldType = FieldType::Map(&K::TYPE, &V::TYPE);
    fn write_raw(&self, w: &mut XlangWriter<'_, '_>) {
        write_map_entries(self.len(), self.iter(), w);
    }
    fn read_raw(r: &mut XlangReader<'_>) -> Result<Self, DecodeError> {
        let mut out = BTreeMap::new();
        read_map_entries(r, |k, v| {
            out.insert(k, v);
        })?;
        Ok(out)
    }
}

/// Declares a named XLANG struct for an existing Rust struct: implements
/// [`WireStruct`], [`WireField`] and JSON mode. Every field of the struct must
/// be listed (the generated constructor fails to compile otherwise), with its
/// wire name. The struct implements `Default`: like the reference's
/// dataclasses, every field has a default, which a JSON object may omit.
///
/// ```
/// # use aster_proto::wire_struct;
/// #[derive(Debug, Default, PartialEq)]
/// pub struct StatusRequest { pub agent_id: String }
/// wire_struct!(StatusRequest, "mission/StatusRequest", { agent_id: String => "agent_id" });
///
/// let bytes = aster_proto::xlang::to_bytes(&StatusRequest { agent_id: "a1".into() });
/// let back: StatusRequest = aster_proto::xlang::decode(&bytes).unwrap();
/// assert_eq!(back.agent_id, "a1");
/// ```
#[macro_export]
macro_rules! wire_struct {
    ($t:ty, $tag:literal, { $($field:ident : $fty:ty => $name:literal),* $(,)? }) => {
        const _: () = {
            $(assert!(
                !<$fty as $crate::xlang::WireField>::TYPE.has_nested_optional(),
                "Option<Option<T>> has no XLANG encoding"
            );)*
        };

        impl $crate::xlang::WireStruct for $t {
            const TAG: &'static str = $tag;
            const FIELDS: &'static [$crate::xlang::FieldDesc] = &[
                $($crate::xlang::FieldDesc {
                    name: $name,
                    ty: <$fty as $crate::xlang::WireField>::TYPE,
                }),*
            ];

            fn layout() -> &'static $crate::xlang::StructLayout {
                static LAYOUT: ::std::sync::OnceLock<$crate::xlang::StructLayout> =
                    ::std::sync::OnceLock::new();
                LAYOUT.get_or_init(|| $crate::xlang::StructLayout::from_descs(Self::FIELDS))
            }

            fn type_info() -> &'static $crate::xlang::StructTypeInfo {
                static INFO: ::std::sync::OnceLock<$crate::xlang::StructTypeInfo> =
                    ::std::sync::OnceLock::new();
                INFO.get_or_init(|| $crate::xlang::StructTypeInfo::build($tag))
            }

            #[allow(unused_variables)]
            fn write_field_at(&self, index: usize, w: &mut $crate::xlang::XlangWriter<'_, '_>) {
                #[allow(non_camel_case_types, dead_code)]
                enum __AsterFieldIndex { $($field),* }
                $(if index == __AsterFieldIndex::$field as usize {
                    $crate::xlang::write_field(&self.$field, w);
                    return;
                })*
            }

            #[allow(unused_variables, unused_mut)]
            fn read_fields(
                r: &mut $crate::xlang::XlangReader<'_>,
                order: &[usize],
            ) -> ::core::result::Result<Self, $crate::xlang::DecodeError> {
                #[allow(non_camel_case_types, dead_code)]
                enum __AsterFieldIndex { $($field),* }
                $(let mut $field: ::core::option::Option<$fty> = None;)*
                for &i in order {
                    $(if i == __AsterFieldIndex::$field as usize {
                        $field = Some($crate::xlang::read_field(r)?);
                        continue;
                    })*
                }
                Ok(Self {
                    $($field: $field.ok_or_else(|| {
                        $crate::xlang::DecodeError::OutOfRange(concat!("field ", $name, " missing from the layout").into())
                    })?,)*
                })
            }
        }

        impl $crate::codec::json::WireJson for $t {
            fn to_json(&self) -> $crate::__private::serde_json::Value {
                let mut map = $crate::__private::serde_json::Map::new();
                $(map.insert($name.to_string(), $crate::codec::json::WireJson::to_json(&self.$field));)*
                $crate::__private::serde_json::Value::Object(map)
            }
            #[allow(unused_mut)]
            fn from_json(
                value: $crate::__private::serde_json::Value,
                path: &str,
            ) -> ::core::result::Result<Self, $crate::Status> {
                let mut obj = $crate::codec::json::JsonObject::open(
                    value,
                    path,
                    <$t as $crate::xlang::WireStruct>::FIELDS,
                )?;
                let defaults = <$t as ::core::default::Default>::default();
                Ok(Self { $($field: obj.field_or($name, defaults.$field)?,)* })
            }
            fn json_default() -> Self {
                <$t as ::core::default::Default>::default()
            }
        }

        impl $crate::xlang::WireField for $t {
            const TYPE: $crate::xlang::FieldType = $crate::xlang::FieldType::Struct($crate::xlang::NamedType {
                tag: $tag,
                describe: || $crate::xlang::TypeDesc::Struct(<$t as $crate::xlang::WireStruct>::FIELDS),
                type_info: Some(<$t as $crate::xlang::WireStruct>::type_info),
            });
            fn write_raw(&self, w: &mut $crate::xlang::XlangWriter<'_, '_>) {
                $crate::xlang::write_struct_body(self, w)
            }
            fn read_raw(
                r: &mut $crate::xlang::XlangReader<'_>,
            ) -> ::core::result::Result<Self, $crate::xlang::DecodeError> {
                $crate::xlang::read_struct_body(r)
            }
        }
    };
}

/// Declares an XLANG named enum for a fieldless Rust enum: sent as the
/// variant's ordinal (declaration order), like pyfory sends a Python `Enum`.
/// Variant names are the wire names (Python member names).
#[macro_export]
macro_rules! wire_enum {
    ($t:ty, $tag:literal, { $first:ident $(, $variant:ident)* $(,)? }) => {
        impl $crate::xlang::WireField for $t {
            const TYPE: $crate::xlang::FieldType = $crate::xlang::FieldType::Enum($crate::xlang::NamedType {
                tag: $tag,
                describe: || $crate::xlang::TypeDesc::Enum(&[stringify!($first), $(stringify!($variant)),*]),
                type_info: None,
            });
            fn write_raw(&self, w: &mut $crate::xlang::XlangWriter<'_, '_>) {
                #[allow(dead_code, non_camel_case_types)]
                enum __AsterOrdinal { $first, $($variant),* }
                let ordinal = match self { <$t>::$first => __AsterOrdinal::$first as u32, $(<$t>::$variant => __AsterOrdinal::$variant as u32),* };
                $crate::xlang::XBufMut::put_var_u32(w.buf, ordinal);
            }
            fn read_raw(
                r: &mut $crate::xlang::XlangReader<'_>,
            ) -> ::core::result::Result<Self, $crate::xlang::DecodeError> {
                #[allow(dead_code, non_camel_case_types)]
                enum __AsterOrdinal { $first, $($variant),* }
                let ordinal = r.r.var_u32()?;
                if ordinal == __AsterOrdinal::$first as u32 {
                    return Ok(<$t>::$first);
                }
                $(if ordinal == __AsterOrdinal::$variant as u32 {
                    return Ok(<$t>::$variant);
                })*
                Err($crate::xlang::DecodeError::BadEnumOrdinal { tag: $tag.into(), ordinal })
            }
        }

        /// JSON carries the variant name.
        impl $crate::codec::json::WireJson for $t {
            fn to_json(&self) -> $crate::__private::serde_json::Value {
                let name = match self { <$t>::$first => stringify!($first), $(<$t>::$variant => stringify!($variant)),* };
                $crate::__private::serde_json::Value::String(name.to_string())
            }
            fn from_json(
                value: $crate::__private::serde_json::Value,
                path: &str,
            ) -> ::core::result::Result<Self, $crate::Status> {
                match value.as_str() {
                    Some(stringify!($first)) => Ok(<$t>::$first),
                    $(Some(stringify!($variant)) => Ok(<$t>::$variant),)*
                    _ => Err($crate::codec::json::type_mismatch(path, concat!("a variant of ", $tag), &value)),
                }
            }
            fn json_default() -> Self {
                <$t>::$first
            }
        }
    };
}
