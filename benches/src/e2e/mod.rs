//! End-to-end loopback benchmark: Aster against raw iroh streams (and the
//! Python reference when its virtualenv is present), server and client in
//! separate processes.
//!
//! [`orchestrate::run`] re-executes this binary as a server child and a
//! client child per implementation. A client child measures figures against
//! a [`Target`] on command ([`run_driven`]) or in one batch
//! ([`run_workloads`]); the orchestrator adds the servers' peak RSS and CPU
//! time and prints the report. The workloads are the same for every
//! implementation: same message sizes, one QUIC bi-stream per call, same
//! concurrency, same durations.

pub mod aster_side;
pub mod orchestrate;
pub mod raw_side;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// Request and response payload of a unary call (bytes of application data).
pub const UNARY_PAYLOAD: usize = 32;
/// Payload of each server-stream message.
pub const STREAM_PAYLOAD: usize = 16;
/// Messages per server-stream call (calls run back to back).
pub const STREAM_MESSAGES_PER_CALL: u32 = 20_000;
/// Request payload of a bulk call; the answer is a small acknowledgement.
pub const BULK_MESSAGE: usize = 1 << 20;
/// Bulk calls in flight at once on the one connection.
pub const BULK_CONCURRENCY: usize = 4;
/// Concurrency levels of the unary calls/s figures.
const UNARY_CONCURRENCY: [usize; 3] = [1, 16, 64];

/// Rounds per figure and implementation in the default run
/// (`ASTER_BENCH_ROUNDS`, default 4). Throughput on this shared machine
/// drifts by several percent within a minute, in bursts that only ever slow
/// a measurement down; the best of more short rounds, alternating which
/// implementation goes first, is what each can do with the same machine.
pub fn figure_rounds() -> usize {
    std::env::var("ASTER_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or(4)
}

/// Seconds per measured figure (`ASTER_BENCH_SECS`, default 3).
pub fn figure_secs() -> f64 {
    std::env::var("ASTER_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|s: &f64| *s > 0.0)
        .unwrap_or(3.0)
}

/// The client side of one implementation: one call of each workload, on one
/// shared connection.
pub trait Target: Clone + Send + Sync + 'static {
    /// One unary call: [`UNARY_PAYLOAD`] bytes out, the same bytes back.
    fn unary(&self) -> impl Future<Output = anyhow::Result<()>> + Send;
    /// One server-stream call of `count` messages of [`STREAM_PAYLOAD`]
    /// bytes; returns how many arrived.
    fn stream(&self, count: u32) -> impl Future<Output = anyhow::Result<u64>> + Send;
    /// One call carrying a [`BULK_MESSAGE`]-byte request.
    fn bulk(&self) -> impl Future<Output = anyhow::Result<()>> + Send;
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Unary,
    Stream,
    Bulk,
}

/// Runs one call; returns the units it counts for (calls, or messages).
async fn once<T: Target>(t: &T, op: Op) -> anyhow::Result<u64> {
    match op {
        Op::Unary => t.unary().await.map(|()| 1),
        Op::Stream => t.stream(STREAM_MESSAGES_PER_CALL).await,
        Op::Bulk => t.bulk().await.map(|()| 1),
    }
}

/// Units (calls, messages) completed over a measured time.
#[derive(Debug, Clone, Copy)]
struct Done {
    units: u64,
    secs: f64,
}

impl Done {
    fn per_s(self) -> f64 {
        self.units as f64 / self.secs
    }
}

/// `conc` tasks issue calls back to back for `dur` (elapsed time runs until
/// the last call in flight returned).
async fn closed_loop<T: Target>(t: &T, op: Op, conc: usize, dur: Duration) -> anyhow::Result<Done> {
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let tasks: Vec<_> = (0..conc)
        .map(|_| {
            let (t, stop) = (t.clone(), stop.clone());
            tokio::spawn(async move {
                let mut units = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    units += once(&t, op).await?;
                }
                anyhow::Ok(units)
            })
        })
        .collect();
    tokio::time::sleep(dur).await;
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    for task in tasks {
        total += task.await.context("load task panicked")??;
    }
    Ok(Done {
        units: total,
        secs: start.elapsed().as_secs_f64(),
    })
}

/// Unary calls one at a time for `dur`, each timed.
async fn timed_unary<T: Target>(t: &T, dur: Duration) -> anyhow::Result<(Vec<Duration>, Done)> {
    let t = t.clone();
    tokio::spawn(async move {
        let mut samples = Vec::with_capacity(200_000);
        let start = Instant::now();
        while start.elapsed() < dur {
            let began = Instant::now();
            t.unary().await?;
            samples.push(began.elapsed());
        }
        let done = Done {
            units: samples.len() as u64,
            secs: start.elapsed().as_secs_f64(),
        };
        anyhow::Ok((samples, done))
    })
    .await
    .context("latency task panicked")?
}

fn percentile_us(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[idx].as_secs_f64() * 1e6
}

/// What a client child reports (the server's RSS is read by the orchestrator).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ClientFigures {
    pub unary_p50_us: f64,
    pub unary_p99_us: f64,
    pub unary_calls_per_s_c1: f64,
    pub unary_calls_per_s_c16: f64,
    pub unary_calls_per_s_c64: f64,
    pub server_stream_msgs_per_s: f64,
    pub bulk_mib_per_s: f64,
    pub peak_rss_mib_client: f64,
}

/// One measured figure (or group of figures from one measurement).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    /// Unary calls one at a time: p50, p99 and calls/s at c=1.
    Latency,
    /// Unary calls/s at c=16.
    C16,
    /// Unary calls/s at c=64.
    C64,
    /// Server-stream messages/s.
    Stream,
    /// Bulk MiB/s.
    Bulk,
}

impl Figure {
    pub const ALL: [Figure; 5] = [
        Figure::Latency,
        Figure::C16,
        Figure::C64,
        Figure::Stream,
        Figure::Bulk,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Figure::Latency => "unary",
            Figure::C16 => "c16",
            Figure::C64 => "c64",
            Figure::Stream => "stream",
            Figure::Bulk => "bulk",
        }
    }

    pub fn parse(word: &str) -> anyhow::Result<Figure> {
        Figure::ALL
            .into_iter()
            .find(|f| f.name() == word)
            .with_context(|| {
                format!("unknown workload {word:?}: expected unary, c16, c64, stream or bulk")
            })
    }

    /// The [`ClientFigures`] fields this measurement fills.
    pub fn keys(self) -> &'static [&'static str] {
        match self {
            Figure::Latency => &["unary_p50_us", "unary_p99_us", "unary_calls_per_s_c1"],
            Figure::C16 => &["unary_calls_per_s_c16"],
            Figure::C64 => &["unary_calls_per_s_c64"],
            Figure::Stream => &["server_stream_msgs_per_s"],
            Figure::Bulk => &["bulk_mib_per_s"],
        }
    }
}

/// Warm-up of the given figures' workloads: connection, allocator, caches,
/// QUIC windows.
pub async fn warm_up<T: Target>(t: &T, figures: &[Figure]) -> anyhow::Result<()> {
    closed_loop(t, Op::Unary, 16, Duration::from_millis(500))
        .await
        .context("warm-up unary")?;
    if figures.contains(&Figure::Stream) {
        t.stream(STREAM_MESSAGES_PER_CALL)
            .await
            .context("warm-up stream")?;
    }
    if figures.contains(&Figure::Bulk) {
        closed_loop(t, Op::Bulk, BULK_CONCURRENCY, Duration::from_millis(300))
            .await
            .context("warm-up bulk")?;
    }
    Ok(())
}

/// Measures one figure for `dur`; fills its fields of `f` and returns the
/// units done (calls, messages, or MiB for bulk).
pub async fn measure<T: Target>(
    label: &str,
    t: &T,
    fig: Figure,
    dur: Duration,
    f: &mut ClientFigures,
) -> anyhow::Result<f64> {
    let done = match fig {
        Figure::Latency => {
            let (mut samples, done) = timed_unary(t, dur).await.context("unary c=1")?;
            let rate = done.per_s();
            samples.sort_unstable();
            f.unary_p50_us = percentile_us(&samples, 0.50);
            f.unary_p99_us = percentile_us(&samples, 0.99);
            f.unary_calls_per_s_c1 = rate;
            eprintln!(
                "[{label}] unary c=1: {rate:.0} calls/s, p50 {:.1} us, p99 {:.1} us ({} calls)",
                f.unary_p50_us,
                f.unary_p99_us,
                samples.len()
            );
            done
        }
        Figure::C16 | Figure::C64 => {
            let conc = if fig == Figure::C16 {
                UNARY_CONCURRENCY[1]
            } else {
                UNARY_CONCURRENCY[2]
            };
            let done = closed_loop(t, Op::Unary, conc, dur)
                .await
                .with_context(|| format!("unary c={conc}"))?;
            let rate = done.per_s();
            eprintln!("[{label}] unary c={conc}: {rate:.0} calls/s");
            if fig == Figure::C16 {
                f.unary_calls_per_s_c16 = rate;
            } else {
                f.unary_calls_per_s_c64 = rate;
            }
            done
        }
        Figure::Stream => {
            let done = closed_loop(t, Op::Stream, 1, dur)
                .await
                .context("server stream")?;
            f.server_stream_msgs_per_s = done.per_s();
            eprintln!(
                "[{label}] server stream: {:.0} msgs/s",
                f.server_stream_msgs_per_s
            );
            done
        }
        Figure::Bulk => {
            let done = closed_loop(t, Op::Bulk, BULK_CONCURRENCY, dur)
                .await
                .context("bulk")?;
            let mib = BULK_MESSAGE as f64 / (1024.0 * 1024.0);
            f.bulk_mib_per_s = done.per_s() * mib;
            eprintln!("[{label}] bulk: {:.1} MiB/s", f.bulk_mib_per_s);
            Done {
                units: (done.units * BULK_MESSAGE as u64) >> 20,
                secs: done.secs,
            }
        }
    };
    Ok(done.units as f64)
}

/// Batch mode: warm-up, then the given figures once each, `secs` seconds each.
pub async fn run_workloads<T: Target>(
    label: &str,
    t: T,
    secs: f64,
    figures: &[Figure],
) -> anyhow::Result<ClientFigures> {
    let dur = Duration::from_secs_f64(secs);
    let mut f = ClientFigures::default();
    warm_up(&t, figures).await?;
    for fig in figures {
        measure(label, &t, *fig, dur, &mut f).await?;
    }
    f.peak_rss_mib_client = peak_rss_mib(std::process::id()).unwrap_or(0.0);
    Ok(f)
}

/// Driven mode (what the orchestrator uses): one command per stdin line,
/// one JSON line per answer on stdout, so that the orchestrator can
/// interleave implementations figure by figure.
///
/// `warmup` → `{}`; `<figure> <secs>` → that figure's fields of
/// [`ClientFigures`] plus `units` (calls, messages or MiB done) and
/// `cpu_s` (this process's CPU time during the measurement); `rss` →
/// `{"peak_rss_mib_client": ..}`; EOF ends.
pub async fn run_driven<T: Target>(label: &str, t: T) -> anyhow::Result<()> {
    use std::io::{BufRead, Write};
    loop {
        let line = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map(|n| (n > 0).then_some(line))
        })
        .await??;
        let Some(line) = line else { return Ok(()) };
        let words: Vec<&str> = line.split_whitespace().collect();
        let answer = match words.as_slice() {
            [] => continue,
            ["warmup"] => {
                warm_up(&t, &Figure::ALL).await?;
                serde_json::json!({})
            }
            ["rss"] => {
                serde_json::json!({ "peak_rss_mib_client": peak_rss_mib(std::process::id())? })
            }
            [fig, secs] => {
                let fig = Figure::parse(fig)?;
                let secs: f64 = secs.parse().context("seconds")?;
                let mut f = ClientFigures::default();
                let cpu = cpu_seconds(std::process::id())?;
                let units = measure(label, &t, fig, Duration::from_secs_f64(secs), &mut f).await?;
                let cpu = cpu_seconds(std::process::id())? - cpu;
                let all = serde_json::to_value(&f)?;
                let mut answer: serde_json::Map<String, serde_json::Value> = fig
                    .keys()
                    .iter()
                    .map(|k| (k.to_string(), all[*k].clone()))
                    .collect();
                answer.insert("units".into(), units.into());
                answer.insert("cpu_s".into(), cpu.into());
                serde_json::Value::Object(answer)
            }
            _ => anyhow::bail!("unknown command {line:?}"),
        };
        let mut out = std::io::stdout().lock();
        writeln!(out, "{answer}")?;
        out.flush()?;
    }
}

/// Peak resident set size of a live process (`VmHWM`), in MiB.
pub fn peak_rss_mib(pid: u32) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .context("no VmHWM line")?;
    let kib: f64 = line
        .split_whitespace()
        .nth(1)
        .context("VmHWM value")?
        .parse()?;
    Ok(kib / 1024.0)
}

/// CPU time (user + system) a live process has used, in seconds.
pub fn cpu_seconds(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("/proc/{pid}/stat"))?;
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')').context("malformed stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11).context("utime")?.parse::<f64>()?
        + fields.get(12).context("stime")?.parse::<f64>()?;
    // USER_HZ is 100 on every Linux ABI this runs on.
    Ok(ticks / 100.0)
}

/// Bytes that zstd cannot shrink (xorshift), so the bulk figure measures
/// moving data, not compressing zeros.
pub fn incompressible(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A multi-thread runtime with one worker per core, as a default
/// `#[tokio::main]` would build: the same for every Rust process here.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
