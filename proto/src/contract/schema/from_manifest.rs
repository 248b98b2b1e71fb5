//! From a manifest alone: each method's request and response fields are the
//! only struct descriptions there are. Kinds map as the reference's
//! `DynamicTypeFactory` reads them, plus rule 1's reading of `"string"` with
//! a numeric default (see the [module doc](super)).

use std::collections::{BTreeMap, HashMap};

use crate::contract::manifest::{Manifest, ManifestField, ValueKind};
use crate::xlang::dynamic::DynType;
use crate::xlang::split_tag;

use super::resolve::{self, EnumTable, Hint};
use super::{
    FieldSchema, MAX_SCHEMA_METHODS, MethodSource, Resolved, SchemaBuildError, StructSchema,
    TypeHints,
};

pub(super) fn resolve(
    manifest: &Manifest,
    hints: &TypeHints,
) -> Result<Resolved, SchemaBuildError> {
    if manifest.methods.len() > MAX_SCHEMA_METHODS {
        return Err(SchemaBuildError::TooMany {
            what: "methods in the manifest",
            count: manifest.methods.len(),
            limit: MAX_SCHEMA_METHODS,
        });
    }
    // The described structs: first description of a tag wins, as in
    // `Manifest::type_fields`.
    let mut sources: BTreeMap<&str, &[ManifestField]> = BTreeMap::new();
    for m in &manifest.methods {
        sources
            .entry(m.request_wire_tag.as_str())
            .or_insert(&m.fields);
        sources
            .entry(m.response_wire_tag.as_str())
            .or_insert(&m.response_fields);
    }
    // Every tag the manifest mentions, by type name (for `value_ref`/`item_ref`).
    let mut by_name: HashMap<&str, Vec<&str>> = HashMap::new();
    let mentioned = manifest
        .methods
        .iter()
        .flat_map(|m| m.fields.iter().chain(&m.response_fields))
        .flat_map(|f| [f.wire_tag.as_deref(), f.item_wire_tag.as_deref()])
        .flatten();
    for tag in sources.keys().copied().chain(mentioned) {
        let names = by_name.entry(split_tag(tag).1).or_default();
        if !names.contains(&tag) {
            names.push(tag);
        }
    }

    let mut r = Resolver {
        by_name,
        hints,
        enums: EnumTable::from_manifest(Some(manifest)),
    };
    let mut structs = BTreeMap::new();
    for (&tag, fields) in &sources {
        if tag.is_empty() {
            continue;
        }
        structs.insert(tag.to_owned(), r.struct_schema(tag, fields));
    }
    // Named structs the manifest does not describe.
    let mut undescribed = Vec::new();
    for s in structs.values().flatten() {
        for f in &s.fields {
            resolve::named_tags(&f.ty, &mut |t| {
                if !structs.contains_key(t) && !r.enums.enums.contains_key(t) {
                    undescribed.push(t.to_owned());
                }
            });
        }
    }
    for tag in undescribed {
        let reason =
            "a manifest lists fields only for methods' request and response types".to_owned();
        structs.insert(
            tag.clone(),
            Err(SchemaBuildError::UndescribedType { tag, reason }),
        );
    }

    let side = |tag: &str, method: &str| {
        if tag.is_empty() {
            Err(SchemaBuildError::MethodType {
                method: method.to_owned(),
                reason: "no wire tag".to_owned(),
            })
        } else {
            Ok(tag.to_owned())
        }
    };
    let methods = manifest
        .methods
        .iter()
        .map(|m| MethodSource {
            name: m.name.clone(),
            pattern: m.pattern,
            request: side(&m.request_wire_tag, &m.name),
            response: side(&m.response_wire_tag, &m.name),
            request_hash: None,
            response_hash: None,
        })
        .collect();
    Ok(Resolved {
        service: manifest.service.clone(),
        version: manifest.version,
        contract_id: None,
        structs,
        enums: r.enums.enums,
        methods,
    })
}

struct Resolver<'a> {
    by_name: HashMap<&'a str, Vec<&'a str>>,
    hints: &'a TypeHints,
    enums: EnumTable,
}

impl Resolver<'_> {
    fn struct_schema(
        &mut self,
        tag: &str,
        fields: &[ManifestField],
    ) -> Result<StructSchema, SchemaBuildError> {
        resolve::check_unique(tag, fields.iter().map(|f| f.name.as_str()))?;
        let mut out = Vec::with_capacity(fields.len());
        for f in fields {
            let (ty, alternatives) = match self.hints.field_type(tag, &f.name) {
                Some(ty) => (resolve::hinted(tag, &f.name, ty)?, Vec::new()),
                None => self
                    .field_type(f)
                    .map_err(|reason| SchemaBuildError::Undescribable {
                        tag: tag.to_owned(),
                        field: f.name.clone(),
                        reason,
                    })?,
            };
            let manifest_default = resolve::manifest_default(&Hint::field(Some(f)), &ty);
            out.push(FieldSchema {
                name: f.name.clone(),
                ty,
                alternatives,
                manifest_default,
                default: None,
            });
        }
        Ok(StructSchema {
            tag: tag.to_owned(),
            fields: out,
        })
    }

    fn field_type(&mut self, f: &ManifestField) -> Result<(DynType, Vec<DynType>), String> {
        let (first, alternatives) = match &f.kind {
            // Rule 1: the reference's classifier says "string" for
            // int8/int16/int32/float32; the default keeps the JSON type.
            ValueKind::String => match &f.default_value {
                serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => (
                    DynType::Int32,
                    vec![DynType::Int8, DynType::Int16, DynType::Float32],
                ),
                serde_json::Value::Number(_) => (
                    DynType::Float32,
                    vec![DynType::Int32, DynType::Int8, DynType::Int16],
                ),
                // `Optional[int32] = None` looks like `Optional[str] = None`.
                serde_json::Value::Null if f.nullable => (
                    DynType::String,
                    vec![
                        DynType::Int32,
                        DynType::Int8,
                        DynType::Int16,
                        DynType::Float32,
                    ],
                ),
                _ => (DynType::String, Vec::new()),
            },
            ValueKind::Ref => (
                DynType::Named(self.struct_tag(f.wire_tag.as_deref(), f.ref_name.as_deref())?),
                Vec::new(),
            ),
            ValueKind::Enum => (
                self.enums
                    .named(f.ref_name.as_deref(), f.enum_values.as_deref()),
                Vec::new(),
            ),
            ValueKind::List => (
                DynType::List(Box::new(self.element(&Hint::item(Some(f)))?)),
                Vec::new(),
            ),
            ValueKind::Map => {
                let key = match f.key_kind.as_ref() {
                    Some(ValueKind::Enum) => self.enums.unknown(),
                    Some(k) => {
                        scalar(k).ok_or_else(|| format!("a map key of kind `{}`", k.as_str()))?
                    }
                    None => return Err("a map without `key_kind`".to_owned()),
                };
                (
                    DynType::Map(
                        Box::new(key),
                        Box::new(self.element(&Hint::value(Some(f)))?),
                    ),
                    Vec::new(),
                )
            }
            other => (
                scalar(other)
                    .ok_or_else(|| format!("unknown manifest kind `{}`", other.as_str()))?,
                Vec::new(),
            ),
        };
        let wrap = |t| resolve::optional(t, f.nullable);
        Ok((wrap(first), alternatives.into_iter().map(wrap).collect()))
    }

    /// A list element or map value, by the manifest's `item_*`/`value_*`.
    fn element(&mut self, hint: &Hint<'_>) -> Result<DynType, String> {
        let ty = match hint.kind {
            Some(ValueKind::Ref) => DynType::Named(self.struct_tag(hint.wire_tag, hint.ref_name)?),
            Some(ValueKind::Enum) => self.enums.named(hint.ref_name, None),
            Some(k @ (ValueKind::List | ValueKind::Map)) => {
                return Err(format!(
                    "a `{}` inside a container: its element type is described nowhere",
                    k.as_str()
                ));
            }
            Some(k) => {
                scalar(k).ok_or_else(|| format!("unknown manifest kind `{}`", k.as_str()))?
            }
            None => return Err("a container without an element kind".to_owned()),
        };
        Ok(resolve::optional(ty, hint.nullable.unwrap_or(false)))
    }

    fn struct_tag(&self, wire_tag: Option<&str>, name: Option<&str>) -> Result<String, String> {
        if let Some(tag) = wire_tag.filter(|t| !t.is_empty()) {
            return Ok(tag.to_owned());
        }
        match name.and_then(|n| self.by_name.get(n)).map(Vec::as_slice) {
            Some([tag]) => Ok((*tag).to_owned()),
            _ => Err(format!("no single wire tag is known for struct {name:?}")),
        }
    }
}

/// The plain kinds.
fn scalar(kind: &ValueKind) -> Option<DynType> {
    Some(match kind {
        ValueKind::String => DynType::String,
        ValueKind::Int => DynType::Int64,
        ValueKind::Float => DynType::Float64,
        ValueKind::Bool => DynType::Bool,
        ValueKind::Bytes => DynType::Bytes,
        _ => return None,
    })
}
