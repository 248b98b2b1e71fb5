//! Contract identity against bytes and ids produced by aster-rpc 0.1.2 (G1):
//! the conformance vectors, the wire.md §9.3 table, the Mission Control
//! example, container shapes and cycles probed with the live package, and
//! property tests of the canonical reader and writer.

use std::collections::{BTreeMap, HashMap};

use aster_proto::contract::canonical::{CanonicalReader, CanonicalWriter};
use aster_proto::contract::nfc::nfc;
use aster_proto::contract::{
    CapabilityKind, CapabilityRequirement, ContainerKind, FieldDef, MethodDef, MethodPattern,
    ScopeKind, ServiceContract, TypeDef, TypeGraph, TypeHash, TypeKind, check_golden,
    check_type_vector, struct_type,
};
use aster_proto::xlang::NamedType;
use aster_proto::{wire_enum, wire_struct};
use proptest::prelude::*;
use serde_json::Value;

use aster_proto::call::{Pattern, Scope};
use aster_proto::codec::SerializationMode;
use aster_proto::service::{MethodDescriptor, ServiceDescriptor};

/// The contract of a service described in Rust (leaks the method list to get
/// the `'static` slice a descriptor holds; tests only).
fn contract(
    name: &'static str,
    version: i32,
    scope: Scope,
    methods: &[MethodDescriptor],
    modes: &[SerializationMode],
) -> ServiceContract {
    let methods: &'static [MethodDescriptor] = Box::leak(methods.to_vec().into_boxed_slice());
    let modes: &'static [SerializationMode] = Box::leak(modes.to_vec().into_boxed_slice());
    ServiceDescriptor::new(name, version, scope, methods)
        .modes(modes)
        .contract()
}

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../conformance/vectors/contract-identity.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("read contract-identity.json"))
        .expect("parse")
}

fn hash(hex_str: &str) -> TypeHash {
    TypeHash::from_hex(hex_str).expect("64 hex digits")
}

/// `expected_blake3` of the type vector with this name.
fn type_vector_hash(name: &str) -> TypeHash {
    let doc = vectors();
    let v = doc["type_vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name);
    hash(
        v.unwrap_or_else(|| panic!("no type vector {name:?}"))["expected_blake3"]
            .as_str()
            .unwrap(),
    )
}

// ---------------------------------------------------------------------------
// Conformance vectors
// ---------------------------------------------------------------------------

#[test]
fn every_golden_vector_passes() {
    let doc = vectors();
    let golden = doc["golden_vectors"].as_array().unwrap();
    assert!(golden.len() >= 31, "only {} golden vectors", golden.len());
    let failures: Vec<String> = golden
        .iter()
        .filter_map(|v| check_golden(v).err().map(|e| format!("{}: {e}", v["name"])))
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn every_type_vector_passes() {
    let doc = vectors();
    let types = doc["type_vectors"].as_array().unwrap();
    assert!(types.len() >= 41, "only {} type vectors", types.len());
    let failures: Vec<String> = types
        .iter()
        .filter_map(|v| {
            check_type_vector(v)
                .err()
                .map(|e| format!("{}: {e}", v["name"]))
        })
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn identifier_normalization_vectors() {
    let doc = vectors();
    for v in doc["identifier_normalization"]["vectors"]
        .as_array()
        .unwrap()
    {
        assert_eq!(
            nfc(v["input"].as_str().unwrap()),
            v["normalized"].as_str().unwrap(),
            "{v}"
        );
    }
}

#[test]
fn a_wrong_vector_reports_the_first_differing_offset() {
    let doc = vectors();
    let mut v = doc["golden_vectors"][0].clone();
    v["contract"]["version"] = 2.into();
    let err = check_golden(&v).unwrap_err();
    // Name "Echo" is 5 bytes; the version is the 6th.
    assert!(err.contains("differ at offset 5"), "{err}");

    let mut t = doc["type_vectors"][0].clone();
    t["expected_blake3"] = "00".repeat(32).into();
    let err = check_type_vector(&t).unwrap_err();
    assert!(err.contains("BLAKE3 differs"), "{err}");
}

// ---------------------------------------------------------------------------
// wire.md §9.3
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq)]
struct EchoRequest {
    message: String,
}
wire_struct!(EchoRequest, "echo/EchoRequest", { message: String => "message" });

#[derive(Debug, Clone, Default, PartialEq)]
struct EchoResponse {
    reply: String,
}
wire_struct!(EchoResponse, "echo/EchoResponse", { reply: String => "reply" });

#[derive(Debug, Clone, Default, PartialEq)]
struct CountRequest {
    count: i32,
}
wire_struct!(CountRequest, "counter/CountRequest", { count: i32 => "count" });

#[derive(Debug, Clone, Default, PartialEq)]
struct CountItem {
    value: i32,
}
wire_struct!(CountItem, "counter/CountItem", { value: i32 => "value" });

fn typedef_of(ty: NamedType) -> TypeDef {
    TypeGraph::build(&[ty])
        .get(ty.tag)
        .expect("in graph")
        .def
        .clone()
}

#[test]
fn echo_typedefs_match_9_3() {
    let req = typedef_of(struct_type::<EchoRequest>());
    assert_eq!(
        hex::encode(req.canonical_bytes()),
        "00126563686f2e4563686f52657175657374010c021e6d657373616765001a737472696e670002000000000200000c000c"
    );
    assert_eq!(
        req.type_hash(),
        hash("8b001c85efe8b662bd68a812994d48cf87ef150e4ed1ac9d68ab05356fb6e9e5")
    );

    let resp = typedef_of(struct_type::<EchoResponse>());
    assert_eq!(
        hex::encode(resp.canonical_bytes()),
        "00126563686f324563686f526573706f6e7365010c02167265706c79001a737472696e670002000000000200000c000c"
    );
    assert_eq!(
        resp.type_hash(),
        hash("6f6bd0b230b30e95b956632cf7a941a062581f25f1f85a01d69f66082aa42727")
    );
}

#[test]
fn echo_contract_matches_9_3() {
    let echo = MethodDescriptor::of::<EchoRequest, EchoResponse>("echo", Pattern::Unary);
    let contract = contract("Echo", 1, Scope::Shared, &[echo], &[]);
    assert_eq!(contract.serialization_modes, ["xlang"]);
    let want = format!(
        "124563686f02010c126563686f0020{}20{}000000000000000000fd010c16786c616e6700fd",
        "8b001c85efe8b662bd68a812994d48cf87ef150e4ed1ac9d68ab05356fb6e9e5",
        "6f6bd0b230b30e95b956632cf7a941a062581f25f1f85a01d69f66082aa42727"
    );
    assert_eq!(hex::encode(contract.canonical_bytes()), want);
    assert_eq!(
        contract.contract_id().to_string(),
        "f7870d540a39beaddeee55e11c730e3a97e4db110f1062afd8130a6071e98f7b"
    );
}

#[test]
fn count_item_is_any_and_counter_matches_9_3() {
    let item = typedef_of(struct_type::<CountItem>());
    assert_eq!(
        hex::encode(item.canonical_bytes()),
        "001e636f756e74657226436f756e744974656d010c021676616c756503020002000000000200000c000c"
    );
    let h = item.type_hash().to_hex();
    assert!(h.starts_with("16dfc6cc") && h.ends_with("8ddc"), "{h}");

    // Counter declared in a module without `from __future__ import annotations`.
    let count_up =
        MethodDescriptor::of::<CountRequest, CountItem>("count_up", Pattern::ServerStream);
    let contract = contract("Counter", 1, Scope::Shared, &[count_up], &[]);
    assert_eq!(
        contract.contract_id().to_string(),
        "0ab4bb7d1392661bc11430a37f322bcd1f6f2e1f3f058a52c83a7e0035546740"
    );
}

#[test]
fn empty_service_matches_9_3() {
    let contract = contract("EmptyService", 1, Scope::Shared, &[], &[]);
    assert_eq!(
        hex::encode(contract.canonical_bytes()),
        "32456d7074795365727669636502000c010c16786c616e6700fd"
    );
    assert_eq!(
        contract.contract_id().to_string(),
        "c211545aa8d387d6aa8cf3cce21a6f4fca7ad89f6e8bf9f1a58a55a0e82b3c0c"
    );
}

#[test]
fn session_with_all_of_matches_9_3() {
    let mut contract = contract("S", 1, Scope::Session, &[], &[]);
    assert_eq!(
        contract.requires, None,
        "a contract built from a descriptor never carries requires"
    );
    contract.requires = Some(CapabilityRequirement {
        kind: CapabilityKind::AllOf,
        roles: vec!["b".into(), "a".into()],
    });
    assert_eq!(
        hex::encode(contract.canonical_bytes()),
        "065302000c010c16786c616e67010002020c06610662"
    );
}

#[test]
fn typedef_fields_are_written_by_caller_id() {
    let zeta = FieldDef::primitive(1, "zeta", "string");
    let alpha = FieldDef::primitive(2, "alpha", "int64");
    let want = "0006700654020c02127a657461001a737472696e6700020000000002000416616c7068610016696e7436340002000000000200000c000c";
    let td = TypeDef::message("p", "T", vec![zeta.clone(), alpha.clone()]);
    assert_eq!(hex::encode(td.canonical_bytes()), want);
    let reversed = TypeDef::message("p", "T", vec![alpha, zeta]);
    assert_eq!(hex::encode(reversed.canonical_bytes()), want);
}

// ---------------------------------------------------------------------------
// NFC: sort keys only, except for roles (wire.md §5.5)
// ---------------------------------------------------------------------------

fn method(name: &str) -> MethodDef {
    MethodDef {
        name: name.into(),
        pattern: MethodPattern::Unary,
        request_type: TypeHash::ZERO,
        response_type: TypeHash::ZERO,
        idempotent: false,
        default_timeout: 0.0,
        requires: None,
    }
}

fn contract_with(methods: &[&str]) -> ServiceContract {
    ServiceContract {
        name: "N".into(),
        version: 1,
        methods: methods.iter().map(|m| method(m)).collect(),
        serialization_modes: vec![],
        scoped: ScopeKind::Shared,
        requires: None,
    }
}

/// Method names in the order the canonical bytes hold them.
fn written_method_names(c: &ServiceContract) -> Vec<String> {
    ServiceContract::decode(&c.canonical_bytes())
        .unwrap()
        .methods
        .into_iter()
        .map(|m| m.name)
        .collect()
}

#[test]
fn method_names_sort_by_nfc_but_are_written_as_given() {
    let nfd = "cafe\u{301}";
    let c = contract_with(&[nfd, "cafz", "caf"]);
    assert_eq!(written_method_names(&c), ["caf", "cafz", nfd]);
    let bytes = hex::encode(c.canonical_bytes());
    assert!(bytes.contains("1a63616665cc81"), "NFD bytes kept: {bytes}");
    assert!(!bytes.contains("c3a9"), "not normalised: {bytes}");

    // The NFC spelling is written as NFC, and ties with the NFD one keep the given order.
    let both = contract_with(&["caf\u{e9}", nfd]);
    assert_eq!(written_method_names(&both), ["caf\u{e9}", nfd]);
    let both = contract_with(&[nfd, "caf\u{e9}"]);
    assert_eq!(written_method_names(&both), [nfd, "caf\u{e9}"]);
}

#[test]
fn code_point_order_is_not_utf16_order() {
    // U+1F600 is a surrogate pair in UTF-16 (D83D ...) and would sort before U+FF21 there.
    let c = contract_with(&["\u{1F600}", "\u{FF21}"]);
    assert_eq!(written_method_names(&c), ["\u{FF21}", "\u{1F600}"]);
}

#[test]
fn service_name_is_not_normalised() {
    let c = contract("Cafe\u{301}", 1, Scope::Shared, &[], &[]);
    assert!(hex::encode(c.canonical_bytes()).starts_with("1a43616665cc81"));
}

#[test]
fn roles_are_normalised_sorted_and_kept_when_duplicated() {
    let mut c = contract_with(&[]);
    c.requires = Some(CapabilityRequirement {
        kind: CapabilityKind::AnyOf,
        roles: vec!["cafe\u{301}".into(), "b".into(), "b".into()],
    });
    let back = ServiceContract::decode(&c.canonical_bytes()).unwrap();
    assert_eq!(back.requires.unwrap().roles, ["b", "b", "caf\u{e9}"]);
}

#[test]
fn modes_keep_their_order() {
    let c = contract(
        "M",
        1,
        Scope::Shared,
        &[],
        &[SerializationMode::Json, SerializationMode::Xlang],
    );
    assert_eq!(
        ServiceContract::decode(&c.canonical_bytes())
            .unwrap()
            .serialization_modes,
        ["json", "xlang"]
    );
}

// ---------------------------------------------------------------------------
// Mission Control (reference walkthrough), declared exactly as
// examples/python/mission_control/types.py at the snapshot's HEAD.
// ---------------------------------------------------------------------------

mod mission {
    use super::*;

    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct StatusRequest {
        pub agent_id: String,
    }
    wire_struct!(StatusRequest, "mission/StatusRequest", { agent_id: String => "agent_id" });

    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct StatusResponse {
        pub agent_id: String,
        pub status: String,
        pub uptime_secs: i64,
    }
    wire_struct!(StatusResponse, "mission/StatusResponse", {
        agent_id: String => "agent_id",
        status: String => "status",
        uptime_secs: i64 => "uptime_secs",
    });

    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct LogEntry {
        pub timestamp: f64,
        pub level: String,
        pub message: String,
        pub agent_id: String,
    }
    wire_struct!(LogEntry, "mission/LogEntry", {
        timestamp: f64 => "timestamp",
        level: String => "level",
        message: String => "message",
        agent_id: String => "agent_id",
    });

    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct SubmitLogResult {
        pub accepted: bool,
    }
    wire_struct!(SubmitLogResult, "mission/SubmitLogResult", { accepted: bool => "accepted" });

    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct TailRequest {
        pub agent_id: String,
        pub level: String,
    }
    wire_struct!(TailRequest, "mission/TailRequest", { agent_id: String => "agent_id", level: String => "level" });

    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct MetricPoint {
        pub name: String,
        pub value: f64,
        pub timestamp: f64,
        pub tags: BTreeMap<String, String>,
    }
    wire_struct!(MetricPoint, "mission/MetricPoint", {
        name: String => "name",
        value: f64 => "value",
        timestamp: f64 => "timestamp",
        tags: BTreeMap<String, String> => "tags",
    });

    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct IngestResult {
        pub accepted: i32,
        pub dropped: i32,
    }
    wire_struct!(IngestResult, "mission/IngestResult", { accepted: i32 => "accepted", dropped: i32 => "dropped" });

    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct Heartbeat {
        pub agent_id: String,
        pub capabilities: Vec<String>,
        pub load_avg: f64,
    }
    wire_struct!(Heartbeat, "mission/Heartbeat", {
        agent_id: String => "agent_id",
        capabilities: Vec<String> => "capabilities",
        load_avg: f64 => "load_avg",
    });

    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct Assignment {
        pub task_id: String,
        pub command: String,
    }
    wire_struct!(Assignment, "mission/Assignment", { task_id: String => "task_id", command: String => "command" });

    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct Command {
        pub command: String,
    }
    wire_struct!(Command, "mission/Command", { command: String => "command" });

    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct CommandResult {
        pub stdout: String,
        pub stderr: String,
        pub exit_code: i32,
    }
    wire_struct!(CommandResult, "mission/CommandResult", {
        stdout: String => "stdout",
        stderr: String => "stderr",
        exit_code: i32 => "exit_code",
    });

    pub const MISSION_CONTROL: &[MethodDescriptor] = &[
        MethodDescriptor::of::<StatusRequest, StatusResponse>("getStatus", Pattern::Unary),
        MethodDescriptor::of::<LogEntry, SubmitLogResult>("submitLog", Pattern::Unary),
        MethodDescriptor::of::<TailRequest, LogEntry>("tailLogs", Pattern::ServerStream),
        MethodDescriptor::of::<MetricPoint, IngestResult>("ingestMetrics", Pattern::ClientStream),
    ];

    pub const AGENT_SESSION: &[MethodDescriptor] = &[
        MethodDescriptor::of::<Heartbeat, Assignment>("register", Pattern::Unary),
        MethodDescriptor::of::<Heartbeat, Assignment>("heartbeat", Pattern::Unary),
        MethodDescriptor::of::<Command, CommandResult>("runCommand", Pattern::Bidi),
    ];
}

/// Contract ids printed by the live reference package for the published
/// example (services.py has no `from __future__ import annotations`, so the
/// annotations are real types and every hash is resolved; wire.md §5.7):
///
/// ```sh
/// mkdir -p /tmp/mc && git -C /work/.mirror/aster-rpc+aster-rpc/repo archive HEAD examples/python/mission_control | tar -x -C /tmp/mc
/// PY=$(scripts/reference-venv.sh | tail -1)
/// (cd /tmp/mc/examples/python && $PY -c 'from aster.contract.identity import contract_id_from_service as cid; from mission_control.services import MissionControl, AgentSession; print(cid(MissionControl)); print(cid(AgentSession))')
/// ```
const PY_MISSION_CONTROL_ID: &str =
    "3029351e231333dd960d7c38f90ab8efcb78951b438e692feeda9d6f0bfb440a";
const PY_AGENT_SESSION_ID: &str =
    "59136b4a6d90cd5d2711df19021262432f1ae62c1d7bec5ef6b57407b5f7c9c9";

#[test]
fn mission_control_ids_equal_the_reference() {
    let mc = contract(
        "MissionControl",
        1,
        Scope::Shared,
        mission::MISSION_CONTROL,
        &[],
    );
    assert_eq!(mc.contract_id().to_string(), PY_MISSION_CONTROL_ID);
    let agent = contract(
        "AgentSession",
        1,
        Scope::Session,
        mission::AGENT_SESSION,
        &[],
    );
    assert_eq!(agent.contract_id().to_string(), PY_AGENT_SESSION_ID);
}

#[test]
fn mission_control_type_hashes_equal_the_pipeline_vectors() {
    let spec = ServiceDescriptor::new("MissionControl", 1, Scope::Shared, mission::MISSION_CONTROL);
    let mut all = spec.roots();
    all.extend(
        ServiceDescriptor::new("AgentSession", 1, Scope::Session, mission::AGENT_SESSION).roots(),
    );
    let graph = TypeGraph::build(&all);
    assert_eq!(graph.types().len(), 11);
    for t in graph.types() {
        assert!(!t.cyclic);
        assert_eq!(
            t.hash,
            type_vector_hash(&format!("pipeline: {}", t.tag)),
            "{}",
            t.tag
        );
    }
}

/// `expected_blake3` of the golden vector with this name.
fn golden_vector_id(name: &str) -> String {
    let doc = vectors();
    let v = doc["golden_vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .cloned();
    v.unwrap_or_else(|| panic!("no golden vector {name:?}"))["expected_blake3"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn ledger_with_modes_timeouts_and_idempotent_equals_the_pipeline_vector() {
    use mission::*;
    let methods = [
        MethodDescriptor::of::<StatusRequest, StatusResponse>("balance", Pattern::Unary)
            .timeout_secs(2.5)
            .idempotent(true),
        MethodDescriptor::of::<LogEntry, SubmitLogResult>("post", Pattern::Unary)
            .timeout_secs(30.0),
    ];
    let c = contract(
        "Ledger",
        7,
        Scope::Shared,
        &methods,
        &[SerializationMode::Xlang, SerializationMode::Json],
    );
    assert_eq!(
        c.contract_id().to_string(),
        golden_vector_id("pipeline: Ledger v7 with modes [xlang, json], timeouts and idempotent")
    );
}

// ---------------------------------------------------------------------------
// Field shapes, checked against the live package
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Leaf {
    x: i64,
}
wire_struct!(Leaf, "p/Leaf", { x: i64 => "x" });

#[derive(Debug, Clone, Copy, Default, PartialEq)]
enum Color {
    #[default]
    Red,
}
wire_enum!(Color, "t/Color", { Red });

#[derive(Debug, Clone, Default, PartialEq)]
struct Shapes {
    a: Vec<Leaf>,
    b: BTreeMap<String, Leaf>,
    c: Option<Leaf>,
    d: Vec<Option<String>>,
    e: BTreeMap<String, Vec<String>>,
    f: Vec<Vec<String>>,
    g: Option<Vec<String>>,
    h: Option<BTreeMap<String, i64>>,
    i: BTreeMap<Leaf, String>,
    j: Color,
    k: Vec<Color>,
    l: i8,
    m: i16,
    n: f32,
    o: Vec<u8>,
    p: Vec<Vec<Leaf>>,
    q: Option<i32>,
    r: HashMap<i64, Option<Leaf>>,
}
wire_struct!(Shapes, "p/Shapes", {
    a: Vec<Leaf> => "a",
    b: BTreeMap<String, Leaf> => "b",
    c: Option<Leaf> => "c",
    d: Vec<Option<String>> => "d",
    e: BTreeMap<String, Vec<String>> => "e",
    f: Vec<Vec<String>> => "f",
    g: Option<Vec<String>> => "g",
    h: Option<BTreeMap<String, i64>> => "h",
    i: BTreeMap<Leaf, String> => "i",
    j: Color => "j",
    k: Vec<Color> => "k",
    l: i8 => "l",
    m: i16 => "m",
    n: f32 => "n",
    o: Vec<u8> => "o",
    p: Vec<Vec<Leaf>> => "p",
    q: Option<i32> => "q",
    r: HashMap<i64, Option<Leaf>> => "r",
});

/// The same declaration in Python (`Leaf`: `x: int`; `Color`: an `enum.Enum`
/// tagged `t/Color`), run with the reference venv:
///
/// ```python
/// @wire_type("p/Shapes")
/// @dataclass
/// class Shapes:
///     a: list[Leaf]; b: dict[str, Leaf]; c: Optional[Leaf]; d: list[Optional[str]]
///     e: dict[str, list[str]]; f: list[list[str]]; g: Optional[list[str]]
///     h: Optional[dict[str, int]]; i: dict[Leaf, str]; j: Color; k: list[Color]
///     l: pyfory.int8; m: pyfory.int16; n: pyfory.float32; o: bytes
///     p: list[list[Leaf]]; q: Optional[pyfory.int32]; r: dict[int, Optional[Leaf]]
/// tds = ci.resolve_with_cycles(ci.build_type_graph([Shapes]))
/// print(ci.canonical_xlang_bytes(tds["__main__.Shapes"]).hex())
/// ```
const PY_SHAPES_HEX: &str = "0006701a536861706573120c020661010220373c9481e0a574b7998b19eab4b38d42334194f601d80ce2f793cc098a1a6c0e02000001000200040662010220373c9481e0a574b7998b19eab4b38d42334194f601d80ce2f793cc098a1a6c0e02000003001a737472696e6700060663010220373c9481e0a574b7998b19eab4b38d42334194f601d80ce2f793cc098a1a6c0e02010000000200080664030200020000010002000a066503020002000003001a737472696e67000c0666030200020000010002000e0667001a737472696e6700020100010002001006680016696e7436340002010003001a737472696e6700120669001a737472696e670002000003010220373c9481e0a574b7998b19eab4b38d42334194f601d80ce2f793cc098a1a6c0e14066a0302000200000000020016066b0302000200000100020018066c030200020000000002001a066d030200020000000002001c066e030200020000000002001e066f001a62696e61727900020000000002002006700302000200000100020022067103020002010000000200240672030200020000030016696e74363400000c000c";

#[test]
fn field_shapes_match_the_reference() {
    let graph = TypeGraph::build(&[struct_type::<Shapes>()]);
    assert_eq!(
        graph.get("p/Leaf").unwrap().hash,
        hash("373c9481e0a574b7998b19eab4b38d42334194f601d80ce2f793cc098a1a6c0e")
    );
    assert!(
        graph.get("t/Color").is_none(),
        "enums are not TypeDefs in G1"
    );
    let shapes = &graph.get("p/Shapes").unwrap().def;
    assert_eq!(hex::encode(shapes.canonical_bytes()), PY_SHAPES_HEX);
    assert_eq!(
        shapes.type_hash(),
        hash("b1198d6a9f4ce9d2905b012899c156a071d3227d7b01e141ed690329ba5d0418")
    );

    let by_name = |n: &str| shapes.fields.iter().find(|f| f.name == n).unwrap();
    assert_eq!(by_name("b").container, ContainerKind::Map);
    assert_eq!(by_name("b").container_key_primitive, "string");
    assert_eq!(by_name("i").container_key_kind, TypeKind::Ref);
    assert_eq!(by_name("q").type_kind, TypeKind::Any);
    assert!(by_name("q").optional);
}

#[test]
fn enum_root_gets_the_zero_hash() {
    let color = match <Color as aster_proto::xlang::WireField>::TYPE {
        aster_proto::xlang::FieldType::Enum(n) => n,
        other => panic!("{other:?}"),
    };
    let spec = [MethodDescriptor::new(
        "paint",
        Pattern::Unary,
        color,
        struct_type::<Leaf>(),
    )];
    let c = contract("Paint", 1, Scope::Shared, &spec, &[]);
    assert_eq!(c.methods[0].request_type, TypeHash::ZERO);
    assert_eq!(
        c.methods[0].response_type,
        hash("373c9481e0a574b7998b19eab4b38d42334194f601d80ce2f793cc098a1a6c0e")
    );
}

// ---------------------------------------------------------------------------
// Cycles
// ---------------------------------------------------------------------------

// conformance/generate/xlang_types.py: tree/Node and chain/Alpha -> Beta -> Gamma -> Alpha.
#[derive(Debug, Clone, Default, PartialEq)]
struct Node {
    name: String,
    next: Option<Box<Node>>,
    children: Vec<Node>,
}
wire_struct!(Node, "tree/Node", {
    name: String => "name",
    next: Option<Box<Node>> => "next",
    children: Vec<Node> => "children",
});

#[derive(Debug, Clone, Default, PartialEq)]
struct Alpha {
    name: String,
    beta: Option<Box<Beta>>,
}
wire_struct!(Alpha, "chain/Alpha", { name: String => "name", beta: Option<Box<Beta>> => "beta" });

#[derive(Debug, Clone, Default, PartialEq)]
struct Beta {
    weight: f64,
    gamma: Option<Box<Gamma>>,
}
wire_struct!(Beta, "chain/Beta", { weight: f64 => "weight", gamma: Option<Box<Gamma>> => "gamma" });

#[derive(Debug, Clone, Default, PartialEq)]
struct Gamma {
    alphas: Vec<Alpha>,
}
wire_struct!(Gamma, "chain/Gamma", { alphas: Vec<Alpha> => "alphas" });

/// Python's node names for the generator's module `xlang_types`.
fn xlang_types_names(ty: &NamedType) -> String {
    format!("xlang_types.{}", aster_proto::contract::split_tag(ty.tag).1)
}

#[test]
fn self_recursive_type_uses_the_wire_fqn() {
    let graph = TypeGraph::build(&[struct_type::<Node>()]);
    let node = graph.get("tree/Node").unwrap();
    assert!(node.cyclic);
    for f in &node.def.fields[1..] {
        assert_eq!(
            (f.type_kind, f.self_ref_name.as_str()),
            (TypeKind::SelfRef, "tree.Node")
        );
    }
    // With Python's names the bytes are G1's exactly.
    let named = TypeGraph::build_named(&[struct_type::<Node>()], &xlang_types_names);
    assert_eq!(
        named.get("tree/Node").unwrap().hash,
        type_vector_hash("pipeline: tree/Node")
    );
    assert_ne!(node.hash, type_vector_hash("pipeline: tree/Node"));
}

#[test]
fn three_cycle_matches_g1_where_no_name_is_involved() {
    let cycle = "(cycle Alpha -> Beta -> Gamma -> Alpha)";
    let py = |t: &str| type_vector_hash(&format!("pipeline: chain/{t} {cycle}"));
    let graph = TypeGraph::build(&[struct_type::<Alpha>()]);
    let get = |t: &str| graph.get(&format!("chain/{t}")).unwrap();
    // Alpha and Beta hold zero forward REFs and no names: equal to G1.
    assert_eq!(get("Alpha").hash, py("Alpha"));
    assert_eq!(get("Beta").hash, py("Beta"));
    assert_eq!(get("Alpha").def.fields[1].type_ref, Some(TypeHash::ZERO));
    // Gamma holds the back-edge; its name is ours.
    assert_eq!(get("Gamma").def.fields[0].self_ref_name, "chain.Alpha");
    assert_ne!(get("Gamma").hash, py("Gamma"));

    let named = TypeGraph::build_named(&[struct_type::<Gamma>()], &xlang_types_names);
    for t in ["Alpha", "Beta", "Gamma"] {
        assert_eq!(named.get(&format!("chain/{t}")).unwrap().hash, py(t), "{t}");
    }
}

// A four-node SCC with self-edges, a MAP key back-edge, an edge hidden in a
// nested container and leaves outside the SCC. Class names differ from the
// tags so that Python's order (Far < Mid < Root < Tail) is not the tag order.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
struct CycLeaf {
    x: i64,
}
wire_struct!(CycLeaf, "cyc/E", { x: i64 => "x" });

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Root {
    b: Option<Box<Mid>>,
    c: Vec<Tail>,
    again: Option<Box<Root>>,
    f: Option<Box<Far>>,
}
wire_struct!(Root, "cyc/A", {
    b: Option<Box<Mid>> => "b",
    c: Vec<Tail> => "c",
    again: Option<Box<Root>> => "again",
    f: Option<Box<Far>> => "f",
});

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Mid {
    c: Option<Box<Tail>>,
    byname: BTreeMap<String, Mid>,
}
wire_struct!(Mid, "cyc/B", { c: Option<Box<Tail>> => "c", byname: BTreeMap<String, Mid> => "byname" });

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Tail {
    a: Option<Box<Root>>,
    e: CycLeaf,
    keyed: BTreeMap<Root, String>,
}
wire_struct!(Tail, "cyc/C", {
    a: Option<Box<Root>> => "a",
    e: CycLeaf => "e",
    keyed: BTreeMap<Root, String> => "keyed",
});

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Far {
    nested: Vec<Vec<Root>>,
    e: Option<CycLeaf>,
}
wire_struct!(Far, "cyc/F", { nested: Vec<Vec<Root>> => "nested", e: Option<CycLeaf> => "e" });

/// Python (module `cyc`, classes Leaf/Root/Mid/Tail/Far tagged cyc/E,A,B,C,F
/// with the fields above; `ci.resolve_with_cycles(ci.build_type_graph([cyc.Root]))`).
const PY_CYC: &[(&str, &str, &str)] = &[
    (
        "cyc/E",
        "cyc.Leaf",
        "b2a54708f6a27906791b44be35d1de4427d2822f91740c17c42664ed73703a7e",
    ),
    (
        "cyc/F",
        "cyc.Far",
        "248284fa9ebd3f83b99c0399990ca8c9e3b9ac9120e2849f80dfdc1b9b7d993c",
    ),
    (
        "cyc/A",
        "cyc.Root",
        "8d8a7f3cd6be30809685e7c644387507e7f4cf22238ded9c0779c4acb15b256b",
    ),
    (
        "cyc/B",
        "cyc.Mid",
        "07bc2e59a14d833502a25d549e041ff4cd26655ae2cc89ef4af6e071dd0ec0c9",
    ),
    (
        "cyc/C",
        "cyc.Tail",
        "5382f095f4511ccb70abe818106e755df8abc2e435193c6e13a98cff651b53f6",
    ),
];

#[test]
fn four_node_scc_matches_g1_with_python_names() {
    let names = |ty: &NamedType| {
        PY_CYC
            .iter()
            .find(|(tag, ..)| *tag == ty.tag)
            .map(|(_, n, _)| n.to_string())
            .unwrap()
    };
    let graph = TypeGraph::build_named(&[struct_type::<Root>()], &names);
    assert_eq!(graph.types().len(), 5);
    for (tag, _, h) in PY_CYC {
        assert_eq!(graph.get(tag).unwrap().hash, hash(h), "{tag}");
    }
    // The map key back-edge is SELF_REF without a name.
    let keyed = &graph.get("cyc/C").unwrap().def.fields[2];
    assert_eq!(
        (keyed.container_key_kind, keyed.container_key_ref),
        (TypeKind::SelfRef, None)
    );

    // With our names the cut starts elsewhere (cyc.A, not cyc.Far). The
    // leaf outside the SCC still matches, and so does Far, whose only edge
    // into the SCC is hidden in a nested container (ANY either way); the
    // three others hold other SELF_REF names or zero REFs and differ.
    let ours = TypeGraph::build(&[struct_type::<Root>()]);
    for (tag, _, h) in PY_CYC {
        let same = ours.get(tag).unwrap().hash == hash(h);
        assert_eq!(same, ["cyc/E", "cyc/F"].contains(tag), "{tag}");
    }
    assert!(
        ours.types()
            .iter()
            .filter(|t| t.tag != "cyc/E")
            .all(|t| t.cyclic)
    );
    let again = TypeGraph::build(&[struct_type::<Far>(), struct_type::<Tail>()]);
    for t in ours.types() {
        assert_eq!(
            again.get(t.tag).unwrap().hash,
            t.hash,
            "hashes do not depend on the roots"
        );
    }
}

/// Another Rust type with `p/Leaf`'s tag.
#[derive(Debug, Clone, Default, PartialEq)]
struct LeafTwin {
    x: i64,
}
wire_struct!(LeafTwin, "p/Leaf", { x: i64 => "x" });

#[test]
fn one_tag_is_one_node() {
    let graph = TypeGraph::build(&[
        struct_type::<Leaf>(),
        struct_type::<LeafTwin>(),
        struct_type::<Shapes>(),
    ]);
    assert_eq!(
        graph.types().iter().filter(|t| t.tag == "p/Leaf").count(),
        1
    );
    assert_eq!(graph.types().len(), 2);
}

// ---------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------

#[test]
fn reader_rejects_bad_hash_lengths_and_trailing_bytes() {
    let mut td = TypeDef::message("p", "T", vec![FieldDef::primitive(1, "a", "string")]);
    let good = td.canonical_bytes();
    let mut trailing = good.clone();
    trailing.push(0);
    assert!(TypeDef::decode(&trailing).is_err());

    td.fields[0].type_ref = Some(TypeHash::ZERO);
    let bytes = td.canonical_bytes();
    assert_eq!(TypeDef::decode(&bytes).unwrap(), td);
    // A 31-byte type_ref.
    let short = hex::encode(&bytes).replacen(
        &format!("20{}", "00".repeat(32)),
        &format!("1f{}", "00".repeat(31)),
        1,
    );
    assert!(TypeDef::decode(&hex::decode(short).unwrap()).is_err());
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![".{0,12}", "[a-z_]{0,8}", Just("cafe\u{301}".to_string())]
}

fn any_hash() -> impl Strategy<Value = TypeHash> {
    prop_oneof![Just(TypeHash::ZERO), any::<[u8; 32]>().prop_map(TypeHash)]
}

fn any_kind() -> impl Strategy<Value = TypeKind> {
    prop::sample::select(TypeKind::ALL)
}

fn any_field() -> impl Strategy<Value = FieldDef> {
    (
        (
            any::<i32>(),
            any_text(),
            any_kind(),
            any_text(),
            prop::option::of(any_hash()),
            any_text(),
        ),
        (
            any::<bool>(),
            any::<bool>(),
            prop::sample::select(ContainerKind::ALL),
            any_kind(),
            any_text(),
            prop::option::of(any_hash()),
        ),
    )
        .prop_map(
            |(
                (id, name, type_kind, type_primitive, type_ref, self_ref_name),
                (
                    optional,
                    ref_tracked,
                    container,
                    container_key_kind,
                    container_key_primitive,
                    container_key_ref,
                ),
            )| FieldDef {
                id,
                name,
                type_kind,
                type_primitive,
                type_ref,
                self_ref_name,
                optional,
                ref_tracked,
                container,
                container_key_kind,
                container_key_primitive,
                container_key_ref,
            },
        )
}

fn any_typedef() -> impl Strategy<Value = TypeDef> {
    use aster_proto::contract::{EnumValueDef, TypeDefKind, UnionVariantDef};
    (
        prop::sample::select(TypeDefKind::ALL),
        any_text(),
        any_text(),
        prop::collection::vec(any_field(), 0..4),
        prop::collection::vec(
            (any_text(), any::<i32>()).prop_map(|(name, value)| EnumValueDef { name, value }),
            0..3,
        ),
        prop::collection::vec(
            (any_text(), any::<i32>(), prop::option::of(any_hash()))
                .prop_map(|(name, id, type_ref)| UnionVariantDef { name, id, type_ref }),
            0..3,
        ),
    )
        .prop_map(
            |(kind, package, name, fields, enum_values, union_variants)| TypeDef {
                kind,
                package,
                name,
                fields,
                enum_values,
                union_variants,
            },
        )
}

fn any_requirement() -> impl Strategy<Value = CapabilityRequirement> {
    (
        prop::sample::select(CapabilityKind::ALL),
        prop::collection::vec(any_text(), 0..4),
    )
        .prop_map(|(kind, roles)| CapabilityRequirement { kind, roles })
}

fn any_contract() -> impl Strategy<Value = ServiceContract> {
    let method = (
        any_text(),
        prop::sample::select(MethodPattern::ALL),
        any_hash(),
        any_hash(),
        any::<bool>(),
        any::<f64>().prop_filter("NaN is not equal to itself", |f| !f.is_nan()),
        prop::option::of(any_requirement()),
    )
        .prop_map(
            |(
                name,
                pattern,
                request_type,
                response_type,
                idempotent,
                default_timeout,
                requires,
            )| {
                MethodDef {
                    name,
                    pattern,
                    request_type,
                    response_type,
                    idempotent,
                    default_timeout,
                    requires,
                }
            },
        );
    (
        any_text(),
        any::<i32>(),
        prop::collection::vec(method, 0..4),
        prop::collection::vec(any_text(), 0..3),
        prop::sample::select(ScopeKind::ALL),
        prop::option::of(any_requirement()),
    )
        .prop_map(
            |(name, version, methods, serialization_modes, scoped, requires)| ServiceContract {
                name,
                version,
                methods,
                serialization_modes,
                scoped,
                requires,
            },
        )
}

/// What the writer does to a TypeDef: the three lists sorted (stably).
fn sorted_typedef(mut td: TypeDef) -> TypeDef {
    td.fields.sort_by_key(|f| f.id);
    td.enum_values.sort_by_key(|v| v.value);
    td.union_variants.sort_by_key(|v| v.id);
    td
}

/// What the writer does to a contract: methods by NFC name, roles NFC and sorted.
fn sorted_contract(mut c: ServiceContract) -> ServiceContract {
    fn fix(r: &mut Option<CapabilityRequirement>) {
        if let Some(r) = r {
            r.roles = r.roles.iter().map(|s| nfc(s)).collect();
            r.roles.sort();
        }
    }
    c.methods
        .sort_by(|a, b| aster_proto::contract::nfc::cmp_nfc(&a.name, &b.name));
    c.methods.iter_mut().for_each(|m| fix(&mut m.requires));
    fix(&mut c.requires);
    c
}

proptest! {
    #[test]
    fn primitives_round_trip(
        u in any::<u64>(), i in any::<i32>(), l in any::<i64>(), s in ".*",
        b in prop::collection::vec(any::<u8>(), 0..40), flag in any::<bool>(), f in any::<u64>(),
        items in prop::collection::vec(any::<u32>(), 0..5), opt in prop::option::of(any::<i64>()),
    ) {
        let mut w = CanonicalWriter::new();
        w.varint(u);
        w.zigzag_i32(i);
        w.zigzag_i64(l);
        w.string(&s);
        w.bytes(&b);
        w.bool(flag);
        w.float64(f64::from_bits(f));
        w.list(&items, |w, x| w.varint(u64::from(*x)));
        w.optional(opt.as_ref(), |w, x| w.zigzag_i64(*x));
        let bytes = w.into_bytes();
        let mut r = CanonicalReader::new(&bytes);
        prop_assert_eq!(r.varint().unwrap(), u);
        prop_assert_eq!(r.zigzag_i32().unwrap(), i);
        prop_assert_eq!(r.zigzag_i64().unwrap(), l);
        prop_assert_eq!(r.string().unwrap(), s);
        prop_assert_eq!(r.bytes().unwrap(), &b[..]);
        prop_assert_eq!(r.bool().unwrap(), flag);
        prop_assert_eq!(r.float64().unwrap().to_bits(), f);
        prop_assert_eq!(r.list(|r| r.varint()).unwrap(), items.iter().map(|x| u64::from(*x)).collect::<Vec<_>>());
        prop_assert_eq!(r.optional(|r| r.zigzag_i64()).unwrap(), opt);
        prop_assert!(r.finish().is_ok());
    }

    #[test]
    fn typedef_round_trips(td in any_typedef()) {
        let bytes = td.canonical_bytes();
        let back = TypeDef::decode(&bytes).unwrap();
        prop_assert_eq!(back.canonical_bytes(), bytes);
        prop_assert_eq!(back, sorted_typedef(td));
    }

    #[test]
    fn contract_round_trips(c in any_contract()) {
        let bytes = c.canonical_bytes();
        let back = ServiceContract::decode(&bytes).unwrap();
        prop_assert_eq!(back.canonical_bytes(), bytes);
        prop_assert_eq!(back, sorted_contract(c));
    }

    #[test]
    fn reader_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = TypeDef::decode(&bytes);
        let _ = ServiceContract::decode(&bytes);
        let mut r = CanonicalReader::new(&bytes);
        let _ = MethodDef::read(&mut r);
        let mut r = CanonicalReader::new(&bytes);
        while r.remaining() > 0 && r.string().is_ok() {}
    }

    #[test]
    fn damaged_encodings_never_panic(
        td in any_typedef(), at in any::<usize>(), byte in any::<u8>(), cut in any::<usize>(),
    ) {
        let mut bytes = td.canonical_bytes();
        let at = at % bytes.len();
        bytes[at] = byte;
        let _ = TypeDef::decode(&bytes);
        bytes.truncate(cut % (bytes.len() + 1));
        let _ = TypeDef::decode(&bytes);
    }
}
