//! Schema-driven XLANG for values whose Rust types are not known at compile
//! time: a client that learned a service's types from its manifest, or the
//! conformance runner. Encoding follows exactly the position rules of the
//! typed path (see `typed.rs`); both share the layout computation.

use std::collections::HashMap;

use bytes::{BufMut, BytesMut};

use super::layout::{FieldKind, StructLayout, type_id};
use super::string::{read_string, write_string};
use super::{
    DecodeError, HEADER_XLANG, NOT_NULL_FLAG, NULL_FLAG, XBufMut, XlangReader, XlangWriter,
};

/// A declared type, owning its parts (the runtime twin of `FieldType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DynType {
    Bool,
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    String,
    Bytes,
    List(Box<DynType>),
    Map(Box<DynType>, Box<DynType>),
    Optional(Box<DynType>),
    /// A struct or enum of the registry, by wire tag.
    Named(String),
}

/// A value of some [`DynType`]. Struct fields are in declaration order.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Bytes(Vec<u8>),
    List(Vec<Value>),
    Map(Vec<(Value, Value)>),
    Struct(Vec<Value>),
    /// Variant ordinal.
    Enum(u32),
}

/// One field of a [`StructDef`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynField {
    pub name: String,
    pub ty: DynType,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeDef {
    Struct { tag: String, fields: Vec<DynField> },
    Enum { tag: String, variants: Vec<String> },
}

impl TypeDef {
    pub fn tag(&self) -> &str {
        match self {
            TypeDef::Struct { tag, .. } | TypeDef::Enum { tag, .. } => tag,
        }
    }
}

/// A schema problem found when building a [`Registry`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    #[error("type `{0}` is defined twice")]
    Duplicate(String),
    #[error("`{from}` refers to unknown type `{to}`")]
    UnknownRef { from: String, to: String },
    #[error("`{0}` nests Optional inside Optional, which XLANG cannot express")]
    NestedOptional(String),
}

/// A value that does not match its declared type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot encode at {path}: {reason}")]
pub struct EncodeError {
    pub path: String,
    pub reason: String,
}

struct Entry {
    def: TypeDef,
    layout: Option<StructLayout>,
}

/// A closed set of named types.
pub struct Registry {
    types: HashMap<String, Entry>,
}

impl Registry {
    /// Builds the registry, checking that every reference resolves.
    pub fn new(defs: impl IntoIterator<Item = TypeDef>) -> Result<Registry, SchemaError> {
        let mut types: HashMap<String, Entry> = HashMap::new();
        for def in defs {
            let tag = def.tag().to_string();
            if types
                .insert(tag.clone(), Entry { def, layout: None })
                .is_some()
            {
                return Err(SchemaError::Duplicate(tag));
            }
        }
        let mut layouts = Vec::new();
        for (tag, entry) in &types {
            if let TypeDef::Struct { fields, .. } = &entry.def {
                let mut kinds = Vec::with_capacity(fields.len());
                for f in fields {
                    check_type(&types, tag, &f.ty)?;
                    kinds.push((f.name.as_str(), kind_of(&types, &f.ty)));
                }
                layouts.push((tag.clone(), StructLayout::new(kinds)));
            }
        }
        for (tag, layout) in layouts {
            if let Some(e) = types.get_mut(&tag) {
                e.layout = Some(layout);
            }
        }
        Ok(Registry { types })
    }

    pub fn get(&self, tag: &str) -> Option<&TypeDef> {
        self.types.get(tag).map(|e| &e.def)
    }

    /// The struct layout (field order, hash) of a struct type.
    pub fn layout(&self, tag: &str) -> Option<&StructLayout> {
        self.types.get(tag).and_then(|e| e.layout.as_ref())
    }

    /// Encodes a root struct value of type `tag` as a whole payload.
    pub fn encode(&self, tag: &str, value: &Value, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let (tag, entry) = self.types.get_key_value(tag).ok_or_else(|| EncodeError {
            path: tag.into(),
            reason: "unknown type".into(),
        })?;
        if !matches!(entry.def, TypeDef::Struct { .. }) {
            return Err(EncodeError {
                path: tag.clone(),
                reason: "a payload must be a struct".into(),
            });
        }
        buf.put_u8(HEADER_XLANG);
        buf.put_u8(NOT_NULL_FLAG);
        let mut w = XlangWriter::new(buf);
        w.write_struct_type_info(tag);
        self.write_named(tag, value, &mut w, &mut tag.clone())
    }

    /// Decodes a whole payload; returns its tag and value.
    pub fn decode(&self, data: &[u8]) -> Result<(String, Value), DecodeError> {
        let mut r = XlangReader::new(data);
        r.read_root_header()?;
        let offset = r.r.position();
        let tag = match r.read_type_info()? {
            (type_id::NAMED_STRUCT, Some(tag)) => tag,
            (found, _) => {
                return Err(DecodeError::UnexpectedTypeId {
                    offset,
                    expected: type_id::NAMED_STRUCT,
                    found,
                });
            }
        };
        if self.layout(&tag).is_none() {
            return Err(DecodeError::UnknownType(tag));
        }
        let value = self.read_raw(&DynType::Named(tag.clone()), &mut r)?;
        r.finish()?;
        Ok((tag, value))
    }

    fn named(&self, tag: &str) -> Result<&Entry, EncodeError> {
        self.types.get(tag).ok_or_else(|| EncodeError {
            path: tag.into(),
            reason: "unknown type".into(),
        })
    }

    fn write_field<'t>(
        &'t self,
        ty: &'t DynType,
        value: &Value,
        w: &mut XlangWriter<'_, 't>,
        path: &mut String,
    ) -> Result<(), EncodeError> {
        let mut ty = ty;
        if let DynType::Optional(inner) = ty {
            if matches!(value, Value::Null) {
                w.buf.put_u8(NULL_FLAG);
                return Ok(());
            }
            w.buf.put_u8(NOT_NULL_FLAG);
            ty = inner;
        }
        if let DynType::Named(tag) = ty {
            if let TypeDef::Struct { .. } = self.named(tag)?.def {
                w.write_struct_type_info(tag);
            }
        }
        self.write_raw(ty, value, w, path)
    }

    fn write_raw<'t>(
        &'t self,
        ty: &'t DynType,
        value: &Value,
        w: &mut XlangWriter<'_, 't>,
        path: &mut String,
    ) -> Result<(), EncodeError> {
        let mismatch = |path: &str| EncodeError {
            path: path.to_string(),
            reason: format!("{value:?} is not a {ty:?}"),
        };
        let out_of_range = |path: &str| EncodeError {
            path: path.to_string(),
            reason: format!("{value:?} is out of range for {ty:?}"),
        };
        match (ty, value) {
            (DynType::Optional(inner), v) if !matches!(v, Value::Null) => {
                self.write_raw(inner, v, w, path)?
            }
            (DynType::Bool, Value::Bool(b)) => w.buf.put_u8(u8::from(*b)),
            (DynType::Int8, Value::Int(i)) => w
                .buf
                .put_i8(i8::try_from(*i).map_err(|_| out_of_range(path))?),
            (DynType::Int16, Value::Int(i)) => w
                .buf
                .put_i16_le(i16::try_from(*i).map_err(|_| out_of_range(path))?),
            (DynType::Int32, Value::Int(i)) => w
                .buf
                .put_var_i32(i32::try_from(*i).map_err(|_| out_of_range(path))?),
            (DynType::Int64, Value::Int(i)) => w.buf.put_var_i64(*i),
            (DynType::Float32, Value::Float(f)) => w.buf.put_f32_le(*f as f32),
            (DynType::Float64, Value::Float(f)) => w.buf.put_f64_le(*f),
            (DynType::String, Value::String(s)) => write_string(w.buf, s),
            (DynType::Bytes, Value::Bytes(b)) => {
                w.buf.put_var_u32(b.len() as u32);
                w.buf.put_slice(b);
            }
            (DynType::List(elem), Value::List(items)) => {
                w.buf.put_var_u32(items.len() as u32);
                if !items.is_empty() {
                    let has_null = items.iter().any(|v| matches!(v, Value::Null));
                    w.buf.put_u8(0x0c | if has_null { 0x02 } else { 0 });
                    for (i, item) in items.iter().enumerate() {
                        let len = path.len();
                        path.push_str(&format!("[{i}]"));
                        if has_null {
                            if matches!(item, Value::Null) {
                                if !matches!(**elem, DynType::Optional(_)) {
                                    return Err(mismatch(path));
                                }
                                w.buf.put_u8(NULL_FLAG);
                                path.truncate(len);
                                continue;
                            }
                            w.buf.put_u8(NOT_NULL_FLAG);
                        }
                        self.write_raw(elem, item, w, path)?;
                        path.truncate(len);
                    }
                }
            }
            (DynType::Map(kt, vt), Value::Map(entries)) => {
                w.buf.put_var_u32(entries.len() as u32);
                let mut chunk: Option<(usize, u8)> = None;
                for (k, v) in entries {
                    let len = path.len();
                    path.push_str(&format!("[{k:?}]"));
                    if matches!(v, Value::Null) {
                        if !matches!(**vt, DynType::Optional(_)) {
                            return Err(mismatch(path));
                        }
                        chunk = None;
                        w.buf.put_u8(0x14);
                        self.write_raw(kt, k, w, path)?;
                        path.truncate(len);
                        continue;
                    }
                    let (at, count) = match chunk {
                        Some((at, count)) if count < 255 => (at, count),
                        _ => {
                            w.buf.put_u8(0x24);
                            w.buf.put_u8(0);
                            (w.buf.len() - 1, 0)
                        }
                    };
                    self.write_raw(kt, k, w, path)?;
                    self.write_raw(vt, v, w, path)?;
                    w.buf[at] = count + 1;
                    chunk = Some((at, count + 1));
                    path.truncate(len);
                }
            }
            (DynType::Named(tag), value) => self.write_named(tag, value, w, path)?,
            _ => return Err(mismatch(path)),
        }
        Ok(())
    }

    fn write_named<'t>(
        &'t self,
        tag: &'t str,
        value: &Value,
        w: &mut XlangWriter<'_, 't>,
        path: &mut String,
    ) -> Result<(), EncodeError> {
        let mismatch = |path: &str| EncodeError {
            path: path.to_string(),
            reason: format!("{value:?} is not a `{tag}`"),
        };
        match (&self.named(tag)?.def, value) {
            (TypeDef::Enum { variants, .. }, Value::Enum(ordinal)) => {
                if *ordinal as usize >= variants.len() {
                    return Err(EncodeError {
                        path: path.to_string(),
                        reason: format!("`{tag}` has no variant {ordinal}"),
                    });
                }
                w.buf.put_var_u32(*ordinal);
            }
            (TypeDef::Struct { fields, .. }, Value::Struct(values)) => {
                if values.len() != fields.len() {
                    return Err(EncodeError {
                        path: path.clone(),
                        reason: format!(
                            "{} values for {} fields of `{tag}`",
                            values.len(),
                            fields.len()
                        ),
                    });
                }
                let layout = self
                    .named(tag)?
                    .layout
                    .as_ref()
                    .ok_or_else(|| mismatch(path))?;
                w.buf.put_i32_le(layout.hash);
                for &i in &layout.order {
                    let len = path.len();
                    path.push('.');
                    path.push_str(&fields[i].name);
                    self.write_field(&fields[i].ty, &values[i], w, path)?;
                    path.truncate(len);
                }
            }
            _ => return Err(mismatch(path)),
        }
        Ok(())
    }

    fn read_field(&self, ty: &DynType, r: &mut XlangReader<'_>) -> Result<Value, DecodeError> {
        let mut ty = ty;
        if let DynType::Optional(inner) = ty {
            if !r.value_flag()? {
                return Ok(Value::Null);
            }
            ty = inner;
        }
        if let DynType::Named(tag) = ty {
            if let Some(Entry {
                def: TypeDef::Struct { .. },
                ..
            }) = self.types.get(tag)
            {
                self.expect_type_info(ty, r)?;
            }
        }
        self.read_raw(ty, r)
    }

    fn expect_type_info(&self, ty: &DynType, r: &mut XlangReader<'_>) -> Result<(), DecodeError> {
        let offset = r.r.position();
        let (id, tag) = r.read_type_info()?;
        let want = kind_of(&self.types, ty).type_id;
        if id != want {
            return Err(DecodeError::UnexpectedTypeId {
                offset,
                expected: want,
                found: id,
            });
        }
        if let (DynType::Named(want), Some(found)) = (ty, tag) {
            if &found != want {
                return Err(DecodeError::TypeMismatch {
                    expected: want.clone(),
                    found,
                });
            }
        }
        Ok(())
    }

    fn read_raw(&self, ty: &DynType, r: &mut XlangReader<'_>) -> Result<Value, DecodeError> {
        Ok(match ty {
            DynType::Optional(inner) => self.read_raw(inner, r)?,
            DynType::Bool => Value::Bool(r.bool()?),
            DynType::Int8 => Value::Int(i64::from(r.r.i8()?)),
            DynType::Int16 => Value::Int(i64::from(r.r.i16_le()?)),
            DynType::Int32 => Value::Int(i64::from(r.r.var_i32()?)),
            DynType::Int64 => Value::Int(r.r.var_i64()?),
            DynType::Float32 => Value::Float(f64::from(r.r.f32_le()?)),
            DynType::Float64 => Value::Float(r.r.f64_le()?),
            DynType::String => Value::String(read_string(&mut r.r)?),
            DynType::Bytes => {
                let n = r.r.length(1)?;
                Value::Bytes(r.r.take(n)?.to_vec())
            }
            DynType::List(elem) => {
                let len = r.r.length(1)?;
                let mut items = Vec::with_capacity(len);
                if len > 0 {
                    let offset = r.r.position();
                    let header = r.r.u8()?;
                    if header & 0x08 == 0 || header & !0x0f != 0 {
                        return Err(DecodeError::BadCollectionHeader { offset, header });
                    }
                    if header & 0x04 == 0 {
                        self.expect_type_info(unwrap_optional(elem), r)?;
                    }
                    let flagged = header & 0x03 != 0;
                    r.enter()?;
                    for _ in 0..len {
                        let offset = r.r.position();
                        if flagged && !r.value_flag()? {
                            if !matches!(**elem, DynType::Optional(_)) {
                                return Err(DecodeError::UnexpectedNull { offset });
                            }
                            items.push(Value::Null);
                            continue;
                        }
                        items.push(self.read_raw(elem, r)?);
                    }
                    r.leave();
                }
                Value::List(items)
            }
            DynType::Map(kt, vt) => {
                let mut left = r.r.length(2)?;
                let mut entries = Vec::with_capacity(left);
                r.enter()?;
                while left > 0 {
                    let offset = r.r.position();
                    let header = r.r.u8()?;
                    if header & 0x02 != 0 {
                        return Err(DecodeError::UnexpectedNull { offset });
                    }
                    if header & 0x10 != 0 {
                        if !matches!(**vt, DynType::Optional(_)) {
                            return Err(DecodeError::UnexpectedNull { offset });
                        }
                        if header & 0x01 != 0 && !r.value_flag()? {
                            return Err(DecodeError::UnexpectedNull { offset });
                        }
                        if header & 0x04 == 0 {
                            self.expect_type_info(unwrap_optional(kt), r)?;
                        }
                        entries.push((self.read_raw(kt, r)?, Value::Null));
                        left -= 1;
                        continue;
                    }
                    let size = usize::from(r.r.u8()?);
                    if size == 0 || size > left {
                        return Err(DecodeError::BadCollectionHeader { offset, header });
                    }
                    if header & 0x04 == 0 {
                        self.expect_type_info(unwrap_optional(kt), r)?;
                    }
                    if header & 0x20 == 0 {
                        self.expect_type_info(unwrap_optional(vt), r)?;
                    }
                    for _ in 0..size {
                        if header & 0x01 != 0 && !r.value_flag()? {
                            return Err(DecodeError::UnexpectedNull { offset });
                        }
                        let k = self.read_raw(kt, r)?;
                        let v = if header & 0x08 != 0 && !r.value_flag()? {
                            Value::Null
                        } else {
                            self.read_raw(vt, r)?
                        };
                        entries.push((k, v));
                    }
                    left -= size;
                }
                r.leave();
                Value::Map(entries)
            }
            DynType::Named(tag) => {
                let entry = self
                    .types
                    .get(tag)
                    .ok_or_else(|| DecodeError::UnknownType(tag.clone()))?;
                match (&entry.def, &entry.layout) {
                    (TypeDef::Enum { variants, .. }, _) => {
                        let ordinal = r.r.var_u32()?;
                        if ordinal as usize >= variants.len() {
                            return Err(DecodeError::BadEnumOrdinal {
                                tag: tag.clone(),
                                ordinal,
                            });
                        }
                        Value::Enum(ordinal)
                    }
                    (TypeDef::Struct { fields, .. }, Some(layout)) => {
                        let found = r.r.i32_le()?;
                        if found != layout.hash {
                            return Err(DecodeError::HashMismatch {
                                tag: tag.clone(),
                                expected: layout.hash as u32,
                                found: found as u32,
                            });
                        }
                        r.enter()?;
                        let mut values = vec![Value::Null; fields.len()];
                        for &i in &layout.order {
                            values[i] = self.read_field(&fields[i].ty, r)?;
                        }
                        r.leave();
                        Value::Struct(values)
                    }
                    (TypeDef::Struct { .. }, None) => {
                        return Err(DecodeError::UnknownType(tag.clone()));
                    }
                }
            }
        })
    }
}

fn unwrap_optional(ty: &DynType) -> &DynType {
    match ty {
        DynType::Optional(inner) => inner,
        other => other,
    }
}

fn check_type(types: &HashMap<String, Entry>, from: &str, ty: &DynType) -> Result<(), SchemaError> {
    match ty {
        DynType::Optional(inner) => {
            if matches!(**inner, DynType::Optional(_)) {
                return Err(SchemaError::NestedOptional(from.to_string()));
            }
            check_type(types, from, inner)
        }
        DynType::List(inner) => check_type(types, from, inner),
        DynType::Map(k, v) => {
            check_type(types, from, k)?;
            check_type(types, from, v)
        }
        DynType::Named(tag) if !types.contains_key(tag) => Err(SchemaError::UnknownRef {
            from: from.to_string(),
            to: tag.clone(),
        }),
        _ => Ok(()),
    }
}

fn kind_of(types: &HashMap<String, Entry>, ty: &DynType) -> FieldKind {
    let id = |t: &DynType| match t {
        DynType::Bool => type_id::BOOL,
        DynType::Int8 => type_id::INT8,
        DynType::Int16 => type_id::INT16,
        DynType::Int32 => type_id::VARINT32,
        DynType::Int64 => type_id::VARINT64,
        DynType::Float32 => type_id::FLOAT32,
        DynType::Float64 => type_id::FLOAT64,
        DynType::String => type_id::STRING,
        DynType::Bytes => type_id::BINARY,
        DynType::List(_) => type_id::LIST,
        DynType::Map(..) => type_id::MAP,
        DynType::Optional(_) => type_id::UNKNOWN,
        DynType::Named(tag) => match types.get(tag).map(|e| &e.def) {
            Some(TypeDef::Enum { .. }) => type_id::NAMED_ENUM,
            _ => type_id::NAMED_STRUCT,
        },
    };
    match ty {
        DynType::Optional(inner) => FieldKind {
            type_id: id(inner),
            nullable: true,
        },
        other => FieldKind {
            type_id: id(other),
            nullable: false,
        },
    }
}
