//! The types to emit: which wire types several services share, which
//! cannot be expressed in Rust (and why), and which fields need a `Box`.

use std::collections::{BTreeMap, HashMap, HashSet};

use aster::proto::xlang::dynamic::{DynType, TypeDef};
use serde_json::Value as Json;

use super::super::model::{ServiceModel, named_tags};

/// One Rust type to emit: a wire type of one or more services.
pub(super) struct Entry {
    pub(super) tag: String,
    pub(super) def: TypeDef,
    /// Field name → manifest default.
    pub(super) defaults: BTreeMap<String, Json>,
    /// Wire tag → entry, for the tags this type's fields name.
    pub(super) refs: BTreeMap<String, usize>,
    pub(super) problem: Option<String>,
    pub(super) ident: String,
}

impl Entry {
    pub(super) fn is_enum(&self) -> bool {
        matches!(self.def, TypeDef::Enum { .. })
    }
}
// -- Types shared between services ------------------------------------------

/// Merges the services' types: a tag is one Rust type for several services
/// exactly when its whole closure (the type and everything it reaches) is
/// the same in each, which for two services is "same definition, and it
/// reaches no tag on which they disagree" (a tag only one has, or two
/// different definitions). Union-find over (service, tag).
pub(super) fn share_types(models: &[&ServiceModel]) -> (Vec<Entry>, Vec<BTreeMap<String, usize>>) {
    let mut node_of: Vec<BTreeMap<&str, usize>> = Vec::new();
    let mut nodes: Vec<(usize, &str)> = Vec::new();
    for (s, m) in models.iter().enumerate() {
        let mut map = BTreeMap::new();
        for tag in m.types.keys() {
            map.insert(tag.as_str(), nodes.len());
            nodes.push((s, tag.as_str()));
        }
        node_of.push(map);
    }
    let mut parent: Vec<usize> = (0..nodes.len()).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    let reverse: Vec<HashMap<&str, Vec<&str>>> = models.iter().map(|m| reverse_edges(m)).collect();
    for a in 0..models.len() {
        for b in a + 1..models.len() {
            let (ta, tb) = (&models[a].types, &models[b].types);
            let disagree: Vec<&str> = ta
                .iter()
                .filter(|(t, d)| tb.get(*t) != Some(d))
                .map(|(t, _)| t.as_str())
                .chain(
                    tb.keys()
                        .filter(|t| !ta.contains_key(*t))
                        .map(String::as_str),
                )
                .collect();
            let tainted_a = reaching(&reverse[a], &disagree);
            let tainted_b = reaching(&reverse[b], &disagree);
            for (tag, def) in ta {
                if tb.get(tag) == Some(def)
                    && !tainted_a.contains(tag.as_str())
                    && !tainted_b.contains(tag.as_str())
                {
                    let (x, y) = (node_of[a][tag.as_str()], node_of[b][tag.as_str()]);
                    let (rx, ry) = (find(&mut parent, x), find(&mut parent, y));
                    if rx != ry {
                        parent[rx.max(ry)] = rx.min(ry);
                    }
                }
            }
        }
    }
    // One entry per class, made from its first node (services are sorted).
    let mut entry_of_root: HashMap<usize, usize> = HashMap::new();
    let mut entries: Vec<Entry> = Vec::new();
    let mut maps: Vec<BTreeMap<String, usize>> = vec![BTreeMap::new(); models.len()];
    for (n, &(s, tag)) in nodes.iter().enumerate() {
        let root = find(&mut parent, n);
        let e = *entry_of_root.entry(root).or_insert_with(|| {
            entries.push(Entry {
                tag: tag.to_owned(),
                def: models[s].types[tag].clone(),
                defaults: BTreeMap::new(),
                refs: BTreeMap::new(),
                problem: None,
                ident: String::new(),
            });
            entries.len() - 1
        });
        maps[s].insert(tag.to_owned(), e);
        for ((t, field), v) in models[s].defaults.range((tag.to_owned(), String::new())..) {
            if t != tag {
                break;
            }
            entries[e]
                .defaults
                .entry(field.clone())
                .or_insert_with(|| v.clone());
        }
    }
    for (s, m) in models.iter().enumerate() {
        for (tag, def) in &m.types {
            let e = maps[s][tag];
            if let TypeDef::Struct { fields, .. } = def {
                let mut tags = Vec::new();
                for f in fields {
                    named_tags(&f.ty, &mut tags);
                }
                for t in tags {
                    if let Some(&target) = maps[s].get(t) {
                        entries[e].refs.insert(t.to_owned(), target);
                    }
                }
            }
        }
    }
    (entries, maps)
}

/// Tag → the tags whose fields name it.
fn reverse_edges(m: &ServiceModel) -> HashMap<&str, Vec<&str>> {
    let mut rev: HashMap<&str, Vec<&str>> = HashMap::new();
    for (tag, def) in &m.types {
        if let TypeDef::Struct { fields, .. } = def {
            let mut tags = Vec::new();
            for f in fields {
                named_tags(&f.ty, &mut tags);
            }
            for t in tags {
                rev.entry(t).or_default().push(tag);
            }
        }
    }
    rev
}

/// The tags that reach any of `targets` (including the targets).
fn reaching<'a>(reverse: &HashMap<&'a str, Vec<&'a str>>, targets: &[&'a str]) -> HashSet<&'a str> {
    let mut seen: HashSet<&str> = targets.iter().copied().collect();
    let mut stack: Vec<&str> = targets.to_vec();
    while let Some(t) = stack.pop() {
        for &user in reverse.get(t).map(Vec::as_slice).unwrap_or_default() {
            if seen.insert(user) {
                stack.push(user);
            }
        }
    }
    seen
}

// -- What cannot be expressed -----------------------------------------------

pub(super) fn find_problems(entries: &mut [Entry]) {
    for e in entries.iter_mut() {
        e.problem = direct_problem(e);
    }
    // Map keys need `Ord`: only enums among named types have it.
    let key_problems: Vec<Option<String>> = entries
        .iter()
        .map(|e| match (&e.problem, &e.def) {
            (None, TypeDef::Struct { fields, .. }) => fields.iter().find_map(|f| {
                map_key_problem(&f.ty, &e.refs, entries).map(|p| format!("field `{}`: {p}", f.name))
            }),
            _ => None,
        })
        .collect();
    for (e, p) in entries.iter_mut().zip(key_problems) {
        if e.problem.is_none() {
            e.problem = p;
        }
    }
    // A struct that contains itself without an Option in between has no
    // finite value (Rust needs one; the producer could never send one).
    let n = entries.len();
    let owned: Vec<Vec<usize>> = entries
        .iter()
        .map(|e| direct_targets(e, entries, false))
        .collect();
    let comp = sccs(n, &owned);
    let mut size = vec![0usize; n];
    for &c in &comp {
        size[c] += 1;
    }
    for i in 0..n {
        let cyclic = size[comp[i]] > 1 || owned[i].contains(&i);
        if cyclic && entries[i].problem.is_none() {
            entries[i].problem = Some(
                "it contains itself without an Option in between: no finite value exists".into(),
            );
        }
    }
    // Users of an inexpressible type are inexpressible.
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, e) in entries.iter().enumerate() {
        for &t in e.refs.values() {
            users[t].push(i);
        }
    }
    let mut queue: Vec<usize> = (0..n).filter(|&i| entries[i].problem.is_some()).collect();
    while let Some(bad) = queue.pop() {
        for &u in &users[bad] {
            if entries[u].problem.is_none() {
                let cause = entries[bad].problem.clone().unwrap_or_default();
                entries[u].problem = Some(format!(
                    "uses `{}`, which cannot be expressed: {cause}",
                    entries[bad].tag
                ));
                queue.push(u);
            }
        }
    }
}

fn direct_problem(e: &Entry) -> Option<String> {
    if e.tag.is_empty() || e.tag.ends_with('/') {
        return Some(format!("wire tag {:?} is not \"namespace/Name\"", e.tag));
    }
    match &e.def {
        TypeDef::Enum { variants, .. } if variants.is_empty() => {
            Some("an enum with no variants".into())
        }
        TypeDef::Enum { .. } => None,
        TypeDef::Struct { fields, .. } => fields.iter().find_map(|f| {
            if f.name.is_empty() {
                return Some("a field has an empty name".into());
            }
            let mut tags = Vec::new();
            named_tags(&f.ty, &mut tags);
            tags.into_iter()
                .find(|t| !e.refs.contains_key(*t))
                .map(|t| {
                    format!(
                        "field `{}` names `{t}`, which the source does not describe",
                        f.name
                    )
                })
        }),
    }
}

fn map_key_problem(
    ty: &DynType,
    refs: &BTreeMap<String, usize>,
    entries: &[Entry],
) -> Option<String> {
    match ty {
        DynType::Map(k, v) => {
            if !orderable(k, refs, entries) {
                return Some(format!(
                    "a map keyed by {k:?} has no Rust form (BTreeMap keys need Ord)"
                ));
            }
            map_key_problem(v, refs, entries)
        }
        DynType::List(t) | DynType::Optional(t) => map_key_problem(t, refs, entries),
        _ => None,
    }
}

fn orderable(ty: &DynType, refs: &BTreeMap<String, usize>, entries: &[Entry]) -> bool {
    match ty {
        DynType::Bool | DynType::Int8 | DynType::Int16 | DynType::Int32 | DynType::Int64 => true,
        DynType::String | DynType::Bytes => true,
        DynType::Float32 | DynType::Float64 | DynType::Map(..) => false,
        DynType::List(t) | DynType::Optional(t) => orderable(t, refs, entries),
        DynType::Named(t) => refs.get(t).is_some_and(|&e| entries[e].is_enum()),
    }
}

/// The structs a field holds directly (not behind a list or map): through
/// an `Option` too when `through_option`.
fn direct_target(ty: &DynType, through_option: bool) -> Option<&str> {
    match ty {
        DynType::Named(t) => Some(t),
        DynType::Optional(inner) if through_option => match &**inner {
            DynType::Named(t) => Some(t),
            _ => None,
        },
        _ => None,
    }
}

fn direct_targets(e: &Entry, entries: &[Entry], through_option: bool) -> Vec<usize> {
    let TypeDef::Struct { fields, .. } = &e.def else {
        return Vec::new();
    };
    fields
        .iter()
        .filter_map(|f| direct_target(&f.ty, through_option))
        .filter_map(|t| e.refs.get(t).copied())
        .filter(|&t| !entries[t].is_enum())
        .collect()
}

/// Strongly connected components (iterative Tarjan): a component id per node.
fn sccs(n: usize, succ: &[Vec<usize>]) -> Vec<usize> {
    const UNSEEN: usize = usize::MAX;
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut comp = vec![UNSEEN; n];
    let mut stack: Vec<usize> = Vec::new();
    let mut next_index = 0;
    let mut next_comp = 0;
    for start in 0..n {
        if index[start] != UNSEEN {
            continue;
        }
        // (node, next successor position)
        let mut work: Vec<(usize, usize)> = vec![(start, 0)];
        index[start] = next_index;
        low[start] = next_index;
        next_index += 1;
        stack.push(start);
        on_stack[start] = true;
        while let Some(&(v, pos)) = work.last() {
            if let Some(&w) = succ[v].get(pos) {
                if let Some(top) = work.last_mut() {
                    top.1 += 1;
                }
                if index[w] == UNSEEN {
                    index[w] = next_index;
                    low[w] = next_index;
                    next_index += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    comp[w] = next_comp;
                    if w == v {
                        break;
                    }
                }
                next_comp += 1;
            }
        }
    }
    comp
}
/// (struct entry, field index) pairs whose field must be boxed: the field
/// holds (directly or in an Option) a struct of its own cycle.
pub(super) fn boxed_edges(entries: &[Entry], order: &[usize]) -> HashSet<(usize, usize)> {
    let n = entries.len();
    let emitted: HashSet<usize> = order.iter().copied().collect();
    let succ: Vec<Vec<usize>> = (0..n)
        .map(|i| {
            if emitted.contains(&i) {
                direct_targets(&entries[i], entries, true)
            } else {
                Vec::new()
            }
        })
        .collect();
    let comp = sccs(n, &succ);
    let mut out = HashSet::new();
    for &e in order {
        if let TypeDef::Struct { fields, .. } = &entries[e].def {
            for (fi, f) in fields.iter().enumerate() {
                if let Some(&t) = direct_target(&f.ty, true).and_then(|t| entries[e].refs.get(t))
                    && !entries[t].is_enum()
                    && comp[t] == comp[e]
                {
                    out.insert((e, fi));
                }
            }
        }
    }
    out
}
