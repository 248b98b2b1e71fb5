//! Trust across implementations: credentials made by either CLI, presented
//! by either client, judged by either server (aster-rpc / aster-cli 0.1.2
//! and ours), live on 127.0.0.1.
//!
//! One fixture (built once per test binary) runs the SAME command lines
//! through the reference CLI (`.venv-ref/bin/aster`) and through ours
//! (`aster trust keygen`, `aster trust sign`, `aster enroll node`): a root
//! key, a second "wrong" root key, policy credentials with and without
//! roles, an expired one, one bound to another endpoint, a one-time one, a
//! tampered copy, and three enrolled `.aster-identity` files. Then:
//!
//! * the reference's Python client (`AsterClient(enrollment_credential_file=…)`,
//!   `interop/python/trust_drive.py`) presents each of them to our
//!   `mission-control --auth` binary and to the reference's own server in
//!   closed-gate mode with the same roles (`interop/python/serve_auth.py`),
//!   and both servers must give the same answers, which must be the
//!   expected ones;
//! * our client presents our CLI's credentials to the reference server, and
//!   our `aster call --rcan` does too;
//! * a one-time credential stays used across a restart of our server (nonce
//!   file); unadmitted peers are refused on every ALPN of our server;
//! * the key, credential and identity files are read by the other tool.
//!
//! Our `aster` and `mission-control` binaries live in other packages, so
//! they are built (normally a no-op: `cargo test` has built them already)
//! with a nested `cargo build`, as trybuild does for its tests.
//!
//! The reference's quirks met here, each asserted so a change shows:
//! `enroll node` drops `aster.role` from the file when it equals the role
//! (its own client's credential then fails verification: "plain_id"), it
//! writes one-time credentials without a nonce (T6: "ott_id"), and its
//! server leaves a session out of step after refusing a call on it, and
//! races its refusals against the client's request (as ours once did).

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use aster::proto::trust::{
    ConsumerKind, Credential, IdentityFile, PeerRole, RootKeyFile, RootPublicKey,
};
use aster::{Client, ClientError, SecretKey, Server, Status, StatusCode};
use common::*;
use futures_util::StreamExt;
use mission_control::{
    Agent, AgentSessionClient, AgentSessionServer, Command as AgentCommand, Control, Heartbeat,
    LogEntry, MetricPoint, MissionControlClient, MissionControlServer, StatusRequest, TailRequest,
};
use serde_json::{Value, json};

/// A build of our binaries when they are already fresh takes ~1 s; a cold
/// one compiles the workspace.
const BUILD_TIMEOUT: Duration = Duration::from_secs(900);
/// One CLI invocation (the reference's takes ~0.6 s).
const TOOL_TIMEOUT: Duration = Duration::from_secs(120);
/// From spawning a server to its ready line.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

const EDGE: &str = r#"{"aster.role":"ops.status"}"#;
const OPS: &str = r#"{"aster.role":"ops.status,ops.logs,ops.admin,ops.ingest"}"#;
const NO_ROLES: &str = r#"{"aster.name":"nobody"}"#;

// -- Tools ---------------------------------------------------------------------

fn repo_root() -> PathBuf {
    interop_dir()
        .parent()
        .expect("interop/ has a parent")
        .to_path_buf()
}

/// Runs a command to completion within `timeout`; stdout on success.
fn run_tool(mut cmd: Command, timeout: Duration) -> Result<String, String> {
    let what = format!("{cmd:?}");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("{what}: cannot start: {e}"))?;
    let read = |mut from: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = from.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let stdout = read(Box::new(child.stdout.take().expect("piped")));
    let stderr = read(Box::new(child.stderr.take().expect("piped")));
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{what}: still running after {timeout:?}; killed"));
            }
            Err(e) => return Err(format!("{what}: cannot wait: {e}")),
        }
    };
    let (stdout, stderr) = (
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default(),
    );
    if status.success() {
        Ok(stdout)
    } else {
        Err(format!("{what} failed ({status}):\n{stdout}\n{stderr}"))
    }
}

struct Binaries {
    aster: PathBuf,
    mission_control: PathBuf,
}

/// Our `aster` and `mission-control` binaries, built with a nested `cargo
/// build` (panics with cargo's output if that fails).
fn binaries() -> &'static Binaries {
    static BINARIES: OnceLock<Result<Binaries, String>> = OnceLock::new();
    let built = BINARIES.get_or_init(|| {
        let mut cmd =
            Command::new(std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into()));
        cmd.args([
            "build",
            "-p",
            "aster-cli",
            "-p",
            "mission-control",
            "--bins",
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(repo_root());
        // What cargo set for this test binary must not reach the nested
        // build: build scripts track some of it (ring reruns when
        // CARGO_MANIFEST_DIR changes), and the binaries would be rebuilt on
        // every run, then again by the next plain `cargo build`.
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            let per_crate = [
                "CARGO_MANIFEST_",
                "CARGO_PKG_",
                "CARGO_CRATE_",
                "CARGO_BIN_",
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
            ];
            if per_crate.iter().any(|p| key.starts_with(p)) || key == "OUT_DIR" {
                cmd.env_remove(key.as_ref());
            }
        }
        if !cfg!(debug_assertions) {
            cmd.arg("--release");
        }
        let started = Instant::now();
        let out = run_tool(cmd, BUILD_TIMEOUT)?;
        eprintln!(
            "[trust] cargo build of aster and mission-control: {:.1}s",
            started.elapsed().as_secs_f64()
        );
        let mut found = BTreeMap::new();
        for line in out.lines() {
            let Ok(msg) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            if let (Some(name), Some(exe)) =
                (msg["target"]["name"].as_str(), msg["executable"].as_str())
            {
                found.insert(name.to_string(), PathBuf::from(exe));
            }
        }
        match (found.remove("aster"), found.remove("mission-control")) {
            (Some(aster), Some(mission_control)) => Ok(Binaries {
                aster,
                mission_control,
            }),
            _ => Err(format!(
                "cargo build reported no aster / mission-control executables:\n{out}"
            )),
        }
    });
    match built {
        Ok(b) => b,
        Err(e) => panic!("cannot build our binaries: {e}"),
    }
}

/// The reference CLI of the pinned venv.
fn reference_cli() -> PathBuf {
    let cli = python().parent().expect("venv bin/").join("aster");
    assert!(
        cli.is_file(),
        "the reference venv has no aster CLI at {}",
        cli.display()
    );
    cli
}

// -- The fixture: the same command lines through both CLIs ----------------------

/// Which CLI made a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Made {
    ByReference,
    ByUs,
}

impl Made {
    fn dir(self) -> &'static str {
        match self {
            Made::ByReference => "ref",
            Made::ByUs => "ours",
        }
    }
}

struct Fixture {
    dir: PathBuf,
}

impl Fixture {
    fn path(&self, made: Made, name: &str) -> PathBuf {
        self.dir.join(made.dir()).join(name)
    }

    fn read(&self, made: Made, name: &str) -> String {
        let path = self.path(made, name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn root(&self, made: Made) -> RootPublicKey {
        RootPublicKey::from_pub_file(&self.read(made, "root.pub")).expect("root.pub")
    }

    /// `aster ARGS` by either CLI, in that CLI's directory, with HOME there
    /// too (so nothing touches the real ~/.aster).
    fn cli(&self, made: Made, args: &[String]) -> Result<String, String> {
        let program = match made {
            Made::ByReference => reference_cli(),
            Made::ByUs => binaries().aster.clone(),
        };
        let dir = self.dir.join(made.dir());
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(&dir)
            .env("HOME", dir.join("home"))
            .env("NO_COLOR", "1");
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("ASTER_") {
                cmd.env_remove(key);
            }
        }
        run_tool(cmd, TOOL_TIMEOUT)
    }
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// A panic's message.
fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// Runs each (CLI, args) on its own thread; panics with every failure.
fn run_all(fx: &Fixture, jobs: Vec<(Made, Vec<String>)>) {
    let handles: Vec<_> = jobs
        .into_iter()
        .map(|(made, args)| {
            let dir = fx.dir.clone();
            thread::spawn(move || {
                Fixture { dir }
                    .cli(made, &args)
                    .map_err(|e| format!("[{made:?}] {e}"))
            })
        })
        .collect();
    let failures: Vec<String> = handles
        .into_iter()
        .filter_map(|h| {
            h.join()
                .unwrap_or_else(|panic| Err(panic_text(&*panic)))
                .err()
        })
        .collect();
    assert!(
        failures.is_empty(),
        "fixture commands failed:\n{}",
        failures.join("\n")
    );
}

/// The files, made once per test binary. If making them fails, every test
/// fails with the same message (without trying again).
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Result<Fixture, String>> = OnceLock::new();
    let made = FIXTURE.get_or_init(|| {
        std::panic::catch_unwind(make_fixture).map_err(|panic| panic_text(&*panic))
    });
    match made {
        Ok(fx) => fx,
        Err(e) => panic!("the trust fixture could not be made: {e}"),
    }
}

fn make_fixture() -> Fixture {
    let tmp = std::env::temp_dir();
    // Leftovers of earlier runs whose process is gone (Linux: /proc/PID).
    for entry in std::fs::read_dir(&tmp).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let gone =
            |pid: &str| Path::new("/proc/self").exists() && !Path::new("/proc").join(pid).exists();
        if name.strip_prefix("aster-interop-trust-").is_some_and(gone) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let dir = tmp.join(format!("aster-interop-trust-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for made in [Made::ByReference, Made::ByUs] {
        std::fs::create_dir_all(dir.join(made.dir()).join("home")).unwrap();
    }
    let fx = Fixture { dir };
    let both = |args: &[&str]| [Made::ByReference, Made::ByUs].map(|m| (m, strings(args)));
    run_all(
        &fx,
        [
            both(&["trust", "keygen", "--out-key", "root.key"]),
            both(&["trust", "keygen", "--out-key", "other.key"]),
        ]
        .concat(),
    );

    let elsewhere = SecretKey::generate().public().to_string();
    let sign = |key: &str, out: &str, extra: &[&str]| {
        let mut args = vec![
            "trust",
            "sign",
            "--root-key",
            key,
            "--type",
            "policy",
            "--out",
            out,
        ];
        args.extend_from_slice(extra);
        both(&args)
    };
    let jobs = [
        sign("root.key", "edge.json", &["--attributes", EDGE]),
        sign("root.key", "ops.json", &["--attributes", OPS]),
        sign("root.key", "noroles.json", &["--attributes", NO_ROLES]),
        sign("other.key", "wrong_root.json", &["--attributes", OPS]),
        sign(
            "root.key",
            "expired.json",
            &["--attributes", OPS, "--expires", "2020-01-01T00:00:00Z"],
        ),
        sign(
            "root.key",
            "elsewhere.json",
            &["--attributes", OPS, "--endpoint-id", &elsewhere],
        ),
        // `--type` given twice: the last one counts, in argparse as in clap.
        sign(
            "root.key",
            "ott.json",
            &["--attributes", EDGE, "--type", "ott"],
        ),
        both(&[
            "enroll",
            "node",
            "--role",
            "consumer",
            "--name",
            "edge",
            "--capabilities",
            "ops.status",
            "--root-key",
            "root.key",
            "--out",
            "edge.id",
            "-q",
        ]),
        both(&[
            "enroll",
            "node",
            "--role",
            "consumer",
            "--name",
            "plain",
            "--root-key",
            "root.key",
            "--out",
            "plain.id",
            "-q",
        ]),
        both(&[
            "enroll",
            "node",
            "--role",
            "consumer",
            "--name",
            "once",
            "--type",
            "ott",
            "--capabilities",
            "ops.status",
            "--root-key",
            "root.key",
            "--out",
            "ott.id",
            "-q",
        ]),
    ]
    .concat();
    run_all(&fx, jobs);
    // A tampered copy: the role raised, the signature kept.
    for made in [Made::ByReference, Made::ByUs] {
        let edge = fx.read(made, "edge.json");
        let tampered = edge.replace(
            r#""aster.role": "ops.status""#,
            r#""aster.role": "ops.admin""#,
        );
        assert_ne!(edge, tampered, "{made:?} edge.json has the expected layout");
        std::fs::write(fx.path(made, "tampered.json"), tampered).unwrap();
    }
    fx
}

// -- Servers ---------------------------------------------------------------------

/// A child process that printed its ready line. Dropping it closes its
/// stdin, which ends it (the Python scripts watch stdin; our binary runs
/// under a shell that kills it then), and waits for it, bounded.
struct Running {
    child: Child,
    stdin: Option<ChildStdin>,
    stderr: Arc<Mutex<String>>,
    ready: String,
}

impl Running {
    fn spawn(mut cmd: Command, what: &str) -> Running {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
        let stdin = child.stdin.take();
        let stderr = Arc::new(Mutex::new(String::new()));
        {
            let sink = stderr.clone();
            let mut from = child.stderr.take().expect("piped");
            thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = from.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if let Ok(mut s) = sink.lock() {
                        s.push_str(&String::from_utf8_lossy(&buf[..n]));
                    }
                }
            });
        }
        let (tx, rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped");
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
            for _ in lines {}
        });
        let mut running = Running {
            child,
            stdin,
            stderr,
            ready: String::new(),
        };
        match rx.recv_timeout(READY_TIMEOUT) {
            Ok(line) => running.ready = line,
            Err(_) => {
                thread::sleep(Duration::from_millis(200));
                panic!(
                    "{what} printed no ready line within {READY_TIMEOUT:?}{}",
                    running.stderr_tail()
                );
            }
        }
        running
    }

    fn stderr_tail(&self) -> String {
        let s = self.stderr.lock().map(|s| s.clone()).unwrap_or_default();
        let tail: String = s
            .chars()
            .rev()
            .take(3000)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if tail.is_empty() {
            String::new()
        } else {
            format!("\n--- stderr ---\n{tail}")
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Our `mission-control --auth --loopback` with the root key in
/// `ASTER_ROOT_PUBKEY_FILE`, under a shell that kills it when our end of
/// its stdin closes (so it never outlives the test). `ready` is its ticket.
fn rust_mission_control(root_pub: &Path, nonces: Option<&Path>) -> Running {
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(r#""$@" & pid=$!; cat >/dev/null; kill "$pid" 2>/dev/null; wait "$pid""#)
        .arg("bash")
        .arg(&binaries().mission_control)
        .args(["--auth", "--loopback"])
        .env("ASTER_ROOT_PUBKEY_FILE", root_pub)
        .env("ASTER_LOG", "warn");
    if let Some(path) = nonces {
        cmd.arg("--nonces").arg(path);
    }
    let server = Running::spawn(cmd, "mission-control --auth");
    assert!(
        server.ready.starts_with("aster1"),
        "mission-control printed {:?}{}",
        server.ready,
        server.stderr_tail()
    );
    server
}

/// The reference server in closed-gate mode with the roles, trusting the
/// root key in `root_pub` (read by the reference's own loader).
fn python_auth_server(root_pub: &Path, expected_root: &RootPublicKey) -> (Running, String) {
    let mut cmd = python_command("serve_auth.py");
    cmd.env("ASTER_ROOT_PUBKEY_FILE", root_pub);
    let server = Running::spawn(cmd, "serve_auth.py");
    let ready: Value = serde_json::from_str(&server.ready).unwrap_or_else(|e| {
        panic!(
            "serve_auth.py ready line is not JSON ({e}): {:?}{}",
            server.ready,
            server.stderr_tail()
        )
    });
    assert_eq!(
        ready["root_pubkey"],
        json!(expected_root.to_hex()),
        "the reference server read {}",
        root_pub.display()
    );
    let address = ready["address"].as_str().unwrap_or_default().to_string();
    assert!(address.starts_with("aster1"), "{ready}");
    (server, address)
}

// -- The reference's client --------------------------------------------------------

/// The cases every server is asked about, with credentials made by `made`.
fn plan(fx: &Fixture, made: Made) -> Value {
    let case = |name: &str, file: Option<&str>, probe: &str| json!({"name": name, "credential": file.map(|f| fx.path(made, f)), "probe": probe});
    json!([
        case("none", None, "admit"),
        case("edge", Some("edge.json"), "roles"),
        case("ops", Some("ops.json"), "roles"),
        case("noroles", Some("noroles.json"), "status"),
        case("edge_id", Some("edge.id"), "status"),
        case("plain_id", Some("plain.id"), "admit"),
        case("wrong_root", Some("wrong_root.json"), "admit"),
        case("tampered", Some("tampered.json"), "admit"),
        case("expired", Some("expired.json"), "admit"),
        case("elsewhere", Some("elsewhere.json"), "admit"),
        case("ott", Some("ott.json"), "admit"),
        case("ott_replay", Some("ott.json"), "admit"),
        case("ott_id", Some("ott.id"), "admit"),
        case("ott_id_replay", Some("ott.id"), "admit"),
    ])
}

/// Runs `trust_drive.py ADDRESS PLAN`; panics on anything unexpected.
/// Returns the report and the client's stderr (for failure messages).
async fn python_client(address: &str, plan: &Value) -> (Value, String) {
    let mut cmd = tokio::process::Command::from(python_command("trust_drive.py"));
    cmd.arg(address)
        .arg(plan.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start trust_drive.py: {e}"));
    let out = match tokio::time::timeout(DRIVE_TIMEOUT, child.wait_with_output()).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => panic!("trust_drive.py: cannot wait: {e}"),
        Err(_) => panic!("trust_drive.py did not finish within {DRIVE_TIMEOUT:?}; killed"),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "trust_drive.py failed ({}):\n{stderr}",
        out.status
    );
    let line = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let report: Value = serde_json::from_str(line).unwrap_or_else(|e| {
        panic!("trust_drive.py output is not JSON ({e}): {stdout}\n--- stderr ---\n{stderr}")
    });
    let text = report.to_string();
    assert!(
        !text.contains("\"exception\""),
        "trust_drive.py met something unexpected:\n{report:#}\n--- stderr ---\n{stderr}"
    );
    (report, stderr.into_owned())
}

/// One call's outcome: OK, or (code, message).
type Outcome = Result<(), (i64, String)>;

fn outcome(v: &Value) -> Outcome {
    if v.get("ok").is_some() {
        return Ok(());
    }
    let e = v
        .get("error")
        .unwrap_or_else(|| panic!("not an outcome: {v}"));
    Err((
        e["code"].as_i64().unwrap_or(-1),
        e["message"].as_str().unwrap_or_default().to_string(),
    ))
}

fn denied(method: &str) -> Outcome {
    Err((
        StatusCode::PermissionDenied as i64,
        format!("capability check failed for method '{method}'"),
    ))
}

/// What the walkthrough's roles give each method (`heartbeat_after_register`
/// aside: see [`session_after_refusal`]).
fn expected_roles(case: &str) -> Vec<(&'static str, Outcome)> {
    let ok = || Ok(());
    match case {
        "edge" => vec![
            ("getStatus", ok()),
            ("submitLog", ok()),
            ("tailLogs", denied("MissionControl.tailLogs")),
            ("ingestMetrics", denied("MissionControl.ingestMetrics")),
            ("register", denied("AgentSession.register")),
            ("heartbeat", ok()),
            ("runCommand", denied("AgentSession.runCommand")),
        ],
        "ops" => [
            "getStatus",
            "submitLog",
            "tailLogs",
            "ingestMetrics",
            "register",
            "heartbeat",
            "runCommand",
        ]
        .into_iter()
        .map(|m| (m, ok()))
        .collect(),
        other => panic!("no role table for {other}"),
    }
}

/// Which cases a server admits, for credentials made by `made`.
fn expected_admission(made: Made) -> Vec<(&'static str, bool)> {
    let ours = made == Made::ByUs;
    vec![
        ("none", false),
        ("edge", true),
        ("ops", true),
        ("noroles", true),
        ("edge_id", true),
        // The reference's enroll drops `aster.role = "consumer"` from the
        // file, so what its client presents no longer matches the signature.
        ("plain_id", ours),
        ("wrong_root", false),
        ("tampered", false),
        ("expired", false),
        ("elsewhere", false),
        ("ott", true),
        ("ott_replay", false),
        // The reference's enroll writes one-time credentials without a nonce (T6).
        ("ott_id", ours),
        ("ott_id_replay", false),
    ]
}

/// Checks one server's answers to [`plan`] against the tables.
fn check(report: &Value, made: Made, server: &str, log: &str) {
    for (case, admitted) in expected_admission(made) {
        let r = &report[case];
        assert_eq!(
            r["admitted"],
            json!(admitted),
            "{server}, {made:?} credential {case}: {r}{log}"
        );
        if !admitted {
            assert_eq!(
                r["denied"]["class"],
                json!("AdmissionDeniedError"),
                "{server}, {case}: {r}"
            );
        }
    }
    for case in ["edge", "ops"] {
        for (method, want) in expected_roles(case) {
            let got = outcome(&report[case]["calls"][method]);
            assert_eq!(
                got, want,
                "{server}, {made:?} credential {case}: {method}\n{:#}{log}",
                report[case]
            );
        }
    }
    assert_eq!(
        outcome(&report["noroles"]["calls"]["getStatus"]),
        denied("MissionControl.getStatus"),
        "{server}: no roles"
    );
    assert_eq!(
        outcome(&report["edge_id"]["calls"]["getStatus"]),
        Ok(()),
        "{server}: enrolled identity"
    );
}

/// The reports without what legitimately differs between two runs: the
/// denial hint (it names the client's fresh endpoint id), the session's
/// state after a refusal (see [`session_after_refusal`]) and the retries
/// after 0.1.2's refusal race (see [`no_refusal_race`]).
fn comparable(report: &Value) -> Value {
    let mut r = report.clone();
    for case in r.as_object_mut().expect("an object").values_mut() {
        if let Some(d) = case.get_mut("denied") {
            d["message"] = json!("");
        }
        if let Some(calls) = case.get_mut("calls").and_then(Value::as_object_mut) {
            calls.remove("heartbeat_after_register");
            for call in calls.values_mut() {
                if let Some(call) = call.as_object_mut() {
                    call.remove("races");
                }
            }
        }
    }
    r
}

/// A call after a refused one on the same session: our server keeps the
/// session; 0.1.2's leaves it out of step ("Expected CALL frame"), a
/// reference defect recorded here so that a fix shows up.
fn session_after_refusal(rust: &Value, python: &Value) {
    assert_eq!(
        outcome(&rust["edge"]["calls"]["heartbeat_after_register"]),
        Ok(()),
        "ours keeps the session"
    );
    assert_eq!(
        outcome(&python["edge"]["calls"]["heartbeat_after_register"]),
        Err((
            StatusCode::FailedPrecondition as i64,
            "Expected CALL frame".to_string()
        )),
        "0.1.2's session after a refused call"
    );
    for report in [rust, python] {
        assert_eq!(
            outcome(&report["ops"]["calls"]["heartbeat_after_register"]),
            Ok(())
        );
    }
}

/// 0.1.2's server stops reading a refused call's stream at once, so its own
/// client, still writing the request, sometimes gets "sending stopped by
/// peer" instead of PERMISSION_DENIED (seen on tailLogs about one run in
/// five under load). `trust_drive.py` repeats such calls and counts the
/// repeats; our server drains a refused request first and must need none.
fn no_refusal_race(on_rust: &Value) {
    let text = on_rust.to_string();
    assert!(
        !text.contains("\"races\""),
        "our server raced a refusal against the request:\n{on_rust:#}"
    );
}

/// Both servers, same root, same credentials, same Python client: same answers.
async fn both_servers_answer_alike(made: Made) {
    let fx = fixture();
    let root_pub = fx.path(made, "root.pub");
    let rust = rust_mission_control(&root_pub, None);
    let (python, py_address) = python_auth_server(&root_pub, &fx.root(made));
    let plan = plan(fx, made);
    let ((on_rust, rust_client_log), (on_python, python_client_log)) = tokio::join!(
        python_client(&rust.ready, &plan),
        python_client(&py_address, &plan)
    );
    let log = |server: &Running, client: &str| {
        format!("{}\n--- client stderr ---\n{client}", server.stderr_tail())
    };
    check(
        &on_python,
        made,
        "the reference server",
        &log(&python, &python_client_log),
    );
    check(&on_rust, made, "our server", &log(&rust, &rust_client_log));
    assert_eq!(
        comparable(&on_rust),
        comparable(&on_python),
        "our server and the reference's answer alike"
    );
    no_refusal_race(&on_rust);
    session_after_refusal(&on_rust, &on_python);
    drop((rust, python));
}

// -- Tests -------------------------------------------------------------------------

/// 2a: the reference CLI's credentials, the reference client, our server —
/// and the reference server as the yardstick.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_credentials_get_the_reference_answers_from_our_server() {
    both_servers_answer_alike(Made::ByReference).await;
}

/// 2b: our CLI's credentials are byte-compatible: the reference client
/// presents them to the reference server (and to ours) and gets in exactly
/// when it should.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_credentials_get_the_same_answers_from_the_reference_server() {
    both_servers_answer_alike(Made::ByUs).await;
}

/// Our client's view of one credential file at a server: admission, then
/// the role probe when asked (the same probe as `trust_drive.py roles`).
async fn rust_roles(
    address: &str,
    file: Option<&Path>,
) -> Result<BTreeMap<&'static str, Outcome>, ClientError> {
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let mut builder = Client::builder().loopback();
    if let Some(f) = file {
        builder = builder.credential_file(f)?;
    }
    let client = {
        // 0.1.2 loses concurrent admissions (README): one at a time.
        let _turn = ONE_AT_A_TIME.lock().await;
        bounded("admission", builder.connect(address)).await?
    };
    let status = |r: Result<(), Status>| r.map_err(|s| (s.code as i64, s.message));
    let mc = MissionControlClient::new(client.clone());
    let mut r = BTreeMap::new();
    r.insert(
        "getStatus",
        status(
            bounded(
                "getStatus",
                mc.get_status(StatusRequest {
                    agent_id: "t".into(),
                }),
            )
            .await
            .map(drop),
        ),
    );
    let warn = || LogEntry {
        level: "warn".into(),
        message: "ping".into(),
        agent_id: "t".into(),
        ..Default::default()
    };
    r.insert(
        "submitLog",
        status(bounded("submitLog", mc.submit_log(warn())).await.map(drop)),
    );
    let tail = async {
        let mut stream = mc
            .tail_logs(TailRequest {
                level: "warn".into(),
                ..Default::default()
            })
            .await?;
        for _ in 0..50 {
            mc.submit_log(warn()).await?;
            match tokio::time::timeout(Duration::from_millis(100), stream.next()).await {
                Ok(Some(item)) => return item.map(drop),
                Ok(None) => return Err(Status::internal("tailLogs ended")),
                Err(_) => continue,
            }
        }
        Err(Status::internal("tailLogs delivered nothing"))
    };
    r.insert("tailLogs", status(bounded("tailLogs", tail).await));
    let point = MetricPoint {
        name: "cpu".into(),
        value: 1.0,
        timestamp: 2.0,
        ..Default::default()
    };
    r.insert(
        "ingestMetrics",
        status(
            bounded(
                "ingestMetrics",
                mc.ingest_metrics(futures_util::stream::iter([point])),
            )
            .await
            .map(drop),
        ),
    );
    let hb = Heartbeat {
        agent_id: "t".into(),
        capabilities: vec!["arm64".into()],
        load_avg: 0.5,
    };
    for method in ["register", "heartbeat", "runCommand"] {
        let session = bounded(
            "session",
            client.session(AgentSessionClient::<Client>::descriptor()),
        )
        .await;
        let a = AgentSessionClient::new(session.expect("a session opens"));
        let result = match method {
            "register" => a.register(hb.clone()).await.map(drop),
            "heartbeat" => a.heartbeat(hb.clone()).await.map(drop),
            _ => {
                async {
                    let mut results = a
                        .run_command(futures_util::stream::iter([AgentCommand {
                            command: "uptime".into(),
                        }]))
                        .await?;
                    while let Some(item) = results.next().await {
                        item?;
                    }
                    Ok(())
                }
                .await
            }
        };
        r.insert(method, status(result));
    }
    client.close().await;
    Ok(r)
}

/// 2b: our client with our CLI's credentials at the reference server
/// (closed gate), and `aster call --rcan` likewise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_and_cli_with_our_credentials_at_the_reference_server() {
    let fx = fixture();
    let made = Made::ByUs;
    let (python, address) = python_auth_server(&fx.path(made, "root.pub"), &fx.root(made));
    let file = |name: &str| fx.path(made, name);

    for case in ["edge", "ops"] {
        let got = rust_roles(&address, Some(&file(&format!("{case}.json"))))
            .await
            .expect("admitted");
        let want: BTreeMap<_, _> = expected_roles(case).into_iter().collect();
        assert_eq!(
            got,
            want,
            "our client with {case}.json at the reference server{}",
            python.stderr_tail()
        );
    }
    let admits = async |name: Option<&str>| {
        let mut builder = Client::builder().loopback();
        if let Some(n) = name {
            builder = builder
                .credential_file(file(n))
                .expect("a readable credential file");
        }
        match bounded("admission", builder.connect(&address)).await {
            Ok(c) => {
                c.close().await;
                true
            }
            Err(ClientError::Denied { .. }) => false,
            Err(e) => panic!("{name:?}: {e}{}", python.stderr_tail()),
        }
    };
    for (name, want) in [
        (None, false),
        (Some("edge.id"), true),
        (Some("plain.id"), true),
        (Some("noroles.json"), true),
        (Some("wrong_root.json"), false),
        (Some("tampered.json"), false),
        (Some("expired.json"), false),
        (Some("elsewhere.json"), false),
        (Some("ott.json"), true),
        (Some("ott.json"), false),
        (Some("ott.id"), true),
        (Some("ott.id"), false),
    ] {
        assert_eq!(
            admits(name).await,
            want,
            "our client with {name:?} at the reference server"
        );
    }

    // `aster call --rcan`: the exit code is the status code (0 OK, 7 PERMISSION_DENIED).
    let call = |method: &str, extra: &[&str]| {
        let mut cmd = tokio::process::Command::new(&binaries().aster);
        cmd.args([
            "call",
            &address,
            method,
            r#"{"agent_id":"cli"}"#,
            "--loopback",
        ])
        .args(extra)
        .kill_on_drop(true);
        async move {
            let out = bounded("aster call", cmd.output())
                .await
                .expect("aster call runs");
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        }
    };
    let edge = file("edge.json");
    let edge = edge.to_str().unwrap();
    let (code, stdout, stderr) = call("MissionControl.getStatus", &["--rcan", edge]).await;
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(
        serde_json::from_str::<Value>(&stdout).unwrap()["agent_id"],
        "cli"
    );
    let identity = file("edge.id");
    let (code, _, stderr) = call(
        "MissionControl.getStatus",
        &["--rcan", identity.to_str().unwrap()],
    )
    .await;
    assert_eq!(code, Some(0), "an .aster-identity: {stderr}");
    let (code, _, stderr) = call(
        "MissionControl.tailLogs",
        &["--rcan", edge, "--pattern", "server-stream"],
    )
    .await;
    assert_eq!(code, Some(7), "{stderr}");
    assert!(
        stderr.contains("capability check failed for method 'MissionControl.tailLogs'"),
        "{stderr}"
    );
    let (code, _, stderr) = call("MissionControl.getStatus", &[]).await;
    assert_eq!(code, Some(7), "no credential: {stderr}");
    drop(python);
}

/// 2a: a one-time credential from the reference CLI is admitted once by our
/// server, and not again, even after a restart on the same nonce file
/// (which has the reference's format).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_time_credentials_stay_used_across_a_restart_of_our_server() {
    let fx = fixture();
    let made = Made::ByReference;
    let root_pub = fx.path(made, "root.pub");
    let nonces = fx.dir.join(format!("nonces-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&nonces);
    let once = |name: &str| json!({"name": name, "credential": fx.path(made, "ott.json"), "probe": "status"});
    let edge = json!({"name": "edge", "credential": fx.path(made, "edge.json"), "probe": "status"});

    let server = rust_mission_control(&root_pub, Some(&nonces));
    let (r, _) = python_client(&server.ready, &json!([once("first"), once("again")])).await;
    assert_eq!(r["first"]["admitted"], true, "{r}");
    assert_eq!(
        outcome(&r["first"]["calls"]["getStatus"]),
        Ok(()),
        "the OTT's role works"
    );
    assert_eq!(r["again"]["admitted"], false, "{r}");
    drop(server);

    let file: Value = serde_json::from_str(&std::fs::read_to_string(&nonces).unwrap()).unwrap();
    let Credential::Consumer(ott) = Credential::from_json(&fx.read(made, "ott.json")).unwrap()
    else {
        panic!("ott.json is a consumer credential")
    };
    let nonce: String = ott
        .nonce
        .expect("a nonce")
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        file,
        json!({"consumed": [nonce]}),
        "the reference's nonces.json form"
    );

    let server = rust_mission_control(&root_pub, Some(&nonces));
    let (r, _) = python_client(&server.ready, &json!([once("after_restart"), edge])).await;
    assert_eq!(
        r["after_restart"]["admitted"], false,
        "replay after a restart: {r}"
    );
    assert_eq!(
        r["edge"]["admitted"], true,
        "the restarted server admits others: {r}"
    );
    drop(server);
}

/// How a raw connection on one ALPN ended.
#[derive(Debug, PartialEq, Eq)]
enum Reached {
    /// Closed by Gate 0: 403 "not admitted".
    NotAdmitted,
    /// No connection at all (e.g. an ALPN the server does not speak).
    NoHandshake(String),
    /// The protocol answered (or failed in a protocol-specific way).
    Served,
}

/// Dials `$addr` on `$alpn` from `$ep` (an iroh endpoint; a macro because
/// this crate does not name iroh's types), sends a byte, and says how the
/// connection ended.
macro_rules! reach {
    ($ep:expr, $addr:expr, $alpn:expr) => {
        async {
            let is_403 = |text: &str| text.contains("403") || text.contains("not admitted");
            match bounded("connect", $ep.connect($addr.clone(), $alpn)).await {
                Err(e) => {
                    let text = format!("{e:?}");
                    if is_403(&text) {
                        Reached::NotAdmitted
                    } else {
                        Reached::NoHandshake(text)
                    }
                }
                Ok(conn) => {
                    let exchange = async {
                        let (mut send, mut recv) = conn.open_bi().await?;
                        send.write_all(b"x").await?;
                        send.finish()?;
                        recv.read_to_end(1024).await.map_err(anyhow::Error::from)
                    };
                    match tokio::time::timeout(Duration::from_secs(3), exchange).await {
                        // Accepted, and still waiting for more from us.
                        Err(_) => Reached::Served,
                        Ok(result) => {
                            let closed = conn
                                .close_reason()
                                .map(|r| format!("{r:?}"))
                                .unwrap_or_default();
                            if is_403(&format!("{result:?} {closed}")) {
                                Reached::NotAdmitted
                            } else {
                                Reached::Served
                            }
                        }
                    }
                }
            }
        }
    };
}

/// 2c: a peer that was not admitted reaches nothing on our server but the
/// consumer-admission ALPN: not aster/1, not producer admission (not served
/// here), not blobs/docs/gossip, not an unknown protocol; presenting a bad
/// credential changes nothing; a good one opens aster/1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unadmitted_peers_are_refused_on_every_alpn_of_our_server() {
    let fx = fixture();
    let made = Made::ByReference;
    let server = rust_mission_control(&fx.path(made, "root.pub"), None);
    let addr = aster::net::parse_address(&server.ready).expect("a ticket");
    let options = aster::net::EndpointOptions {
        network: aster::NetworkMode::loopback(),
        ..Default::default()
    };
    let ep = aster::net::bind_endpoint(&options, &Default::default())
        .await
        .expect("an endpoint");
    let alpns: [&[u8]; 6] = [
        b"aster/1",
        b"aster.producer_admission",
        b"/iroh-bytes/4",
        b"/iroh-sync/1",
        b"/iroh-gossip/1",
        b"custom/1",
    ];

    let mut before = Vec::new();
    for alpn in alpns {
        before.push(reach!(ep, addr, alpn).await);
    }
    for (alpn, reached) in alpns.iter().zip(&before) {
        assert_ne!(
            *reached,
            Reached::Served,
            "{} served to an unadmitted peer",
            String::from_utf8_lossy(alpn)
        );
    }
    assert_eq!(
        before[0],
        Reached::NotAdmitted,
        "aster/1 is closed by Gate 0 with 403"
    );

    // A credential that does not check out: refused, and still nothing else.
    let wrong = Client::builder()
        .endpoint(ep.clone(), Default::default())
        .credential_file(fx.path(made, "wrong_root.json"))
        .unwrap()
        .connect(&server.ready)
        .await;
    assert!(
        matches!(wrong, Err(ClientError::Denied { .. })),
        "{wrong:?}"
    );
    assert_eq!(
        reach!(ep, addr, b"aster/1".as_slice()).await,
        Reached::NotAdmitted,
        "a denied peer stays out"
    );

    // Admitted: aster/1 works, and every ALPN refused by Gate 0 before is served now.
    let client = Client::builder()
        .endpoint(ep.clone(), Default::default())
        .credential_file(fx.path(made, "edge.json"))
        .unwrap()
        .connect(&server.ready)
        .await
        .expect("admitted");
    let mc = MissionControlClient::new(client.clone());
    assert!(
        bounded(
            "getStatus",
            mc.get_status(StatusRequest {
                agent_id: "x".into()
            })
        )
        .await
        .is_ok()
    );
    for (alpn, was) in alpns.iter().zip(before) {
        let now = reach!(ep, addr, *alpn).await;
        if was == Reached::NotAdmitted {
            assert_eq!(
                now,
                Reached::Served,
                "{} after admission",
                String::from_utf8_lossy(alpn)
            );
        } else {
            assert!(
                matches!(now, Reached::NoHandshake(_)),
                "{}: {now:?}",
                String::from_utf8_lossy(alpn)
            );
        }
    }
    drop(server);
}

/// A Mission Control server in this process, trusting `root`.
async fn in_process_server(root: RootPublicKey) -> Server {
    Server::builder()
        .service(MissionControlServer::new(Control::default()))
        .service(AgentSessionServer::new(Agent::new))
        .loopback()
        .root_pubkey(root)
        .bind()
        .await
        .expect("server binds")
}

/// Our client reads the reference's identity files as the reference's CLI
/// does (`aster.role` and `aster.name` put back when the signature needs
/// them), so a plain `enroll node` identity that the reference's own client
/// cannot use gets in; an OTT identity without its nonce (T6) still cannot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_uses_reference_enrolled_identities() {
    let fx = fixture();
    let made = Made::ByReference;
    let server = in_process_server(fx.root(made)).await;
    let connect = async |name: &str| {
        let builder = Client::builder()
            .loopback()
            .credential_file(fx.path(made, name))
            .expect("readable");
        bounded("admission", builder.connect(&server.ticket())).await
    };
    let plain = connect("plain.id")
        .await
        .expect("the reference's plain identity, repaired");
    assert_eq!(
        plain.attributes().get("aster.role").map(String::as_str),
        Some("consumer")
    );
    let identity = IdentityFile::parse(&fx.read(made, "plain.id")).unwrap();
    assert_eq!(
        plain.endpoint().id().to_string(),
        identity.node.endpoint_id.unwrap(),
        "with the identity's node key"
    );
    plain.close().await;
    let edge = connect("edge.id")
        .await
        .expect("the reference's identity with capabilities");
    assert!(
        MissionControlClient::new(edge.clone())
            .get_status(StatusRequest::default())
            .await
            .is_ok()
    );
    edge.close().await;
    assert!(
        matches!(connect("ott.id").await, Err(ClientError::Denied { .. })),
        "no nonce, no admission (T6)"
    );
    server.shutdown().await;
}

/// Offline: every file either CLI writes is read by the other tool, byte
/// for byte where the format allows.
#[test]
fn key_credential_and_identity_files_move_between_the_tools() {
    let fx = fixture();
    for made in [Made::ByReference, Made::ByUs] {
        let root = fx.root(made);
        // Root key files: same bytes as the writer in aster-proto makes.
        let key_text = fx.read(made, "root.key");
        let key =
            RootKeyFile::parse(&key_text).unwrap_or_else(|e| panic!("{made:?} root.key: {e}"));
        assert_eq!(key.signing_key.public_key(), root);
        assert_eq!(key.to_file_text(), key_text, "{made:?} root.key layout");
        assert_eq!(
            root.to_pub_file(),
            fx.read(made, "root.pub"),
            "{made:?} root.pub layout"
        );
        // Credential files: same bytes, valid signatures (bar the tampered one).
        for name in [
            "edge.json",
            "ops.json",
            "noroles.json",
            "expired.json",
            "elsewhere.json",
            "ott.json",
            "tampered.json",
        ] {
            let text = fx.read(made, name);
            let cred =
                Credential::from_json(&text).unwrap_or_else(|e| panic!("{made:?} {name}: {e}"));
            assert_eq!(cred.to_file_json(), text, "{made:?} {name} layout");
            assert_eq!(
                cred.verify(&root),
                name != "tampered.json",
                "{made:?} {name} signature"
            );
        }
        let other = RootPublicKey::from_pub_file(&fx.read(made, "other.pub")).unwrap();
        assert!(
            Credential::from_json(&fx.read(made, "wrong_root.json"))
                .unwrap()
                .verify(&other)
        );
        let Credential::Consumer(ott) = Credential::from_json(&fx.read(made, "ott.json")).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (ott.kind, ott.nonce.map(|n| n.len())),
            (ConsumerKind::Ott, Some(32)),
            "{made:?} ott.json"
        );
    }

    // The reference CLI signs with our key file; we sign with its.
    let theirs = fx.dir.join("ref").join("with-our-key.json");
    let ours = fx.dir.join("ours").join("with-their-key.json");
    run_all(
        fx,
        vec![
            (
                Made::ByReference,
                strings(&[
                    "trust",
                    "sign",
                    "--root-key",
                    "../ours/root.key",
                    "--type",
                    "policy",
                    "--out",
                    "with-our-key.json",
                ]),
            ),
            (
                Made::ByUs,
                strings(&[
                    "trust",
                    "sign",
                    "--root-key",
                    "../ref/root.key",
                    "--type",
                    "policy",
                    "--out",
                    "with-their-key.json",
                ]),
            ),
        ],
    );
    let read_cred = |p: &Path| Credential::from_json(&std::fs::read_to_string(p).unwrap()).unwrap();
    assert!(read_cred(&theirs).verify(&fx.root(Made::ByUs)));
    assert!(read_cred(&ours).verify(&fx.root(Made::ByReference)));

    // Identity files. The reference's as written: the plain entry lacks its
    // signed `aster.role`, the OTT entry its nonce.
    let reference = |name: &str| IdentityFile::parse(&fx.read(Made::ByReference, name)).unwrap();
    let ref_root = fx.root(Made::ByReference);
    let edge = reference("edge.id");
    assert_eq!(
        edge.peers[0].attributes.get("aster.role"),
        Some("ops.status")
    );
    assert!(edge.peers[0].to_credential().unwrap().verify(&ref_root));
    let plain = reference("plain.id");
    assert!(
        plain.peers[0].attributes.is_empty(),
        "0.1.2 drops aster.role = role from the file"
    );
    assert!(
        plain.peers[0].to_credential().unwrap().verify(&ref_root),
        "put back, it verifies"
    );
    assert_eq!(
        reference("ott.id").peers[0].nonce,
        None,
        "0.1.2's enroll forgets the OTT nonce (T6)"
    );
    let ours_plain = IdentityFile::parse(&fx.read(Made::ByUs, "plain.id")).unwrap();
    assert_eq!(
        ours_plain.peers[0].attributes.get("aster.role"),
        Some("consumer"),
        "we write what we sign"
    );
    assert!(
        IdentityFile::parse(&fx.read(Made::ByUs, "ott.id"))
            .unwrap()
            .peers[0]
            .nonce
            .is_some()
    );

    // One file, both tools: ours adds an entry to the reference's file
    // (leaving its entry byte for byte), the reference adds one to ours.
    let shared = fx.dir.join("ours").join("shared.id");
    std::fs::copy(fx.path(Made::ByReference, "plain.id"), &shared).unwrap();
    run_all(
        fx,
        vec![(
            Made::ByUs,
            strings(&[
                "enroll",
                "node",
                "-r",
                "consumer",
                "-n",
                "second",
                "-c",
                "ops.logs",
                "--root-key",
                "../ref/root.key",
                "-i",
                "shared.id",
                "-q",
            ]),
        )],
    );
    let after_ours = std::fs::read_to_string(&shared).unwrap();
    let ref_entry = fx.read(Made::ByReference, "plain.id");
    let ref_entry = &ref_entry[ref_entry.find("[[peers]]").unwrap()..];
    assert!(
        after_ours.contains(ref_entry.trim_end()),
        "the reference's entry is kept as written:\n{after_ours}"
    );
    run_all(
        fx,
        vec![(
            Made::ByReference,
            strings(&[
                "enroll",
                "node",
                "-r",
                "consumer",
                "-n",
                "third",
                "-c",
                "ops.admin",
                "--root-key",
                "root.key",
                "-i",
                "../ours/shared.id",
                "-q",
            ]),
        )],
    );
    let both = IdentityFile::parse(&std::fs::read_to_string(&shared).unwrap())
        .expect("we read the reference's rewrite");
    assert_eq!(both.node, plain.node, "both tools reused the node key");
    let names: Vec<_> = both.peers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["plain", "second", "third"]);
    for peer in &both.peers {
        assert_eq!(peer.role, PeerRole::Consumer);
        assert!(
            peer.to_credential().unwrap().verify(&ref_root),
            "{} verifies",
            peer.name
        );
    }
}
