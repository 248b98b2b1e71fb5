//! TypeDef and its parts, with their G1 canonical layouts.
//!
//! Spec: wire.md §5.4. A TypeDef is `kind · package · name · fields ·
//! enum_values · union_variants`; a G1 FieldDef has exactly 12 members (G2's
//! `required` and `default_value` do not exist here). The writer orders the
//! lists itself — fields by the caller's id, enum values by value, union
//! variants by id, each a stable sort so equal keys keep their given order —
//! so a TypeDef hashes the same whatever order it was built in.

use super::canonical::{CanonicalError, CanonicalReader, CanonicalWriter};
use super::hash::TypeHash;
use super::kinds::{ContainerKind, TypeDefKind, TypeKind};

/// One user type: a message (struct), enum or union.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeDef {
    pub kind: TypeDefKind,
    /// The wire namespace (the part of the tag before the last `/`).
    pub package: String,
    /// The wire type name (the part after the last `/`).
    pub name: String,
    pub fields: Vec<FieldDef>,
    pub enum_values: Vec<EnumValueDef>,
    pub union_variants: Vec<UnionVariantDef>,
}

/// One field of a message. For a container, the element (or MAP value) type
/// is in `type_kind`/`type_primitive`/`type_ref`/`self_ref_name` and the MAP
/// key in the `container_key_*` members (§5.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDef {
    /// G1 writes fields sorted by this id; Python assigns 1..n in declaration order.
    pub id: i32,
    pub name: String,
    pub type_kind: TypeKind,
    /// `"string"`, `"int64"`, ... for [`TypeKind::Primitive`]; `""` otherwise.
    pub type_primitive: String,
    /// The target's hash for [`TypeKind::Ref`]; `None` (empty bytes) otherwise.
    pub type_ref: Option<TypeHash>,
    /// The target's name for [`TypeKind::SelfRef`]; `""` otherwise.
    pub self_ref_name: String,
    pub optional: bool,
    pub ref_tracked: bool,
    pub container: ContainerKind,
    pub container_key_kind: TypeKind,
    pub container_key_primitive: String,
    pub container_key_ref: Option<TypeHash>,
}

/// One value of an ENUM TypeDef.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumValueDef {
    pub name: String,
    pub value: i32,
}

/// One variant of a UNION TypeDef.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnionVariantDef {
    pub name: String,
    pub id: i32,
    pub type_ref: Option<TypeHash>,
}

impl FieldDef {
    /// A non-optional, non-container field of primitive type `primitive`,
    /// with every other member at its empty value.
    pub fn primitive(id: i32, name: impl Into<String>, primitive: impl Into<String>) -> FieldDef {
        FieldDef {
            id,
            name: name.into(),
            type_kind: TypeKind::Primitive,
            type_primitive: primitive.into(),
            type_ref: None,
            self_ref_name: String::new(),
            optional: false,
            ref_tracked: false,
            container: ContainerKind::None,
            container_key_kind: TypeKind::Primitive,
            container_key_primitive: String::new(),
            container_key_ref: None,
        }
    }

    pub fn write(&self, w: &mut CanonicalWriter) {
        w.zigzag_i32(self.id);
        w.string(&self.name);
        w.enum_value(self.type_kind.value());
        w.string(&self.type_primitive);
        write_hash_slot(w, self.type_ref.as_ref());
        w.string(&self.self_ref_name);
        w.bool(self.optional);
        w.bool(self.ref_tracked);
        w.enum_value(self.container.value());
        w.enum_value(self.container_key_kind.value());
        w.string(&self.container_key_primitive);
        write_hash_slot(w, self.container_key_ref.as_ref());
    }

    pub fn read(r: &mut CanonicalReader<'_>) -> Result<FieldDef, CanonicalError> {
        Ok(FieldDef {
            id: r.zigzag_i32()?,
            name: r.string()?,
            type_kind: TypeKind::read(r)?,
            type_primitive: r.string()?,
            type_ref: read_hash_slot(r, "FieldDef.type_ref")?,
            self_ref_name: r.string()?,
            optional: r.bool()?,
            ref_tracked: r.bool()?,
            container: ContainerKind::read(r)?,
            container_key_kind: TypeKind::read(r)?,
            container_key_primitive: r.string()?,
            container_key_ref: read_hash_slot(r, "FieldDef.container_key_ref")?,
        })
    }
}

impl EnumValueDef {
    pub fn write(&self, w: &mut CanonicalWriter) {
        w.string(&self.name);
        w.zigzag_i32(self.value);
    }

    pub fn read(r: &mut CanonicalReader<'_>) -> Result<EnumValueDef, CanonicalError> {
        Ok(EnumValueDef {
            name: r.string()?,
            value: r.zigzag_i32()?,
        })
    }
}

impl UnionVariantDef {
    pub fn write(&self, w: &mut CanonicalWriter) {
        w.string(&self.name);
        w.zigzag_i32(self.id);
        write_hash_slot(w, self.type_ref.as_ref());
    }

    pub fn read(r: &mut CanonicalReader<'_>) -> Result<UnionVariantDef, CanonicalError> {
        Ok(UnionVariantDef {
            name: r.string()?,
            id: r.zigzag_i32()?,
            type_ref: read_hash_slot(r, "UnionVariantDef.type_ref")?,
        })
    }
}

impl TypeDef {
    /// A MESSAGE with these fields and no enum values or variants — the only
    /// kind G1 Python produces (§5.6).
    pub fn message(
        package: impl Into<String>,
        name: impl Into<String>,
        fields: Vec<FieldDef>,
    ) -> TypeDef {
        TypeDef {
            kind: TypeDefKind::Message,
            package: package.into(),
            name: name.into(),
            fields,
            enum_values: Vec::new(),
            union_variants: Vec::new(),
        }
    }

    /// Writes the canonical layout, sorting the three lists (stable).
    pub fn write(&self, w: &mut CanonicalWriter) {
        w.enum_value(self.kind.value());
        w.string(&self.package);
        w.string(&self.name);

        let mut fields: Vec<&FieldDef> = self.fields.iter().collect();
        fields.sort_by_key(|f| f.id);
        w.list(&fields, |w, f| f.write(w));

        let mut values: Vec<&EnumValueDef> = self.enum_values.iter().collect();
        values.sort_by_key(|v| v.value);
        w.list(&values, |w, v| v.write(w));

        let mut variants: Vec<&UnionVariantDef> = self.union_variants.iter().collect();
        variants.sort_by_key(|v| v.id);
        w.list(&variants, |w, v| v.write(w));
    }

    /// Reads one TypeDef (lists in the order found) and stops after it.
    pub fn read(r: &mut CanonicalReader<'_>) -> Result<TypeDef, CanonicalError> {
        Ok(TypeDef {
            kind: TypeDefKind::read(r)?,
            package: r.string()?,
            name: r.string()?,
            fields: r.list(FieldDef::read)?,
            enum_values: r.list(EnumValueDef::read)?,
            union_variants: r.list(UnionVariantDef::read)?,
        })
    }

    /// Decodes `types/<hash>.bin`-style bytes: exactly one TypeDef, nothing
    /// after it. The bytes are not required to be sorted; compare
    /// [`TypeHash::of`] of the input with the expected hash to check them.
    pub fn decode(bytes: &[u8]) -> Result<TypeDef, CanonicalError> {
        let mut r = CanonicalReader::new(bytes);
        let td = TypeDef::read(&mut r)?;
        r.finish()?;
        Ok(td)
    }

    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut w = CanonicalWriter::new();
        self.write(&mut w);
        w.into_bytes()
    }

    /// BLAKE3 of [`TypeDef::canonical_bytes`] (§5.1 step 4).
    pub fn type_hash(&self) -> TypeHash {
        TypeHash::of(&self.canonical_bytes())
    }
}

/// A hash slot is `bytes`: empty when unused, else the 32-byte digest.
pub(crate) fn write_hash_slot(w: &mut CanonicalWriter, hash: Option<&TypeHash>) {
    w.bytes(hash.map_or(&[][..], |h| &h.0[..]));
}

pub(crate) fn read_hash_slot(
    r: &mut CanonicalReader<'_>,
    what: &'static str,
) -> Result<Option<TypeHash>, CanonicalError> {
    let offset = r.position();
    let raw = r.bytes()?;
    if raw.is_empty() {
        return Ok(None);
    }
    let len = raw.len();
    <[u8; 32]>::try_from(raw)
        .map(|h| Some(TypeHash(h)))
        .map_err(|_| CanonicalError::HashLength {
            what,
            offset,
            len,
            expected: "0 or 32",
        })
}

/// A slot that must hold exactly one hash (method request/response types).
pub(crate) fn read_hash(
    r: &mut CanonicalReader<'_>,
    what: &'static str,
) -> Result<TypeHash, CanonicalError> {
    let offset = r.position();
    let raw = r.bytes()?;
    let len = raw.len();
    <[u8; 32]>::try_from(raw)
        .map(TypeHash)
        .map_err(|_| CanonicalError::HashLength {
            what,
            offset,
            len,
            expected: "32",
        })
}
