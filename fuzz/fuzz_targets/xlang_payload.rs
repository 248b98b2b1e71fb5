//! Typed XLANG payload decoding on arbitrary bytes: never panics, and what
//! decodes re-encodes into a payload that decodes again. Decoding from shared
//! bytes (large `Bytes` fields sliced, not copied) gives what decoding from
//! a slice gives.
#![no_main]

use std::collections::BTreeMap;

use aster_proto::wire_struct;
use aster_proto::xlang;
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Clone, PartialEq, Default)]
struct Leaf {
    n: i32,
    s: String,
}
wire_struct!(Leaf, "f/Leaf", { n: i32 => "n", s: String => "s" });

#[derive(Debug, Clone, PartialEq, Default)]
struct Node {
    id: i64,
    ratio: f64,
    ok: bool,
    blob: Vec<u8>,
    name: Option<String>,
    leaves: Vec<Leaf>,
    tags: BTreeMap<String, Option<String>>,
    next: Option<Box<Node>>,
}
wire_struct!(Node, "f/Node", {
    id: i64 => "id",
    ratio: f64 => "ratio",
    ok: bool => "ok",
    blob: Vec<u8> => "blob",
    name: Option<String> => "name",
    leaves: Vec<Leaf> => "leaves",
    tags: BTreeMap<String, Option<String>> => "tags",
    next: Option<Box<Node>> => "next",
});

#[derive(Debug, Clone, PartialEq, Default)]
struct Blobs {
    small: bytes::Bytes,
    big: bytes::Bytes,
    rest: Vec<bytes::Bytes>,
}
wire_struct!(Blobs, "f/Blobs", {
    small: bytes::Bytes => "small",
    big: bytes::Bytes => "big",
    rest: Vec<bytes::Bytes> => "rest",
});

fuzz_target!(|data: &[u8]| {
    let shared = bytes::Bytes::copy_from_slice(data);
    // Compared re-encoded: a NaN field is not equal to itself.
    let node = |r: Result<Node, _>| r.ok().map(|n| xlang::to_bytes(&n));
    assert_eq!(node(xlang::decode_shared(&shared)), node(xlang::decode(data)));
    let blobs = |r: Result<Blobs, _>| r.ok().map(|b| xlang::to_bytes(&b));
    assert_eq!(blobs(xlang::decode_shared(&shared)), blobs(xlang::decode(data)));
    if let Ok(node) = xlang::decode::<Node>(data) {
        let again = xlang::to_bytes(&node);
        let back = xlang::decode::<Node>(&again).expect("re-encoded payload decodes");
        assert_eq!(back.id, node.id);
    }
    let _ = xlang::peek_tag(data);
});
