//! The default run: a server child and a client child per implementation,
//! figures interleaved between implementations, then the JSON report.
//!
//! This machine is shared and small, so background load drifts during a
//! run. To keep the Aster / raw iroh ratios honest, both implementations'
//! processes stay up for the whole run and each figure is measured
//! [`figure_rounds`] times, alternating the order (raw, aster, aster, raw,
//! ...); a figure's value is the best of its rounds (highest rate, lowest
//! latency). The Python reference, far slower, runs afterwards in one batch.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Map, Value, json};

use super::{ClientFigures, Figure, cpu_seconds, figure_rounds, figure_secs, peak_rss_mib};

/// How long a server may take to print its address.
const SERVER_START: Duration = Duration::from_secs(60);
/// Slack on top of a command's own duration before a client is declared hung.
const COMMAND_SLACK: Duration = Duration::from_secs(60);
/// How long the batch (Python) client may run.
const BATCH_LIMIT: Duration = Duration::from_secs(150);

/// The figures of one implementation.
#[derive(Debug, Clone)]
struct Figures {
    client: ClientFigures,
    peak_rss_mib_server: f64,
    /// Per figure: CPU microseconds per unit (call, message, MiB) in the
    /// client and in the server, from the round with the lowest total.
    cpu_us: Vec<(Figure, f64, f64)>,
}

/// CPU cost per unit of one measurement, kept as the lowest of its rounds.
fn keep_cheapest(costs: &mut Vec<(Figure, f64, f64)>, fig: Figure, client: f64, server: f64) {
    match costs.iter_mut().find(|c| c.0 == fig) {
        Some(c) if c.1 + c.2 <= client + server => {}
        Some(c) => *c = (fig, client, server),
        None => costs.push((fig, client, server)),
    }
}

/// One figure from one client, with the server's CPU time around it.
fn ask_figure(
    client: &mut DrivenClient,
    server: &ServerChild,
    fig: Figure,
    secs: f64,
    best: &mut Map<String, Value>,
    costs: &mut Vec<(Figure, f64, f64)>,
) -> anyhow::Result<()> {
    let before = cpu_seconds(server.child.0.id())?;
    let mut answer = client.ask(
        &format!("{} {secs}", fig.name()),
        Duration::from_secs_f64(secs),
    )?;
    let server_cpu = cpu_seconds(server.child.0.id())? - before;
    let units = answer
        .remove("units")
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0);
    let client_cpu = answer
        .remove("cpu_s")
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0);
    if units > 0.0 {
        keep_cheapest(
            costs,
            fig,
            client_cpu * 1e6 / units,
            server_cpu * 1e6 / units,
        );
    }
    keep_best(best, answer);
    Ok(())
}

/// Kills a child when dropped (a failing run leaves no process behind).
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Lines a child prints on stdout, read on a thread.
fn line_channel(
    out: impl std::io::Read + Send + 'static,
) -> mpsc::Receiver<std::io::Result<String>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// A server child and the address it printed.
struct ServerChild {
    child: Reaped,
    address: String,
    _lines: mpsc::Receiver<std::io::Result<String>>,
}

fn start_server(label: &str, mut cmd: Command) -> anyhow::Result<ServerChild> {
    eprintln!("[bench] {label}: starting server");
    let mut child = Reaped(
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting the {label} server"))?,
    );
    let lines = line_channel(child.0.stdout.take().context("server stdout")?);
    let address = match lines.recv_timeout(SERVER_START) {
        Ok(Ok(line)) if !line.trim().is_empty() => line.trim().to_string(),
        Ok(_) | Err(mpsc::RecvTimeoutError::Disconnected) => {
            anyhow::bail!("the {label} server exited without printing its address")
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            anyhow::bail!("the {label} server printed no address within {SERVER_START:?}")
        }
    };
    Ok(ServerChild {
        child,
        address,
        _lines: lines,
    })
}

impl ServerChild {
    fn peak_rss_mib(&self) -> anyhow::Result<f64> {
        peak_rss_mib(self.child.0.id())
    }
}

/// A client child in driven mode: one command per line, one JSON answer per line.
struct DrivenClient {
    label: &'static str,
    _child: Reaped,
    stdin: ChildStdin,
    lines: mpsc::Receiver<std::io::Result<String>>,
}

impl DrivenClient {
    fn start(label: &'static str, mut cmd: Command) -> anyhow::Result<DrivenClient> {
        let mut child = Reaped(
            cmd.stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .with_context(|| format!("starting the {label} client"))?,
        );
        let stdin = child.0.stdin.take().context("client stdin")?;
        let lines = line_channel(child.0.stdout.take().context("client stdout")?);
        Ok(DrivenClient {
            label,
            _child: child,
            stdin,
            lines,
        })
    }

    fn ask(&mut self, command: &str, takes: Duration) -> anyhow::Result<Map<String, Value>> {
        writeln!(self.stdin, "{command}")
            .with_context(|| format!("the {} client is gone", self.label))?;
        self.stdin.flush()?;
        let line = match self.lines.recv_timeout(takes + COMMAND_SLACK) {
            Ok(line) => line?,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                anyhow::bail!(
                    "the {} client did not answer {command:?} in time",
                    self.label
                )
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                anyhow::bail!(
                    "the {} client exited during {command:?} (see its error above)",
                    self.label
                )
            }
        };
        match serde_json::from_str(&line) {
            Ok(Value::Object(m)) => Ok(m),
            _ => anyhow::bail!(
                "the {} client answered {command:?} with {line:?}",
                self.label
            ),
        }
    }
}

/// Keeps the better of two measurements: lower for latencies, higher for rates.
fn keep_best(best: &mut Map<String, Value>, new: Map<String, Value>) {
    for (k, v) in new {
        let Some(v) = v.as_f64() else { continue };
        let lower_is_better = k.ends_with("_us");
        let better = match best.get(&k).and_then(Value::as_f64) {
            None => true,
            Some(old) => {
                if lower_is_better {
                    v < old
                } else {
                    v > old
                }
            }
        };
        if better {
            best.insert(k, json!(v));
        }
    }
}

/// Raw iroh and Aster, interleaved. Returns `(raw, aster)`.
fn measure_rust(exe: &Path, secs: f64, rounds: usize) -> anyhow::Result<(Figures, Figures)> {
    let raw_server = start_server("raw_iroh", self_command(exe, &["serve-raw"]))?;
    let aster_server = start_server("aster", self_command(exe, &["serve-aster"]))?;
    let mut raw = DrivenClient::start(
        "raw_iroh",
        self_command(exe, &["client-raw", &raw_server.address, "--driven"]),
    )?;
    let mut aster = DrivenClient::start(
        "aster",
        self_command(exe, &["client-aster", &aster_server.address, "--driven"]),
    )?;
    let warm = Duration::from_secs(5);
    raw.ask("warmup", warm)?;
    aster.ask("warmup", warm)?;
    let (mut best_raw, mut cost_raw) = (Map::new(), vec![]);
    let (mut best_aster, mut cost_aster) = (Map::new(), vec![]);
    for fig in Figure::ALL {
        for round in 0..rounds {
            if round % 2 == 0 {
                ask_figure(
                    &mut raw,
                    &raw_server,
                    fig,
                    secs,
                    &mut best_raw,
                    &mut cost_raw,
                )?;
                ask_figure(
                    &mut aster,
                    &aster_server,
                    fig,
                    secs,
                    &mut best_aster,
                    &mut cost_aster,
                )?;
            } else {
                ask_figure(
                    &mut aster,
                    &aster_server,
                    fig,
                    secs,
                    &mut best_aster,
                    &mut cost_aster,
                )?;
                ask_figure(
                    &mut raw,
                    &raw_server,
                    fig,
                    secs,
                    &mut best_raw,
                    &mut cost_raw,
                )?;
            }
        }
    }
    keep_best(&mut best_raw, raw.ask("rss", Duration::ZERO)?);
    keep_best(&mut best_aster, aster.ask("rss", Duration::ZERO)?);
    let figures =
        |best: Map<String, Value>, server: &ServerChild, cpu_us| -> anyhow::Result<Figures> {
            Ok(Figures {
                client: serde_json::from_value(Value::Object(best)).context("client figures")?,
                peak_rss_mib_server: server.peak_rss_mib()?,
                cpu_us,
            })
        };
    Ok((
        figures(best_raw, &raw_server, cost_raw)?,
        figures(best_aster, &aster_server, cost_aster)?,
    ))
}

/// One implementation in batch mode (the Python reference): the client runs
/// every figure once and prints them all as its last line.
fn measure_batch(
    label: &str,
    server: Command,
    client: impl FnOnce(&str) -> Command,
) -> anyhow::Result<Figures> {
    let server = start_server(label, server)?;
    let mut client = client(&server.address);
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
        if started.elapsed() > BATCH_LIMIT {
            anyhow::bail!("the {label} client ran longer than {BATCH_LIMIT:?}; killed");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = reader
        .join()
        .map_err(|_| anyhow::anyhow!("client reader panicked"))??;
    anyhow::ensure!(status.success(), "the {label} client failed ({status})");
    let last = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .context("the client printed nothing")?;
    let client: ClientFigures = serde_json::from_str(last)
        .with_context(|| format!("the {label} client's figures: {last:?}"))?;
    Ok(Figures {
        client,
        peak_rss_mib_server: server.peak_rss_mib()?,
        cpu_us: vec![],
    })
}

fn self_command(exe: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(exe);
    c.args(args);
    c
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The reference's Python, when its virtualenv exists. The run never builds
/// the venv itself (that downloads packages and takes minutes); it only
/// confirms an existing one with `scripts/reference-venv.sh`.
fn reference_python(root: &Path) -> Result<PathBuf, String> {
    if std::env::var("ASTER_BENCH_PYTHON").is_ok_and(|v| v == "0") {
        return Err("ASTER_BENCH_PYTHON=0".into());
    }
    let venv = std::env::var_os("ASTER_REF_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".venv-ref"));
    if !venv.join("bin/python").exists() {
        return Err(format!(
            "no virtualenv at {} (run scripts/reference-venv.sh to create it)",
            venv.display()
        ));
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
    c.env("ASTER_RELAY_MODE", "disabled")
        .env("ASTER_LOG_LEVEL", "warning")
        .env("PYTHONUNBUFFERED", "1");
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
    ("unary_calls_per_s_c16", 0, |f| {
        f.client.unary_calls_per_s_c16
    }),
    ("unary_calls_per_s_c64", 0, |f| {
        f.client.unary_calls_per_s_c64
    }),
    ("server_stream_msgs_per_s", 0, |f| {
        f.client.server_stream_msgs_per_s
    }),
    ("bulk_mib_per_s", 1, |f| f.client.bulk_mib_per_s),
    ("peak_rss_mib_server", 1, |f| f.peak_rss_mib_server),
    ("peak_rss_mib_client", 1, |f| f.client.peak_rss_mib_client),
];

/// `cpu_us_per_op` keys: per call, per stream message, per MiB of bulk.
const CPU_KEYS: [(Figure, &str); 5] = [
    (Figure::Latency, "unary_call_c1"),
    (Figure::C16, "unary_call_c16"),
    (Figure::C64, "unary_call_c64"),
    (Figure::Stream, "stream_message"),
    (Figure::Bulk, "bulk_mib"),
];

/// The spec's targets: `(figure, description, met?)` from Aster's and raw iroh's figures.
fn targets(aster: &Figures, raw: &Figures) -> Vec<(&'static str, String, bool)> {
    let ratio = |g: Getter| {
        if g(raw) > 0.0 {
            g(aster) / g(raw)
        } else {
            f64::NAN
        }
    };
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
                t.push((
                    key,
                    format!(">= 1000000 msgs/s (is {v:.0})"),
                    v >= 1_000_000.0,
                ))
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
        ratios.insert(
            key.into(),
            if g(raw) > 0.0 {
                round(g(aster) / g(raw), 3)
            } else {
                Value::Null
            },
        );
        if let Some(p) = python {
            vs_python.insert(
                key.into(),
                if g(p) > 0.0 {
                    round(g(aster) / g(p), 3)
                } else {
                    Value::Null
                },
            );
        }
    }
    top.insert("ratios_aster_over_raw_iroh".into(), Value::Object(ratios));
    if python.is_some() {
        top.insert(
            "ratios_aster_over_python_ref".into(),
            Value::Object(vs_python),
        );
    }
    let mut met = Map::new();
    for (key, _, ok) in targets(aster, raw) {
        met.insert(key.into(), Value::Bool(ok));
    }
    top.insert("targets_met".into(), Value::Object(met));
    // CPU time (client + server) per unit of work: steadier than rates on a
    // busy machine, and what an optimisation changes first.
    let mut cpu = Map::new();
    for (fig, key) in CPU_KEYS {
        let cost = |f: &Figures| f.cpu_us.iter().find(|c| c.0 == fig).map(|c| c.1 + c.2);
        if let (Some(a), Some(r)) = (cost(aster), cost(raw)) {
            cpu.insert(
                key.into(),
                json!({ "aster": round(a, 2), "raw_iroh": round(r, 2) }),
            );
        }
    }
    top.insert("cpu_us_per_op".into(), Value::Object(cpu));
    Value::Object(top)
}

fn print_table(aster: &Figures, raw: &Figures, python: Option<&Figures>) {
    eprintln!();
    eprintln!(
        "{:<26} {:>14} {:>14} {:>8} {:>14}",
        "figure", "aster", "raw iroh", "ratio", "python ref"
    );
    for (key, digits, g) in FIGURES {
        let d = digits.max(0) as usize;
        let py = python
            .map(|p| format!("{:.*}", d, g(p)))
            .unwrap_or_else(|| "-".into());
        let r = if g(raw) > 0.0 {
            g(aster) / g(raw)
        } else {
            f64::NAN
        };
        eprintln!(
            "{key:<26} {:>14.*} {:>14.*} {r:>8.3} {py:>14}",
            d,
            g(aster),
            d,
            g(raw)
        );
    }
    eprintln!();
    eprintln!("CPU time per unit, client + server (us; lowest of the rounds):");
    for (fig, unit) in CPU_KEYS {
        let cost = |f: &Figures| f.cpu_us.iter().find(|c| c.0 == fig).map(|c| (c.1, c.2));
        if let (Some(a), Some(r)) = (cost(aster), cost(raw)) {
            eprintln!(
                "  {unit:<15} aster {:>8.2} + {:>8.2}   raw iroh {:>8.2} + {:>8.2}   ratio {:.2}",
                a.0,
                a.1,
                r.0,
                r.1,
                (a.0 + a.1) / (r.0 + r.1)
            );
        }
    }
    eprintln!();
    for (key, what, ok) in targets(aster, raw) {
        eprintln!(
            "target {key:<26} {what:<40} {}",
            if ok { "met" } else { "NOT met" }
        );
    }
}

/// `aster-bench` with no arguments.
pub fn run() -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("locating this binary")?;
    let root = workspace_root();
    let secs = figure_secs();
    let rounds = figure_rounds();
    let secs_arg = secs.to_string();
    eprintln!(
        "[bench] {secs} s per figure, best of {rounds} interleaved rounds; server and client in separate processes on 127.0.0.1"
    );
    let t0 = Instant::now();

    let (raw, aster) = measure_rust(&exe, secs, rounds)?;

    let python = match reference_python(&root) {
        Ok(py) => {
            let script = root.join("benches/python/bench_ref.py");
            let server = python_command(&py, &script, &["serve"]);
            let result = measure_batch("python_ref", server, |addr| {
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
            eprintln!(
                "[bench] python_ref not measured: the Python reference is unavailable: {why}"
            );
            None
        }
    };

    print_table(&aster, &raw, python.as_ref());
    eprintln!("[bench] done in {:.0} s", t0.elapsed().as_secs_f64());
    println!(
        "{}",
        serde_json::to_string(&report(&aster, &raw, python.as_ref()))?
    );
    Ok(())
}
