//! What both resolvers share: manifest hints, the enum table, and the
//! candidate lists of rule 1 (see the [module doc](super)).

use std::collections::{BTreeMap, HashMap};

use serde_json::Value as Json;

use crate::contract::manifest::{DefaultKind, Manifest, ManifestField, ValueKind};
use crate::xlang::dynamic::DynType;

use super::{EnumSchema, SchemaBuildError};

/// The tag of the enum of unknown variants (rule 4). Enum tags never reach
/// the wire (an enum value is its ordinal), so synthetic tags are safe; `#`
/// keeps them apart from real tags.
pub(super) const UNKNOWN_ENUM_TAG: &str = "#enum/?";

/// What the manifest says about one position: a field itself, a list
/// element, a map key or a map value.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Hint<'m> {
    pub kind: Option<&'m ValueKind>,
    pub nullable: Option<bool>,
    pub wire_tag: Option<&'m str>,
    pub ref_name: Option<&'m str>,
    pub enum_values: Option<&'m [Json]>,
    pub default: Option<&'m Json>,
}

impl<'m> Hint<'m> {
    pub fn field(f: Option<&'m ManifestField>) -> Hint<'m> {
        let Some(f) = f else { return Hint::default() };
        Hint {
            kind: Some(&f.kind),
            nullable: Some(f.nullable),
            wire_tag: f.wire_tag.as_deref(),
            ref_name: f.ref_name.as_deref(),
            enum_values: f.enum_values.as_deref(),
            default: (f.default_kind == DefaultKind::Value).then_some(&f.default_value),
        }
    }

    /// The element of a `list` field.
    pub fn item(f: Option<&'m ManifestField>) -> Hint<'m> {
        match f {
            Some(f) if f.kind == ValueKind::List => Hint {
                kind: f.item_kind.as_ref(),
                nullable: f.item_nullable,
                wire_tag: f.item_wire_tag.as_deref(),
                ref_name: f.item_ref.as_deref(),
                ..Hint::default()
            },
            _ => Hint::default(),
        }
    }

    /// The key of a `map` field (the manifest has only its kind).
    pub fn key(f: Option<&'m ManifestField>) -> Hint<'m> {
        match f {
            Some(f) if f.kind == ValueKind::Map => Hint {
                kind: f.key_kind.as_ref(),
                ..Hint::default()
            },
            _ => Hint::default(),
        }
    }

    /// The value of a `map` field (its struct or enum by type name only).
    pub fn value(f: Option<&'m ManifestField>) -> Hint<'m> {
        match f {
            Some(f) if f.kind == ValueKind::Map => Hint {
                kind: f.value_kind.as_ref(),
                nullable: f.value_nullable,
                ref_name: f.value_ref.as_deref(),
                ..Hint::default()
            },
            _ => Hint::default(),
        }
    }
}

/// Enums found in a manifest (by type name) and the ones a schema uses.
#[derive(Debug, Default)]
pub(super) struct EnumTable {
    by_name: HashMap<String, Vec<Json>>,
    pub enums: BTreeMap<String, EnumSchema>,
}

impl EnumTable {
    /// Every `enum_values` list of the manifest, by `ref_name` (first wins).
    pub fn from_manifest(manifest: Option<&Manifest>) -> EnumTable {
        let mut table = EnumTable::default();
        let Some(m) = manifest else { return table };
        for f in m
            .methods
            .iter()
            .flat_map(|m| m.fields.iter().chain(&m.response_fields))
        {
            if let (ValueKind::Enum, Some(name), Some(values)) =
                (&f.kind, &f.ref_name, &f.enum_values)
            {
                if !values.is_empty() && !table.by_name.contains_key(name) {
                    table.by_name.insert(name.clone(), values.clone());
                }
            }
        }
        table
    }

    /// The enum named `name` with these spellings, or found by name, or of
    /// unknown variants.
    pub fn named(&mut self, name: Option<&str>, values: Option<&[Json]>) -> DynType {
        let values = values
            .filter(|v| !v.is_empty())
            .or_else(|| name.and_then(|n| self.by_name.get(n)).map(Vec::as_slice));
        let (Some(name), Some(values)) = (name, values) else {
            return self.unknown();
        };
        let spellings = values.to_vec();
        let mut tag = format!("#enum/{name}");
        let mut n = 1;
        // The same name with other values (two enums, one name): another tag.
        while let Some(existing) = self.enums.get(&tag) {
            if existing.spellings == spellings {
                return DynType::Named(tag);
            }
            n += 1;
            tag = format!("#enum/{name}/{n}");
        }
        self.enums.insert(
            tag.clone(),
            EnumSchema {
                display: name.to_owned(),
                spellings,
            },
        );
        DynType::Named(tag)
    }

    pub fn unknown(&mut self) -> DynType {
        self.enums
            .entry(UNKNOWN_ENUM_TAG.to_owned())
            .or_insert_with(|| EnumSchema {
                display: "an enum of unknown variants".to_owned(),
                spellings: Vec::new(),
            });
        DynType::Named(UNKNOWN_ENUM_TAG.to_owned())
    }

    /// An ENUM TypeDef (G2): variants sorted by value, spelled by name.
    pub fn insert(&mut self, tag: &str, display: &str, names: Vec<String>) {
        let spellings = names.into_iter().map(Json::String).collect();
        self.enums.insert(
            tag.to_owned(),
            EnumSchema {
                display: display.to_owned(),
                spellings,
            },
        );
    }
}

/// A G1 primitive name (and the G2 sized ones) as a type.
pub(super) fn primitive(name: &str) -> Option<DynType> {
    Some(match name {
        "bool" => DynType::Bool,
        "int8" => DynType::Int8,
        "int16" => DynType::Int16,
        "int32" => DynType::Int32,
        "int64" => DynType::Int64,
        "float32" => DynType::Float32,
        "float64" => DynType::Float64,
        "string" => DynType::String,
        "binary" | "bytes" => DynType::Bytes,
        _ => return None,
    })
}

pub(super) fn optional(ty: DynType, optional: bool) -> DynType {
    if optional && !matches!(ty, DynType::Optional(_)) {
        DynType::Optional(Box::new(ty))
    } else {
        ty
    }
}

/// Rule 1: the first guess and the alternatives for an ANY field with no
/// container, from its manifest field.
pub(super) fn any_scalar_candidates(hint: &Hint<'_>, enums: &mut EnumTable) -> Vec<DynType> {
    const SIZED: [DynType; 4] = [
        DynType::Int32,
        DynType::Int8,
        DynType::Int16,
        DynType::Float32,
    ];
    match (hint.kind, hint.default) {
        (Some(ValueKind::Enum), _) => vec![enums.named(hint.ref_name, hint.enum_values)],
        (Some(ValueKind::String), Some(Json::Number(n))) if !(n.is_i64() || n.is_u64()) => {
            vec![
                DynType::Float32,
                DynType::Int32,
                DynType::Int8,
                DynType::Int16,
            ]
        }
        (Some(ValueKind::String), _) => SIZED.to_vec(),
        _ => {
            let mut all = SIZED.to_vec();
            all.push(enums.unknown());
            all
        }
    }
}

/// Rule 2: an ANY list element or map value, from the manifest's `item_*` /
/// `value_*` keys. `Err` is the reason it cannot be described.
pub(super) fn any_element(
    hint: &Hint<'_>,
    enums: &mut EnumTable,
    struct_tag: &dyn Fn(&Hint<'_>) -> Option<String>,
) -> Result<DynType, String> {
    let nullable = hint.nullable.unwrap_or(false);
    let Some(kind) = hint.kind else {
        return Err("G1 writes ANY for an Optional, a container, a sized number or an enum inside a container, \
                    and no manifest entry says which"
            .to_owned());
    };
    let plain = match kind {
        ValueKind::String if nullable => DynType::String,
        // A sized number the manifest calls "string": int32 is a guess that
        // no hash can confirm.
        ValueKind::String => return Ok(DynType::Int32),
        ValueKind::Int => DynType::Int64,
        ValueKind::Float => DynType::Float64,
        ValueKind::Bool => DynType::Bool,
        ValueKind::Bytes => DynType::Bytes,
        ValueKind::Ref => DynType::Named(struct_tag(hint).ok_or_else(|| {
            format!(
                "the manifest names struct {:?}, which is not in the bundle",
                hint.wire_tag.or(hint.ref_name)
            )
        })?),
        ValueKind::Enum => return Ok(optional(enums.named(hint.ref_name, None), nullable)),
        ValueKind::List | ValueKind::Map => {
            return Err(format!(
                "a `{}` inside a container: its own element type is described nowhere",
                kind.as_str()
            ));
        }
        ValueKind::Other(k) => return Err(format!("unknown manifest kind `{k}`")),
    };
    if !nullable {
        return Err(format!(
            "the manifest says `{}`, which G1 would not write as ANY unless nullable",
            kind.as_str()
        ));
    }
    Ok(DynType::Optional(Box::new(plain)))
}

/// Rule 2 for an ANY map key: the manifest gives only its kind.
pub(super) fn any_key(hint: &Hint<'_>, enums: &mut EnumTable) -> Result<DynType, String> {
    match hint.kind {
        Some(ValueKind::String) => Ok(DynType::Int32),
        Some(ValueKind::Enum) => Ok(enums.unknown()),
        Some(k) => Err(format!(
            "an ANY map key the manifest calls `{}`",
            k.as_str()
        )),
        None => Err("an ANY map key and no manifest entry says which type".to_owned()),
    }
}

/// The manifest default of a field, unless it cannot be the field's JSON
/// value (bytes are written as a Python repr, not base64).
pub(super) fn manifest_default(hint: &Hint<'_>, ty: &DynType) -> Option<Json> {
    let inner = match ty {
        DynType::Optional(inner) => inner,
        other => other,
    };
    match (inner, hint.default) {
        (DynType::Bytes, Some(d)) if !d.is_null() => None,
        (_, d) => d.cloned(),
    }
}

/// True for `Optional(Optional(..))` anywhere in `ty` (no XLANG form).
pub(super) fn has_nested_optional(ty: &DynType) -> bool {
    match ty {
        DynType::Optional(inner) => {
            matches!(**inner, DynType::Optional(_)) || has_nested_optional(inner)
        }
        DynType::List(inner) => has_nested_optional(inner),
        DynType::Map(k, v) => has_nested_optional(k) || has_nested_optional(v),
        _ => false,
    }
}

/// Calls `f` with every named type in `ty`.
pub(super) fn named_tags(ty: &DynType, f: &mut dyn FnMut(&str)) {
    match ty {
        DynType::Named(tag) => f(tag),
        DynType::Optional(inner) | DynType::List(inner) => named_tags(inner, f),
        DynType::Map(k, v) => {
            named_tags(k, f);
            named_tags(v, f);
        }
        _ => {}
    }
}

/// A hinted field type, checked for shapes XLANG has no form for.
pub(super) fn hinted(tag: &str, field: &str, ty: &DynType) -> Result<DynType, SchemaBuildError> {
    if has_nested_optional(ty) {
        return Err(SchemaBuildError::Undescribable {
            tag: tag.to_owned(),
            field: field.to_owned(),
            reason: "the hinted type nests Optional inside Optional".to_owned(),
        });
    }
    Ok(ty.clone())
}

/// Refuses two fields with one name (a JSON object could not hold both).
pub(super) fn check_unique<'a>(
    tag: &str,
    names: impl Iterator<Item = &'a str>,
) -> Result<(), SchemaBuildError> {
    let mut seen = std::collections::HashSet::new();
    for name in names {
        if !seen.insert(name) {
            return Err(SchemaBuildError::DuplicateField {
                tag: tag.to_owned(),
                field: name.to_owned(),
            });
        }
    }
    Ok(())
}
