//! From a contract bundle (canonical `ServiceContract` + TypeDefs, with an
//! optional manifest) to resolved struct schemas: verification, tags (rule
//! 6), references (rule 5) and field types (rules 1–2).

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::call::Pattern;
use crate::contract::hash::{ContractId, TypeHash};
use crate::contract::kinds::{ContainerKind, MethodPattern, TypeDefKind, TypeKind};
use crate::contract::manifest::{Manifest, ManifestField, ValueKind};
use crate::contract::service::ServiceContract;
use crate::contract::typedef::{FieldDef, TypeDef};
use crate::xlang::dynamic::DynType;
use crate::xlang::split_tag;

use super::resolve::{self, EnumTable, Hint};
use super::{
    FieldSchema, MAX_CONTRACT_BYTES, MAX_SCHEMA_METHODS, MAX_SCHEMA_TYPES, MAX_STRUCT_FIELDS,
    MAX_TYPE_FILE_BYTES, MethodSource, Resolved, SchemaBuildError, StructSchema, TypeHints,
};

pub(super) fn resolve<B: AsRef<[u8]>>(
    contract_bytes: &[u8],
    types: &[(TypeHash, B)],
    manifest: Option<&Manifest>,
    hints: &TypeHints,
) -> Result<Resolved, SchemaBuildError> {
    if contract_bytes.len() > MAX_CONTRACT_BYTES {
        return Err(SchemaBuildError::TooMany {
            what: "bytes in contract.bin",
            count: contract_bytes.len(),
            limit: MAX_CONTRACT_BYTES,
        });
    }
    let contract = ServiceContract::decode(contract_bytes).map_err(SchemaBuildError::Contract)?;
    if contract.methods.len() > MAX_SCHEMA_METHODS {
        return Err(SchemaBuildError::TooMany {
            what: "methods in the contract",
            count: contract.methods.len(),
            limit: MAX_SCHEMA_METHODS,
        });
    }
    // The id of the bytes as published, which is what a manifest names.
    let contract_id = ContractId::of(contract_bytes);
    if let Some(m) = manifest {
        if m.id() != Some(contract_id) {
            return Err(SchemaBuildError::ManifestMismatch {
                manifest: m.contract_id.clone(),
                contract: contract_id,
            });
        }
    }

    // Decode and verify every type file; keep the input order for determinism.
    let mut defs: HashMap<TypeHash, TypeDef> = HashMap::new();
    let mut order: Vec<TypeHash> = Vec::new();
    if types.len() > MAX_SCHEMA_TYPES {
        return Err(SchemaBuildError::TooMany {
            what: "types in the bundle",
            count: types.len(),
            limit: MAX_SCHEMA_TYPES,
        });
    }
    for (index, (claimed, bytes)) in types.iter().enumerate() {
        let (claimed, bytes) = (*claimed, bytes.as_ref());
        if bytes.len() > MAX_TYPE_FILE_BYTES {
            return Err(SchemaBuildError::TooMany {
                what: "bytes in a type file",
                count: bytes.len(),
                limit: MAX_TYPE_FILE_BYTES,
            });
        }
        let actual = TypeHash::of(bytes);
        if actual != claimed {
            return Err(SchemaBuildError::TypeHashMismatch {
                index,
                claimed,
                actual,
            });
        }
        if defs.contains_key(&actual) {
            continue;
        }
        let def = TypeDef::decode(bytes).map_err(|source| SchemaBuildError::TypeBytes {
            index,
            claimed,
            source,
        })?;
        if def.fields.len() > MAX_STRUCT_FIELDS {
            return Err(SchemaBuildError::TooMany {
                what: "fields in one type",
                count: def.fields.len(),
                limit: MAX_STRUCT_FIELDS,
            });
        }
        defs.insert(actual, def);
        order.push(actual);
    }
    check_references(&contract, &defs, &order)?;

    let tags = assign_tags(&contract, &defs, &order, manifest)?;
    let mut r = Resolver::new(&defs, &order, &tags, manifest, hints);
    for h in &order {
        let def = &defs[h];
        let tag = &tags[h];
        match def.kind {
            TypeDefKind::Message => {
                let s = r.struct_schema(tag, def);
                r.structs.insert(tag.clone(), s);
            }
            TypeDefKind::Enum => {
                let mut values: Vec<_> = def.enum_values.iter().collect();
                values.sort_by_key(|v| v.value);
                r.enums.insert(
                    tag,
                    &def.name,
                    values.into_iter().map(|v| v.name.clone()).collect(),
                );
            }
            TypeDefKind::Union => {
                let reason = "UNION TypeDefs have no XLANG mapping here".to_owned();
                r.structs.insert(
                    tag.clone(),
                    Err(SchemaBuildError::UndescribedType {
                        tag: tag.clone(),
                        reason,
                    }),
                );
            }
        }
    }

    let methods = contract
        .methods
        .iter()
        .map(|m| {
            let side = |hash: TypeHash, which: &str| {
                if hash == TypeHash::ZERO {
                    return Err(SchemaBuildError::MethodType {
                        method: m.name.clone(),
                        reason: format!(
                            "the {which} type hash is zero (G1 writes that for an enum or an unresolvable root)"
                        ),
                    });
                }
                tags.get(&hash)
                    .cloned()
                    .ok_or_else(|| SchemaBuildError::MissingType { from: format!("method `{}`", m.name), hash })
            };
            MethodSource {
                name: m.name.clone(),
                pattern: pattern(m.pattern),
                request: side(m.request_type, "request"),
                response: side(m.response_type, "response"),
                request_hash: Some(m.request_type).filter(|h| *h != TypeHash::ZERO),
                response_hash: Some(m.response_type).filter(|h| *h != TypeHash::ZERO),
            }
        })
        .collect();
    Ok(Resolved {
        service: contract.name.clone(),
        version: i64::from(contract.version),
        contract_id: Some(contract_id),
        structs: r.structs,
        enums: r.enums.enums,
        methods,
    })
}

fn pattern(p: MethodPattern) -> Pattern {
    match p {
        MethodPattern::Unary => Pattern::Unary,
        MethodPattern::ServerStream => Pattern::ServerStream,
        MethodPattern::ClientStream => Pattern::ClientStream,
        MethodPattern::BidiStream => Pattern::Bidi,
    }
}

/// Every non-zero hash a type or method refers to must be in the bundle.
fn check_references(
    contract: &ServiceContract,
    defs: &HashMap<TypeHash, TypeDef>,
    order: &[TypeHash],
) -> Result<(), SchemaBuildError> {
    let present =
        |h: &Option<TypeHash>| h.is_none_or(|h| h == TypeHash::ZERO || defs.contains_key(&h));
    for h in order {
        let def = &defs[h];
        for f in &def.fields {
            for slot in [f.type_ref, f.container_key_ref] {
                if !present(&slot) {
                    return Err(SchemaBuildError::MissingType {
                        from: format!("field `{}` of {}.{}", f.name, def.package, def.name),
                        hash: slot.unwrap_or_default(),
                    });
                }
            }
        }
        for v in &def.union_variants {
            if !present(&v.type_ref) {
                return Err(SchemaBuildError::MissingType {
                    from: format!("variant `{}` of {}.{}", v.name, def.package, def.name),
                    hash: v.type_ref.unwrap_or_default(),
                });
            }
        }
    }
    for m in &contract.methods {
        for h in [m.request_type, m.response_type] {
            if !present(&Some(h)) {
                return Err(SchemaBuildError::MissingType {
                    from: format!("method `{}`", m.name),
                    hash: h,
                });
            }
        }
    }
    Ok(())
}

/// Rule 6: `package/name`, unless the manifest names the type.
fn assign_tags(
    contract: &ServiceContract,
    defs: &HashMap<TypeHash, TypeDef>,
    order: &[TypeHash],
    manifest: Option<&Manifest>,
) -> Result<HashMap<TypeHash, String>, SchemaBuildError> {
    let mut tags: HashMap<TypeHash, String> = order
        .iter()
        .map(|h| {
            let d = &defs[h];
            let tag = if d.package.is_empty() {
                d.name.clone()
            } else {
                format!("{}/{}", d.package, d.name)
            };
            (*h, tag)
        })
        .collect();

    if let Some(manifest) = manifest {
        let mut evidence: Vec<(TypeHash, &str)> = Vec::new();
        for m in &contract.methods {
            let Some(mm) = manifest.method(&m.name) else {
                continue;
            };
            for (hash, tag, fields) in [
                (m.request_type, mm.request_wire_tag.as_str(), &mm.fields),
                (
                    m.response_type,
                    mm.response_wire_tag.as_str(),
                    &mm.response_fields,
                ),
            ] {
                evidence.push((hash, tag));
                let Some(def) = defs.get(&hash) else { continue };
                for f in &def.fields {
                    let Some(mf) = fields.iter().find(|mf| mf.name == f.name) else {
                        continue;
                    };
                    let named = match (&mf.kind, f.container) {
                        (ValueKind::Ref, ContainerKind::None) => mf.wire_tag.as_deref(),
                        (ValueKind::List, ContainerKind::List) => mf.item_wire_tag.as_deref(),
                        _ => None,
                    };
                    if let (Some(h), Some(t)) = (f.type_ref, named) {
                        evidence.push((h, t));
                    }
                }
            }
        }
        let mut named: HashSet<TypeHash> = HashSet::new();
        for (hash, tag) in evidence {
            let Some(def) = defs.get(&hash) else { continue };
            if named.contains(&hash) || split_tag(tag).1 != def.name {
                continue;
            }
            // Evidence that would give two types one tag is ignored.
            if tags.iter().any(|(h, t)| *h != hash && t == tag) {
                continue;
            }
            named.insert(hash);
            tags.insert(hash, tag.to_owned());
        }
    }

    let mut by_tag: HashMap<&str, TypeHash> = HashMap::new();
    for h in order {
        let tag = tags[h].as_str();
        if let Some(first) = by_tag.insert(tag, *h) {
            return Err(SchemaBuildError::DuplicateTag {
                tag: tag.to_owned(),
                first,
                second: *h,
            });
        }
    }
    Ok(tags)
}

struct Resolver<'a> {
    defs: &'a HashMap<TypeHash, TypeDef>,
    tags: &'a HashMap<TypeHash, String>,
    /// Struct tags by wire tag, by `package.name` and by type name.
    by_tag: HashMap<&'a str, TypeHash>,
    by_fqn: HashMap<String, TypeHash>,
    by_name: HashMap<&'a str, Vec<TypeHash>>,
    manifest: Option<&'a Manifest>,
    hints: &'a TypeHints,
    enums: EnumTable,
    structs: BTreeMap<String, Result<StructSchema, SchemaBuildError>>,
}

impl<'a> Resolver<'a> {
    fn new(
        defs: &'a HashMap<TypeHash, TypeDef>,
        order: &[TypeHash],
        tags: &'a HashMap<TypeHash, String>,
        manifest: Option<&'a Manifest>,
        hints: &'a TypeHints,
    ) -> Resolver<'a> {
        let mut r = Resolver {
            defs,
            tags,
            by_tag: HashMap::new(),
            by_fqn: HashMap::new(),
            by_name: HashMap::new(),
            manifest,
            hints,
            enums: EnumTable::from_manifest(manifest),
            structs: BTreeMap::new(),
        };
        for h in order {
            let d = &defs[h];
            r.by_tag.insert(tags[h].as_str(), *h);
            let fqn = if d.package.is_empty() {
                d.name.clone()
            } else {
                format!("{}.{}", d.package, d.name)
            };
            r.by_fqn.entry(fqn).or_insert(*h);
            r.by_name.entry(d.name.as_str()).or_default().push(*h);
        }
        r
    }

    fn struct_schema(
        &mut self,
        tag: &str,
        def: &TypeDef,
    ) -> Result<StructSchema, SchemaBuildError> {
        let mut fields: Vec<&FieldDef> = def.fields.iter().collect();
        fields.sort_by_key(|f| f.id);
        resolve::check_unique(tag, fields.iter().map(|f| f.name.as_str()))?;
        let manifest_fields: &[ManifestField] = self
            .manifest
            .and_then(|m| m.type_fields(tag))
            .map_or(&[], |(_, fields)| fields);
        let mut out = Vec::with_capacity(fields.len());
        for f in fields {
            let mf = manifest_fields.iter().find(|mf| mf.name == f.name);
            let (ty, alternatives) = match self.hints.field_type(tag, &f.name) {
                Some(ty) => (resolve::hinted(tag, &f.name, ty)?, Vec::new()),
                None => {
                    self.field_type(f, mf)
                        .map_err(|reason| SchemaBuildError::Undescribable {
                            tag: tag.to_owned(),
                            field: f.name.clone(),
                            reason,
                        })?
                }
            };
            let manifest_default = resolve::manifest_default(&Hint::field(mf), &ty);
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

    /// One FieldDef as a type (first guess) and its alternatives.
    fn field_type(
        &mut self,
        f: &FieldDef,
        mf: Option<&ManifestField>,
    ) -> Result<(DynType, Vec<DynType>), String> {
        let element = Slot {
            kind: f.type_kind,
            primitive: &f.type_primitive,
            hash: f.type_ref,
            name: &f.self_ref_name,
        };
        let ty = match f.container {
            ContainerKind::None if f.type_kind == TypeKind::Any => {
                let mut candidates =
                    resolve::any_scalar_candidates(&Hint::field(mf), &mut self.enums)
                        .into_iter()
                        .map(|t| resolve::optional(t, f.optional));
                let first = candidates.next().ok_or("no candidate type")?;
                return Ok((first, candidates.collect()));
            }
            ContainerKind::None => self.slot(&element, &Hint::field(mf))?,
            ContainerKind::List => {
                DynType::List(Box::new(self.element(&element, &Hint::item(mf))?))
            }
            ContainerKind::Map => {
                let key = Slot {
                    kind: f.container_key_kind,
                    primitive: &f.container_key_primitive,
                    hash: f.container_key_ref,
                    name: "",
                };
                let key = match key.kind {
                    TypeKind::Any => resolve::any_key(&Hint::key(mf), &mut self.enums)?,
                    _ => self.slot(&key, &Hint::key(mf))?,
                };
                DynType::Map(
                    Box::new(key),
                    Box::new(self.element(&element, &Hint::value(mf))?),
                )
            }
            ContainerKind::Set => {
                return Err("SET containers have no XLANG mapping in Aster".to_owned());
            }
        };
        Ok((resolve::optional(ty, f.optional), Vec::new()))
    }

    /// A container's element: rule 2 for ANY, else as a field's own type.
    fn element(&mut self, slot: &Slot<'_>, hint: &Hint<'_>) -> Result<DynType, String> {
        if slot.kind != TypeKind::Any {
            return self.slot(slot, hint);
        }
        let mut enums = std::mem::take(&mut self.enums);
        let ty = resolve::any_element(hint, &mut enums, &|h| self.tag_by_hint(h));
        self.enums = enums;
        ty
    }

    /// A PRIMITIVE, REF or SELF_REF slot.
    fn slot(&mut self, slot: &Slot<'_>, hint: &Hint<'_>) -> Result<DynType, String> {
        match slot.kind {
            TypeKind::Primitive => {
                resolve::primitive(slot.primitive).ok_or_else(|| format!("unknown primitive `{}`", slot.primitive))
            }
            TypeKind::Ref => match slot.hash {
                Some(h) if h != TypeHash::ZERO => self
                    .tags
                    .get(&h)
                    .map(|t| DynType::Named(t.clone()))
                    .ok_or_else(|| format!("REF {h} is not in the bundle")),
                _ => self.tag_by_hint(hint).map(DynType::Named).ok_or_else(|| {
                    "a REF with the zero hash (G1 writes it inside a cycle) and no manifest wire tag naming its \
                     target"
                        .to_owned()
                }),
            },
            TypeKind::SelfRef => self
                .by_self_ref(slot.name)
                .or_else(|| self.tag_by_hint(hint))
                .map(DynType::Named)
                .ok_or_else(|| format!("SELF_REF `{}` names no type of the bundle", slot.name)),
            TypeKind::Any => Err("ANY".to_owned()),
        }
    }

    /// Rule 5 for SELF_REF: `package.Name`, else a unique type name.
    fn by_self_ref(&self, name: &str) -> Option<String> {
        if name.is_empty() {
            return None;
        }
        if let Some(h) = self.by_fqn.get(name) {
            return Some(self.tags[h].clone());
        }
        let short = name.rsplit('.').next().unwrap_or(name);
        self.unique_name(short)
    }

    /// A struct named by the manifest: wire tag, else a unique type name.
    fn tag_by_hint(&self, hint: &Hint<'_>) -> Option<String> {
        if let Some(h) = hint.wire_tag.and_then(|t| self.by_tag.get(t)) {
            return Some(self.tags[h].clone());
        }
        hint.ref_name.and_then(|n| self.unique_name(n))
    }

    fn unique_name(&self, name: &str) -> Option<String> {
        match self.by_name.get(name).map(Vec::as_slice) {
            Some([h]) if self.defs[h].kind == TypeDefKind::Message => Some(self.tags[h].clone()),
            _ => None,
        }
    }
}

/// The element (or key) members of a FieldDef.
struct Slot<'f> {
    kind: TypeKind,
    primitive: &'f str,
    hash: Option<TypeHash>,
    name: &'f str,
}
