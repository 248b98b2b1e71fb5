//! Contract bundles from untrusted peers: `ServiceContract::decode`,
//! `TypeDef::decode` and `ContractSchema::from_bundle` on arbitrary bytes,
//! then every method's decoders on a payload. Nothing may panic, loop
//! without end, or allocate beyond the schema's bounds.
//!
//! Input: `flags · segment*` where a segment is `u16 LE length · bytes`.
//! The first segment is `contract.bin`, the last the payload, the others
//! type files (named by their hash unless flag bit 0 says to name them
//! wrongly). The whole input is also decoded as a payload by two fixed
//! schemas (with and without a manifest), which exercises the hash search.
#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use aster_proto::call::{Pattern, Scope};
use aster_proto::contract::{ContractSchema, ServiceContract, TypeDef, TypeHash};
use aster_proto::service::{MethodDescriptor, ServiceDescriptor};
use aster_proto::{wire_enum, wire_struct};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Clone, Copy, Default, PartialEq)]
enum Mood {
    #[default]
    Calm,
    Busy,
}
wire_enum!(Mood, "f/Mood", { Calm, Busy });

#[derive(Debug, Clone, Default, PartialEq)]
struct Leaf {
    n: i32,
    small: i8,
    ratio: f32,
    mood: Mood,
}
wire_struct!(Leaf, "f/Leaf", { n: i32 => "n", small: i8 => "small", ratio: f32 => "ratio", mood: Mood => "mood" });

#[derive(Debug, Clone, Default, PartialEq)]
struct Node {
    id: i64,
    name: Option<String>,
    blob: Vec<u8>,
    leaves: Vec<Leaf>,
    tags: BTreeMap<String, Option<String>>,
    sizes: Vec<i32>,
    next: Option<Box<Node>>,
}
wire_struct!(Node, "f/Node", {
    id: i64 => "id",
    name: Option<String> => "name",
    blob: Vec<u8> => "blob",
    leaves: Vec<Leaf> => "leaves",
    tags: BTreeMap<String, Option<String>> => "tags",
    sizes: Vec<i32> => "sizes",
    next: Option<Box<Node>> => "next",
});

const SERVICE: ServiceDescriptor = ServiceDescriptor::new(
    "Fuzz",
    1,
    Scope::Shared,
    &[
        MethodDescriptor::of::<Node, Leaf>("node", Pattern::Unary),
        MethodDescriptor::of::<Leaf, Node>("leaf", Pattern::Bidi),
    ],
);

fn fixed() -> &'static [ContractSchema; 2] {
    static SCHEMAS: OnceLock<[ContractSchema; 2]> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let graph = SERVICE.type_graph();
        let contract = SERVICE.contract_in(&graph).canonical_bytes();
        let types: Vec<(TypeHash, Vec<u8>)> = graph.types().iter().map(|t| (t.hash, t.def.canonical_bytes())).collect();
        let manifest = SERVICE.manifest();
        let with = ContractSchema::from_bundle(&contract, &types, Some(&manifest)).expect("fixed bundle");
        let without = ContractSchema::from_bundle(&contract, &types, None).expect("fixed bundle");
        [with, without]
    })
}

fn segments(mut data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while data.len() >= 2 && out.len() < 64 {
        let len = usize::from(u16::from_le_bytes([data[0], data[1]]));
        let rest = &data[2..];
        let take = len.min(rest.len());
        out.push(&rest[..take]);
        data = &rest[take..];
    }
    out
}

fn exercise(schema: &ContractSchema, payload: &[u8]) {
    for m in schema.methods() {
        for json in [m.decode_response(payload), m.decode_request(payload)].into_iter().flatten() {
            // Whatever decodes is valid JSON of the method's shape; writing it
            // back may fail (a re-typed field, a NaN) but never panics.
            let _ = m.encode_response(&json);
            let _ = m.encode_request(&json);
        }
        let _ = m.encode_request(&serde_json::json!({}));
    }
    for (name, _) in schema.unavailable() {
        let _ = schema.lookup(name);
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = ServiceContract::decode(data);
    let _ = TypeDef::decode(data);
    for schema in fixed() {
        exercise(schema, data);
    }

    let Some((&flags, rest)) = data.split_first() else { return };
    let segs = segments(rest);
    let Some((&contract, rest)) = segs.split_first() else { return };
    let (payload, type_files) = match rest.split_last() {
        Some((&payload, types)) => (payload, types),
        None => (&[][..], rest),
    };
    let types: Vec<(TypeHash, &[u8])> =
        type_files.iter().map(|t| (if flags & 1 == 0 { TypeHash::of(t) } else { TypeHash([flags; 32]) }, *t)).collect();
    if let Ok(schema) = ContractSchema::from_bundle(contract, &types, None) {
        exercise(&schema, payload);
    }
});
