//! `aster contract gen` and `aster contract gen-client --lang rust` through
//! the built binary, on loopback only:
//!
//! - generated modules are compared with checked-in golden files
//!   (`tests/generated/*.rs`; `ASTER_BLESS=1` rewrites them), and the same
//!   files are compiled into this test as modules: their descriptors must
//!   have the real contract ids, and their clients must call live servers;
//! - `contract gen` must write what `ManifestBuilder` with
//!   `Producer::ContractGen` writes, plus the reference's publication facts;
//! - a live peer and its manifest file must give the same client;
//! - hostile names and shapes give valid code or a clean error.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aster::proto::call::{Pattern, Scope};
use aster::proto::codec::SerializationMode;
use aster::proto::contract::manifest::{
    FieldDefaults, Manifest, ManifestBuilder, Producer, Publication, contract_gen_json,
};
use aster::proto::service::ServiceDescriptor;
use aster::{Client, NetworkMode, Server, Service};
use futures_util::StreamExt;
use mission_control::{Agent, AgentSessionServer, Control, MissionControlServer};

// Golden files: compared byte for byte with the generator's output, so
// rustfmt must leave them as generated.
#[allow(dead_code)]
#[rustfmt::skip]
#[path = "generated/mission_control.rs"]
mod generated;

#[allow(dead_code)]
#[rustfmt::skip]
#[path = "generated/edge_cases.rs"]
mod generated_edge;

#[allow(dead_code)]
#[rustfmt::skip]
#[path = "generated/python_manifest.rs"]
mod generated_py;

/// Bound on every test that talks to a server.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);

// -- Harness -----------------------------------------------------------------

/// A scratch directory under the system temp dir (not inside a git work
/// tree, so `contract gen` finds no git facts unless a test makes a repo),
/// removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "aster-cli-contract-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path(name), text).unwrap();
    }

    fn aster(&self, args: &[&str]) -> Output {
        aster_in(&self.0, args)
    }

    fn ok(&self, args: &[&str]) -> Output {
        ok_in(&self.0, args)
    }

    /// Like [`Scratch::ok`], off the async runtime (the binary may call a
    /// server running on this test's runtime).
    async fn ok_async(&self, args: &[&str]) -> Output {
        let dir = self.0.clone();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        tokio::task::spawn_blocking(move || {
            ok_in(&dir, &args.iter().map(String::as_str).collect::<Vec<_>>())
        })
        .await
        .expect("the binary's thread")
    }
}

/// Runs `aster ARGS` in `dir` with HOME pointing there.
fn aster_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aster"))
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env_remove("ASTER_LOG")
        .output()
        .expect("the aster binary runs")
}

/// Like [`aster_in`], asserting success.
fn ok_in(dir: &Path, args: &[&str]) -> Output {
    let out = aster_in(dir, args);
    assert!(
        out.status.success(),
        "aster {args:?} failed ({}):\n{}",
        out.status,
        text(&out.stderr)
    );
    out
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn golden_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/generated")
        .join(name)
}

/// `actual` must equal the golden file `name` (rewritten under ASTER_BLESS).
fn check_golden(name: &str, actual: &str) {
    let path = golden_path(name);
    if std::env::var_os("ASTER_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_same(
        &expected,
        actual,
        &format!("{name} (golden) vs. generated; ASTER_BLESS=1 rewrites the golden file"),
    );
}

/// Equal texts, or a panic naming the first differing line.
fn assert_same(expected: &str, actual: &str, what: &str) {
    if expected == actual {
        return;
    }
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let line = e
        .iter()
        .zip(&a)
        .position(|(x, y)| x != y)
        .unwrap_or(e.len().min(a.len()));
    panic!(
        "{what}: first difference at line {}:\n  expected: {:?}\n  actual:   {:?}",
        line + 1,
        e.get(line).copied().unwrap_or("<end>"),
        a.get(line).copied().unwrap_or("<end>")
    );
}

/// The text without its `// Source:` line (the only line that names where
/// a module came from).
fn without_source(code: &str) -> String {
    code.lines()
        .filter(|l| !l.starts_with("// Source: "))
        .map(|l| format!("{l}\n"))
        .collect()
}

async fn mission_control_server() -> Server {
    Server::builder()
        .service(MissionControlServer::new(Control::default()))
        .service(AgentSessionServer::new(Agent::new))
        .loopback()
        .dev_mode()
        .bind()
        .await
        .expect("server")
}

async fn client(server: &Server) -> Client {
    Client::builder()
        .network(NetworkMode::loopback())
        .connect(&server.ticket())
        .await
        .expect("client")
}

/// The manifest `ManifestBuilder` builds for `descriptor` with `defaults`.
fn built(
    descriptor: &ServiceDescriptor,
    defaults: &FieldDefaults,
    producer: Producer,
    p: Publication,
) -> Manifest {
    ManifestBuilder::new(descriptor)
        .defaults(defaults)
        .producer(producer)
        .publication(p)
        .build()
}

fn mission_control_defaults() -> FieldDefaults {
    use mission_control::*;
    FieldDefaults::new()
        .with::<StatusRequest>()
        .with::<StatusResponse>()
        .with::<LogEntry>()
        .with::<SubmitLogResult>()
        .with::<TailRequest>()
        .with::<MetricPoint>()
        .with::<IngestResult>()
}

fn agent_session_defaults() -> FieldDefaults {
    use mission_control::*;
    FieldDefaults::new()
        .with::<Heartbeat>()
        .with::<Assignment>()
        .with::<Command>()
        .with::<CommandResult>()
}

// -- Mission Control -----------------------------------------------------------

/// (a) From the manifest file `contract gen` writes to the golden module.
#[test]
fn gen_client_from_the_mission_control_manifest_matches_the_golden_file() {
    let dir = Scratch::new();
    dir.ok(&[
        "contract",
        "gen",
        "MissionControl",
        "AgentSession",
        "--out",
        "mission_control.json",
    ]);
    let out = dir.ok(&[
        "contract",
        "gen-client",
        "mission_control.json",
        "--lang",
        "rust",
        "--out",
        "gen",
        "--package",
        "mission_control",
    ]);
    assert!(
        text(&out.stdout).contains("gen/mission_control.rs"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(text(&out.stderr), "", "no warnings for Mission Control");
    check_golden("mission_control.rs", &dir.read("gen/mission_control.rs"));
}

/// (b) The golden module, compiled: its descriptors are the real services'
/// (contract ids and manifests), and its clients call a live Mission
/// Control server over XLANG: unary, server stream, client stream, and a
/// session with unary and bidi calls.
#[test]
fn the_generated_module_has_the_real_contract_ids_and_manifests() {
    let real = MissionControlServer::<Control>::descriptor();
    let gen_mc = generated::MissionControlClient::<Client>::descriptor();
    assert_eq!(gen_mc.contract_id(), real.contract_id());
    assert_eq!(
        gen_mc.contract_id().to_string(),
        "3029351e231333dd960d7c38f90ab8efcb78951b438e692feeda9d6f0bfb440a"
    );
    let gen_agent = generated::AgentSessionClient::<Client>::descriptor();
    assert_eq!(
        gen_agent.contract_id().to_string(),
        "59136b4a6d90cd5d2711df19021262432f1ae62c1d7bec5ef6b57407b5f7c9c9"
    );
    assert_eq!(gen_agent.scope, Scope::Session);

    // The manifests too, real defaults included: the generated `Default`s
    // are the producer's.
    let gen_defaults = {
        use generated::*;
        FieldDefaults::new()
            .with::<StatusRequest>()
            .with::<StatusResponse>()
            .with::<LogEntry>()
            .with::<SubmitLogResult>()
            .with::<TailRequest>()
            .with::<MetricPoint>()
            .with::<IngestResult>()
    };
    let p = Publication::default;
    assert_eq!(
        built(gen_mc, &gen_defaults, Producer::Runtime, p()),
        MissionControlServer::new(Control::default()).manifest()
    );
    let gen_defaults = {
        use generated::*;
        FieldDefaults::new()
            .with::<Heartbeat>()
            .with::<Assignment>()
            .with::<Command>()
            .with::<CommandResult>()
    };
    assert_eq!(
        built(gen_agent, &gen_defaults, Producer::Runtime, p()),
        AgentSessionServer::new(Agent::new).manifest()
    );
}

#[tokio::test]
async fn the_generated_clients_call_the_live_mission_control() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let server = mission_control_server().await;
        let client = client(&server).await;
        let mc = generated::MissionControlClient::new(client.clone());

        let status = mc
            .get_status(generated::StatusRequest {
                agent_id: "edge-7".into(),
            })
            .await
            .expect("getStatus");
        assert_eq!(
            (status.agent_id.as_str(), status.status.as_str()),
            ("edge-7", "running")
        );

        let mut tail = mc
            .tail_logs(generated::TailRequest {
                agent_id: "edge-7".into(),
                level: "warn".into(),
            })
            .await
            .expect("tailLogs");
        // The tailer subscribes when the call arrives; log until it sees one.
        let mut got = None;
        for _ in 0..50 {
            let entry = generated::LogEntry {
                level: "error".into(),
                message: "disk full".into(),
                agent_id: "edge-7".into(),
                ..Default::default()
            };
            assert!(mc.submit_log(entry).await.expect("submitLog").accepted);
            if let Ok(Some(item)) =
                tokio::time::timeout(Duration::from_millis(100), tail.next()).await
            {
                got = Some(item.expect("a log entry"));
                break;
            }
        }
        let got = got.expect("tailLogs delivered an entry");
        assert_eq!(
            (got.level.as_str(), got.message.as_str()),
            ("error", "disk full")
        );
        drop(tail);

        let points = futures_util::stream::iter((0..25).map(|i| generated::MetricPoint {
            name: "cpu".into(),
            value: f64::from(i),
            tags: [("host".to_string(), "a".to_string())].into(),
            ..Default::default()
        }));
        let ingested = mc.ingest_metrics(points).await.expect("ingestMetrics");
        assert_eq!((ingested.accepted, ingested.dropped), (25, 0));

        let session = client
            .session(generated::AgentSessionClient::<Client>::descriptor())
            .await
            .expect("session");
        let agent = generated::AgentSessionClient::new(session);
        let hb = generated::Heartbeat {
            agent_id: "edge-7".into(),
            capabilities: vec!["gpu".into()],
            load_avg: 0.5,
        };
        let assignment = agent.register(hb.clone()).await.expect("register");
        assert_eq!(assignment.task_id, "train-42");
        assert_eq!(
            agent.heartbeat(hb).await.expect("heartbeat").task_id,
            "continue"
        );
        let commands = futures_util::stream::iter(
            ["uptime", "df -h"].map(|c| generated::Command { command: c.into() }),
        );
        let results: Vec<String> = agent
            .run_command(commands)
            .await
            .expect("runCommand")
            .map(|r| r.expect("a result").stdout)
            .collect()
            .await;
        assert_eq!(results, ["would run: uptime\n", "would run: df -h\n"]);

        client.close().await;
        server.shutdown().await;
    })
    .await
    .expect("bounded");
}

/// (c) `contract gen` writes `ManifestBuilder`'s `contract gen` form with
/// the clock and `--semver`; outside a git checkout, no VCS facts.
#[test]
fn contract_gen_writes_what_manifest_builder_writes() {
    let dir = Scratch::new();
    let before = epoch_ms();
    let out = dir.ok(&[
        "contract",
        "gen",
        "MissionControl",
        "AgentSession",
        "--semver",
        "1.4.0",
    ]);
    let after = epoch_ms();
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("Contract manifest written to: .aster/manifest.json\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  MissionControl v1  contract_id=3029351e231333dd...  methods=4\n"),
        "{stdout}"
    );

    let written = dir.read(".aster/manifest.json");
    let manifests = Manifest::from_json_many(&written).expect("a manifest array");
    assert_eq!(manifests.len(), 2);
    let at = manifests[0].published_at_epoch_ms;
    assert!(
        (before..=after).contains(&at),
        "published_at {at} not in [{before}, {after}]"
    );
    let p = Publication {
        semver: Some("1.4.0".into()),
        published_at_epoch_ms: at,
        ..Publication::default()
    };
    let expected = [
        built(
            MissionControlServer::<Control>::descriptor(),
            &mission_control_defaults(),
            Producer::ContractGen,
            p.clone(),
        ),
        built(
            mission_control::AgentSessionClient::<Client>::descriptor(),
            &agent_session_defaults(),
            Producer::ContractGen,
            p,
        ),
    ];
    assert_same(
        &contract_gen_json(&expected),
        &written,
        "ManifestBuilder vs. contract gen",
    );

    // One service: one object, not an array.
    dir.ok(&["contract", "gen", "AgentSession", "--out", "one/agent.json"]);
    let one = dir.read("one/agent.json");
    assert!(one.starts_with('{'));
    assert_eq!(
        Manifest::from_json(&one).expect("one manifest").service,
        "AgentSession"
    );
}

/// In a git checkout, `contract gen` records HEAD, its exact tag and the
/// `origin` URL, as the reference does.
#[test]
fn contract_gen_records_git_facts() {
    let dir = Scratch::new();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.com",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .current_dir(&dir.0)
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {}", text(&out.stderr));
        text(&out.stdout).trim().to_owned()
    };
    git(&["init", "-q"]);
    git(&["commit", "-q", "--allow-empty", "-m", "one"]);
    git(&["tag", "v1.2.3"]);
    git(&["remote", "add", "origin", "https://example.com/fleet.git"]);
    let head = git(&["rev-parse", "HEAD"]);
    dir.ok(&["contract", "gen", "MissionControl"]);
    let m = Manifest::from_json(&dir.read(".aster/manifest.json")).expect("manifest");
    assert_eq!(m.vcs_revision.as_deref(), Some(head.as_str()));
    assert_eq!(m.vcs_tag.as_deref(), Some("v1.2.3"));
    assert_eq!(m.vcs_url.as_deref(), Some("https://example.com/fleet.git"));
    assert_eq!(m.semver, None);
}

fn epoch_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// (c, live) From a peer, `contract gen` writes the manifests its registry
/// publishes; (d) `gen-client` from the peer equals `gen-client` from
/// those manifests (and the golden file), apart from the source line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_peer_gives_its_registry_manifests_and_the_same_client() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let server = mission_control_server().await;
        let ticket = server.ticket();
        let dir = Scratch::new();

        dir.ok_async(&[
            "contract",
            "gen",
            &ticket,
            "--loopback",
            "--out",
            "live.json",
            "--semver",
            "2.0.0",
        ])
        .await;
        let live = Manifest::from_json_many(&dir.read("live.json")).expect("manifests");
        let mut expected = vec![
            MissionControlServer::new(Control::default()).manifest(),
            AgentSessionServer::new(Agent::new).manifest(),
        ];
        for m in &mut expected {
            m.semver = Some("2.0.0".into());
        }
        assert_eq!(live, expected);

        dir.ok_async(&[
            "contract",
            "gen",
            &ticket,
            "--loopback",
            "--service",
            "AgentSession",
            "--out",
            "agent.json",
        ])
        .await;
        assert_eq!(
            Manifest::from_json(&dir.read("agent.json"))
                .expect("one manifest")
                .service,
            "AgentSession"
        );

        let args = ["--lang", "rust", "--out", "gen", "--package"];
        dir.ok_async(
            &[
                &["contract", "gen-client", &ticket, "--loopback"][..],
                &args,
                &["from_peer"],
            ]
            .concat(),
        )
        .await;
        dir.ok_async(
            &[
                &["contract", "gen-client", "live.json"][..],
                &args,
                &["from_file"],
            ]
            .concat(),
        )
        .await;
        let from_peer = dir.read("gen/from_peer.rs");
        let from_file = dir.read("gen/from_file.rs");
        assert!(
            from_peer.contains(&format!("// Source: {ticket} (live peer;")),
            "{from_peer}"
        );
        assert_same(
            &without_source(&from_file),
            &without_source(&from_peer),
            "gen-client: manifest file vs. live peer",
        );
        let golden = std::fs::read_to_string(golden_path("mission_control.rs")).expect("golden");
        assert_same(
            &without_source(&golden),
            &without_source(&from_peer),
            "golden vs. gen-client from the live peer",
        );

        server.shutdown().await;
    })
    .await
    .expect("bounded");
}

// -- Edge cases from a live Rust producer --------------------------------------

/// A service whose names and shapes stress the generator: keywords,
/// non-ASCII and camelCase wire names, tags that collide with each other
/// or with the module's imports, enums, a recursive type, options, lists of
/// options, maps, bytes, sized numbers with real defaults, an empty struct,
/// method names that collide after case conversion or with the client's own
/// methods, a timeout, idempotence, two modes and a version.
mod edge {
    use std::collections::BTreeMap;

    use aster::{ResponseStream, Status, WireType};

    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, WireType)]
    #[wire(tag = "edge/Color")]
    pub enum Color {
        #[default]
        Red,
        Green,
        Blue,
    }

    #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
    #[derive(Debug, Clone, Copy, Default, PartialEq, WireType)]
    #[wire(tag = "edge/Level")]
    pub enum Level {
        #[default]
        low,
        HIGH,
    }

    #[derive(Debug, Clone, Default, PartialEq, WireType)]
    #[wire(tag = "edge/Node")]
    pub struct Node {
        pub label: String,
        pub next: Option<Box<Node>>,
        pub children: Vec<Node>,
    }

    #[derive(Debug, Clone, Default, PartialEq, WireType)]
    #[wire(tag = "a/Item")]
    pub struct ItemA {
        pub id: i64,
    }

    #[derive(Debug, Clone, Default, PartialEq, WireType)]
    #[wire(tag = "b/Item")]
    pub struct ItemB {
        pub name: String,
    }

    #[derive(Debug, Clone, Default, PartialEq, WireType)]
    #[wire(tag = "edge/Status")]
    pub struct EdgeStatus {
        pub ok: bool,
    }

    /// Tagged `Field`, but not named so in Rust: `wire_struct!` declares a
    /// local `enum Field`, which would shadow it as a field type (the
    /// generator renames such types too).
    #[derive(Debug, Clone, Default, PartialEq, WireType)]
    #[wire(tag = "edge/Field")]
    pub struct FieldBox {
        pub value: Option<i64>,
    }

    #[derive(Debug, Clone, Default, PartialEq, WireType)]
    #[wire(tag = "edge/Empty")]
    pub struct Empty {}

    #[derive(Debug, Clone, PartialEq, WireType)]
    #[wire(tag = "edge/Everything")]
    pub struct Everything {
        pub r#type: String,
        #[wire(name = "createdAt")]
        pub created_at: i64,
        #[wire(name = "größe")]
        pub size: f64,
        pub maybe: Option<String>,
        pub count: Option<i64>,
        pub blob: Vec<u8>,
        pub sparse: Vec<Option<String>>,
        pub scores: BTreeMap<String, i64>,
        pub color: Color,
        pub palette: Vec<Color>,
        pub level: Level,
        pub tree: Node,
        pub a: ItemA,
        pub b: ItemB,
        pub status: EdgeStatus,
        pub field: FieldBox,
        pub flag: bool,
        pub ratio: f32,
        pub small: i32,
    }

    impl Default for Everything {
        fn default() -> Self {
            Everything {
                r#type: "x".into(),
                created_at: 0,
                size: 0.0,
                maybe: None,
                count: Some(3),
                blob: Vec::new(),
                sparse: Vec::new(),
                scores: BTreeMap::new(),
                color: Color::Blue,
                palette: Vec::new(),
                level: Level::HIGH,
                tree: Node::default(),
                a: ItemA::default(),
                b: ItemB::default(),
                status: EdgeStatus::default(),
                field: FieldBox::default(),
                flag: true,
                ratio: 0.5,
                small: -3,
            }
        }
    }

    #[aster::service(name = "edge-cases.Service", version = 7, modes = ["xlang", "json"])]
    pub trait EdgeCases {
        #[rpc(name = "echo", timeout = 2.5, idempotent)]
        async fn echo(&self, req: Everything) -> Result<Everything, Status>;
        #[rpc(name = "type")]
        async fn kind(&self, req: Empty) -> Result<EdgeStatus, Status>;
        #[rpc(name = "new")]
        async fn create(&self, req: ItemA) -> Result<ItemB, Status>;
        #[rpc(name = "getItem")]
        async fn get_item(&self, req: ItemA) -> Result<ItemA, Status>;
        #[rpc(name = "get_item")]
        async fn get_item_too(&self, req: ItemB) -> Result<ItemB, Status>;
        #[server_stream(name = "walk")]
        async fn walk(&self, req: Node) -> Result<ResponseStream<Node>, Status>;
        #[rpc(name = "größe")]
        async fn size(&self, req: FieldBox) -> Result<FieldBox, Status>;
    }

    pub struct Edge;

    impl EdgeCases for Edge {
        async fn echo(&self, req: Everything) -> Result<Everything, Status> {
            Ok(req)
        }
        async fn kind(&self, _req: Empty) -> Result<EdgeStatus, Status> {
            Ok(EdgeStatus { ok: true })
        }
        async fn create(&self, req: ItemA) -> Result<ItemB, Status> {
            Ok(ItemB {
                name: format!("item-{}", req.id),
            })
        }
        async fn get_item(&self, req: ItemA) -> Result<ItemA, Status> {
            Ok(req)
        }
        async fn get_item_too(&self, req: ItemB) -> Result<ItemB, Status> {
            Ok(req)
        }
        async fn walk(&self, req: Node) -> Result<ResponseStream<Node>, Status> {
            Ok(Box::pin(futures_util::stream::iter(
                req.children.into_iter().map(Ok),
            )))
        }
        async fn size(&self, req: FieldBox) -> Result<FieldBox, Status> {
            Ok(FieldBox {
                value: req.value.map(|v| v * 2),
            })
        }
    }
}

async fn edge_server() -> Server {
    Server::builder()
        .service(edge::EdgeCasesServer::new(edge::Edge))
        .loopback()
        .dev_mode()
        .bind()
        .await
        .expect("server")
}

/// (a, b, d for the edge cases) The module generated from the live
/// producer matches its golden file, compiles (it is `generated_edge`), has
/// the producer's contract id, and calls it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edge_cases_from_a_live_producer() {
    tokio::time::timeout(TEST_TIMEOUT, async {
        let server = edge_server().await;
        let dir = Scratch::new();
        let out = dir
            .ok_async(&[
                "contract",
                "gen-client",
                &server.ticket(),
                "--loopback",
                "--lang",
                "rust",
                "--out",
                "gen",
            ])
            .await;
        assert_eq!(text(&out.stderr), "", "every method is expressible");
        // The default module name is the single service's, in snake_case.
        let code = dir.read("gen/edge_cases_service.rs");
        let golden = std::fs::read_to_string(golden_path("edge_cases.rs")).unwrap_or_default();
        let source = code
            .lines()
            .find(|l| l.starts_with("// Source: "))
            .unwrap_or_default()
            .to_owned();
        // The golden file names a fixed source; the ticket changes per run.
        let stable = code.replace(&server.ticket(), "aster1<ticket>");
        check_golden("edge_cases.rs", &stable);
        if std::env::var_os("ASTER_BLESS").is_none() {
            assert_same(
                &without_source(&golden),
                &without_source(&code),
                "edge cases",
            );
            assert!(source.contains("live peer"), "{source}");
        }
        server.shutdown().await;
    })
    .await
    .expect("bounded");
}

#[test]
fn the_edge_case_module_has_the_producers_contract_id_and_defaults() {
    use generated_edge as g;
    let real = edge::EdgeCasesServer::<edge::Edge>::descriptor();
    let gen_desc = g::EdgeCasesServiceClient::<Client>::descriptor();
    assert_eq!(gen_desc.contract_id(), real.contract_id());
    assert_eq!((gen_desc.name, gen_desc.version), ("edge-cases.Service", 7));
    assert_eq!(
        gen_desc.modes,
        [SerializationMode::Xlang, SerializationMode::Json]
    );
    let echo = gen_desc.method("echo").expect("echo").1;
    assert!(echo.idempotent);
    assert_eq!(echo.timeout_secs, 2.5);
    assert_eq!(
        gen_desc.method("walk").expect("walk").1.pattern,
        Pattern::ServerStream
    );
    // Defaults came through the manifest.
    let d = g::Everything::default();
    assert_eq!(
        (
            d.r#type.as_str(),
            d.color,
            d.level,
            d.flag,
            d.ratio,
            d.small
        ),
        ("x", g::Color::Blue, g::Level::HIGH, true, 0.5, -3)
    );
    assert_eq!(d.count, Some(3));
    let real_defaults = FieldDefaults::new().with::<edge::Everything>();
    let gen_defaults = FieldDefaults::new().with::<g::Everything>();
    let (a, b) = (
        built(
            real,
            &real_defaults,
            Producer::Runtime,
            Publication::default(),
        ),
        built(
            gen_desc,
            &gen_defaults,
            Producer::Runtime,
            Publication::default(),
        ),
    );
    let echo_fields = |m: &Manifest| m.method("echo").map(|e| e.fields.clone());
    assert_eq!(
        echo_fields(&a),
        echo_fields(&b),
        "the request fields of echo, defaults included"
    );
}

#[tokio::test]
async fn the_edge_case_client_calls_the_producer() {
    use generated_edge as g;
    tokio::time::timeout(TEST_TIMEOUT, async {
        let server = edge_server().await;
        let client = client(&server).await;
        let edge = g::EdgeCasesServiceClient::new(client.clone());
        let leaf = |label: &str| g::Node {
            label: label.into(),
            ..Default::default()
        };
        let sent = g::Everything {
            r#type: "kind".into(),
            created_at: 1_767_225_600_000,
            gr_u00f6_u00df_e: 1.5,
            maybe: Some("yes".into()),
            count: None,
            blob: vec![0, 1, 255],
            sparse: vec![Some("a".into()), None],
            scores: [("x".to_string(), -7)].into(),
            color: g::Color::Green,
            palette: vec![g::Color::Blue, g::Color::Red],
            level: g::Level::low,
            tree: g::Node {
                label: "root".into(),
                next: Some(Box::new(leaf("next"))),
                children: vec![leaf("c1")],
            },
            a: g::Item { id: 9 },
            b: g::BItem { name: "b".into() },
            status: g::EdgeStatus { ok: true },
            field: g::EdgeField { value: Some(1) },
            flag: false,
            ratio: 0.25,
            small: i32::MIN,
        };
        assert_eq!(edge.echo(sent.clone()).await.expect("echo"), sent);
        assert!(edge.r#type(g::Empty {}).await.expect("type").ok);
        assert_eq!(
            edge.new_rpc(g::Item { id: 5 }).await.expect("new").name,
            "item-5"
        );
        assert_eq!(
            edge.get_item(g::Item { id: 6 }).await.expect("getItem").id,
            6
        );
        assert_eq!(
            edge.get_item_rpc(g::BItem { name: "n".into() })
                .await
                .expect("get_item")
                .name,
            "n"
        );
        assert_eq!(
            edge.gr_u00f6_u00df_e(g::EdgeField { value: Some(21) })
                .await
                .expect("größe")
                .value,
            Some(42)
        );
        let walked: Vec<String> = edge
            .walk(g::Node {
                children: vec![leaf("one"), leaf("two")],
                ..Default::default()
            })
            .await
            .expect("walk")
            .map(|n| n.expect("a node").label)
            .collect()
            .await;
        assert_eq!(walked, ["one", "two"]);
        client.close().await;
        server.shutdown().await;
    })
    .await
    .expect("bounded");
}

// -- A manifest as a Python producer writes it ------------------------------------

/// Two services from a Python-style manifest file: names that are keywords,
/// non-ASCII, case-colliding or not identifiers at all; an `IntEnum`; tags
/// without a namespace; a tag with two definitions (one per service) and
/// one shared; and shapes a Rust client cannot express or the manifest
/// cannot describe (left out, with warnings); and a service with no methods.
const PYTHON_MANIFEST: &str = r#"[
  {
    "v": 1, "service": "class", "version": 2,
    "contract_id": "1111111111111111111111111111111111111111111111111111111111111111",
    "canonical_encoding": "fory-xlang/0.15", "type_count": 0, "type_hashes": [], "method_count": 9,
    "serialization_modes": [0], "scoped": "session",
    "methods": [
      {"name": "get-thing", "pattern": "unary", "request_type": "Req", "response_type": "Resp",
       "request_wire_tag": "Req", "response_wire_tag": "py.mod/Resp", "timeout": 30, "idempotent": true,
       "fields": [
         {"name": "in", "kind": "string", "nullable": false, "default_value": "", "default_kind": "value", "properties": {}},
         {"name": "größe", "kind": "float", "nullable": false, "default_value": 1.5, "default_kind": "value", "properties": {}},
         {"name": "HTTPCode", "kind": "int", "nullable": false, "default_value": 200, "default_kind": "value", "properties": {}},
         {"name": "httpCode", "kind": "int", "nullable": true, "default_value": null, "default_kind": "value", "properties": {}},
         {"name": "self", "kind": "bool", "nullable": false, "default_value": true, "default_kind": "value", "properties": {}},
         {"name": "mode", "kind": "enum", "nullable": false, "default_value": 2, "default_kind": "value",
          "ref_name": "Mode", "enum_values": [1, 2, 3], "properties": {}},
         {"name": "state", "kind": "enum", "nullable": true, "default_value": "done", "default_kind": "value",
          "ref_name": "State", "enum_values": ["in-progress", "done", "type"], "properties": {}},
         {"name": "tags", "kind": "list", "nullable": false, "default_value": null, "default_kind": "empty_list",
          "item_kind": "string", "item_nullable": true, "properties": {}},
         {"name": "counts", "kind": "map", "nullable": false, "default_value": null, "default_kind": "empty_map",
          "key_kind": "string", "value_kind": "int", "value_nullable": true, "properties": {}},
         {"name": "small", "kind": "string", "nullable": false, "default_value": 7, "default_kind": "value", "properties": {}},
         {"name": "blob", "kind": "bytes", "nullable": false, "default_value": "b'x'", "default_kind": "value", "properties": {}}
       ],
       "response_fields": [
         {"name": "ok", "kind": "bool", "nullable": false, "default_value": false, "default_kind": "value", "properties": {}},
         {"name": "count", "kind": "string", "nullable": false, "default_value": 0, "default_kind": "value", "properties": {}}
       ]},
      {"name": "Self", "pattern": "unary", "request_type": "Resp", "response_type": "Resp",
       "request_wire_tag": "py.mod/Resp", "response_wire_tag": "py.mod/Resp", "timeout": null, "idempotent": false,
       "fields": [], "response_fields": []},
      {"name": "new", "pattern": "client_stream", "request_type": "Req", "response_type": "Resp",
       "request_wire_tag": "Req", "response_wire_tag": "py.mod/Resp", "timeout": 2.5, "idempotent": false,
       "fields": [], "response_fields": []},
      {"name": "enum_keys", "pattern": "server_stream", "request_type": "EnumKeys", "response_type": "Resp",
       "request_wire_tag": "py.mod/EnumKeys", "response_wire_tag": "py.mod/Resp", "timeout": null, "idempotent": false,
       "fields": [
         {"name": "by_mode", "kind": "map", "nullable": false, "default_value": null, "default_kind": "empty_map",
          "key_kind": "enum", "value_kind": "string", "value_nullable": false, "properties": {}}
       ], "response_fields": []},
      {"name": "bad_map", "pattern": "unary", "request_type": "BadMap", "response_type": "Resp",
       "request_wire_tag": "py.mod/BadMap", "response_wire_tag": "py.mod/Resp", "timeout": null, "idempotent": false,
       "fields": [
         {"name": "m", "kind": "map", "nullable": false, "default_value": null, "default_kind": "empty_map",
          "key_kind": "float", "value_kind": "int", "value_nullable": false, "properties": {}}
       ], "response_fields": []},
      {"name": "nested", "pattern": "unary", "request_type": "Outer", "response_type": "Resp",
       "request_wire_tag": "py.mod/Outer", "response_wire_tag": "py.mod/Resp", "timeout": null, "idempotent": false,
       "fields": [
         {"name": "inner", "kind": "ref", "nullable": false, "default_value": null, "default_kind": "factory",
          "ref_name": "Inner", "wire_tag": "py.mod/Inner", "properties": {}}
       ], "response_fields": []},
      {"name": "grid", "pattern": "bidi_stream", "request_type": "Grid", "response_type": "Resp",
       "request_wire_tag": "py.mod/Grid", "response_wire_tag": "py.mod/Resp", "timeout": null, "idempotent": false,
       "fields": [
         {"name": "rows", "kind": "list", "nullable": false, "default_value": null, "default_kind": "empty_list",
          "item_kind": "list", "properties": {}}
       ], "response_fields": []},
      {"name": "slow", "pattern": "unary", "request_type": "Resp", "response_type": "Resp",
       "request_wire_tag": "py.mod/Resp", "response_wire_tag": "py.mod/Resp", "timeout": -1, "idempotent": false,
       "fields": [], "response_fields": []}
    ],
    "deprecated": false, "semver": null, "vcs_revision": null, "vcs_tag": null, "vcs_url": null,
    "changelog": null, "published_by": "", "published_at_epoch_ms": 0
  },
  {
    "v": 1, "service": "Other", "version": 1,
    "contract_id": "2222222222222222222222222222222222222222222222222222222222222222",
    "serialization_modes": ["xlang", "json", "weird"], "scoped": "shared",
    "methods": [
      {"name": "ping", "pattern": "unary", "request_type": "Req", "response_type": "Resp",
       "request_wire_tag": "Req", "response_wire_tag": "py.mod/Resp", "timeout": null, "idempotent": false,
       "fields": [
         {"name": "x", "kind": "int", "nullable": false, "default_value": 0, "default_kind": "value", "properties": {}}
       ],
       "response_fields": [
         {"name": "ok", "kind": "bool", "nullable": false, "default_value": false, "default_kind": "value", "properties": {}},
         {"name": "count", "kind": "string", "nullable": false, "default_value": 0, "default_kind": "value", "properties": {}}
       ]}
    ]
  },
  {"service": "Empty", "scoped": "shared", "serialization_modes": ["xlang"], "methods": []}
]"#;

#[test]
fn a_python_style_manifest_gives_valid_code_and_says_what_it_left_out() {
    let dir = Scratch::new();
    dir.write("python.json", PYTHON_MANIFEST);
    let out = dir.ok(&[
        "contract",
        "gen-client",
        "python.json",
        "--lang",
        "rust",
        "--out",
        "gen",
    ]);
    let warnings = text(&out.stderr);
    for left_out in [
        "class.bad_map: left out",
        "class.nested: left out",
        "class.grid: left out",
        "class.slow: left out",
    ] {
        assert!(
            warnings.contains(left_out),
            "no `{left_out}` in:\n{warnings}"
        );
    }
    assert!(warnings.contains("Other: modes"), "{warnings}");
    // Several services: the module is named after the file.
    check_golden("python_manifest.rs", &dir.read("gen/python.rs"));
}

#[test]
fn the_python_style_module_declares_what_the_manifest_says() {
    use generated_py as g;
    let class = g::ClassClient::<Client>::descriptor();
    assert_eq!(
        (class.name, class.version, class.scope),
        ("class", 2, Scope::Session)
    );
    let mut names: Vec<&str> = class.methods.iter().map(|m| m.name).collect();
    names.sort();
    assert_eq!(names, ["Self", "enum_keys", "get-thing", "new"]);
    // `Self` is the method `self_rpc` (`self_` would give `self__with`).
    let _ = g::ClassClient::<Client>::self_rpc;
    let get = class.method("get-thing").expect("get-thing").1;
    assert_eq!(
        (get.timeout_secs, get.idempotent, get.request.tag),
        (30.0, true, "Req")
    );
    assert_eq!(
        class.method("new").expect("new").1.pattern,
        Pattern::ClientStream
    );
    assert!(
        g::EmptyClient::<Client>::descriptor().methods.is_empty(),
        "a service without methods compiles too"
    );
    let other = g::OtherClient::<Client>::descriptor();
    assert_eq!(
        other.modes,
        [SerializationMode::Xlang, SerializationMode::Json]
    );
    // `Req` has two definitions: two Rust types with the same tag.
    assert_eq!(other.methods[0].request.tag, "Req");
    // (Services are generated in name order: `Other` before `class`.)
    let _: g::Req = g::Req { x: 1 };
    let d = g::Req2::default();
    assert_eq!(
        (
            d.mode,
            d.state,
            d.http_code,
            d.http_code_2,
            d.self_,
            d.small,
            d.gr_u00f6_u00df_e
        ),
        (g::Mode::V2, Some(g::State::done), 200, None, true, 7, 1.5)
    );
    // Spellings that are no identifiers keep their ordinals.
    assert_eq!(
        [
            g::State::InProgress as u8,
            g::State::done as u8,
            g::State::Type as u8
        ],
        [0, 1, 2]
    );
}

// -- Bad input -------------------------------------------------------------------

/// Input the generator cannot use ends with exit code 2 and a message,
/// never a panic.
#[test]
fn bad_sources_fail_cleanly() {
    let dir = Scratch::new();
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let cases: &[(&str, &str, &str)] = &[
        ("not-json.json", "{ nope", "not a manifest file"),
        ("numbers.json", "[1, 2]", "not a manifest file"),
        ("empty-list.json", "[]", "holds no manifests"),
        ("no-name.json", r#"{"service": ""}"#, "no service name"),
        (
            "sideways.json",
            r#"{"service": "S", "scoped": "sideways"}"#,
            "neither \"shared\" nor \"session\"",
        ),
        ("deep.json", &deep, "not a manifest file"),
        (
            "bad-tags.json",
            r#"{"service": "S", "scoped": "shared", "version": -1, "methods": [
                {"name": "m", "pattern": "unary", "request_wire_tag": "", "response_wire_tag": "x/"}]}"#,
            "no service can be generated",
        ),
    ];
    for (file, content, message) in cases {
        dir.write(file, content);
        let out = dir.aster(&[
            "contract",
            "gen-client",
            file,
            "--lang",
            "rust",
            "--out",
            "gen",
        ]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file}: {stderr}");
        assert!(
            stderr.contains(message) && !stderr.contains("panicked"),
            "{file}: {stderr}"
        );
    }
    let out = dir.aster(&[
        "contract",
        "gen-client",
        "python.json",
        "--lang",
        "python",
        "--out",
        "gen",
    ]);
    assert!(
        text(&out.stderr).contains("reference CLI"),
        "{}",
        text(&out.stderr)
    );
    let out = dir.aster(&[
        "contract",
        "gen-client",
        "missing.json",
        "--lang",
        "rust",
        "--out",
        "gen",
    ]);
    assert!(
        text(&out.stderr).contains("missing.json: no such manifest file"),
        "{}",
        text(&out.stderr)
    );
    let out = dir.aster(&["contract", "gen", "NoSuchService"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("neither a compiled-in service (MissionControl, AgentSession)"),
        "{stderr}"
    );
}

/// A manifest whose every method is inexpressible still gives a module
/// (the service trait with no methods) and says why.
#[test]
fn a_service_with_nothing_expressible_gives_an_empty_trait() {
    let dir = Scratch::new();
    dir.write(
        "odd.json",
        r#"{"service": "Odd", "scoped": "shared", "serialization_modes": [], "methods": [
            {"name": "m", "pattern": "unary", "request_wire_tag": "x/", "response_wire_tag": "y/R",
             "fields": [], "response_fields": []}]}"#,
    );
    let out = dir.ok(&[
        "contract",
        "gen-client",
        "odd.json",
        "--lang",
        "rust",
        "--out",
        "gen",
    ]);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("Odd.m: left out: `x/` cannot be expressed in Rust: wire tag \"x/\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("declares no serialization mode"),
        "{stderr}"
    );
    let code = dir.read("gen/odd.rs");
    assert!(code.contains("pub trait Odd {\n}\n"), "{code}");
}
