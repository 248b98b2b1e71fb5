//! The Rust client generator: [`ServiceModel`]s in, one module of Rust
//! source out (wire types with `#[derive(WireType)]`, one trait per service
//! with `#[aster::service]`, whose macro makes the `XxxClient<C>` stubs).
//!
//! The contract id of a generated service equals the source's when every
//! fact that enters it is expressed exactly: service name, version, scope,
//! modes, and per method the wire name, pattern, timeout, idempotent and the
//! request/response TypeDefs (tags, field names and order, field kinds).
//! DynTypes map to the Rust types whose G1 TypeDefs are the same
//! (proto/src/contract/field_mapping.rs): `Int32` → `i32` is ANY like the
//! producer's `pyfory.int32`, `List(Optional(String))` → `Vec<Option<String>>`
//! is LIST of ANY, and so on. What cannot be expressed is listed in the
//! module doc of `super` and reported in the header and on stderr.
//!
//! Output is deterministic: services sorted by name and version, methods by
//! name, types in order of first use (methods in order, request before
//! response, fields depth first).

mod render;
mod types;

use std::collections::{BTreeMap, HashSet};

use aster::proto::xlang::dynamic::TypeDef;

use super::model::{ServiceModel, named_tags};
use super::names::{self, Taken};
use types::{Entry, boxed_edges, find_problems, share_types};

/// Generated source and what the user should be told about it.
pub struct Generated {
    pub code: String,
    pub warnings: Vec<String>,
}

/// Names the generated module imports or the prelude and macros rely on: a
/// wire type must not shadow them. (`Field` is declared inside
/// `wire_struct!`'s functions and would shadow a field type of that name.)
const RESERVED_TYPES: &[&str] = &[
    "Status",
    "WireType",
    "BTreeMap",
    "RequestStream",
    "ResponseStream",
    "String",
    "Vec",
    "Option",
    "Box",
    "Result",
    "Default",
    "Clone",
    "Copy",
    "Debug",
    "PartialEq",
    "Eq",
    "Hash",
    "PartialOrd",
    "Ord",
    "Send",
    "Sync",
    "Sized",
    "Some",
    "None",
    "Ok",
    "Err",
    "Iterator",
    "IntoIterator",
    "From",
    "Into",
    "TryFrom",
    "TryInto",
    "ToString",
    "ToOwned",
    "AsRef",
    "AsMut",
    "Drop",
    "Fn",
    "FnMut",
    "FnOnce",
    "Unpin",
    "Extend",
    "FromIterator",
    "DoubleEndedIterator",
    "ExactSizeIterator",
    "Future",
    "Field",
    "Ordinal",
];

/// Inherent methods of the generated `XxxClient<C>` (and the session hook):
/// a service method must not take their names.
const RESERVED_METHODS: &[&str] = &["new", "descriptor", "caller", "on_session_close"];

/// One service as it will be written.
struct Service<'a> {
    model: &'a ServiceModel,
    /// Tag → entry.
    types: BTreeMap<String, usize>,
    /// Callable methods: index into `model.methods`.
    methods: Vec<usize>,
    omitted: Vec<(String, String)>,
    notes: Vec<String>,
    ident: String,
    method_idents: Vec<String>,
}

pub fn generate(models: &[ServiceModel], source: &str) -> anyhow::Result<Generated> {
    let mut warnings = Vec::new();
    let mut models: Vec<&ServiceModel> = models.iter().collect();
    models.sort_by(|a, b| {
        (&a.name, a.version, &a.contract_id).cmp(&(&b.name, b.version, &b.contract_id))
    });
    // A version the macro cannot take makes the whole service inexpressible.
    models.retain(|m| {
        let ok = i32::try_from(m.version).is_ok_and(|v| v >= 0);
        if !ok {
            warnings.push(format!(
                "{}: version {} cannot be declared (0..=2147483647): service left out",
                m.name, m.version
            ));
        }
        ok
    });
    if models.is_empty() {
        anyhow::bail!("no service can be generated");
    }

    let (mut entries, maps) = share_types(&models);
    find_problems(&mut entries);

    let mut services: Vec<Service> = models
        .iter()
        .zip(maps)
        .map(|(&model, types)| Service {
            model,
            types,
            methods: Vec::new(),
            omitted: model.omitted.clone(),
            notes: model.notes.clone(),
            ident: String::new(),
            method_idents: Vec::new(),
        })
        .collect();
    for s in &mut services {
        for (i, m) in s.model.methods.iter().enumerate() {
            let problem = [&m.request, &m.response].into_iter().find_map(|tag| {
                match s.types.get(tag.as_str()) {
                    None => Some(format!("`{tag}` is not described by the source")),
                    Some(&e) => entries[e]
                        .problem
                        .as_ref()
                        .map(|p| format!("`{tag}` cannot be expressed in Rust: {p}")),
                }
            });
            let problem = problem.or_else(|| {
                let t = m.timeout_secs;
                (!(t.is_finite() && t >= 0.0 && t.is_sign_positive())).then(|| {
                    format!("timeout {t} cannot be declared (a non-negative number of seconds)")
                })
            });
            match problem {
                Some(p) => s.omitted.push((m.name.clone(), p)),
                None => s.methods.push(i),
            }
        }
        s.omitted.sort();
        let declared: Vec<&str> = s.model.modes.iter().map(String::as_str).collect();
        let expressible: Vec<&str> = s.model.known_modes().iter().map(|m| m.name()).collect();
        let mut id_differs = !s.omitted.is_empty();
        if declared.is_empty() {
            s.notes.push(
                "the contract declares no serialization mode; the generated service declares XLANG"
                    .into(),
            );
            id_differs = true;
        } else if declared != expressible {
            s.notes.push(format!("modes {declared:?} include some the runtime does not know; declared: {expressible:?}"));
            id_differs = true;
        }
        if id_differs {
            let stated = if s.model.contract_id.is_empty() {
                String::new()
            } else {
                format!(" ({})", s.model.contract_id)
            };
            s.notes.push(format!(
                "the generated descriptor's contract id differs from the source's{stated}; calls to the methods \
                 generated still work"
            ));
        }
        for (name, reason) in &s.omitted {
            warnings.push(format!("{}.{}: left out: {}", s.model.name, name, reason));
        }
        for n in &s.notes {
            warnings.push(format!("{}: {}", s.model.name, n));
        }
    }

    let groups = emission_order(&services, &entries);
    let order: Vec<usize> = groups.iter().flatten().copied().collect();
    name_everything(&mut services, &mut entries, &order);
    let boxed = boxed_edges(&entries, &order);

    // Each service's types (those no earlier service used), then its trait.
    let mut out = String::new();
    render::header(&mut out, source, &services);
    render::imports(&mut out, &services, &entries, &order);
    for (s, group) in services.iter().zip(&groups) {
        for &e in group {
            out.push('\n');
            match &entries[e].def {
                TypeDef::Struct { .. } => render::wire_struct(&mut out, &entries, e, &boxed),
                TypeDef::Enum { .. } => render::wire_enum(&mut out, &entries[e]),
            }
        }
        out.push('\n');
        render::service_trait(&mut out, s, &entries);
    }
    Ok(Generated {
        code: out,
        warnings,
    })
}
// -- Order and names --------------------------------------------------------

/// Types in order of first use by the callable methods, grouped by the
/// service that uses them first.
fn emission_order(services: &[Service], entries: &[Entry]) -> Vec<Vec<usize>> {
    let mut seen: HashSet<usize> = HashSet::new();
    let mut groups = Vec::new();
    for s in services {
        let mut order = Vec::new();
        for &i in &s.methods {
            let m = &s.model.methods[i];
            for tag in [&m.request, &m.response] {
                if let Some(&root) = s.types.get(tag.as_str()) {
                    visit(root, entries, &mut seen, &mut order);
                }
            }
        }
        groups.push(order);
    }
    groups
}

/// Pre-order, fields in declaration order (iterative: depth is unbounded).
fn visit(root: usize, entries: &[Entry], seen: &mut HashSet<usize>, order: &mut Vec<usize>) {
    let mut stack = vec![root];
    while let Some(e) = stack.pop() {
        if !seen.insert(e) {
            continue;
        }
        order.push(e);
        if let TypeDef::Struct { fields, .. } = &entries[e].def {
            let mut tags = Vec::new();
            for f in fields {
                named_tags(&f.ty, &mut tags);
            }
            let children: Vec<usize> = tags
                .iter()
                .filter_map(|t| entries[e].refs.get(*t).copied())
                .collect();
            stack.extend(children.into_iter().rev());
        }
    }
}

fn name_everything(services: &mut [Service], entries: &mut [Entry], order: &[usize]) {
    let mut traits = Taken::case_insensitive();
    let mut types = Taken::new();
    for r in RESERVED_TYPES {
        types.insert(r);
        traits.insert(r);
    }
    for s in services.iter_mut() {
        let base = names::pascal(&s.model.name, "S", "Service");
        let mut candidates = vec![base.clone()];
        if s.model.version != 1 {
            candidates.push(format!("{}V{}", names::unraw(&base), s.model.version));
        }
        let companions = |n: &str| {
            let n = names::unraw(n);
            vec![
                format!("{n}Server"),
                format!("{n}Client"),
                format!("__{n}Dispatch"),
            ]
        };
        s.ident = traits.claim(&candidates, "", &companions);
        types.insert(&s.ident);
        for c in companions(&s.ident) {
            types.insert(&c);
        }
    }
    for &e in order {
        let (ns, name) = aster::proto::contract::split_tag(&entries[e].tag);
        let name = if render::is_unknown_enum(&entries[e].def) {
            "UnknownEnum"
        } else {
            name
        };
        let base = names::pascal(name, "T", "Type");
        let mut candidates = vec![base.clone()];
        if !ns.is_empty() {
            candidates.push(names::pascal(
                &format!("{ns} {}", names::unraw(&base)),
                "T",
                "Type",
            ));
        }
        entries[e].ident = types.claim(&candidates, "", &|_| Vec::new());
    }
    for s in services.iter_mut() {
        let mut taken = Taken::new();
        for r in RESERVED_METHODS {
            taken.insert(r);
        }
        let with = |n: &str| vec![format!("{}_with", names::unraw(n))];
        s.method_idents = s
            .methods
            .iter()
            .map(|&i| {
                // `self_` would make the client's `self__with`: an escaped
                // keyword becomes `self_rpc` instead.
                let base = names::snake(&s.model.methods[i].name, "method");
                let suffixed = format!("{}_rpc", names::unraw(&base).trim_end_matches('_'));
                if base.ends_with('_') {
                    taken.claim(&[suffixed], "_", &with)
                } else {
                    taken.claim(&[base, suffixed], "_", &with)
                }
            })
            .collect();
    }
}
