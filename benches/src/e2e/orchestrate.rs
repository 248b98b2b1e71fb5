//! The default run: one server child and one client child per
//! implementation, one after the other, then the JSON report.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Map, Value, json};

use super::{ClientFigures, figure_secs, peak_rss_mib};

/// How long a server may take to print its address.
const SERVER_START: Duration = Duration::from_secs(60);
/// How long a client child may run before it is killed (a hang must not
/// stall the run forever).
const CLIENT_LIMIT: Duration = Duration::from_secs(150);

/// The figures of one implementation.
#[derive(Debug, Clone)]
struct Figures {
    client: ClientFigures,
    peak_rss_mib_server: f64,
}

/// Kills a child when dropped (a failing run leaves no server behind).
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `server`, waits for its address line, runs `client(address)` to
/// completion, then reads the server's peak RSS and kills it.
fn measure(label: &str, mut server: Command, client: impl FnOnce(&str) -> Command) -> anyhow::Result<Figures> {
    eprintln!("[bench] {label}: starting server");
    let mut child = Reaped(
        server
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting the {label} server"))?,
    );
    let stdout = child.0.stdout.take().context("server stdout")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next();
        let _ = tx.send(first);
        for _ in lines {} // drain whatever else it prints
    });
    let address = match rx.recv_timeout(SERVER_START) {
        Ok(Some(Ok(line))) if !line.trim().is_empty() => line.trim().to_string(),
        Ok(_) => anyhow::bail!("the {label} server exited without printing its address"),
        Err(_) => anyhow::bail!("the {label} server printed no address within {SERVER_START:?}"),
    };
    let server_pid = child.0.id();

    let mut client = client(&address);
    let mut run = Reaped(
        client
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting the {label} client"))?,
    );
    let out = run.0.stdout.take().context("client stdout")?;
    let reader = std::thread::spawn(move || std::io::read_to_string(out));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = run.0.try_wait()? {
            break status;
        }
        if started.elapsed() > CLIENT_LIMIT {
            anyhow::bail!("the {label} client ran longer than {CLIENT_LIMIT:?}; killed");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = reader.join().map_err(|_| anyhow::anyhow!("client reader panicked"))??;
    anyhow::ensure!(status.success(), "the {label} client failed ({status})");
    let last = text.lines().rev().find(|l| !l.trim().is_empty()).context("the client printed nothing")?;
    let client: ClientFigures =
        serde_json::from_str(last).with_context(|| format!("the {label} client's figures: {last:?}"))?;
    let peak_rss_mib_server = peak_rss_mib(server_pid)?;
    drop(child);
    Ok(Figures { client, peak_rss_mib_server })
}

fn self_command(exe: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(exe);
    c.args(args);
    c
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
}

/// The reference's Python, when its virtualenv exists. The run never builds
/// the venv itself (that downloads packages and takes minutes); it only
/// confirms an existing one with `scripts/reference-venv.sh`.
fn reference_python(root: &Path) -> Result<PathBuf, String> {
    if std::env::var("ASTER_BENCH_PYTHON").is_ok_and(|v| v == "0") {
        return Err("ASTER_BENCH_PYTHON=0".into());
    }
    let venv = std::env::var_os("ASTER_REF_VENV").map(PathBuf::from).unwrap_or_else(|| root.join(".venv-ref"));
    if !venv.join("bin/python").exists() {
        return Err(format!("no virtualenv at {} (run scripts/reference-venv.sh to create it)", venv.display()));
    }
    let out = Command::new("bash")
        .arg(root.join("scripts/reference-venv.sh"))
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("scripts/reference-venv.sh: {e}"))?;
    if !out.status.success() {
        return Err(format!("scripts/reference-venv.sh failed ({})", out.status));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let python = text.lines().last().map(str::trim).unwrap_or_default();
    if python.is_empty() {
        return Err("scripts/reference-venv.sh printed no interpreter".into());
    }
    Ok(PathBuf::from(python))
}

fn python_command(python: &Path, script: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(python);
    c.arg(script).args(args);
    c.env("ASTER_RELAY_MODE", "disabled").env("ASTER_LOG_LEVEL", "warning").env("PYTHONUNBUFFERED", "1");
    c
}

fn round(v: f64, digits: i32) -> Value {
    let m = 10f64.powi(digits);
    json!((v * m).round() / m)
}

/// `(key, decimals, getter)` for every figure, in report order.
type Getter = fn(&Figures) -> f64;
const FIGURES: [(&str, i32, Getter); 9] = [
    ("unary_p50_us", 1, |f| f.client.unary_p50_us),
    ("unary_p99_us", 1, |f| f.client.unary_p99_us),
    ("unary_calls_per_s_c1", 0, |f| f.client.unary_calls_per_s_c1),
    ("unary_calls_per_s_c16", 0, |f| f.client.unary_calls_per_s_c16),
    ("unary_calls_per_s_c64", 0, |f| f.client.unary_calls_per_s_c64),
    ("server_stream_msgs_per_s", 0, |f| f.client.server_stream_msgs_per_s),
    ("bulk_mib_per_s", 1, |f| f.client.bulk_mib_per_s),
    ("peak_rss_mib_server", 1, |f| f.peak_rss_mib_server),
    ("peak_rss_mib_client", 1, |f| f.client.peak_rss_mib_client),
];

/// The spec's targets: `(figure, description, met?)` from Aster's and raw iroh's figures.
fn targets(aster: &Figures, raw: &Figures) -> Vec<(&'static str, String, bool)> {
    let ratio = |g: Getter| if g(raw) > 0.0 { g(aster) / g(raw) } else { f64::NAN };
    let mut t = vec![];
    for (key, _, g) in FIGURES {
        let r = ratio(g);
        match key {
            "unary_calls_per_s_c16" | "unary_calls_per_s_c64" | "bulk_mib_per_s" => {
                t.push((key, format!(">= 0.85 x raw iroh (is {r:.3})"), r >= 0.85))
            }
            "unary_p50_us" => t.push((key, format!("<= 1.2 x raw iroh (is {r:.3})"), r <= 1.2)),
            "peak_rss_mib_server" | "peak_rss_mib_client" => {
                t.push((key, format!("<= 1.5 x raw iroh (is {r:.3})"), r <= 1.5))
            }
            "server_stream_msgs_per_s" => {
                let v = g(aster);
                t.push((key, format!(">= 1000000 msgs/s (is {v:.0})"), v >= 1_000_000.0))
            }
            _ => {}
        }
    }
    t
}

fn report(aster: &Figures, raw: &Figures, python: Option<&Figures>) -> Value {
    let mut top = Map::new();
    for (key, digits, g) in FIGURES {
        let mut o = Map::new();
        o.insert("aster".into(), round(g(aster), digits));
        o.insert("raw_iroh".into(), round(g(raw), digits));
        if let Some(p) = python {
            o.insert("python_ref".into(), round(g(p), digits));
        }
        top.insert(key.into(), Value::Object(o));
    }
    // aster / raw_iroh (and aster / python_ref): above 1 means Aster's figure
    // is larger, which is better for rates and worse for latency and RSS.
    let mut ratios = Map::new();
    let mut vs_python = Map::new();
    for (key, _, g) in FIGURES {
        ratios.insert(key.into(), if g(raw) > 0.0 { round(g(aster) / g(raw), 3) } else { Value::Null });
        if let Some(p) = python {
            vs_python.insert(key.into(), if g(p) > 0.0 { round(g(aster) / g(p), 3) } else { Value::Null });
        }
    }
    top.insert("ratios_aster_over_raw_iroh".into(), Value::Object(ratios));
    if python.is_some() {
        top.insert("ratios_aster_over_python_ref".into(), Value::Object(vs_python));
    }
    let mut met = Map::new();
    for (key, _, ok) in targets(aster, raw) {
        met.insert(key.into(), Value::Bool(ok));
    }
    top.insert("targets_met".into(), Value::Object(met));
    Value::Object(top)
}

fn print_table(aster: &Figures, raw: &Figures, python: Option<&Figures>) {
    eprintln!();
    eprintln!("{:<26} {:>14} {:>14} {:>8} {:>14}", "figure", "aster", "raw iroh", "ratio", "python ref");
    for (key, digits, g) in FIGURES {
        let d = digits.max(0) as usize;
        let py = python.map(|p| format!("{:.*}", d, g(p))).unwrap_or_else(|| "-".into());
        let r = if g(raw) > 0.0 { g(aster) / g(raw) } else { f64::NAN };
        eprintln!("{key:<26} {:>14.*} {:>14.*} {r:>8.3} {py:>14}", d, g(aster), d, g(raw));
    }
    eprintln!();
    for (key, what, ok) in targets(aster, raw) {
        eprintln!("target {key:<26} {what:<40} {}", if ok { "met" } else { "NOT met" });
    }
}

/// `aster-bench` with no arguments.
pub fn run() -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("locating this binary")?;
    let root = workspace_root();
    let secs = figure_secs();
    let secs_arg = secs.to_string();
    eprintln!("[bench] {secs} s per figure; server and client in separate processes on 127.0.0.1");
    let t0 = Instant::now();

    let client = |role: &'static str| {
        let exe = exe.clone();
        move |addr: &str| {
            let mut c = self_command(&exe, &[role, addr]);
            c.env("ASTER_BENCH_SECS", &secs_arg);
            c
        }
    };
    let raw = measure("raw_iroh", self_command(&exe, &["serve-raw"]), client("client-raw"))?;
    let aster = measure("aster", self_command(&exe, &["serve-aster"]), client("client-aster"))?;

    let python = match reference_python(&root) {
        Ok(py) => {
            let script = root.join("benches/python/bench_ref.py");
            let server = python_command(&py, &script, &["serve"]);
            let secs_arg = secs.to_string();
            let result = measure("python_ref", server, |addr| {
                let mut c = python_command(&py, &script, &["client", addr]);
                c.env("ASTER_BENCH_SECS", &secs_arg);
                c
            });
            match result {
                Ok(f) => Some(f),
                Err(e) => {
                    eprintln!("[bench] python_ref not measured: {e:#}");
                    None
                }
            }
        }
        Err(why) => {
            eprintln!("[bench] python_ref not measured: the Python reference is unavailable: {why}");
            None
        }
    };

    print_table(&aster, &raw, python.as_ref());
    eprintln!("[bench] done in {:.0} s", t0.elapsed().as_secs_f64());
    println!("{}", serde_json::to_string(&report(&aster, &raw, python.as_ref()))?);
    Ok(())
}
