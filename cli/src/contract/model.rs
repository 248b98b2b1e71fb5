//! What a generator needs to know about one service, from either source:
//! a verified contract bundle (with its manifest as hints) or a manifest
//! alone. Types come from [`ContractSchema`] (spec/dynamic.md §4.7), which
//! resolves what G1's metadata leaves ambiguous; the per-method facts the
//! schema does not keep (timeout, idempotent) and the service facts (scope,
//! modes) come from `contract.bin` or from the manifest.

use std::collections::BTreeMap;

use anyhow::{Context, bail};
use aster::proto::call::{Pattern, Scope};
use aster::proto::codec::SerializationMode;
use aster::proto::contract::kinds::ScopeKind;
use aster::proto::contract::manifest::{DefaultKind, Manifest, ModeToken};
use aster::proto::contract::{ContractBundle, ContractSchema, ServiceContract};
use aster::proto::xlang::dynamic::{DynType, Registry, TypeDef};
use serde_json::Value as Json;

/// One service, as the generators see it.
#[derive(Debug, Clone)]
pub struct ServiceModel {
    pub name: String,
    pub version: i64,
    pub scope: Scope,
    /// Lowercase mode names in contract order (what enters the contract id).
    pub modes: Vec<String>,
    /// Lowercase hex, as verified (bundle) or as stated (manifest).
    pub contract_id: String,
    /// Callable methods, sorted by name.
    pub methods: Vec<MethodModel>,
    /// Methods that cannot be described, with the reason.
    pub omitted: Vec<(String, String)>,
    /// Every type the callable methods reach, by wire tag (first guesses
    /// for what G1 lost, spec/dynamic.md §4.7.3).
    pub types: BTreeMap<String, TypeDef>,
    /// Manifest defaults (`default_kind: "value"`) by (tag, field name).
    pub defaults: BTreeMap<(String, String), Json>,
    /// Things the reader should know (e.g. why the contract id may differ).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MethodModel {
    pub name: String,
    pub pattern: Pattern,
    pub request: String,
    pub response: String,
    /// Seconds; `0.0` = none.
    pub timeout_secs: f64,
    pub idempotent: bool,
}

/// Per-method facts the schema does not carry.
struct MethodFacts {
    timeout_secs: f64,
    idempotent: bool,
}

impl ServiceModel {
    /// From a contract bundle that was verified against `bundle.contract_id`
    /// (the client's `contract_bundle` does that), with its manifest as hints
    /// when it names the same contract.
    pub fn from_bundle(
        bundle: &ContractBundle,
        manifest: Option<&Manifest>,
    ) -> anyhow::Result<ServiceModel> {
        let contract = ServiceContract::decode(&bundle.contract).context("contract.bin")?;
        let mut notes = Vec::new();
        let manifest = match manifest {
            Some(m) if m.id() != Some(bundle.contract_id) => {
                notes.push(format!(
                    "the published manifest names contract {:?}, not {}: ignored",
                    m.contract_id, bundle.contract_id
                ));
                None
            }
            other => other,
        };
        let schema = ContractSchema::from_bundle(&bundle.contract, &bundle.types, manifest)
            .with_context(|| format!("the contract bundle of {}", contract.name))?;
        let facts: BTreeMap<&str, MethodFacts> = contract
            .methods
            .iter()
            .rev() // the first of duplicate names wins
            .map(|m| {
                (
                    m.name.as_str(),
                    MethodFacts {
                        timeout_secs: m.default_timeout,
                        idempotent: m.idempotent,
                    },
                )
            })
            .collect();
        let scope = match contract.scoped {
            ScopeKind::Shared => Scope::Shared,
            ScopeKind::Session => Scope::Session,
        };
        let model = ServiceModel {
            name: contract.name.clone(),
            version: i64::from(contract.version),
            scope,
            modes: contract.serialization_modes.clone(),
            contract_id: bundle.contract_id.to_hex(),
            methods: Vec::new(),
            omitted: Vec::new(),
            types: BTreeMap::new(),
            defaults: manifest.map(manifest_defaults).unwrap_or_default(),
            notes,
        };
        Ok(model.with_schema(&schema, &facts))
    }

    /// From a manifest alone: nothing is verified, and only types that are
    /// some method's request or response are described (§4.7.1).
    pub fn from_manifest(manifest: &Manifest) -> anyhow::Result<ServiceModel> {
        if manifest.service.is_empty() {
            bail!("a manifest has no service name");
        }
        let scope = manifest.scope().with_context(|| {
            format!(
                "{}: scoped {:?} is neither \"shared\" nor \"session\"",
                manifest.service, manifest.scoped
            )
        })?;
        // Unknown modes are kept (as written) so the generator can say the
        // contract id will differ.
        let modes = manifest
            .serialization_modes
            .iter()
            .map(|token| match (token.mode(), token) {
                (Some(m), _) => m.name().to_owned(),
                (None, ModeToken::Name(n)) => n.clone(),
                (None, ModeToken::Code(c)) => c.to_string(),
            })
            .collect();
        let schema = ContractSchema::from_manifest(manifest)
            .with_context(|| format!("the manifest of {}", manifest.service))?;
        let facts: BTreeMap<&str, MethodFacts> = manifest
            .methods
            .iter()
            .rev()
            .map(|m| {
                (
                    m.name.as_str(),
                    MethodFacts {
                        timeout_secs: m.timeout_secs().unwrap_or(0.0),
                        idempotent: m.idempotent,
                    },
                )
            })
            .collect();
        let model = ServiceModel {
            name: manifest.service.clone(),
            version: manifest.version,
            scope,
            modes,
            contract_id: manifest.contract_id.clone(),
            methods: Vec::new(),
            omitted: Vec::new(),
            types: BTreeMap::new(),
            defaults: manifest_defaults(manifest),
            notes: Vec::new(),
        };
        Ok(model.with_schema(&schema, &facts))
    }

    fn with_schema(
        mut self,
        schema: &ContractSchema,
        facts: &BTreeMap<&str, MethodFacts>,
    ) -> ServiceModel {
        let mut seen = std::collections::BTreeSet::new();
        for m in schema.methods() {
            if !seen.insert(m.name()) {
                self.omitted.push((
                    m.name().to_owned(),
                    "a second method of this name".to_owned(),
                ));
                continue;
            }
            let f = facts.get(m.name());
            self.methods.push(MethodModel {
                name: m.name().to_owned(),
                pattern: m.pattern(),
                request: m.request_tag().to_owned(),
                response: m.response_tag().to_owned(),
                timeout_secs: f.map_or(0.0, |f| f.timeout_secs),
                idempotent: f.is_some_and(|f| f.idempotent),
            });
            collect_types(
                m.registry(),
                [m.request_tag(), m.response_tag()],
                &mut self.types,
            );
        }
        for (name, reason) in schema.unavailable() {
            self.omitted.push((name.clone(), reason.to_string()));
        }
        self.methods.sort_by(|a, b| a.name.cmp(&b.name));
        self.omitted.sort();
        self
    }

    /// The modes as the runtime knows them (unknown names left out).
    pub fn known_modes(&self) -> Vec<SerializationMode> {
        self.modes
            .iter()
            .filter_map(|m| SerializationMode::from_name(m))
            .collect()
    }
}

/// Every wire tag named anywhere in `ty`.
pub fn named_tags<'a>(ty: &'a DynType, out: &mut Vec<&'a str>) {
    match ty {
        DynType::Named(t) => out.push(t),
        DynType::List(t) | DynType::Optional(t) => named_tags(t, out),
        DynType::Map(k, v) => {
            named_tags(k, out);
            named_tags(v, out);
        }
        _ => {}
    }
}

/// Adds the types reachable from `roots` in `registry` to `out`. A tag the
/// registry lacks is left out; the generator reports the types that use it.
fn collect_types<'a>(
    registry: &Registry,
    roots: impl IntoIterator<Item = &'a str>,
    out: &mut BTreeMap<String, TypeDef>,
) {
    let mut pending: Vec<String> = roots.into_iter().map(str::to_owned).collect();
    while let Some(tag) = pending.pop() {
        if out.contains_key(&tag) {
            continue;
        }
        let Some(def) = registry.get(&tag) else {
            continue;
        };
        if let TypeDef::Struct { fields, .. } = def {
            let mut tags = Vec::new();
            for f in fields {
                named_tags(&f.ty, &mut tags);
            }
            pending.extend(tags.into_iter().map(str::to_owned));
        }
        out.insert(tag, def.clone());
    }
}

/// The manifest's value defaults of request and response fields.
fn manifest_defaults(manifest: &Manifest) -> BTreeMap<(String, String), Json> {
    let mut out = BTreeMap::new();
    for m in &manifest.methods {
        for (tag, fields) in [
            (&m.request_wire_tag, &m.fields),
            (&m.response_wire_tag, &m.response_fields),
        ] {
            for f in fields
                .iter()
                .filter(|f| f.default_kind == DefaultKind::Value)
            {
                out.entry((tag.clone(), f.name.clone()))
                    .or_insert_with(|| f.default_value.clone());
            }
        }
    }
    out
}
