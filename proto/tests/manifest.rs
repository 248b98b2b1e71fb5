//! Contract manifests against the text aster-rpc 0.1.2 writes
//! (`conformance/vectors/manifests.json`, made by
//! `conformance/generate/manifest_vectors.py`): every service of the
//! generator is declared here again, its manifest built from the descriptor
//! and compared byte for byte; where our rules differ from Python on
//! purpose (proto/src/contract/manifest/mod.rs), the differences are listed
//! and everything else is still compared byte for byte. Then the reader:
//! round trips, the reference's reader vectors, caps, tolerance, errors.

use std::collections::BTreeMap;

use aster_proto::call::{Pattern, Scope};
use aster_proto::codec::SerializationMode;
use aster_proto::contract::manifest::{
    DefaultKind, FieldDefaults, MAX_MANIFEST_FIELDS_PER_METHOD, MAX_MANIFEST_METHODS,
    MAX_MANIFEST_TYPE_HASHES, Manifest, ManifestBuilder, ModeToken, Producer, Publication,
    ValueKind, contract_gen_json, to_python_pretty_json,
};
use aster_proto::service::{MethodDescriptor, ServiceDescriptor};
use aster_proto::{wire_enum, wire_struct};
use proptest::prelude::*;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------
// Vectors
// ---------------------------------------------------------------------------

fn document() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../conformance/vectors/manifests.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("read manifests.json"))
        .expect("parse manifests.json")
}

fn vector(name: &str) -> Value {
    let doc = document();
    let found = doc["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .cloned();
    found.unwrap_or_else(|| panic!("no vector {name:?}"))
}

fn vector_text(name: &str) -> String {
    vector(name)["manifest_json"].as_str().unwrap().to_owned()
}

/// Asserts equal text; on failure names the first differing line.
fn assert_same_text(ours: &str, reference: &str, what: &str) {
    if ours == reference {
        return;
    }
    let line = ours
        .lines()
        .zip(reference.lines())
        .position(|(a, b)| a != b);
    let n = line.unwrap_or_else(|| ours.lines().count().min(reference.lines().count()));
    panic!(
        "{what}: manifest text differs at line {}:\n  ours:      {:?}\n  reference: {:?}",
        n + 1,
        ours.lines().nth(n),
        reference.lines().nth(n)
    );
}

/// The documented differences: at each JSON pointer the reference holds the
/// first value and we write the second. With those replaced, the reference
/// text (re-printed by our Python-style printer, checked to reproduce the
/// reference text unchanged first) must equal ours byte for byte.
fn assert_same_except(
    ours: &str,
    reference: &str,
    differences: &[(&str, Value, Value)],
    what: &str,
) {
    let mut patched: Value = serde_json::from_str(reference).unwrap();
    assert_eq!(
        to_python_pretty_json(&patched),
        reference,
        "{what}: the printer does not reproduce the reference"
    );
    let ours_value: Value = serde_json::from_str(ours).unwrap();
    for (pointer, theirs, mine) in differences {
        assert_eq!(
            patched.pointer(pointer),
            Some(theirs),
            "{what}: reference at {pointer}"
        );
        assert_eq!(
            ours_value.pointer(pointer),
            Some(mine),
            "{what}: ours at {pointer}"
        );
        *patched.pointer_mut(pointer).unwrap() = mine.clone();
    }
    assert_same_text(ours, &to_python_pretty_json(&patched), what);
}

// ---------------------------------------------------------------------------
// Mission Control, as examples/python/mission_control/types.py (HEAD),
// with the Python dataclass defaults as `Default` values
// ---------------------------------------------------------------------------

mod mission {
    use super::*;

    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct StatusRequest {
        pub agent_id: String,
    }
    wire_struct!(StatusRequest, "mission/StatusRequest", { agent_id: String => "agent_id" });

    #[derive(Debug, Clone, PartialEq)]
    pub struct StatusResponse {
        pub agent_id: String,
        pub status: String,
        pub uptime_secs: i64,
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

    #[derive(Debug, Clone, PartialEq)]
    pub struct LogEntry {
        pub timestamp: f64,
        pub level: String,
        pub message: String,
        pub agent_id: String,
    }
    impl Default for LogEntry {
        fn default() -> Self {
            LogEntry {
                timestamp: 0.0,
                level: "info".into(),
                message: String::new(),
                agent_id: String::new(),
            }
        }
    }
    wire_struct!(LogEntry, "mission/LogEntry", {
        timestamp: f64 => "timestamp",
        level: String => "level",
        message: String => "message",
        agent_id: String => "agent_id",
    });

    #[derive(Debug, Clone, PartialEq)]
    pub struct SubmitLogResult {
        pub accepted: bool,
    }
    impl Default for SubmitLogResult {
        fn default() -> Self {
            SubmitLogResult { accepted: true }
        }
    }
    wire_struct!(SubmitLogResult, "mission/SubmitLogResult", { accepted: bool => "accepted" });

    #[derive(Debug, Clone, PartialEq)]
    pub struct TailRequest {
        pub agent_id: String,
        pub level: String,
    }
    impl Default for TailRequest {
        fn default() -> Self {
            TailRequest {
                agent_id: String::new(),
                level: "info".into(),
            }
        }
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

    #[derive(Debug, Clone, PartialEq)]
    pub struct CommandResult {
        pub stdout: String,
        pub stderr: String,
        pub exit_code: i32,
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

    pub const MISSION_CONTROL: ServiceDescriptor = ServiceDescriptor::new(
        "MissionControl",
        1,
        Scope::Shared,
        &[
            MethodDescriptor::of::<StatusRequest, StatusResponse>("getStatus", Pattern::Unary),
            MethodDescriptor {
                doc: "Agents call this to push log entries.",
                ..MethodDescriptor::of::<LogEntry, SubmitLogResult>("submitLog", Pattern::Unary)
            },
            MethodDescriptor::of::<TailRequest, LogEntry>("tailLogs", Pattern::ServerStream),
            MethodDescriptor::of::<MetricPoint, IngestResult>(
                "ingestMetrics",
                Pattern::ClientStream,
            ),
        ],
    );

    pub const AGENT_SESSION: ServiceDescriptor = ServiceDescriptor::new(
        "AgentSession",
        1,
        Scope::Session,
        &[
            MethodDescriptor::of::<Heartbeat, Assignment>("register", Pattern::Unary),
            MethodDescriptor::of::<Heartbeat, Assignment>("heartbeat", Pattern::Unary),
            MethodDescriptor::of::<Command, CommandResult>("runCommand", Pattern::Bidi),
        ],
    );

    pub const LEDGER: ServiceDescriptor = ServiceDescriptor::new(
        "Ledger",
        7,
        Scope::Shared,
        &[
            MethodDescriptor::of::<StatusRequest, StatusResponse>("balance", Pattern::Unary)
                .timeout_secs(2.5)
                .idempotent(true),
            MethodDescriptor::of::<LogEntry, SubmitLogResult>("post", Pattern::Unary)
                .timeout_secs(30.0),
        ],
    )
    .modes(&[SerializationMode::Xlang, SerializationMode::Json]);

    pub fn defaults() -> FieldDefaults {
        FieldDefaults::new()
            .with::<StatusRequest>()
            .with::<StatusResponse>()
            .with::<LogEntry>()
            .with::<SubmitLogResult>()
            .with::<TailRequest>()
            .with::<MetricPoint>()
            .with::<IngestResult>()
            .with::<Heartbeat>()
            .with::<Assignment>()
            .with::<Command>()
            .with::<CommandResult>()
    }
}

// ---------------------------------------------------------------------------
// Echo, Catalog, Notebook, Empty, Differences (manifest_vectors.py)
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

const ECHO: ServiceDescriptor = ServiceDescriptor {
    doc: "Echoes its input.",
    ..ServiceDescriptor::new(
        "Echo",
        1,
        Scope::Shared,
        &[MethodDescriptor {
            doc: "Returns the message.",
            ..MethodDescriptor::of::<EchoRequest, EchoResponse>("echo", Pattern::Unary)
        }],
    )
};

mod shop {
    use super::*;

    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct Money {
        pub units: i64,
        pub nanos: i32,
        pub currency: String,
    }
    wire_struct!(Money, "shop/Money", { units: i64 => "units", nanos: i32 => "nanos", currency: String => "currency" });

    #[derive(Debug, Clone, Copy, Default, PartialEq)]
    pub enum Color {
        #[default]
        Red,
        Green,
        Blue,
    }
    wire_enum!(Color, "shop/Color", { Red, Green, Blue });

    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct Item {
        pub sku: String,
        pub title: String,
        pub price: Money,
        pub color: Color,
        pub tags: Vec<String>,
        pub image: Vec<u8>,
        pub discontinued: bool,
    }
    wire_struct!(Item, "shop/Item", {
        sku: String => "sku",
        title: String => "title",
        price: Money => "price",
        color: Color => "color",
        tags: Vec<String> => "tags",
        image: Vec<u8> => "image",
        discontinued: bool => "discontinued",
    });

    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct Query {
        pub text: String,
        pub limit: i64,
        pub min_price: Option<Money>,
        pub colors: Vec<Color>,
        pub any_color: Option<Color>,
        pub skus: Vec<Option<String>>,
        pub facets: BTreeMap<String, Vec<String>>,
        pub boost: BTreeMap<String, f64>,
        pub prices_by_sku: BTreeMap<String, Money>,
        pub optional_items: BTreeMap<i64, Option<Item>>,
        pub by_color: BTreeMap<String, Color>,
        pub grid: Vec<Vec<Item>>,
        pub pages: Vec<BTreeMap<String, i64>>,
        pub notes: Option<Vec<String>>,
        pub attributes: Option<BTreeMap<String, i64>>,
        pub cursor: Option<Vec<u8>>,
        pub page_size: Option<i32>,
        pub small: i8,
        pub medium: i16,
        pub ratio: f32,
        pub sizes: Vec<i32>,
        pub exact: Option<bool>,
        pub weight: Option<f64>,
    }
    wire_struct!(Query, "shop/Query", {
        text: String => "text",
        limit: i64 => "limit",
        min_price: Option<Money> => "min_price",
        colors: Vec<Color> => "colors",
        any_color: Option<Color> => "any_color",
        skus: Vec<Option<String>> => "skus",
        facets: BTreeMap<String, Vec<String>> => "facets",
        boost: BTreeMap<String, f64> => "boost",
        prices_by_sku: BTreeMap<String, Money> => "prices_by_sku",
        optional_items: BTreeMap<i64, Option<Item>> => "optional_items",
        by_color: BTreeMap<String, Color> => "by_color",
        grid: Vec<Vec<Item>> => "grid",
        pages: Vec<BTreeMap<String, i64>> => "pages",
        notes: Option<Vec<String>> => "notes",
        attributes: Option<BTreeMap<String, i64>> => "attributes",
        cursor: Option<Vec<u8>> => "cursor",
        page_size: Option<i32> => "page_size",
        small: i8 => "small",
        medium: i16 => "medium",
        ratio: f32 => "ratio",
        sizes: Vec<i32> => "sizes",
        exact: Option<bool> => "exact",
        weight: Option<f64> => "weight",
    });

    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct Page {
        pub items: Vec<Item>,
        pub maybe: Vec<Option<Item>>,
        pub total: i64,
        pub next_cursor: Option<Vec<u8>>,
        pub first: Item,
    }
    wire_struct!(Page, "shop/Page", {
        items: Vec<Item> => "items",
        maybe: Vec<Option<Item>> => "maybe",
        total: i64 => "total",
        next_cursor: Option<Vec<u8>> => "next_cursor",
        first: Item => "first",
    });

    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct Upload {
        pub item: Item,
        pub chunk: Vec<u8>,
    }
    wire_struct!(Upload, "shop/Upload", { item: Item => "item", chunk: Vec<u8> => "chunk" });

    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct UploadResult {
        pub stored: i32,
        pub skus: Vec<String>,
    }
    wire_struct!(UploadResult, "shop/UploadResult", { stored: i32 => "stored", skus: Vec<String> => "skus" });

    pub const CATALOG: ServiceDescriptor = ServiceDescriptor::new(
        "Catalog",
        3,
        Scope::Shared,
        &[
            MethodDescriptor::of::<Query, Page>("search", Pattern::Unary)
                .idempotent(true)
                .timeout_secs(1.5),
            MethodDescriptor::of::<Query, Item>("watch", Pattern::ServerStream).timeout_secs(0.25),
            MethodDescriptor::of::<Upload, UploadResult>("upload", Pattern::ClientStream)
                .idempotent(true),
            MethodDescriptor::of::<Item, Item>("sync", Pattern::Bidi).timeout_secs(600.0),
            MethodDescriptor::of::<Money, Money>("price", Pattern::Unary),
        ],
    )
    .modes(&[SerializationMode::Json, SerializationMode::Xlang]);
}

mod notes {
    use super::shop::Color;
    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    pub struct Cell {
        pub source: String,
        pub outputs: Vec<String>,
        pub exec_count: i64,
        pub runtime_ms: f64,
        pub pinned: bool,
    }
    impl Default for Cell {
        fn default() -> Self {
            Cell {
                source: "print('hi')".into(),
                outputs: vec!["ok".into(), "\u{e9}t\u{e9}".into()],
                exec_count: -1,
                runtime_ms: 0.1,
                pinned: true,
            }
        }
    }
    wire_struct!(Cell, "notes/Cell", {
        source: String => "source",
        outputs: Vec<String> => "outputs",
        exec_count: i64 => "exec_count",
        runtime_ms: f64 => "runtime_ms",
        pinned: bool => "pinned",
    });

    #[derive(Debug, Clone, PartialEq)]
    pub struct Open {
        pub title: String,
        pub cells: Vec<Cell>,
        pub first: Cell,
        pub maybe: Option<Cell>,
        pub labels: BTreeMap<String, String>,
        pub blob: Vec<u8>,
        pub quote_only: Vec<u8>,
        pub huge: f64,
        pub tiny: f64,
        pub negative_zero: f64,
        pub big: i64,
        pub level: Option<String>,
        pub color: Color,
    }
    impl Default for Open {
        fn default() -> Self {
            Open {
                title: "Caf\u{e9} \u{2713} \u{1F600} \"q\" \\ \t".into(),
                cells: Vec::new(),
                first: Cell::default(),
                maybe: Some(Cell::default()),
                labels: BTreeMap::from([("k".into(), "v".into())]),
                blob: b"\x00'a\"b\\\x7f\xff".to_vec(),
                quote_only: b"it's".to_vec(),
                huge: 1e16,
                tiny: 1e-5,
                negative_zero: -0.0,
                big: 9_007_199_254_740_993,
                level: Some("info".into()),
                color: Color::Blue,
            }
        }
    }
    wire_struct!(Open, "notes/Open", {
        title: String => "title",
        cells: Vec<Cell> => "cells",
        first: Cell => "first",
        maybe: Option<Cell> => "maybe",
        labels: BTreeMap<String, String> => "labels",
        blob: Vec<u8> => "blob",
        quote_only: Vec<u8> => "quote_only",
        huge: f64 => "huge",
        tiny: f64 => "tiny",
        negative_zero: f64 => "negative_zero",
        big: i64 => "big",
        level: Option<String> => "level",
        color: Color => "color",
    });

    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct Opened {
        pub session: String,
        pub cells: i32,
    }
    wire_struct!(Opened, "notes/Opened", { session: String => "session", cells: i32 => "cells" });

    pub const NOTEBOOK: ServiceDescriptor = ServiceDescriptor {
        doc: "A per-session notebook.",
        ..ServiceDescriptor::new(
            "Notebook",
            2,
            Scope::Session,
            &[
                MethodDescriptor {
                    doc: "Opens a notebook: docstrings are not part of a 0.1.2 manifest.",
                    ..MethodDescriptor::of::<Open, Opened>("open", Pattern::Unary)
                        .timeout_secs(5.0)
                        .idempotent(true)
                },
                MethodDescriptor::of::<Cell, Cell>("Zed", Pattern::Unary).timeout_secs(0.001),
                MethodDescriptor::of::<Cell, Cell>("\u{e9}mile", Pattern::Unary),
                MethodDescriptor::of::<Cell, Cell>("a_b", Pattern::Unary),
                MethodDescriptor::of::<Cell, Cell>("aB", Pattern::Unary),
                MethodDescriptor::of::<Cell, Cell>("run", Pattern::ServerStream).timeout_secs(1e-7),
                MethodDescriptor::of::<Cell, Cell>("repl", Pattern::Bidi),
            ],
        )
    };

    pub fn defaults() -> FieldDefaults {
        FieldDefaults::new()
            .with::<Cell>()
            .with::<Open>()
            .with::<Opened>()
    }
}

const EMPTY: ServiceDescriptor = ServiceDescriptor::new("Empty", 1, Scope::Shared, &[]);

mod diff {
    use super::*;

    /// Variant names are the wire names: the Python members are LOW / HIGH.
    #[allow(clippy::upper_case_acronyms)]
    #[derive(Debug, Clone, Copy, Default, PartialEq)]
    pub enum Level {
        #[default]
        LOW,
        HIGH,
    }
    wire_enum!(Level, "diff/Level", { LOW, HIGH });

    #[derive(Debug, Clone, PartialEq)]
    pub struct Request {
        pub name: String,
        pub level: Level,
        pub count: i64,
    }
    impl Default for Request {
        fn default() -> Self {
            Request {
                name: String::new(),
                level: Level::LOW,
                count: 7,
            }
        }
    }
    wire_struct!(Request, "diff/Request", { name: String => "name", level: Level => "level", count: i64 => "count" });

    #[derive(Debug, Clone, Default, PartialEq)]
    pub struct Reply {
        pub ok: bool,
    }
    wire_struct!(Reply, "diff/Reply", { ok: bool => "ok" });

    pub const DIFFERENCES: ServiceDescriptor = ServiceDescriptor::new(
        "Differences",
        1,
        Scope::Shared,
        &[MethodDescriptor::of::<Request, Reply>("call", Pattern::Unary).timeout_secs(30.0)],
    );
}

// ---------------------------------------------------------------------------
// Writing: byte for byte against the reference
// ---------------------------------------------------------------------------

#[test]
fn echo_is_byte_identical() {
    let ours = ECHO.manifest().to_json();
    assert_same_text(&ours, &vector_text("runtime: Echo"), "Echo");
    assert!(ours.contains("f7870d540a39beaddeee55e11c730e3a97e4db110f1062afd8130a6071e98f7b"));
}

#[test]
fn mission_control_with_its_defaults_is_byte_identical() {
    let defaults = mission::defaults();
    for (service, name) in [
        (&mission::MISSION_CONTROL, "runtime: MissionControl"),
        (&mission::AGENT_SESSION, "runtime: AgentSession"),
    ] {
        let ours = ManifestBuilder::new(service)
            .defaults(&defaults)
            .build()
            .to_json();
        assert_same_text(&ours, &vector_text(name), name);
    }
}

/// Without [`FieldDefaults`] a descriptor gives the type defaults: the
/// Python example's non-type defaults are the only differences.
#[test]
fn mission_control_with_type_defaults_differs_only_in_defaults() {
    let rf = |m: usize, f: usize| format!("/methods/{m}/response_fields/{f}/default_value");
    let rq = |m: usize, f: usize| format!("/methods/{m}/fields/{f}/default_value");
    // Methods sorted: getStatus, ingestMetrics, submitLog, tailLogs.
    let mc = [
        (rf(0, 1), json!("idle"), json!("")),
        (rq(2, 1), json!("info"), json!("")),
        (rf(2, 0), json!(true), json!(false)),
        (rq(3, 1), json!("info"), json!("")),
        (rf(3, 1), json!("info"), json!("")),
    ];
    let mc: Vec<(&str, Value, Value)> = mc
        .iter()
        .map(|(p, a, b)| (p.as_str(), a.clone(), b.clone()))
        .collect();
    let ours = mission::MISSION_CONTROL.manifest().to_json();
    assert_same_except(
        &ours,
        &vector_text("runtime: MissionControl"),
        &mc,
        "MissionControl",
    );

    // Methods sorted: heartbeat, register, runCommand; exit_code = -1.
    let agent = [(
        "/methods/2/response_fields/2/default_value",
        json!(-1),
        json!(0),
    )];
    let ours = mission::AGENT_SESSION.manifest().to_json();
    assert_same_except(
        &ours,
        &vector_text("runtime: AgentSession"),
        &agent,
        "AgentSession",
    );
}

#[test]
fn ledger_modes_timeouts_idempotent_are_byte_identical() {
    let defaults = mission::defaults();
    let ours = ManifestBuilder::new(&mission::LEDGER)
        .defaults(&defaults)
        .build()
        .to_json();
    assert_same_text(&ours, &vector_text("runtime: Ledger"), "Ledger");
}

#[test]
fn catalog_every_field_shape_is_byte_identical() {
    let ours = shop::CATALOG.manifest().to_json();
    assert_same_text(&ours, &vector_text("runtime: Catalog"), "Catalog");
}

#[test]
fn notebook_session_docs_names_and_real_defaults_are_byte_identical() {
    let defaults = notes::defaults();
    let ours = ManifestBuilder::new(&notes::NOTEBOOK)
        .defaults(&defaults)
        .build()
        .to_json();
    assert_same_text(&ours, &vector_text("runtime: Notebook"), "Notebook");
    let names: Vec<String> = Manifest::from_json(&ours)
        .unwrap()
        .methods
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(
        names,
        ["Zed", "aB", "a_b", "open", "repl", "run", "\u{e9}mile"],
        "code-point order"
    );
}

#[test]
fn empty_service_is_byte_identical() {
    assert_same_text(
        &EMPTY.manifest().to_json(),
        &vector_text("runtime: Empty"),
        "Empty",
    );
}

/// The Python-only facts of the module doc's table, each asserted.
#[test]
fn differences_are_exactly_the_documented_ones() {
    let defaults = FieldDefaults::new()
        .with::<diff::Request>()
        .with::<diff::Reply>();
    let ours = ManifestBuilder::new(&diff::DIFFERENCES)
        .defaults(&defaults)
        .build()
        .to_json();
    let differences = [
        // The Python class is `PyRequestName`, tagged "diff/Request".
        (
            "/methods/0/request_type",
            json!("PyRequestName"),
            json!("Request"),
        ),
        // `@rpc(timeout=30)`: Python writes the int it was given.
        ("/methods/0/timeout", json!(30), json!(30.0)),
        // `name: str` without a default.
        ("/methods/0/fields/0/required", json!(true), json!(false)),
        ("/methods/0/fields/0/default_value", json!(null), json!("")),
        (
            "/methods/0/fields/0/default_kind",
            json!("none"),
            json!("value"),
        ),
        // An int-valued `enum.Enum`: values and `str(Level.LOW)`.
        (
            "/methods/0/fields/1/default_value",
            json!("Level.LOW"),
            json!("LOW"),
        ),
        (
            "/methods/0/fields/1/enum_values",
            json!([1, 2]),
            json!(["LOW", "HIGH"]),
        ),
    ];
    assert_same_except(
        &ours,
        &vector_text("runtime: Differences"),
        &differences,
        "Differences",
    );
}

fn publication_of(v: &Value) -> Publication {
    let p = &v["publication"];
    let s = |k: &str| p[k].as_str().map(str::to_owned);
    Publication {
        deprecated: false,
        semver: s("semver"),
        vcs_revision: s("vcs_revision"),
        vcs_tag: s("vcs_tag"),
        vcs_url: s("vcs_url"),
        changelog: None,
        published_by: p["published_by"].as_str().unwrap().to_owned(),
        published_at_epoch_ms: p["published_at_epoch_ms"].as_i64().unwrap(),
    }
}

#[test]
fn contract_gen_files_are_byte_identical() {
    let mission_defaults = mission::defaults();
    let cases: [(&str, &[&ServiceDescriptor], &FieldDefaults); 3] = [
        (
            "contract gen: MissionControl + AgentSession (JSON array)",
            &[&mission::MISSION_CONTROL, &mission::AGENT_SESSION],
            &mission_defaults,
        ),
        (
            "contract gen: Ledger",
            &[&mission::LEDGER],
            &mission_defaults,
        ),
        (
            "contract gen: Echo (not in a git checkout)",
            &[&ECHO],
            &mission_defaults,
        ),
    ];
    for (name, services, defaults) in cases {
        let v = vector(name);
        let manifests: Vec<Manifest> = services
            .iter()
            .map(|s| {
                ManifestBuilder::new(s)
                    .producer(Producer::ContractGen)
                    .publication(publication_of(&v))
                    .defaults(defaults)
                    .build()
            })
            .collect();
        assert_same_text(
            &contract_gen_json(&manifests),
            v["manifest_json"].as_str().unwrap(),
            name,
        );
    }
}

#[test]
fn every_vector_is_checked_here() {
    let checked = [
        "runtime: Echo",
        "runtime: MissionControl",
        "runtime: AgentSession",
        "runtime: Ledger",
        "runtime: Catalog",
        "runtime: Notebook",
        "runtime: Empty",
        "runtime: Differences",
        "contract gen: MissionControl + AgentSession (JSON array)",
        "contract gen: Ledger",
        "contract gen: Echo (not in a git checkout)",
    ];
    for v in document()["manifests"].as_array().unwrap() {
        let name = v["name"].as_str().unwrap();
        assert!(checked.contains(&name), "vector {name:?} has no test");
    }
}

#[test]
fn a_named_type_graph_is_used_for_the_identity_keys() {
    let graph = mission::MISSION_CONTROL.type_graph();
    let m = ManifestBuilder::new(&mission::MISSION_CONTROL)
        .types(&graph)
        .build();
    assert_eq!(m, mission::MISSION_CONTROL.manifest());
    assert_eq!(m.type_count, 7);
    assert_eq!(
        m.contract_id,
        "3029351e231333dd960d7c38f90ab8efcb78951b438e692feeda9d6f0bfb440a"
    );
}

// ---------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------

#[test]
fn every_vector_reads_back_and_writes_the_same_text() {
    for v in document()["manifests"].as_array().unwrap() {
        let text = v["manifest_json"].as_str().unwrap();
        let read = Manifest::from_json_many(text).unwrap_or_else(|e| panic!("{}: {e}", v["name"]));
        let again = if text.starts_with('[') {
            to_python_pretty_json(&read)
        } else {
            read[0].to_json()
        };
        assert_same_text(&again, text, v["name"].as_str().unwrap());
    }
}

/// `ContractManifest.from_json(input).to_json()` of the reference: legacy
/// fields upgraded, integer keys through `int()`. Compared as typed values:
/// Python keeps its method dicts as read (so sparse methods stay sparse and
/// upgraded fields keep the legacy key order), we always hold every key.
#[test]
fn reader_vectors_read_as_the_reference_reads_them() {
    let doc = document();
    let cases = doc["reader_vectors"].as_array().unwrap();
    assert!(cases.len() >= 2);
    for case in cases {
        let ours = Manifest::from_json(case["input_json"].as_str().unwrap()).unwrap();
        let theirs = Manifest::from_json(case["read_then_written_json"].as_str().unwrap()).unwrap();
        assert_eq!(ours, theirs, "{}", case["name"]);
    }
    let legacy = Manifest::from_json(cases[0]["input_json"].as_str().unwrap()).unwrap();
    assert_eq!(legacy.v, 1);
    let items = &legacy.methods[0].fields[6];
    assert_eq!(
        (items.kind.clone(), items.item_kind.clone()),
        (ValueKind::List, Some(ValueKind::Ref))
    );
    assert_eq!(items.item_wire_tag.as_deref(), Some("shop/Item"));
    assert_eq!(legacy.methods[0].fields[9].default_kind, DefaultKind::Null);
    let loose = Manifest::from_json(cases[1]["input_json"].as_str().unwrap()).unwrap();
    assert_eq!(
        (loose.version, loose.type_count, loose.method_count),
        (3, 2, 1)
    );
    assert_eq!(loose.methods[0].timeout_secs(), Some(2.0));
}

#[test]
fn a_dynamic_client_finds_what_it_needs() {
    let m = Manifest::from_json(&vector_text("runtime: AgentSession")).unwrap();
    assert_eq!(m.scope(), Some(Scope::Session));
    assert_eq!(m.modes(), [SerializationMode::Xlang]);
    assert_eq!(
        m.id().map(|id| id.to_hex()).as_deref(),
        Some(m.contract_id.as_str())
    );
    let run = m.method("runCommand").unwrap();
    assert_eq!(run.pattern, Pattern::Bidi);
    assert_eq!(
        (
            run.request_wire_tag.as_str(),
            run.response_wire_tag.as_str()
        ),
        ("mission/Command", "mission/CommandResult")
    );
    assert_eq!(run.timeout_secs(), None);
    let (name, fields) = m.type_fields("mission/Heartbeat").unwrap();
    assert_eq!(name, "Heartbeat");
    let kinds: Vec<(&str, &ValueKind)> =
        fields.iter().map(|f| (f.name.as_str(), &f.kind)).collect();
    assert_eq!(
        kinds,
        [
            ("agent_id", &ValueKind::String),
            ("capabilities", &ValueKind::List),
            ("load_avg", &ValueKind::Float)
        ]
    );
    assert_eq!(fields[1].item_kind, Some(ValueKind::String));

    let from_cli = Manifest::from_json(&vector_text("contract gen: Ledger")).unwrap();
    assert_eq!(
        from_cli.serialization_modes,
        [ModeToken::Code(0), ModeToken::Code(3)]
    );
    assert_eq!(
        from_cli.modes(),
        [SerializationMode::Xlang, SerializationMode::Json]
    );
    assert_eq!(
        from_cli.method("balance").unwrap().timeout_secs(),
        Some(2.5)
    );
    assert_eq!(from_cli.semver.as_deref(), Some("7.1.0"));

    let catalog = Manifest::from_json(&vector_text("runtime: Catalog")).unwrap();
    let (_, query) = catalog.type_fields("shop/Query").unwrap();
    let field = |n: &str| query.iter().find(|f| f.name == n).unwrap();
    assert_eq!(field("optional_items").value_ref.as_deref(), Some("Item"));
    assert_eq!(field("optional_items").value_nullable, Some(true));
    assert_eq!(
        field("any_color").enum_values.as_ref().unwrap(),
        &[json!("Red"), json!("Green"), json!("Blue")]
    );
    assert_eq!(
        field("page_size").kind,
        ValueKind::String,
        "pyfory.int32 falls back to string in 0.1.2"
    );
}

/// Keys a newer writer (repo HEAD) adds are ignored at every level.
#[test]
fn unknown_keys_are_ignored() {
    let text = vector_text("runtime: Echo");
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v["producer_language"] = json!("");
    v["description"] = json!("Echoes.");
    v["tags"] = json!(["readonly"]);
    v["methods"][0]["request_style"] = json!("inline");
    v["methods"][0]["inline_params"] = json!([{"name": "message"}]);
    v["methods"][0]["fields"][0]["description"] = json!("the text");
    let read = Manifest::from_json(&v.to_string()).unwrap();
    assert_eq!(read, Manifest::from_json(&text).unwrap());
    assert_eq!(read.to_json(), text);
}

#[test]
fn lists_are_cut_at_the_reference_caps() {
    let field = json!({"name": "f", "kind": "int", "nullable": false, "required": false,
                       "default_value": 0, "default_kind": "value", "properties": {}});
    let fat = json!({"name": "fat", "pattern": "unary",
                     "fields": vec![field.clone(); MAX_MANIFEST_FIELDS_PER_METHOD + 1],
                     "response_fields": vec![field; MAX_MANIFEST_FIELDS_PER_METHOD + 5]});
    let mut methods = vec![fat];
    methods.extend(
        (0..MAX_MANIFEST_METHODS).map(|i| json!({"name": format!("m{i}"), "pattern": "unary"})),
    );
    let doc = json!({"v": 1, "service": "Big", "methods": methods,
                     "type_hashes": vec!["00".repeat(32); MAX_MANIFEST_TYPE_HASHES + 1]});
    let m = Manifest::from_json(&doc.to_string()).unwrap();
    assert_eq!(m.methods.len(), MAX_MANIFEST_METHODS);
    assert_eq!(m.methods[0].fields.len(), MAX_MANIFEST_FIELDS_PER_METHOD);
    assert_eq!(
        m.methods[0].response_fields.len(),
        MAX_MANIFEST_FIELDS_PER_METHOD
    );
    assert_eq!(
        m.methods.last().unwrap().name,
        format!("m{}", MAX_MANIFEST_METHODS - 2)
    );
    assert_eq!(m.type_hashes.len(), MAX_MANIFEST_TYPE_HASHES);

    let many = to_python_pretty_json(&vec![json!({"service": "S"}); MAX_MANIFEST_METHODS + 1]);
    assert_eq!(
        Manifest::from_json_many(&many).unwrap().len(),
        MAX_MANIFEST_METHODS
    );
}

#[test]
fn missing_keys_take_the_dataclass_defaults() {
    let m =
        Manifest::from_json(r#"{"service": "S", "contract_id": null, "methods": null}"#).unwrap();
    assert_eq!(
        (
            m.v,
            m.version,
            m.scoped.as_str(),
            m.canonical_encoding.as_str()
        ),
        (1, 1, "shared", "fory-xlang/0.15")
    );
    assert!(m.methods.is_empty() && m.contract_id.is_empty() && m.id().is_none());
    assert_eq!(
        Manifest::from_json_many(r#" {"service": "S"} "#)
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn malformed_manifests_are_errors_that_say_what_is_wrong() {
    let cases = [
        (
            r#"{"methods": [{"name": "m", "pattern": "sideways"}]}"#,
            "sideways",
        ),
        (
            r#"{"methods": [{"pattern": "unary"}]}"#,
            "missing field `name`",
        ),
        (r#"{"methods": {"m": {}}}"#, "an array"),
        (r#"{"version": "three"}"#, "decimal integer"),
        (r#"{"version": 1e300}"#, "within i64"),
        (r#"{"service": "S"} trailing"#, "trailing"),
        ("[1, 2]", "expected a ContractManifest"),
        (
            r#"{"methods": [{"name": "m", "pattern": "unary", "fields": [7]}]}"#,
            "expected a manifest field",
        ),
        (r#"[{"service": "S"}"#, "EOF"),
        ("", "EOF"),
    ];
    for (text, needle) in cases {
        let err = Manifest::from_json_many(text).unwrap_err().to_string();
        assert!(err.contains(needle), "{text:?}: {err}");
    }
}

proptest! {
    #[test]
    fn any_text_reads_or_fails_without_panicking(text in ".{0,200}") {
        let _ = Manifest::from_json_many(&text);
    }

    #[test]
    fn a_damaged_manifest_reads_or_fails_without_panicking(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)
    ) {
        let mut bytes = vector_text("runtime: Catalog").into_bytes();
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        if let Ok(text) = String::from_utf8(bytes) {
            if let Ok(m) = Manifest::from_json(&text) {
                // Whatever reads, writes and reads back the same.
                prop_assert_eq!(Manifest::from_json(&m.to_json()).unwrap(), m);
            }
        }
    }
}
