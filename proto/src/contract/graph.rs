//! The type graph: from method request/response types to hashed TypeDefs.
//!
//! Spec: wire.md §5.1 steps 1–4 and §5.6–5.7. The walk follows G1
//! (aster-rpc 0.1.2) step for step, because every choice below changes hashes:
//!
//! 1. Nodes are the named structs reachable from the roots through any field
//!    type, however nested (`list[list[T]]` still reaches `T`). Enums are not
//!    nodes (G1 only walks dataclasses); a field of enum type is ANY.
//! 2. Edges: node → every struct mentioned anywhere in its field types.
//! 3. Tarjan SCC, visiting nodes and successors in code-point order of their
//!    names, gives the components leaves first.
//! 4. Cycle breaking. A single node with a self-edge: that edge is a
//!    back-edge. A multi-node SCC: depth-first from the member whose NFC name
//!    is smallest by code points, successors in code-point order; an edge to
//!    an already visited member is a back-edge (so are self-edges).
//! 5. A back-edge field is SELF_REF carrying the target's name; any other
//!    struct field is REF carrying the target's hash *if it is already
//!    known*, else 32 zero bytes. Within a multi-node SCC G1 hashes members
//!    in reverse post-order of the DFS tree (tree parents before children),
//!    so every tree edge inside the SCC gets the zero hash. This is G1's
//!    behaviour (wire.md §5.6 "roots first ⇒ forward REFs become zero") and
//!    is reproduced on purpose: it is what makes our ids equal G1's.
//! 6. Field ids are 1..n in declaration order, as Python assigns them.
//!
//! # Where G1 is not deterministic, and our rule
//!
//! G1 names graph nodes by the Python `module.qualname` of the class
//! (`xlang_types.Node`, `__main__.Alpha`): that name is written into SELF_REF
//! fields and decides the sort orders of steps 3–4. A Rust type has no Python
//! module, so **our rule is: a node's name is its wire FQN**, the tag with the
//! last `/` replaced by `.` (`"tree/Node"` ⇒ `"tree.Node"`; a tag without `/`
//! is its own name). This is the name G2 (repo HEAD) adopted. Callers that
//! know the Python names of a deployment can pass them to
//! [`TypeGraph::build_named`] and get G1's bytes exactly.
//!
//! Consequences (the same rules are written up for `spec/`):
//! - A type whose hash closure (itself and every REF target with a real hash,
//!   transitively) contains no member of a cyclic SCC has the same hash as in
//!   G1, always. So does a contract whose methods only use such types.
//! - A type in or above a cycle has G1's hash only if (a) no SELF_REF field
//!   appears in its hash closure (SELF_REF names differ), and (b) inside each
//!   cyclic SCC the Python names sort in the same relative order as our
//!   names (the cut and the zero/SELF_REF pattern depend on that order).
//!   Example: in `Alpha → Beta → Gamma → Alpha` Alpha and Beta match G1
//!   (their REFs are zero, they hold no name) and Gamma cannot (it holds the
//!   SELF_REF `"chain.Alpha"` where Python writes `"<module>.Alpha"`).
//! - Package: G1 uses the tag's namespace, but the Python module when the
//!   tag has no namespace; we always use the namespace (possibly `""`), so a
//!   type tagged without `/` never matches G1.
//! - Two named types with the same tag are one node (the first description met wins).

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use crate::xlang::{FieldDesc, NamedType, TypeDesc};

use super::field_mapping::{Slot, field_def, mentioned};
use super::hash::TypeHash;
use super::nfc::cmp_nfc;
use super::typedef::TypeDef;

/// Splits a wire tag at its last `/` into (namespace, type name); a tag
/// without `/` has an empty namespace (as `@wire_type` does).
pub fn split_tag(tag: &str) -> (&str, &str) {
    match tag.rfind('/') {
        Some(i) => (&tag[..i], &tag[i + 1..]),
        None => ("", tag),
    }
}

/// Our node name: the wire FQN `namespace.TypeName` (see the module doc).
pub fn wire_fqn(ty: &NamedType) -> String {
    match split_tag(ty.tag) {
        ("", name) => name.to_owned(),
        (ns, name) => format!("{ns}.{name}"),
    }
}

/// One struct of the graph with its TypeDef and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedType {
    /// The wire tag, `"namespace/TypeName"`.
    pub tag: &'static str,
    /// The node name: what SELF_REF fields pointing here carry.
    pub name: String,
    pub def: TypeDef,
    pub hash: TypeHash,
    /// True when the type is part of a cycle (a self-edge or a multi-node
    /// SCC): its hash may differ from G1's (see the module doc).
    pub cyclic: bool,
}

/// Every struct reachable from some roots, hashed leaves first.
#[derive(Debug, Clone, Default)]
pub struct TypeGraph {
    types: Vec<ResolvedType>,
    by_tag: HashMap<&'static str, usize>,
}

/// The graph of `roots` with our default names (wire FQNs).
pub fn type_graph(roots: &[NamedType]) -> TypeGraph {
    TypeGraph::build(roots)
}

struct Node {
    ty: NamedType,
    name: String,
    fields: &'static [FieldDesc],
    /// Successor indices, deduplicated, in code-point order of their names.
    succ: Vec<usize>,
}

impl TypeGraph {
    pub fn build(roots: &[NamedType]) -> TypeGraph {
        TypeGraph::build_named(roots, &wire_fqn)
    }

    /// Builds the graph naming each node with `names` instead of the wire FQN.
    pub fn build_named(roots: &[NamedType], names: &dyn Fn(&NamedType) -> String) -> TypeGraph {
        let (nodes, index) = collect(roots, names);
        let visit_order = sorted_by_name(&nodes, (0..nodes.len()).collect());
        let mut graph = TypeGraph::default();
        let mut hashes: HashMap<usize, TypeHash> = HashMap::new();
        for scc in tarjan(&nodes, &visit_order) {
            let cut = cut_cycles(&nodes, &scc);
            for &v in &cut.order {
                let def = type_def(&nodes, &index, v, &cut.back_edges, &hashes);
                let hash = def.type_hash();
                hashes.insert(v, hash);
                graph.by_tag.insert(nodes[v].ty.tag, graph.types.len());
                graph.types.push(ResolvedType {
                    tag: nodes[v].ty.tag,
                    name: nodes[v].name.clone(),
                    def,
                    hash,
                    cyclic: cut.cyclic,
                });
            }
        }
        graph
    }

    /// All types, in the order they were hashed (dependencies first).
    pub fn types(&self) -> &[ResolvedType] {
        &self.types
    }

    pub fn get(&self, tag: &str) -> Option<&ResolvedType> {
        self.by_tag.get(tag).map(|&i| &self.types[i])
    }

    /// The hash a method slot gets for `ty`: the TypeDef hash of a struct of
    /// the graph, 32 zero bytes for anything else (G1 does the same for an
    /// enum or an unknown root).
    pub fn hash_of(&self, ty: &NamedType) -> TypeHash {
        self.get(ty.tag).map_or(TypeHash::ZERO, |t| t.hash)
    }
}

/// Finds every struct reachable from `roots` and its successors.
fn collect(
    roots: &[NamedType],
    names: &dyn Fn(&NamedType) -> String,
) -> (Vec<Node>, HashMap<&'static str, usize>) {
    let mut nodes: Vec<Node> = Vec::new();
    let mut index: HashMap<&'static str, usize> = HashMap::new();
    let mut mentions: Vec<Vec<NamedType>> = Vec::new();
    let mut pending: Vec<NamedType> = roots.iter().rev().copied().collect();
    while let Some(ty) = pending.pop() {
        if index.contains_key(ty.tag) {
            continue;
        }
        let TypeDesc::Struct(fields) = (ty.describe)() else {
            continue;
        };
        let mut refs = Vec::new();
        for f in fields {
            mentioned(&f.ty, &mut refs);
        }
        pending.extend(refs.iter().rev().copied());
        index.insert(ty.tag, nodes.len());
        nodes.push(Node {
            ty,
            name: names(&ty),
            fields,
            succ: Vec::new(),
        });
        mentions.push(refs);
    }
    for (v, refs) in mentions.into_iter().enumerate() {
        let mut succ: Vec<usize> = refs
            .iter()
            .filter_map(|t| index.get(t.tag).copied())
            .collect();
        succ.sort_unstable();
        succ.dedup();
        nodes[v].succ = sorted_by_name(&nodes, succ);
    }
    (nodes, index)
}

/// Code-point order of names (Python's `sorted` on str), tag as tie-break.
fn sorted_by_name(nodes: &[Node], mut ids: Vec<usize>) -> Vec<usize> {
    ids.sort_by(|&a, &b| {
        nodes[a]
            .name
            .cmp(&nodes[b].name)
            .then_with(|| nodes[a].ty.tag.cmp(nodes[b].ty.tag))
    });
    ids
}

/// NFC code-point order of names, tag as tie-break.
fn cmp_nfc_name(nodes: &[Node], a: usize, b: usize) -> Ordering {
    cmp_nfc(&nodes[a].name, &nodes[b].name)
        .then_with(|| nodes[a].name.cmp(&nodes[b].name))
        .then_with(|| nodes[a].ty.tag.cmp(nodes[b].ty.tag))
}

/// Tarjan's algorithm without recursion; components come out leaves first.
fn tarjan(nodes: &[Node], visit_order: &[usize]) -> Vec<Vec<usize>> {
    const UNSEEN: usize = usize::MAX;
    let n = nodes.len();
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<usize> = Vec::new();
    let mut sccs = Vec::new();
    let mut counter = 0;
    // (node, position of the next successor to look at)
    let mut calls: Vec<(usize, usize)> = Vec::new();

    for &root in visit_order {
        if index[root] != UNSEEN {
            continue;
        }
        index[root] = counter;
        low[root] = counter;
        counter += 1;
        stack.push(root);
        on_stack[root] = true;
        calls.push((root, 0));
        while let Some(&(v, pos)) = calls.last() {
            if let Some(&w) = nodes[v].succ.get(pos) {
                if let Some(top) = calls.last_mut() {
                    top.1 += 1;
                }
                if index[w] == UNSEEN {
                    index[w] = counter;
                    low[w] = counter;
                    counter += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    calls.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            calls.pop();
            if let Some(&(parent, _)) = calls.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut scc = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    scc.push(w);
                    if w == v {
                        break;
                    }
                }
                sccs.push(scc);
            }
        }
    }
    sccs
}

/// How one SCC is cut and in which order its members are hashed.
struct Cut {
    back_edges: HashSet<(usize, usize)>,
    order: Vec<usize>,
    cyclic: bool,
}

fn cut_cycles(nodes: &[Node], scc: &[usize]) -> Cut {
    if let [v] = *scc {
        let self_edge = nodes[v].succ.contains(&v);
        let back_edges = if self_edge {
            HashSet::from([(v, v)])
        } else {
            HashSet::new()
        };
        return Cut {
            back_edges,
            order: vec![v],
            cyclic: self_edge,
        };
    }
    let members: HashSet<usize> = scc.iter().copied().collect();
    let Some(start) = scc
        .iter()
        .copied()
        .min_by(|&a, &b| cmp_nfc_name(nodes, a, b))
    else {
        return Cut {
            back_edges: HashSet::new(),
            order: Vec::new(),
            cyclic: false,
        };
    };

    // DFS from `start`: edges to unvisited members are tree edges, all
    // others (including self-edges) are back-edges.
    let mut visited: HashSet<usize> = HashSet::from([start]);
    let mut back_edges = HashSet::new();
    let mut children: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut calls: Vec<(usize, usize)> = vec![(start, 0)];
    while let Some(&(v, pos)) = calls.last() {
        let next = nodes[v]
            .succ
            .iter()
            .copied()
            .filter(|w| members.contains(w))
            .nth(pos);
        let Some(w) = next else {
            calls.pop();
            continue;
        };
        if let Some(top) = calls.last_mut() {
            top.1 += 1;
        }
        if visited.insert(w) {
            children.entry(v).or_default().push(w);
            calls.push((w, 0));
        } else {
            back_edges.insert((v, w));
        }
    }

    // Hashing order: reverse post-order of the DFS tree, children taken in
    // NFC order (G1's `_scc_processing_order`).
    for kids in children.values_mut() {
        kids.sort_by(|&a, &b| cmp_nfc_name(nodes, a, b));
    }
    let mut post = Vec::with_capacity(scc.len());
    let mut calls: Vec<(usize, usize)> = vec![(start, 0)];
    while let Some(&(v, pos)) = calls.last() {
        match children.get(&v).and_then(|k| k.get(pos)) {
            Some(&w) => {
                if let Some(top) = calls.last_mut() {
                    top.1 += 1;
                }
                calls.push((w, 0));
            }
            None => {
                post.push(v);
                calls.pop();
            }
        }
    }
    post.reverse();
    Cut {
        back_edges,
        order: post,
        cyclic: true,
    }
}

/// Builds node `v`'s TypeDef with the hashes known so far.
fn type_def(
    nodes: &[Node],
    index: &HashMap<&'static str, usize>,
    v: usize,
    back_edges: &HashSet<(usize, usize)>,
    hashes: &HashMap<usize, TypeHash>,
) -> TypeDef {
    let mut named = |target: &NamedType| -> Slot {
        let Some(&t) = index.get(target.tag) else {
            return Slot::Any;
        };
        if back_edges.contains(&(v, t)) {
            Slot::SelfRef(nodes[t].name.clone())
        } else {
            Slot::Ref(hashes.get(&t).copied().unwrap_or(TypeHash::ZERO))
        }
    };
    let fields = nodes[v]
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| field_def(i32::try_from(i + 1).unwrap_or(i32::MAX), f, &mut named))
        .collect();
    let (package, name) = split_tag(nodes[v].ty.tag);
    TypeDef::message(package, name, fields)
}
