//! The dynamic contract schema (`contract::schema`, spec/dynamic.md): a
//! bundle built with the existing builders, serialized, rebuilt from bytes,
//! must encode JSON exactly as the typed path encodes the same message and
//! decode typed payloads into the JSON the typed JSON mode writes. Then
//! G1's lost information (guesses, the hash search), hostile bundles and
//! payloads, and a property round trip.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;

use aster_proto::call::{Pattern, Scope};
use aster_proto::codec::json::{WireJson, root_path};
use aster_proto::codec::{Message, SerializationMode, encode_payload};
use aster_proto::contract::manifest::{FieldDefaults, Manifest, ManifestBuilder};
use aster_proto::contract::schema::{MAX_LAYOUT_SEARCH, MAX_SCHEMA_TYPES, MAX_STRUCT_FIELDS};
use aster_proto::contract::{
    CanonicalError, ContractSchema, JsonValueError, MessageError, MethodLookupError, MethodSchema,
    SchemaBuildError, TypeDef, TypeHash, TypeHints,
};
use aster_proto::service::{MethodDescriptor, ServiceDescriptor};
use aster_proto::xlang::WireStruct;
use aster_proto::xlang::dynamic::{DynType, TypeDef as DynTypeDef};
use aster_proto::{StatusCode, wire_enum, wire_struct};
use proptest::prelude::*;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------
// Mission Control's wire types (examples/mission_control), re-declared, plus
// a probe type with every field shape G1 describes or loses.
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq)]
struct StatusRequest {
    agent_id: String,
}
wire_struct!(StatusRequest, "mission/StatusRequest", { agent_id: String => "agent_id" });

#[derive(Debug, Clone, PartialEq)]
struct StatusResponse {
    agent_id: String,
    status: String,
    uptime_secs: i64,
}
impl Default for StatusResponse {
    fn default() -> Self {
        StatusResponse {
            agent_id: String::new(),
            status: "idle".into(),
            uptime_secs: 0,
        }
    }
}
wire_struct!(StatusResponse, "mission/StatusResponse", {
    agent_id: String => "agent_id",
    status: String => "status",
    uptime_secs: i64 => "uptime_secs",
});

#[derive(Debug, Clone, Default, PartialEq)]
struct MetricPoint {
    name: String,
    value: f64,
    timestamp: f64,
    tags: BTreeMap<String, String>,
}
wire_struct!(MetricPoint, "mission/MetricPoint", {
    name: String => "name",
    value: f64 => "value",
    timestamp: f64 => "timestamp",
    tags: BTreeMap<String, String> => "tags",
});

#[derive(Debug, Clone, Default, PartialEq)]
struct IngestResult {
    accepted: i32,
    dropped: i32,
}
wire_struct!(IngestResult, "mission/IngestResult", { accepted: i32 => "accepted", dropped: i32 => "dropped" });

#[derive(Debug, Clone, Default, PartialEq)]
struct Heartbeat {
    agent_id: String,
    capabilities: Vec<String>,
    load_avg: f64,
}
wire_struct!(Heartbeat, "mission/Heartbeat", {
    agent_id: String => "agent_id",
    capabilities: Vec<String> => "capabilities",
    load_avg: f64 => "load_avg",
});

#[derive(Debug, Clone, Default, PartialEq)]
struct Assignment {
    task_id: String,
    command: String,
}
wire_struct!(Assignment, "mission/Assignment", { task_id: String => "task_id", command: String => "command" });

#[derive(Debug, Clone, Default, PartialEq)]
struct Command {
    command: String,
}
wire_struct!(Command, "mission/Command", { command: String => "command" });

#[derive(Debug, Clone, PartialEq)]
struct CommandResult {
    stdout: String,
    stderr: String,
    exit_code: i32,
}
impl Default for CommandResult {
    fn default() -> Self {
        CommandResult {
            stdout: String::new(),
            stderr: String::new(),
            exit_code: -1,
        }
    }
}
wire_struct!(CommandResult, "mission/CommandResult", {
    stdout: String => "stdout",
    stderr: String => "stderr",
    exit_code: i32 => "exit_code",
});

/// A recursive type: a back-edge to itself (SELF_REF) in a list and an option.
#[derive(Debug, Clone, Default, PartialEq)]
struct TaskNode {
    name: String,
    children: Vec<TaskNode>,
    parent: Option<Box<TaskNode>>,
}
wire_struct!(TaskNode, "mission/TaskNode", {
    name: String => "name",
    children: Vec<TaskNode> => "children",
    parent: Option<Box<TaskNode>> => "parent",
});

#[derive(Debug, Clone, Copy, Default, PartialEq)]
enum Level {
    #[default]
    Low,
    Mid,
    High,
}
wire_enum!(Level, "mission/Level", { Low, Mid, High });

/// Every shape: G1 keeps some, loses `small`/`medium`/`ratio`/`level`/
/// `max_level`/`levels` (ANY).
#[derive(Debug, Clone, Default, PartialEq)]
struct Probe {
    id: i64,
    ok: bool,
    note: Option<String>,
    labels: HashMap<String, String>,
    status: StatusResponse,
    maybe: Option<MetricPoint>,
    history: Vec<MetricPoint>,
    tree: TaskNode,
    small: i8,
    medium: i16,
    ratio: f32,
    count: i32,
    limit: Option<i32>,
    blob: Vec<u8>,
    level: Level,
    max_level: Option<Level>,
    levels: Vec<Level>,
    scores: BTreeMap<String, f64>,
}
wire_struct!(Probe, "mission/Probe", {
    id: i64 => "id",
    ok: bool => "ok",
    note: Option<String> => "note",
    labels: HashMap<String, String> => "labels",
    status: StatusResponse => "status",
    maybe: Option<MetricPoint> => "maybe",
    history: Vec<MetricPoint> => "history",
    tree: TaskNode => "tree",
    small: i8 => "small",
    medium: i16 => "medium",
    ratio: f32 => "ratio",
    count: i32 => "count",
    limit: Option<i32> => "limit",
    blob: Vec<u8> => "blob",
    level: Level => "level",
    max_level: Option<Level> => "max_level",
    levels: Vec<Level> => "levels",
    scores: BTreeMap<String, f64> => "scores",
});

const MISSION: ServiceDescriptor = ServiceDescriptor::new(
    "MissionControl",
    1,
    Scope::Shared,
    &[
        MethodDescriptor::of::<StatusRequest, StatusResponse>("getStatus", Pattern::Unary),
        MethodDescriptor::of::<MetricPoint, IngestResult>("ingestMetrics", Pattern::ClientStream),
        MethodDescriptor::of::<Heartbeat, Assignment>("heartbeat", Pattern::Unary),
        MethodDescriptor::of::<Command, CommandResult>("runCommand", Pattern::Bidi),
        MethodDescriptor::of::<Probe, Probe>("probe", Pattern::Unary),
    ],
);

fn mission_defaults() -> FieldDefaults {
    FieldDefaults::new()
        .with::<StatusResponse>()
        .with::<CommandResult>()
        .with::<Probe>()
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// What a producer publishes: `contract.bin`, `types/<hash>.bin`, and the
/// manifest, as bytes and text (read back as a consumer would).
struct Bundle {
    contract: Vec<u8>,
    types: Vec<(TypeHash, Vec<u8>)>,
    manifest: Manifest,
}

fn bundle(svc: &ServiceDescriptor, defaults: &FieldDefaults) -> Bundle {
    let graph = svc.type_graph();
    let contract = svc.contract_in(&graph).canonical_bytes();
    let types = graph
        .types()
        .iter()
        .map(|t| (t.hash, t.def.canonical_bytes()))
        .collect();
    let text = ManifestBuilder::new(svc)
        .types(&graph)
        .defaults(defaults)
        .build()
        .to_json();
    Bundle {
        contract,
        types,
        manifest: Manifest::from_json(&text).expect("our manifest reads back"),
    }
}

fn mission() -> ContractSchema {
    let b = bundle(&MISSION, &mission_defaults());
    ContractSchema::from_bundle(&b.contract, &b.types, Some(&b.manifest)).expect("schema")
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

fn typed_json<T: Message>(v: &T) -> Value {
    v.to_json()
}

fn from_json<T: Message>(json: &Value) -> T {
    T::from_json(json.clone(), root_path(T::TAG)).expect("typed JSON decodes")
}

/// `encode_request(json)` is the typed encoding of `T::from_json(json)`, and
/// decoding those bytes gives the typed JSON mode's output.
fn assert_request<T: Message + Debug + PartialEq>(m: &MethodSchema, json: Value) {
    let typed: T = from_json(&json);
    let want = encode_payload(&typed, SerializationMode::Xlang);
    let got = m.encode_request(&json).expect("encode_request");
    assert_eq!(hex(&got), hex(&want), "{} request {json}", m.name());
    assert_eq!(
        m.decode_request(&want).expect("decode_request"),
        typed_json(&typed)
    );
}

fn assert_response<T: Message + Debug + PartialEq>(m: &MethodSchema, value: &T) {
    let bytes = encode_payload(value, SerializationMode::Xlang);
    assert_eq!(
        m.decode_response(&bytes).expect("decode_response"),
        typed_json(value),
        "{}",
        m.name()
    );
    let json = typed_json(value);
    let again = m.encode_response(&json).expect("encode_response");
    assert_eq!(hex(&again), hex(&bytes), "{} response {json}", m.name());
}

fn field_type<'a>(m: &'a MethodSchema, tag: &str, field: &str) -> &'a DynType {
    match m.registry().get(tag) {
        Some(DynTypeDef::Struct { fields, .. }) => {
            &fields.iter().find(|f| f.name == field).expect("field").ty
        }
        other => panic!("{tag}: {other:?}"),
    }
}

fn sample_probe() -> Probe {
    Probe {
        id: -7,
        ok: true,
        note: Some("é ✓".into()),
        labels: [("zone".to_string(), "eu".to_string())].into(),
        status: StatusResponse {
            agent_id: "a1".into(),
            status: "busy".into(),
            uptime_secs: 99,
        },
        maybe: Some(MetricPoint {
            name: "cpu".into(),
            value: 0.5,
            ..Default::default()
        }),
        history: vec![
            MetricPoint {
                name: "m".into(),
                tags: [("k".into(), "v".into())].into(),
                ..Default::default()
            },
            MetricPoint::default(),
        ],
        tree: TaskNode {
            name: "root".into(),
            children: vec![TaskNode {
                name: "leaf".into(),
                ..Default::default()
            }],
            parent: Some(Box::new(TaskNode {
                name: "up".into(),
                ..Default::default()
            })),
        },
        small: -5,
        medium: 1234,
        ratio: 0.1,
        count: -100_000,
        limit: Some(3),
        blob: vec![0, 1, 255],
        level: Level::High,
        max_level: Some(Level::Mid),
        levels: vec![Level::Mid, Level::Low],
        scores: [("a".to_string(), 1.5)].into(),
    }
}

// ---------------------------------------------------------------------------
// Byte identity with the typed path
// ---------------------------------------------------------------------------

#[test]
fn mission_control_requests_are_byte_identical() {
    let s = mission();
    assert_eq!(s.service(), "MissionControl");
    assert_eq!(s.contract_id(), Some(MISSION.contract_id()));
    assert!(s.unavailable().is_empty(), "{:?}", s.unavailable());
    assert_eq!(s.methods().len(), 5);

    let get = s.method("getStatus").unwrap();
    assert_eq!(get.pattern(), Pattern::Unary);
    assert_eq!(get.request_tag(), "mission/StatusRequest");
    assert_request::<StatusRequest>(get, json!({"agent_id": "edge-7"}));
    assert_request::<StatusRequest>(get, json!({}));

    let ingest = s.method("ingestMetrics").unwrap();
    assert_eq!(ingest.pattern(), Pattern::ClientStream);
    assert_request::<MetricPoint>(
        ingest,
        json!({"name": "cpu", "value": 0.75, "timestamp": 1.7e9, "tags": {"a": "1", "b": "2"}}),
    );
    // Map entries go out in JSON document order (as the reference's dict
    // keeps them); a BTreeMap sorts, so the bytes differ, not the value.
    let unsorted = json!({"tags": {"b": "2", "a": "1"}});
    let bytes = ingest.encode_request(&unsorted).unwrap();
    assert_eq!(
        aster_proto::xlang::decode::<MetricPoint>(&bytes).unwrap(),
        from_json::<MetricPoint>(&unsorted)
    );
    assert_request::<MetricPoint>(ingest, json!({"value": 3}));

    let hb = s.method("heartbeat").unwrap();
    assert_request::<Heartbeat>(
        hb,
        json!({"agent_id": "x", "capabilities": ["gpu", "é"], "load_avg": 0.25}),
    );

    let run = s.method("runCommand").unwrap();
    assert_eq!(run.pattern(), Pattern::Bidi);
    assert_request::<Command>(run, json!({"command": "ls -la"}));
}

#[test]
fn mission_control_responses_decode_to_typed_json() {
    let s = mission();
    assert_response(
        s.method("getStatus").unwrap(),
        &StatusResponse {
            agent_id: "a".into(),
            status: "ok".into(),
            uptime_secs: 1 << 40,
        },
    );
    assert_response(
        s.method("ingestMetrics").unwrap(),
        &IngestResult {
            accepted: 41,
            dropped: -2,
        },
    );
    assert_response(
        s.method("ingestMetrics").unwrap(),
        &IngestResult {
            accepted: i32::MAX,
            dropped: i32::MIN,
        },
    );
    assert_response(
        s.method("heartbeat").unwrap(),
        &Assignment {
            task_id: "t".into(),
            command: "run".into(),
        },
    );
    assert_response(
        s.method("runCommand").unwrap(),
        &CommandResult {
            stdout: "out".into(),
            stderr: String::new(),
            exit_code: 2,
        },
    );
}

#[test]
fn missing_fields_take_the_manifest_defaults() {
    let s = mission();
    let run = s.method("runCommand").unwrap();
    // CommandResult's default exit_code is -1 (manifest default_value -1).
    let bytes = run.encode_response(&json!({"stdout": "x"})).unwrap();
    let want = CommandResult {
        stdout: "x".into(),
        ..Default::default()
    };
    assert_eq!(
        hex(&bytes),
        hex(&encode_payload(&want, SerializationMode::Xlang))
    );
    // StatusResponse's status defaults to "idle".
    let get = s.method("getStatus").unwrap();
    let bytes = get.encode_response(&json!({})).unwrap();
    assert_eq!(
        hex(&bytes),
        hex(&encode_payload(
            &StatusResponse::default(),
            SerializationMode::Xlang
        ))
    );
}

#[test]
fn probe_with_every_shape_round_trips() {
    let s = mission();
    let probe = s.method("probe").unwrap();
    // i32 fields: kind "string" + integer default => int32 (right); f32:
    // float default => float32 (right); enums from the manifest's enum_values.
    assert_eq!(field_type(probe, "mission/Probe", "count"), &DynType::Int32);
    assert_eq!(
        field_type(probe, "mission/Probe", "limit"),
        &DynType::Optional(Box::new(DynType::Int32))
    );
    assert_eq!(
        field_type(probe, "mission/Probe", "ratio"),
        &DynType::Float32
    );
    assert_eq!(
        field_type(probe, "mission/IngestResult", "accepted"),
        &DynType::Int32
    );
    // i8 and i16 are guessed int32 first (rule 1): the request differs...
    let json = typed_json(&sample_probe());
    let ours = probe.encode_request(&json).unwrap();
    assert_ne!(
        hex(&ours),
        hex(&encode_payload(&sample_probe(), SerializationMode::Xlang))
    );
    // ...but the response decoder finds int8/int16 from the struct hash.
    assert_response_decodes(probe, &sample_probe());
    assert_response_decodes(probe, &Probe::default());

    // With the right types stated, encoding is byte-identical too.
    let b = bundle(&MISSION, &mission_defaults());
    let hints = TypeHints::new()
        .field("mission/Probe", "small", DynType::Int8)
        .field("mission/Probe", "medium", DynType::Int16);
    let hinted =
        ContractSchema::from_bundle_with(&b.contract, &b.types, Some(&b.manifest), &hints).unwrap();
    let probe = hinted.method("probe").unwrap();
    assert_request::<Probe>(probe, json.clone());
    assert_request::<Probe>(
        probe,
        json!({"tree": {"children": [{"name": "c"}]}, "levels": ["High"]}),
    );
    assert_response(probe, &sample_probe());
}

fn assert_response_decodes<T: Message + Debug + PartialEq>(m: &MethodSchema, value: &T) {
    let bytes = encode_payload(value, SerializationMode::Xlang);
    assert_eq!(
        m.decode_response(&bytes).expect("decode_response"),
        typed_json(value)
    );
}

#[test]
fn recursive_type_nests_deeply() {
    let s = mission();
    let probe = s.method("probe").unwrap();
    let mut down = TaskNode {
        name: "0".into(),
        ..Default::default()
    };
    let mut up = down.clone();
    for i in 1..25 {
        down = TaskNode {
            name: i.to_string(),
            children: vec![down],
            parent: None,
        };
        up = TaskNode {
            name: i.to_string(),
            children: Vec::new(),
            parent: Some(Box::new(up)),
        };
    }
    assert_response_decodes(
        probe,
        &Probe {
            tree: down,
            ..Default::default()
        },
    );
    assert_response_decodes(
        probe,
        &Probe {
            tree: up,
            ..Default::default()
        },
    );
}

// ---------------------------------------------------------------------------
// Without a manifest: guesses and the hash search
// ---------------------------------------------------------------------------

/// Four fields G1 writes as ANY: few enough for the search to cover every
/// assignment (5^4 = 625).
#[derive(Debug, Clone, Default, PartialEq)]
struct Gauge {
    name: String,
    small: i8,
    ratio: f32,
    count: i32,
    level: Level,
}
wire_struct!(Gauge, "mission/Gauge", {
    name: String => "name",
    small: i8 => "small",
    ratio: f32 => "ratio",
    count: i32 => "count",
    level: Level => "level",
});

const GAUGES: ServiceDescriptor = ServiceDescriptor::new(
    "Gauges",
    1,
    Scope::Shared,
    &[MethodDescriptor::of::<StatusRequest, Gauge>(
        "read",
        Pattern::Unary,
    )],
);

#[test]
fn without_manifest_any_is_int32_and_search_finds_the_rest() {
    let b = bundle(&MISSION, &mission_defaults());
    let s = ContractSchema::from_bundle(&b.contract, &b.types, None).unwrap();
    assert_eq!(s.contract_id(), Some(MISSION.contract_id()));
    let ingest = s.method("ingestMetrics").unwrap();
    assert_eq!(
        field_type(ingest, "mission/IngestResult", "dropped"),
        &DynType::Int32
    );
    assert_response(
        ingest,
        &IngestResult {
            accepted: 5,
            dropped: 6,
        },
    );

    let b = bundle(&GAUGES, &FieldDefaults::new());
    let s = ContractSchema::from_bundle(&b.contract, &b.types, None).unwrap();
    let read = s.method("read").unwrap();
    for ty in ["small", "ratio", "count", "level"].map(|f| field_type(read, "mission/Gauge", f)) {
        assert_eq!(ty, &DynType::Int32);
    }
    let gauge = Gauge {
        name: "g".into(),
        small: -3,
        ratio: 0.5,
        count: 70_000,
        level: Level::High,
    };
    let json = read
        .decode_response(&encode_payload(&gauge, SerializationMode::Xlang))
        .unwrap();
    // The enum nothing describes is spelled as its ordinal (rule 4).
    assert_eq!(
        json,
        json!({"name": "g", "small": -3, "ratio": 0.5, "count": 70_000, "level": 2})
    );
}

#[test]
fn the_search_is_bounded() {
    // Without a manifest, Probe has 7 ANY fields (5 candidates each); its
    // real types differ from the guesses in 5 of them, beyond the bound.
    let b = bundle(&MISSION, &mission_defaults());
    // `levels` (a list of enums) cannot be described without the manifest,
    // so probe is unavailable...
    let s = ContractSchema::from_bundle(&b.contract, &b.types, None).unwrap();
    match s.lookup("probe") {
        Err(MethodLookupError::Unavailable {
            reason: SchemaBuildError::Undescribable { tag, field, .. },
            ..
        }) => {
            assert_eq!((tag.as_str(), field.as_str()), ("mission/Probe", "levels"));
        }
        other => panic!("{other:?}"),
    }
    // ...until a hint says what it is.
    let hints = TypeHints::new()
        .enum_type("mission/Level", ["Low", "Mid", "High"])
        .field(
            "mission/Probe",
            "levels",
            DynType::List(Box::new(DynType::Named("mission/Level".into()))),
        );
    let s = ContractSchema::from_bundle_with(&b.contract, &b.types, None, &hints).unwrap();
    let probe = s.method("probe").unwrap();
    assert_eq!(field_type(probe, "mission/Probe", "ratio"), &DynType::Int32);
    let bytes = encode_payload(&sample_probe(), SerializationMode::Xlang);
    match probe.decode_response(&bytes) {
        Err(MessageError::NoMatchingLayout { tag, tried, .. }) => {
            assert_eq!((tag.as_str(), tried), ("mission/Probe", MAX_LAYOUT_SEARCH));
        }
        other => panic!("{other:?}"),
    }
    // Stating the enums (as a manifest would) brings it back within reach.
    let hints = hints
        .field(
            "mission/Probe",
            "level",
            DynType::Named("mission/Level".into()),
        )
        .field(
            "mission/Probe",
            "max_level",
            DynType::Optional(Box::new(DynType::Named("mission/Level".into()))),
        );
    let s = ContractSchema::from_bundle_with(&b.contract, &b.types, None, &hints).unwrap();
    assert_response_decodes(s.method("probe").unwrap(), &sample_probe());
}

/// Flips a bit of `T`'s struct hash in a payload.
fn flip_hash<T: WireStruct>(bytes: &mut [u8]) {
    let hash = T::layout().hash.to_le_bytes();
    let at = bytes
        .windows(4)
        .position(|w| w == hash)
        .expect("hash in payload");
    bytes[at] ^= 0x55;
}

#[test]
fn a_hash_that_matches_no_assignment_is_a_typed_error() {
    let s = mission();
    let ingest = s.method("ingestMetrics").unwrap();
    let mut bytes = encode_payload(
        &IngestResult {
            accepted: 1,
            dropped: 2,
        },
        SerializationMode::Xlang,
    )
    .to_vec();
    flip_hash::<IngestResult>(&mut bytes);
    match ingest.decode_response(&bytes) {
        Err(MessageError::NoMatchingLayout { tag, tried, .. }) => {
            assert_eq!(tag, "mission/IngestResult");
            assert_eq!(tried, 16, "4 candidates for each of 2 ANY fields");
        }
        other => panic!("{other:?}"),
    }
    // A struct without ANY fields has nothing to search.
    let get = s.method("getStatus").unwrap();
    let mut bytes = encode_payload(&StatusResponse::default(), SerializationMode::Xlang).to_vec();
    flip_hash::<StatusResponse>(&mut bytes);
    assert!(matches!(
        get.decode_response(&bytes),
        Err(MessageError::NoMatchingLayout { tried: 0, .. })
    ));
    assert_eq!(
        get.decode_response(&bytes).unwrap_err().to_status().code,
        StatusCode::Internal
    );
}

#[test]
fn wrong_root_type_is_refused() {
    let s = mission();
    let bytes = encode_payload(&Assignment::default(), SerializationMode::Xlang);
    match s.method("getStatus").unwrap().decode_response(&bytes) {
        Err(MessageError::UnexpectedType { expected, found }) => {
            assert_eq!(
                (expected.as_str(), found.as_str()),
                ("mission/StatusResponse", "mission/Assignment")
            );
        }
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Enums, zero REFs, unavailable methods
// ---------------------------------------------------------------------------

/// Two structs in one cycle: G1 writes A's REF to B as 32 zero bytes.
#[derive(Debug, Clone, Default, PartialEq)]
struct Alpha {
    label: String,
    beta: Option<Box<Beta>>,
}
wire_struct!(Alpha, "cyc/Alpha", { label: String => "label", beta: Option<Box<Beta>> => "beta" });

#[derive(Debug, Clone, Default, PartialEq)]
struct Beta {
    alphas: Vec<Alpha>,
    weight: f64,
}
wire_struct!(Beta, "cyc/Beta", { alphas: Vec<Alpha> => "alphas", weight: f64 => "weight" });

const CYCLE: ServiceDescriptor = ServiceDescriptor::new(
    "Cycle",
    1,
    Scope::Shared,
    &[MethodDescriptor::of::<Alpha, Alpha>("walk", Pattern::Unary)],
);

#[test]
fn zero_ref_inside_a_cycle_needs_the_manifest() {
    let b = bundle(&CYCLE, &FieldDefaults::new());
    let alpha = b
        .types
        .iter()
        .map(|(_, bytes)| TypeDef::decode(bytes).unwrap())
        .find(|d| d.name == "Alpha")
        .unwrap();
    assert_eq!(
        alpha.fields[1].type_ref,
        Some(TypeHash::ZERO),
        "G1's zero REF"
    );

    let s = ContractSchema::from_bundle(&b.contract, &b.types, Some(&b.manifest)).unwrap();
    let walk = s.method("walk").unwrap();
    let value = Alpha {
        label: "a".into(),
        beta: Some(Box::new(Beta {
            alphas: vec![Alpha {
                label: "b".into(),
                beta: None,
            }],
            weight: 2.5,
        })),
    };
    assert_request::<Alpha>(walk, typed_json(&value));
    assert_response(walk, &value);

    let s = ContractSchema::from_bundle(&b.contract, &b.types, None).unwrap();
    match s.lookup("walk") {
        Err(MethodLookupError::Unavailable {
            reason: SchemaBuildError::Undescribable { field, reason, .. },
            ..
        }) => {
            assert_eq!(field, "beta");
            assert!(reason.contains("zero hash"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        s.lookup("nope"),
        Err(MethodLookupError::NotFound { .. })
    ));
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Grid {
    rows: Vec<Vec<String>>,
    name: String,
}
wire_struct!(Grid, "t/Grid", { rows: Vec<Vec<String>> => "rows", name: String => "name" });

#[derive(Debug, Clone, Default, PartialEq)]
struct Tagged {
    skus: Vec<Option<String>>,
    sizes: Vec<i32>,
    by_level: BTreeMap<String, Level>,
    by_id: BTreeMap<i64, Option<StatusRequest>>,
}
wire_struct!(Tagged, "t/Tagged", {
    skus: Vec<Option<String>> => "skus",
    sizes: Vec<i32> => "sizes",
    by_level: BTreeMap<String, Level> => "by_level",
    by_id: BTreeMap<i64, Option<StatusRequest>> => "by_id",
});

#[derive(Debug, Clone, Default, PartialEq)]
struct Levels {
    level: Level,
}
wire_struct!(Levels, "t/Levels", { level: Level => "level" });

const SHAPES: ServiceDescriptor = ServiceDescriptor::new(
    "Shapes",
    1,
    Scope::Shared,
    &[
        MethodDescriptor::of::<Grid, Grid>("grid", Pattern::Unary),
        MethodDescriptor::of::<Tagged, Levels>("tagged", Pattern::ServerStream),
        MethodDescriptor::of::<StatusRequest, StatusRequest>("echo", Pattern::Unary),
    ],
);

#[test]
fn containers_of_any_follow_the_manifest() {
    let b = bundle(&SHAPES, &FieldDefaults::new());
    let s = ContractSchema::from_bundle(&b.contract, &b.types, Some(&b.manifest)).unwrap();
    let tagged = s.method("tagged").unwrap();
    assert_eq!(
        field_type(tagged, "t/Tagged", "skus"),
        &DynType::List(Box::new(DynType::Optional(Box::new(DynType::String))))
    );
    assert_eq!(
        field_type(tagged, "t/Tagged", "sizes"),
        &DynType::List(Box::new(DynType::Int32))
    );
    let value = Tagged {
        skus: vec![Some("a".into()), None],
        sizes: vec![1, -2],
        by_level: [("x".to_string(), Level::High)].into(),
        by_id: [
            (
                7,
                Some(StatusRequest {
                    agent_id: "q".into(),
                }),
            ),
            (8, None),
        ]
        .into(),
    };
    assert_request::<Tagged>(tagged, typed_json(&value));
    assert_response(tagged, &Levels { level: Level::Mid });

    // A list of lists is described nowhere: that method only is unavailable.
    match s.lookup("grid") {
        Err(MethodLookupError::Unavailable { reason, .. }) => {
            assert!(
                matches!(&reason, SchemaBuildError::Undescribable { tag, field, .. } if tag == "t/Grid" && field == "rows"),
                "{reason}"
            );
            assert!(
                reason.to_string().contains("inside a container"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(s.method("echo").is_some());
    let hints = TypeHints::new().field(
        "t/Grid",
        "rows",
        DynType::List(Box::new(DynType::List(Box::new(DynType::String)))),
    );
    let s =
        ContractSchema::from_bundle_with(&b.contract, &b.types, Some(&b.manifest), &hints).unwrap();
    assert_request::<Grid>(
        s.method("grid").unwrap(),
        json!({"rows": [["a"], [], ["b", "c"]], "name": "g"}),
    );
}

#[test]
fn json_errors_match_json_mode() {
    let s = mission();
    let probe = s.method("probe").unwrap();
    let cases = [
        json!({"bogus": 1, "id": 2}),
        json!({"count": 3_000_000_000i64}),
        json!({"count": 1.5}),
        json!({"history": [{}, {"value": "x"}]}),
        json!({"history": [{"zz": 1}]}),
        json!({"labels": {"a": 1}}),
        json!({"blob": "not base64!"}),
        json!({"level": "Huge"}),
        json!({"note": 5}),
        json!({"ok": null}),
        json!({"status": {"uptime_secs": "1"}}),
        json!([]),
    ];
    for json in cases {
        let typed = Probe::from_json(json.clone(), "Probe").unwrap_err();
        let ours = probe.encode_request(&json).unwrap_err();
        let MessageError::Json(e) = &ours else {
            panic!("{ours:?}")
        };
        let status = ours.to_status();
        assert_eq!(status.code, StatusCode::ContractViolation, "{json}");
        // Same message, except that an enum is named by its manifest name.
        let want = typed.message.replace("mission/Level", "Level");
        assert_eq!(status.message, want, "{json}");
        assert!(want.contains(e.path()), "{json}: {}", e.path());
    }
    let err = probe
        .encode_request(&json!({"count": 3_000_000_000i64}))
        .unwrap_err();
    assert!(
        matches!(err, MessageError::Json(JsonValueError::Mismatch { ref path, ref expected, .. })
        if path == "Probe.count" && expected == "an integer fitting i32")
    );
}

// ---------------------------------------------------------------------------
// A manifest alone
// ---------------------------------------------------------------------------

#[test]
fn manifest_alone_describes_request_and_response_types() {
    let b = bundle(&MISSION, &mission_defaults());
    let s = ContractSchema::from_manifest(&b.manifest).unwrap();
    assert_eq!(s.contract_id(), None);
    assert_request::<MetricPoint>(
        s.method("ingestMetrics").unwrap(),
        json!({"name": "n", "tags": {"k": "v"}}),
    );
    assert_response(
        s.method("ingestMetrics").unwrap(),
        &IngestResult {
            accepted: 3,
            dropped: 4,
        },
    );
    assert_response(
        s.method("runCommand").unwrap(),
        &CommandResult {
            exit_code: 9,
            ..Default::default()
        },
    );
    assert_request::<Heartbeat>(
        s.method("heartbeat").unwrap(),
        json!({"capabilities": ["a"]}),
    );
    assert!(s.method("getStatus").unwrap().request_hash().is_none());
    // Probe reaches TaskNode, which is no method's request or response.
    match s.lookup("probe") {
        Err(MethodLookupError::Unavailable {
            reason: SchemaBuildError::Dependency { on, cause, .. },
            ..
        }) => {
            assert_eq!(on, "mission/TaskNode");
            assert!(
                matches!(*cause, SchemaBuildError::UndescribedType { ref tag, .. } if tag == "mission/TaskNode")
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn reference_catalog_manifest_is_usable_where_it_can_be() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../conformance/vectors/manifests.json"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let text = doc["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "runtime: Catalog")
        .unwrap()["manifest_json"]
        .as_str()
        .unwrap()
        .to_owned();
    let manifest = Manifest::from_json(&text).unwrap();
    let s = ContractSchema::from_manifest(&manifest).unwrap();
    let mut available: Vec<&str> = s.methods().iter().map(|m| m.name()).collect();
    available.sort();
    assert_eq!(available, ["price", "sync", "upload"]);
    let price = s.method("price").unwrap();
    // Money.nanos is a pyfory.int32: kind "string", default 0.
    assert_eq!(field_type(price, "shop/Money", "nanos"), &DynType::Int32);
    let bytes = price
        .encode_request(&json!({"units": 5, "nanos": 7, "currency": "EUR"}))
        .unwrap();
    assert_eq!(
        price.decode_response(&bytes).unwrap(),
        json!({"units": 5, "nanos": 7, "currency": "EUR"})
    );
    let sync = s.method("sync").unwrap();
    let item = sync
        .decode_request(
            &sync
                .encode_request(&json!({"color": "Blue", "image": "AAE="}))
                .unwrap(),
        )
        .unwrap();
    assert_eq!(item["color"], "Blue");
    assert_eq!(
        item["price"],
        json!({"units": 0, "nanos": 0, "currency": ""})
    );
}

// ---------------------------------------------------------------------------
// Hostile bundles
// ---------------------------------------------------------------------------

fn build(
    contract: &[u8],
    types: &[(TypeHash, Vec<u8>)],
) -> Result<ContractSchema, SchemaBuildError> {
    ContractSchema::from_bundle(contract, types, None)
}

#[test]
fn hostile_bundles_are_typed_errors() {
    let b = bundle(&MISSION, &mission_defaults());

    // Truncated and garbage type bytes, each under its own (matching) hash.
    let (_, first) = &b.types[0];
    for n in 0..first.len() {
        let cut = first[..n].to_vec();
        let mut types = b.types.clone();
        types[0] = (TypeHash::of(&cut), cut);
        assert!(
            matches!(
                build(&b.contract, &types),
                Err(SchemaBuildError::TypeBytes { index: 0, .. })
            ),
            "cut at {n}"
        );
    }
    let garbage = vec![0xff; 40];
    let types = vec![(TypeHash::of(&garbage), garbage)];
    assert!(matches!(
        build(&b.contract, &types),
        Err(SchemaBuildError::TypeBytes { .. })
    ));

    // A file whose name is not its hash.
    let mut types = b.types.clone();
    types[1].0 = TypeHash([7; 32]);
    assert!(matches!(
        build(&b.contract, &types),
        Err(SchemaBuildError::TypeHashMismatch { index: 1, .. })
    ));

    // A missing type.
    for i in 0..b.types.len() {
        let mut types = b.types.clone();
        let (gone, _) = types.remove(i);
        match build(&b.contract, &types) {
            Err(SchemaBuildError::MissingType { hash, .. }) => assert_eq!(hash, gone),
            other => panic!("without type {i}: {other:?}"),
        }
    }

    // Truncated and garbage contracts.
    for n in 0..b.contract.len() {
        assert!(matches!(
            build(&b.contract[..n], &b.types),
            Err(SchemaBuildError::Contract(_))
        ));
    }

    // A huge list count is refused before anything is allocated.
    let huge = vec![
        0x00, 0x02, 0x02, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x0c,
    ];
    let types = vec![(TypeHash::of(&huge), huge)];
    assert!(matches!(
        build(&b.contract, &types),
        Err(SchemaBuildError::TypeBytes {
            source: CanonicalError::ListTooLong { .. },
            ..
        })
    ));

    // Too many types.
    let many: Vec<(TypeHash, Vec<u8>)> = (0..=MAX_SCHEMA_TYPES)
        .map(|i| {
            let bytes = TypeDef::message("p", format!("T{i}"), Vec::new()).canonical_bytes();
            (TypeHash::of(&bytes), bytes)
        })
        .collect();
    assert!(matches!(
        build(&b.contract, &many),
        Err(SchemaBuildError::TooMany { .. })
    ));

    // Too many fields in one type.
    let fields = (0..=MAX_STRUCT_FIELDS as i32)
        .map(|i| aster_proto::contract::FieldDef::primitive(i, format!("f{i}"), "string"))
        .collect();
    let wide = TypeDef::message("p", "Wide", fields).canonical_bytes();
    let types = vec![(TypeHash::of(&wide), wide)];
    assert!(matches!(
        build(&b.contract, &types),
        Err(SchemaBuildError::TooMany { .. })
    ));

    // A manifest for another contract.
    let other = bundle(&CYCLE, &FieldDefaults::new());
    assert!(matches!(
        ContractSchema::from_bundle(&b.contract, &b.types, Some(&other.manifest)),
        Err(SchemaBuildError::ManifestMismatch { .. })
    ));
}

#[test]
fn self_containing_struct_has_no_default() {
    // A hand-made TypeDef that contains itself without Optional: no finite
    // value exists, and the default fill must stop, not recurse forever.
    let mut field = aster_proto::contract::FieldDef::primitive(1, "me", "");
    field.type_kind = aster_proto::contract::TypeKind::SelfRef;
    field.self_ref_name = "p.Loop".into();
    let def = TypeDef::message("p", "Loop", vec![field]);
    let bytes = def.canonical_bytes();
    let hash = TypeHash::of(&bytes);
    let contract = aster_proto::contract::ServiceContract {
        name: "L".into(),
        version: 1,
        methods: vec![aster_proto::contract::MethodDef {
            name: "m".into(),
            pattern: aster_proto::contract::MethodPattern::Unary,
            request_type: hash,
            response_type: hash,
            idempotent: false,
            default_timeout: 0.0,
            requires: None,
        }],
        serialization_modes: vec!["xlang".into()],
        scoped: aster_proto::contract::ScopeKind::Shared,
        requires: None,
    };
    let s = build(&contract.canonical_bytes(), &[(hash, bytes)]).unwrap();
    let m = s.method("m").unwrap();
    assert!(matches!(
        m.encode_request(&json!({})),
        Err(MessageError::Json(JsonValueError::TooDeep { .. }))
    ));
    // A deep JSON value is refused too, at the depth limit.
    let mut deep = json!({});
    for _ in 0..200 {
        deep = json!({ "me": deep });
    }
    assert!(matches!(
        m.encode_request(&deep),
        Err(MessageError::Json(JsonValueError::TooDeep { .. }))
    ));
}

#[test]
fn hostile_payloads_never_panic() {
    let s = mission();
    let probe = s.method("probe").unwrap();
    let bytes = encode_payload(&sample_probe(), SerializationMode::Xlang);
    for n in 0..bytes.len() {
        assert!(probe.decode_response(&bytes[..n]).is_err());
    }
    for i in 0..bytes.len() {
        let mut bad = bytes.to_vec();
        bad[i] ^= 0xa5;
        let _ = probe.decode_response(&bad);
    }
}

// ---------------------------------------------------------------------------
// Property: typed value -> typed bytes -> dynamic JSON -> dynamic bytes
// ---------------------------------------------------------------------------

fn metric() -> impl Strategy<Value = MetricPoint> {
    (
        "[a-z]{0,4}",
        -1e300f64..1e300,
        -1e9f64..1e9,
        proptest::collection::btree_map("[a-zé]{0,3}", "\\PC{0,3}", 0..3),
    )
        .prop_map(|(name, value, timestamp, tags)| MetricPoint {
            name,
            value,
            timestamp,
            tags,
        })
}

fn probe() -> impl Strategy<Value = Probe> {
    (
        (
            any::<i64>(),
            any::<bool>(),
            proptest::option::of("\\PC{0,5}"),
            metric(),
            proptest::collection::vec(metric(), 0..3),
        ),
        (
            any::<i8>(),
            any::<i16>(),
            -1e30f32..1e30,
            any::<i32>(),
            proptest::option::of(any::<i32>()),
        ),
        (
            proptest::collection::vec(any::<u8>(), 0..5),
            0..3u8,
            proptest::collection::vec(0..3u8, 0..4),
        ),
    )
        .prop_map(
            |(
                (id, ok, note, m, history),
                (small, medium, ratio, count, limit),
                (blob, level, levels),
            )| {
                let level_of = |n: u8| [Level::Low, Level::Mid, Level::High][usize::from(n)];
                Probe {
                    id,
                    ok,
                    note,
                    maybe: Some(m),
                    history,
                    small,
                    medium,
                    ratio,
                    count,
                    limit,
                    blob,
                    level: level_of(level),
                    levels: levels.into_iter().map(level_of).collect(),
                    ..Default::default()
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn dynamic_round_trip_matches_typed(p in probe()) {
        let s = mission();
        let m = s.method("probe").unwrap();
        let bytes = encode_payload(&p, SerializationMode::Xlang);
        let json = m.decode_response(&bytes).unwrap();
        prop_assert_eq!(&json, &typed_json(&p));
        // Encoding back (with the hash-found types) is byte-identical once
        // i8/i16 are stated; the typed decoder reads it as the same value.
        let hints = TypeHints::new().field("mission/Probe", "small", DynType::Int8).field("mission/Probe", "medium", DynType::Int16);
        let b = bundle(&MISSION, &mission_defaults());
        let hinted = ContractSchema::from_bundle_with(&b.contract, &b.types, Some(&b.manifest), &hints).unwrap();
        let again = hinted.method("probe").unwrap().encode_response(&json).unwrap();
        prop_assert_eq!(hex(&again), hex(&bytes));
    }

    #[test]
    fn arbitrary_bundle_bytes_never_panic(contract in proptest::collection::vec(any::<u8>(), 0..64),
                                          ty in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = ContractSchema::from_bundle(&contract, &[(TypeHash::of(&ty), &ty)], None);
    }
}
