//! Shared by the interop test files: the pinned reference environment, the
//! Python peers (`interop/python/`), and the Rust twins of the contracts in
//! `interop/python/contracts.py`.
//!
//! Nothing here skips: if the venv or a Python peer cannot be set up, the
//! calling test panics with the reason. Every wait is bounded, and no Python
//! process outlives the test binary (see [`PyServer`]).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use aster::{RequestStream, ResponseStream, Status, WireType};

/// Creating the venv from scratch installs the pinned packages.
const VENV_TIMEOUT: Duration = Duration::from_secs(900);
/// From spawning `serve.py` to its ready line (0.15 s when warm).
const SERVER_READY_TIMEOUT: Duration = Duration::from_secs(30);
/// A whole `drive.py` run (a few seconds at most when healthy).
pub const DRIVE_TIMEOUT: Duration = Duration::from_secs(90);
/// One call or one awaited stream item in a test.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

// -- The reference environment -----------------------------------------------

pub fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn python_dir() -> PathBuf {
    interop_dir().join("python")
}

fn repo_root() -> PathBuf {
    interop_dir()
        .parent()
        .expect("interop/ has a parent")
        .to_path_buf()
}

/// The venv's python, from `scripts/reference-venv.sh` (run once per test
/// binary). Panics, with the script's stderr, if it cannot be set up.
pub fn python() -> &'static Path {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match PYTHON.get_or_init(setup_venv) {
        Ok(p) => p,
        Err(e) => panic!("the Python reference peer (aster-rpc 0.1.2) is unavailable: {e}"),
    }
}

fn setup_venv() -> Result<PathBuf, String> {
    let script = repo_root().join("scripts/reference-venv.sh");
    let mut cmd = Command::new("bash");
    cmd.arg(&script).current_dir(repo_root());
    let out = run_bounded(cmd, VENV_TIMEOUT).map_err(|e| format!("{}: {e}", script.display()))?;
    if !out.success {
        return Err(format!(
            "{} failed ({}); stderr:\n{}",
            script.display(),
            out.status,
            out.stderr
        ));
    }
    let line = out
        .stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    let python = PathBuf::from(line);
    if line.is_empty() || !python.is_file() {
        return Err(format!(
            "{} printed no usable python path (last line {line:?}); stderr:\n{}",
            script.display(),
            out.stderr
        ));
    }
    Ok(python)
}

struct Finished {
    success: bool,
    status: String,
    stdout: String,
    stderr: String,
}

/// Runs `cmd` to completion, killing it after `timeout`.
fn run_bounded(mut cmd: Command, timeout: Duration) -> Result<Finished, String> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("cannot start: {e}"))?;
    let stdout = drain(child.stdout.take().expect("piped"));
    let stderr = drain(child.stderr.take().expect("piped"));
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("still running after {timeout:?}; killed"));
            }
            Err(e) => return Err(format!("cannot wait: {e}")),
        }
    };
    let join = |h: thread::JoinHandle<String>| h.join().unwrap_or_default();
    Ok(Finished {
        success: status.success(),
        status: status.to_string(),
        stdout: join(stdout),
        stderr: join(stderr),
    })
}

fn drain(mut from: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = from.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// `python interop/python/<script>` with a clean, offline aster environment.
pub fn python_command(script: &str) -> Command {
    let mut cmd = Command::new(python());
    cmd.arg(python_dir().join(script)).current_dir(python_dir());
    // The caller's ASTER_* settings (identity files, storage, relays) must
    // not leak into the reference peer.
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("ASTER_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("ASTER_RELAY_MODE", "disabled")
        .env("ASTER_LOG_LEVEL", "warning")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1");
    cmd
}

// -- Python server (Rust client tests) --------------------------------------

/// A running `serve.py`.
///
/// Killed on drop. A `PyServer` kept in a `static` is never dropped, so the
/// script also watches its stdin, which this struct holds open: when the test
/// binary exits, however it exits, the pipe closes and the server exits.
pub struct PyServer {
    child: Mutex<Child>,
    _stdin: ChildStdin,
    stderr: Arc<Mutex<String>>,
    /// Lines printed on stdout after the ready line (`serve.py --log-calls`).
    events: Arc<Mutex<Vec<String>>>,
    /// `aster1…` address.
    pub address: String,
    pub endpoint_id: String,
    /// Contract ids computed by the reference itself (`contract_id_from_service`).
    pub contract_ids: BTreeMap<String, String>,
}

impl PyServer {
    pub fn start() -> Result<PyServer, String> {
        PyServer::start_with(&[])
    }

    /// `serve.py ARGS…` (for example `--log-calls`).
    pub fn start_with(args: &[&str]) -> Result<PyServer, String> {
        let mut cmd = python_command("serve.py");
        cmd.args(args);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start serve.py: {e}"))?;
        let stdin = child.stdin.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
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
        let events = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        {
            let sink = events.clone();
            thread::spawn(move || {
                let mut lines = BufReader::new(stdout).lines();
                if let Some(Ok(line)) = lines.next() {
                    let _ = tx.send(line);
                }
                // Keep reading so the pipe never fills; keep what came.
                for line in lines.map_while(Result::ok) {
                    if let Ok(mut v) = sink.lock() {
                        v.push(line);
                    }
                }
            });
        }
        let mut server = PyServer {
            child: Mutex::new(child),
            _stdin: stdin,
            stderr,
            events,
            address: String::new(),
            endpoint_id: String::new(),
            contract_ids: BTreeMap::new(),
        };
        let line = match rx.recv_timeout(SERVER_READY_TIMEOUT) {
            Ok(line) => line,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                return Err(format!(
                    "serve.py printed no address within {SERVER_READY_TIMEOUT:?}{}",
                    server.stderr_tail()
                ));
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                // Let the stderr reader catch up with the exit message.
                thread::sleep(Duration::from_millis(200));
                return Err(format!(
                    "serve.py exited before it was ready{}",
                    server.stderr_tail()
                ));
            }
        };
        let ready: serde_json::Value = serde_json::from_str(&line).map_err(|e| {
            format!(
                "serve.py ready line is not JSON ({e}): {line:?}{}",
                server.stderr_tail()
            )
        })?;
        server.address = ready["address"].as_str().unwrap_or_default().to_string();
        server.endpoint_id = ready["endpoint_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if let Some(ids) = ready["contract_ids"].as_object() {
            server.contract_ids = ids
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect();
        }
        if !server.address.starts_with("aster1") {
            return Err(format!(
                "serve.py ready line has no aster1 address: {line:?}"
            ));
        }
        Ok(server)
    }

    /// The lines `serve.py` printed on stdout after its ready line, so far.
    pub fn events(&self) -> Vec<String> {
        self.events.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Waits (polling, at most `timeout`) until some line printed after the
    /// ready line satisfies `pred`, and returns it.
    pub fn wait_event(&self, timeout: Duration, pred: impl Fn(&str) -> bool) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(line) = self.events().into_iter().find(|l| pred(l)) {
                return Some(line);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// The server's stderr so far (for failure messages).
    pub fn stderr_tail(&self) -> String {
        let s = self.stderr.lock().map(|s| s.clone()).unwrap_or_default();
        let tail: String = s
            .chars()
            .rev()
            .take(4000)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if tail.is_empty() {
            String::new()
        } else {
            format!("\n--- serve.py stderr ---\n{tail}")
        }
    }
}

impl Drop for PyServer {
    fn drop(&mut self) {
        if let Ok(mut child) = self.child.lock() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// One `serve.py` for all the tests of a binary, started on first use.
pub fn shared_py_server() -> &'static PyServer {
    static SERVER: OnceLock<Result<PyServer, String>> = OnceLock::new();
    match SERVER.get_or_init(PyServer::start) {
        Ok(s) => s,
        Err(e) => panic!("the Python reference server could not be started: {e}"),
    }
}

// -- Python client (Rust server tests) ---------------------------------------

/// Runs `drive.py ADDRESS SCENARIO…` and returns its observations
/// (`{scenario: {...}}`). Panics, with the script's stderr, if it cannot run,
/// times out, or a scenario raised instead of reporting.
pub async fn drive(address: &str, scenarios: &[&str]) -> serde_json::Value {
    let mut cmd = tokio::process::Command::from(python_command("drive.py"));
    cmd.arg(address)
        .args(scenarios)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start drive.py: {e}"));
    // On timeout the future, and with it the child, is dropped: killed.
    let out = match tokio::time::timeout(DRIVE_TIMEOUT, child.wait_with_output()).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => panic!("drive.py {scenarios:?}: cannot wait: {e}"),
        Err(_) => panic!("drive.py {scenarios:?} did not finish within {DRIVE_TIMEOUT:?}; killed"),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "drive.py {scenarios:?} failed ({}):\n{stderr}",
        out.status
    );
    let line = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let report: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| {
        panic!("drive.py output is not JSON ({e}): {stdout}\n--- stderr ---\n{stderr}")
    });
    for name in scenarios {
        let r = &report[*name];
        assert!(
            r.is_object(),
            "drive.py reported nothing for {name}: {report}"
        );
        if let Some(exc) = r.get("exception") {
            panic!(
                "drive.py scenario {name} raised:\n{}\n--- stderr ---\n{stderr}",
                exc.as_str().unwrap_or_default()
            );
        }
    }
    report
}

/// `{"error": {"code": …, "message": …}}` as the Python client reported it.
pub fn py_error(v: &serde_json::Value) -> (i64, String) {
    let e = v
        .get("error")
        .unwrap_or_else(|| panic!("expected an error, Python saw {v}"));
    (
        e["code"].as_i64().unwrap_or(-1),
        e["message"].as_str().unwrap_or_default().to_string(),
    )
}

// -- Rust twins of interop/python/contracts.py -------------------------------

#[derive(Debug, Clone, Default, PartialEq, WireType)]
#[wire(tag = "echo/EchoRequest")]
pub struct EchoRequest {
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, WireType)]
#[wire(tag = "echo/EchoResponse")]
pub struct EchoResponse {
    pub reply: String,
}

#[derive(Debug, Clone, Default, PartialEq, WireType)]
#[wire(tag = "counter/CountRequest")]
pub struct CountRequest {
    pub count: i32,
}

#[derive(Debug, Clone, Default, PartialEq, WireType)]
#[wire(tag = "counter/CountItem")]
pub struct CountItem {
    pub value: i32,
}

pub fn say(message: &str) -> EchoRequest {
    EchoRequest {
        message: message.into(),
    }
}

pub fn count(n: i32) -> CountRequest {
    CountRequest { count: n }
}

/// Shared: every pattern, an error and a handler that outlives deadlines.
/// Behaviour (both sides): `count_up(n)` yields 1..=|n| and, for n < 0,
/// then fails with ABORTED "stopped after |n|"; `fail` is PERMISSION_DENIED
/// "no access for <message>"; `slow` sleeps 30 s.
#[aster::service(name = "Echo", version = 1)]
pub trait Echo {
    #[rpc]
    async fn echo(&self, req: EchoRequest) -> Result<EchoResponse, Status>;
    #[server_stream]
    async fn count_up(&self, req: CountRequest) -> Result<ResponseStream<CountItem>, Status>;
    #[client_stream]
    async fn join(&self, reqs: RequestStream<EchoRequest>) -> Result<EchoResponse, Status>;
    #[bidi_stream]
    async fn chat(
        &self,
        reqs: RequestStream<EchoRequest>,
    ) -> Result<ResponseStream<EchoResponse>, Status>;
    #[rpc]
    async fn fail(&self, req: EchoRequest) -> Result<EchoResponse, Status>;
    #[rpc]
    async fn slow(&self, req: EchoRequest) -> Result<EchoResponse, Status>;
}

/// Client side only: methods the peer's Echo does not have.
#[aster::service(name = "Echo", version = 1)]
pub trait EchoProbe {
    #[rpc]
    async fn missing(&self, req: EchoRequest) -> Result<EchoResponse, Status>;
    #[bidi_stream]
    async fn missing_chat(
        &self,
        reqs: RequestStream<EchoRequest>,
    ) -> Result<ResponseStream<EchoResponse>, Status>;
}

/// Client side only: a service the peer does not serve.
#[aster::service(name = "Nope", version = 1)]
pub trait Nope {
    #[rpc]
    async fn echo(&self, req: EchoRequest) -> Result<EchoResponse, Status>;
}

/// `echo/EchoRequest` with a field the peer's type does not have.
#[derive(Debug, Clone, Default, PartialEq, WireType)]
#[wire(tag = "echo/EchoRequest")]
pub struct EchoRequestPlus {
    pub message: String,
    pub bogus: i64,
}

/// Client side only: Echo.echo sent with [`EchoRequestPlus`].
#[aster::service(name = "Echo", version = 1)]
pub trait EchoPlus {
    #[rpc]
    async fn echo(&self, req: EchoRequestPlus) -> Result<EchoResponse, Status>;
}

/// Session-scoped: one running total per session. `add` of a negative count
/// is INVALID_ARGUMENT "negative: <n>".
#[aster::service(name = "Tally", version = 1, scope = "session")]
pub trait Tally {
    #[rpc]
    async fn add(&self, req: CountRequest) -> Result<CountItem, Status>;
    #[server_stream]
    async fn countdown(&self, req: CountRequest) -> Result<ResponseStream<CountItem>, Status>;
    #[client_stream]
    async fn sum(&self, reqs: RequestStream<CountRequest>) -> Result<CountItem, Status>;
    #[bidi_stream]
    async fn running(
        &self,
        reqs: RequestStream<CountRequest>,
    ) -> Result<ResponseStream<CountItem>, Status>;
}

/// Client side only: a session method the peer's Tally does not have.
#[aster::service(name = "Tally", version = 1, scope = "session")]
pub trait TallyProbe {
    #[rpc]
    async fn missing(&self, req: CountRequest) -> Result<CountItem, Status>;
}

/// Awaits `fut`, failing the test if it takes longer than [`CALL_TIMEOUT`].
pub async fn bounded<F: std::future::Future>(what: &str, fut: F) -> F::Output {
    match tokio::time::timeout(CALL_TIMEOUT, fut).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: no outcome within {CALL_TIMEOUT:?}"),
    }
}

// -- The reference CLI and one-shot scripts (registry tests) -----------------

/// A fresh directory under the system temp dir, removed on drop.
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    pub fn new(name: &str) -> ScratchDir {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("aster-interop-{name}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
        ScratchDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Keeps a reference tool away from the user's `~/.aster` (identity, root
/// key, profiles, manifest cache, shell history) and from the OS keyring:
/// `HOME` is `home`, which must exist.
pub fn isolate_home(cmd: &mut Command, home: &Path) {
    cmd.env("HOME", home)
        .env("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring");
}

/// The venv's `aster` command line (aster-cli 0.1.2) with the clean, offline
/// environment of [`python_command`] and `HOME` = `home`.
pub fn reference_cli(home: &Path) -> Command {
    let aster = python().parent().expect("the venv's bin/").join("aster");
    let mut cmd = Command::new(&aster);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("ASTER_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("ASTER_RELAY_MODE", "disabled")
        .env("ASTER_LOG_LEVEL", "warning")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONUNBUFFERED", "1")
        .current_dir(home);
    isolate_home(&mut cmd, home);
    cmd
}

/// What a bounded one-shot process printed.
pub struct Ran {
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` to completion (killed after `timeout`); panics, with its
/// output, if it cannot start, times out or exits non-zero.
pub async fn run_ok(what: &str, cmd: Command, timeout: Duration) -> Ran {
    let mut cmd = tokio::process::Command::from(cmd);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    // On timeout the future, and with it the child, is dropped: killed.
    let out = match tokio::time::timeout(timeout, child.wait_with_output()).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => panic!("{what}: cannot wait: {e}"),
        Err(_) => panic!("{what} did not finish within {timeout:?}; killed"),
    };
    let ran = Ran {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n--- stderr ---\n{}",
        out.status,
        ran.stdout,
        ran.stderr
    );
    ran
}

/// Runs a script that prints one JSON object as its last stdout line and
/// returns that object; panics if the script fails or reports
/// `{"exception": …}` at top level.
pub async fn run_json(what: &str, cmd: Command, timeout: Duration) -> serde_json::Value {
    let ran = run_ok(what, cmd, timeout).await;
    let line = ran
        .stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let report: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| {
        panic!(
            "{what}: output is not JSON ({e}): {}\n--- stderr ---\n{}",
            ran.stdout, ran.stderr
        )
    });
    if let Some(exc) = report.get("exception") {
        let traceback = report.get("traceback").unwrap_or(&serde_json::Value::Null);
        panic!(
            "{what} raised: {exc}\n{traceback}\n--- stderr ---\n{}",
            ran.stderr
        );
    }
    report
}
