//! The subset of Apache Fory's cross-language (XLANG) format that Aster
//! speaks, byte-exact with pyfory 0.16 in the reference's configuration
//! (`Fory(xlang=True)`: no reference tracking, schema-consistent structs).
//! Spec §4.4 describes every byte.
//!
//! A payload is one named struct:
//!
//! ```text
//! 02                 header bitmap: xlang, not null, in-band
//! ff                 root flag: value, no reference tracking
//! 1d                 type id 29, NAMED_STRUCT
//! <ns> <typename>    meta strings (see meta_string)
//! <i32 LE hash>      struct version hash (see layout)
//! <fields>           in pyfory's field order
//! ```
//!
//! Two ways in: typed values implement [`WireField`] / [`WireStruct`] (the
//! protocol messages by hand, user types through the wire-type derive), and
//! [`dynamic`] encodes schema-described [`dynamic::Value`]s for clients that
//! have no Rust types for a service.

pub mod buf;
pub mod dynamic;
pub mod layout;
pub mod meta_string;
pub mod murmur3;
pub mod string;
mod typed;

use std::collections::VecDeque;

use bytes::{BufMut, Bytes, BytesMut};

use crate::small::InlineVec;

pub use buf::{Reader, XBufMut};
pub use layout::{FieldDesc, FieldKind, FieldType, NamedType, StructLayout, TypeDesc};
pub use meta_string::{MetaEncoding, MetaRole, MetaString};
pub use typed::{
    WireField, WireStruct, read_field, read_struct_body, write_field, write_struct_body,
};

/// Header bitmap of every G1 payload: bit 1 = xlang.
pub const HEADER_XLANG: u8 = 0x02;
const HEADER_NULL: u8 = 0x01;
const HEADER_OUT_OF_BAND: u8 = 0x04;
/// Flag before a nullable value that is absent.
pub const NULL_FLAG: u8 = 0xfd;
/// Flag before a value that is present (no reference tracking).
pub const NOT_NULL_FLAG: u8 = 0xff;
/// Flag of a value that starts a new tracked reference; accepted on input.
pub const REF_VALUE_FLAG: u8 = 0x00;
/// Flag of a back-reference to an earlier value; never accepted.
pub const REF_FLAG: u8 = 0xfe;
/// Deepest nesting of structs, lists and maps accepted on input (pyfory: 50).
pub const MAX_DEPTH: u32 = 64;

/// Why a payload could not be decoded. Decoding never panics; every length is
/// checked against the input before anything is allocated for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("payload truncated at byte {offset}: needed {needed} more bytes, {available} left")]
    Truncated {
        offset: usize,
        needed: usize,
        available: usize,
    },
    #[error("malformed varint at byte {offset}")]
    BadVarint { offset: usize },
    #[error("length {length} at byte {offset} exceeds the {available} bytes left")]
    LengthExceedsInput {
        offset: usize,
        length: usize,
        available: usize,
    },
    #[error("header bitmap {0:#04x}: expected 0x02 (xlang, not null, in-band)")]
    BadHeader(u8),
    #[error("unexpected flag {flag:#04x} at byte {offset} (reference tracking is not used)")]
    UnexpectedFlag { offset: usize, flag: u8 },
    #[error("null at byte {offset} where the type has no null")]
    UnexpectedNull { offset: usize },
    #[error("type id {found} at byte {offset}, expected {expected}")]
    UnexpectedTypeId {
        offset: usize,
        expected: u8,
        found: u8,
    },
    #[error("type `{found}` where `{expected}` was expected")]
    TypeMismatch { expected: String, found: String },
    #[error(
        "struct hash {found:#010x} of `{tag}` does not match ours {expected:#010x} (the peer's type has other fields)"
    )]
    HashMismatch {
        tag: String,
        expected: u32,
        found: u32,
    },
    #[error("unknown type `{0}`")]
    UnknownType(String),
    #[error("bad string at byte {offset}: {reason}")]
    BadString { offset: usize, reason: &'static str },
    #[error("bad meta string: {0}")]
    BadMetaString(String),
    #[error("meta string back-reference {id} at byte {offset} points to nothing")]
    BadMetaRef { offset: usize, id: usize },
    #[error("bool byte {value:#04x} at byte {offset} is neither 0 nor 1")]
    BadBool { offset: usize, value: u8 },
    #[error("ordinal {ordinal} is not a variant of enum `{tag}`")]
    BadEnumOrdinal { tag: String, ordinal: u32 },
    #[error("collection header {header:#04x} at byte {offset} is not supported")]
    BadCollectionHeader { offset: usize, header: u8 },
    #[error("nesting deeper than {limit} levels")]
    TooDeep { limit: u32 },
    #[error("{count} trailing bytes after the payload")]
    TrailingBytes { count: usize },
    #[error("value does not fit the declared type: {0}")]
    OutOfRange(String),
}

/// Splits a wire tag at its last `/` into namespace and type name.
pub fn split_tag(tag: &str) -> (&str, &str) {
    match tag.rfind('/') {
        Some(i) => (&tag[..i], &tag[i + 1..]),
        None => ("", tag),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MetaKey<'t> {
    /// pyfory shares one meta-string object among all empty namespaces.
    EmptyNamespace,
    Namespace(&'t str),
    TypeName(&'t str),
}

/// Writes one payload. pyfory writes a type's namespace and type name in
/// full the first time the type appears in a payload and as a back-reference
/// (`(id + 1) << 1 | 1`) afterwards; the writer keeps that table.
pub struct XlangWriter<'b, 't> {
    pub buf: &'b mut BytesMut,
    /// Meta strings written so far (a type or two per payload).
    meta: InlineVec<MetaKey<'t>, 4>,
    /// Where large `Bytes` fields go instead of `buf`, when the caller
    /// sends them by reference (see [`crate::frame::FrameBuf`]).
    shared: Option<&'b mut VecDeque<(usize, Bytes)>>,
}

/// A `Bytes` field at least this long is left shared when the writer has
/// somewhere to put it: copying it would cost more than one more piece in
/// the send queue.
pub const SHARE_ON_WRITE_FROM: usize = 64 * 1024;

impl<'b, 't> XlangWriter<'b, 't> {
    pub fn new(buf: &'b mut BytesMut) -> Self {
        XlangWriter {
            buf,
            meta: InlineVec::new(),
            shared: None,
        }
    }

    /// Writes `data` (a `Bytes` field's content, its length already
    /// written): by reference if it is large and the writer can, else copied.
    pub fn put_bytes(&mut self, data: &Bytes) {
        match self.shared.as_mut() {
            Some(shared) if data.len() >= SHARE_ON_WRITE_FROM => {
                shared.push_back((self.buf.len(), data.clone()));
            }
            _ => self.buf.put_slice(data),
        }
    }

    /// Writes type id 29 and the tag's two meta strings.
    pub fn write_struct_type_info(&mut self, tag: &'t str) {
        self.write_named_type_info(layout::type_id::NAMED_STRUCT, tag);
    }

    /// Same bytes as [`XlangWriter::write_struct_type_info`] for a declared
    /// struct: its encoded type info is copied, unless one of its names was
    /// already written in this payload (then a back-reference is due and the
    /// general path runs).
    pub fn write_static_struct_type_info(&mut self, info: &StructTypeInfo) {
        let tag = info.tag;
        let (ns, _) = split_tag(tag);
        let ns_key = if ns.is_empty() {
            MetaKey::EmptyNamespace
        } else {
            MetaKey::Namespace(tag)
        };
        if self
            .meta
            .iter()
            .any(|k| k == ns_key || k == MetaKey::TypeName(tag))
        {
            return self.write_struct_type_info(tag);
        }
        self.buf.put_slice(&info.bytes);
        self.meta.push(ns_key);
        self.meta.push(MetaKey::TypeName(tag));
    }

    pub fn write_named_type_info(&mut self, type_id: u8, tag: &'t str) {
        self.buf.put_u8(type_id);
        let (ns, name) = split_tag(tag);
        let ns_key = if ns.is_empty() {
            MetaKey::EmptyNamespace
        } else {
            MetaKey::Namespace(tag)
        };
        self.write_meta(ns_key, ns, MetaRole::Namespace);
        self.write_meta(MetaKey::TypeName(tag), name, MetaRole::TypeName);
    }

    fn write_meta(&mut self, key: MetaKey<'t>, text: &str, role: MetaRole) {
        if let Some(id) = self.meta.iter().position(|k| k == key) {
            self.buf.put_var_u32((((id + 1) as u32) << 1) | 1);
            return;
        }
        self.meta.push(key);
        put_full_meta(self.buf, &MetaString::encode(text, role));
    }
}

/// A meta string's first (full) occurrence: length, encoding byte or hash, bytes.
fn put_full_meta(buf: &mut BytesMut, m: &MetaString) {
    let len = m.bytes.len();
    buf.put_var_u32((len as u32) << 1);
    if len > 16 {
        let (h1, _) = murmur3::murmur3_x64_128(&m.bytes, 47);
        buf.put_u64_le((h1 & !0xff) | m.encoding as u64);
    } else if len != 0 {
        buf.put_u8(m.encoding as u8);
    }
    buf.put_slice(&m.bytes);
}

/// A struct's type info as written the first time the type appears in a
/// payload (type id 29, then both names in full), computed once per type
/// ([`WireStruct::type_info`]) and copied from then on.
#[doc(hidden)]
#[derive(Debug)]
pub struct StructTypeInfo {
    tag: &'static str,
    bytes: Vec<u8>,
    /// Where each name's packed bytes sit in `bytes`, with its encoding.
    ns: (MetaEncoding, std::ops::Range<usize>),
    name: (MetaEncoding, std::ops::Range<usize>),
}

impl StructTypeInfo {
    pub fn build(tag: &'static str) -> StructTypeInfo {
        let (ns, name) = split_tag(tag);
        let mut buf = BytesMut::new();
        buf.put_u8(layout::type_id::NAMED_STRUCT);
        let ns_meta = MetaString::encode(ns, MetaRole::Namespace);
        put_full_meta(&mut buf, &ns_meta);
        let ns_end = buf.len();
        let name_meta = MetaString::encode(name, MetaRole::TypeName);
        put_full_meta(&mut buf, &name_meta);
        let end = buf.len();
        StructTypeInfo {
            tag,
            ns: (ns_meta.encoding, ns_end - ns_meta.bytes.len()..ns_end),
            name: (name_meta.encoding, end - name_meta.bytes.len()..end),
            bytes: buf.to_vec(),
        }
    }
}

/// One decoded meta string, kept as wire bytes until a role decodes it.
#[derive(Debug, Clone, Copy)]
struct MetaEntry<'a> {
    encoding: MetaEncoding,
    bytes: &'a [u8],
}

/// Reads one payload: a bounds-checked cursor plus the meta-string table and
/// the nesting depth.
pub struct XlangReader<'a> {
    pub r: Reader<'a>,
    meta: InlineVec<MetaEntry<'a>, 4>,
    depth: u32,
    /// The payload as shared bytes, when the caller has it so: large
    /// `Bytes` fields are then slices of it instead of copies.
    shared: Option<&'a Bytes>,
}

/// A `Bytes` field at least this long shares the payload instead of being
/// copied out of it. Below, a copy is cheap, and it does not keep a large
/// payload alive for a small field.
const SHARE_FROM: usize = 4096;

impl<'a> XlangReader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        XlangReader {
            r: Reader::new(data),
            meta: InlineVec::new(),
            depth: 0,
            shared: None,
        }
    }

    /// A reader over shared bytes (see [`XlangReader::bytes_of`]).
    pub fn new_shared(data: &'a Bytes) -> Self {
        XlangReader {
            shared: Some(data),
            ..XlangReader::new(data)
        }
    }

    /// `part` (read from this payload) as owned bytes: a slice of the
    /// shared payload when there is one and `part` is large, else a copy.
    pub fn bytes_of(&self, part: &[u8]) -> Bytes {
        if let Some(whole) = self.shared.filter(|_| part.len() >= SHARE_FROM) {
            let start = (part.as_ptr() as usize).wrapping_sub(whole.as_ptr() as usize);
            if let Some(range) = start
                .checked_add(part.len())
                .filter(|&end| start < whole.len() && end <= whole.len())
                .map(|end| start..end)
            {
                return whole.slice(range);
            }
        }
        Bytes::copy_from_slice(part)
    }

    /// Reads the header bitmap and root flag of a payload.
    pub fn read_root_header(&mut self) -> Result<(), DecodeError> {
        let bitmap = self.r.u8()?;
        if bitmap & HEADER_XLANG == 0 || bitmap & (HEADER_NULL | HEADER_OUT_OF_BAND) != 0 {
            return Err(DecodeError::BadHeader(bitmap));
        }
        let offset = self.r.position();
        match self.r.u8()? {
            NOT_NULL_FLAG | REF_VALUE_FLAG => Ok(()),
            NULL_FLAG => Err(DecodeError::UnexpectedNull { offset }),
            flag => Err(DecodeError::UnexpectedFlag { offset, flag }),
        }
    }

    /// Enters one level of nesting; pair with [`XlangReader::leave`].
    pub fn enter(&mut self) -> Result<(), DecodeError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(DecodeError::TooDeep { limit: MAX_DEPTH });
        }
        Ok(())
    }

    pub fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Reads a type id and, for named types, the tag; returns `(type id, tag)`.
    pub fn read_type_info(&mut self) -> Result<(u8, Option<String>), DecodeError> {
        let id = self.r.u8()?;
        match id {
            layout::type_id::NAMED_STRUCT | layout::type_id::NAMED_ENUM => {
                let ns = self.read_meta(MetaRole::Namespace)?;
                let name = self.read_meta(MetaRole::TypeName)?;
                let tag = if ns.is_empty() {
                    name
                } else {
                    format!("{ns}/{name}")
                };
                Ok((id, Some(tag)))
            }
            _ => Ok((id, None)),
        }
    }

    /// Reads type info and checks that it names `expected` (type id and tag).
    pub fn expect_type_info(&mut self, expected: &FieldType) -> Result<(), DecodeError> {
        if let FieldType::Struct(NamedType {
            type_info: Some(info),
            ..
        }) = expected
        {
            if self.expect_known_struct(info()) {
                return Ok(());
            }
        }
        let offset = self.r.position();
        let (id, tag) = self.read_type_info()?;
        if id != expected.type_id() {
            return Err(DecodeError::UnexpectedTypeId {
                offset,
                expected: expected.type_id(),
                found: id,
            });
        }
        if let (FieldType::Struct(want) | FieldType::Enum(want), Some(found)) = (expected, tag) {
            if found != want.tag {
                return Err(DecodeError::TypeMismatch {
                    expected: want.tag.to_string(),
                    found,
                });
            }
        }
        Ok(())
    }

    /// Fast path: the bytes are exactly `info`, what we write for the type
    /// (the common case between Aster peers); records both names without
    /// decoding.
    fn expect_known_struct(&mut self, info: &StructTypeInfo) -> bool {
        let data = self.r.rest();
        if !data.starts_with(&info.bytes) {
            return false;
        }
        // An empty namespace has no bytes and still takes a table slot.
        self.meta.push(MetaEntry {
            encoding: info.ns.0,
            bytes: &data[info.ns.1.clone()],
        });
        self.meta.push(MetaEntry {
            encoding: info.name.0,
            bytes: &data[info.name.1.clone()],
        });
        self.r.skip(info.bytes.len());
        true
    }

    fn read_meta(&mut self, role: MetaRole) -> Result<String, DecodeError> {
        let offset = self.r.position();
        let header = self.r.var_u32()? as usize;
        let entry = if header & 1 == 1 {
            let id = (header >> 1).wrapping_sub(1);
            self.meta
                .get(id)
                .ok_or(DecodeError::BadMetaRef { offset, id })?
        } else {
            let len = header >> 1;
            let entry = if len == 0 {
                MetaEntry {
                    encoding: MetaEncoding::Utf8,
                    bytes: &[],
                }
            } else if len <= 16 {
                let encoding = MetaEncoding::from_u8(self.r.u8()?)?;
                MetaEntry {
                    encoding,
                    bytes: self.r.take(len)?,
                }
            } else {
                let hash = self.r.i64_le()?;
                let encoding = MetaEncoding::from_u8(hash as u8)?;
                MetaEntry {
                    encoding,
                    bytes: self.r.take(len)?,
                }
            };
            self.meta.push(entry);
            entry
        };
        MetaString::decode(entry.encoding, entry.bytes, role)
    }

    /// Reads a bool strictly (0 or 1).
    pub fn bool(&mut self) -> Result<bool, DecodeError> {
        let offset = self.r.position();
        match self.r.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            value => Err(DecodeError::BadBool { offset, value }),
        }
    }

    /// Reads the per-value null flag; `Ok(true)` when a value follows.
    pub fn value_flag(&mut self) -> Result<bool, DecodeError> {
        let offset = self.r.position();
        match self.r.u8()? {
            NOT_NULL_FLAG | REF_VALUE_FLAG => Ok(true),
            NULL_FLAG => Ok(false),
            flag => Err(DecodeError::UnexpectedFlag { offset, flag }),
        }
    }

    /// Fails unless every byte was consumed.
    pub fn finish(&self) -> Result<(), DecodeError> {
        match self.r.remaining() {
            0 => Ok(()),
            count => Err(DecodeError::TrailingBytes { count }),
        }
    }
}

/// Appends the XLANG encoding of `value` (a named struct) to `buf`.
pub fn encode_into<T: WireStruct>(value: &T, buf: &mut BytesMut) {
    encode_with(value, XlangWriter::new(buf));
}

/// [`encode_into`], leaving large `Bytes` fields out of `buf`: each goes to
/// `shared` with the offset in `buf` where it belongs.
pub fn encode_into_sharing<T: WireStruct>(
    value: &T,
    buf: &mut BytesMut,
    shared: &mut VecDeque<(usize, Bytes)>,
) {
    let mut w = XlangWriter::new(buf);
    w.shared = Some(shared);
    encode_with(value, w);
}

fn encode_with<T: WireStruct>(value: &T, mut w: XlangWriter<'_, '_>) {
    w.buf.put_u8(HEADER_XLANG);
    w.buf.put_u8(NOT_NULL_FLAG);
    w.write_static_struct_type_info(T::type_info());
    write_struct_body(value, &mut w);
}

/// The XLANG encoding of `value` as a fresh buffer.
pub fn to_bytes<T: WireStruct>(value: &T) -> BytesMut {
    let mut buf = BytesMut::with_capacity(64);
    encode_into(value, &mut buf);
    buf
}

/// Decodes a whole payload as `T`, checking its tag, hash and that nothing
/// trails it.
pub fn decode<T: WireStruct>(data: &[u8]) -> Result<T, DecodeError> {
    decode_from(XlangReader::new(data))
}

/// [`decode`] from shared bytes: large `Bytes` fields of the result are
/// slices of `data`, not copies.
pub fn decode_shared<T: WireStruct>(data: &Bytes) -> Result<T, DecodeError> {
    decode_from(XlangReader::new_shared(data))
}

fn decode_from<T: WireStruct>(mut r: XlangReader<'_>) -> Result<T, DecodeError> {
    r.read_root_header()?;
    r.expect_type_info(&T::TYPE)?;
    let value = read_struct_body(&mut r)?;
    r.finish()?;
    Ok(value)
}

/// Reads only the root tag of a payload (to route it before decoding).
pub fn peek_tag(data: &[u8]) -> Result<String, DecodeError> {
    let mut r = XlangReader::new(data);
    r.read_root_header()?;
    let offset = r.r.position();
    match r.read_type_info()? {
        (_, Some(tag)) => Ok(tag),
        (found, None) => Err(DecodeError::UnexpectedTypeId {
            offset,
            expected: layout::type_id::NAMED_STRUCT,
            found,
        }),
    }
}
