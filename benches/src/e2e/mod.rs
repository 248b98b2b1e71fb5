//! End-to-end loopback benchmark: Aster against raw iroh streams (and the
//! Python reference when its virtualenv is present), server and client in
//! separate processes.
//!
//! [`orchestrate::run`] re-executes this binary as a server child and a
//! client child per implementation. The client child runs every workload
//! through [`run_workloads`] against a [`Target`] and prints its figures as
//! one JSON line; the orchestrator adds the server's peak RSS and prints the
//! report. The workloads are the same for every implementation: same message
//! sizes, one QUIC bi-stream per call, same concurrency, same durations.

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
pub const UNARY_CONCURRENCY: [usize; 3] = [1, 16, 64];

/// Seconds per measured figure (`ASTER_BENCH_SECS`, default 3).
pub fn figure_secs() -> f64 {
    std::env::var("ASTER_BENCH_SECS").ok().and_then(|s| s.parse().ok()).filter(|s: &f64| *s > 0.0).unwrap_or(3.0)
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

/// `conc` tasks issue calls back to back for `dur`; returns units completed
/// per second (elapsed time runs until the last call in flight returned).
async fn closed_loop<T: Target>(t: &T, op: Op, conc: usize, dur: Duration) -> anyhow::Result<f64> {
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
    Ok(total as f64 / start.elapsed().as_secs_f64())
}

/// Unary calls one at a time for `dur`, each timed; returns the durations
/// and the calls/s.
async fn timed_unary<T: Target>(t: &T, dur: Duration) -> anyhow::Result<(Vec<Duration>, f64)> {
    let t = t.clone();
    tokio::spawn(async move {
        let mut samples = Vec::with_capacity(200_000);
        let start = Instant::now();
        while start.elapsed() < dur {
            let began = Instant::now();
            t.unary().await?;
            samples.push(began.elapsed());
        }
        let rate = samples.len() as f64 / start.elapsed().as_secs_f64();
        anyhow::Ok((samples, rate))
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

/// Which workloads a client child runs (all by default; a subset is handy
/// under a profiler).
#[derive(Debug, Clone, Copy)]
pub struct Selection {
    pub latency: bool,
    pub concurrent: bool,
    pub stream: bool,
    pub bulk: bool,
}

impl Selection {
    pub fn all() -> Selection {
        Selection { latency: true, concurrent: true, stream: true, bulk: true }
    }

    /// `unary` (c=1 latency), `concurrent` (c=16, c=64), `stream`, `bulk`.
    pub fn parse(words: &[String]) -> anyhow::Result<Selection> {
        if words.is_empty() {
            return Ok(Selection::all());
        }
        let mut s = Selection { latency: false, concurrent: false, stream: false, bulk: false };
        for w in words {
            match w.as_str() {
                "unary" => s.latency = true,
                "concurrent" => s.concurrent = true,
                "stream" => s.stream = true,
                "bulk" => s.bulk = true,
                other => anyhow::bail!("unknown workload {other:?}: expected unary, concurrent, stream or bulk"),
            }
        }
        Ok(s)
    }
}

/// Warm-up, then every selected figure, `secs` seconds each.
pub async fn run_workloads<T: Target>(label: &str, t: T, secs: f64, sel: Selection) -> anyhow::Result<ClientFigures> {
    let dur = Duration::from_secs_f64(secs);
    let mut f = ClientFigures::default();
    // Warm-up: connection, allocator, caches, QUIC windows.
    closed_loop(&t, Op::Unary, 16, Duration::from_millis(500)).await.context("warm-up unary")?;
    if sel.stream {
        t.stream(STREAM_MESSAGES_PER_CALL).await.context("warm-up stream")?;
    }
    if sel.bulk {
        closed_loop(&t, Op::Bulk, BULK_CONCURRENCY, Duration::from_millis(300)).await.context("warm-up bulk")?;
    }
    if sel.latency {
        let (mut samples, rate) = timed_unary(&t, dur).await.context("unary c=1")?;
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
    }
    if sel.concurrent {
        for conc in [UNARY_CONCURRENCY[1], UNARY_CONCURRENCY[2]] {
            let rate = closed_loop(&t, Op::Unary, conc, dur).await.with_context(|| format!("unary c={conc}"))?;
            eprintln!("[{label}] unary c={conc}: {rate:.0} calls/s");
            if conc == 16 {
                f.unary_calls_per_s_c16 = rate;
            } else {
                f.unary_calls_per_s_c64 = rate;
            }
        }
    }
    if sel.stream {
        f.server_stream_msgs_per_s = closed_loop(&t, Op::Stream, 1, dur).await.context("server stream")?;
        eprintln!("[{label}] server stream: {:.0} msgs/s", f.server_stream_msgs_per_s);
    }
    if sel.bulk {
        let calls = closed_loop(&t, Op::Bulk, BULK_CONCURRENCY, dur).await.context("bulk")?;
        f.bulk_mib_per_s = calls * BULK_MESSAGE as f64 / (1024.0 * 1024.0);
        eprintln!("[{label}] bulk: {:.1} MiB/s", f.bulk_mib_per_s);
    }
    f.peak_rss_mib_client = peak_rss_mib(std::process::id()).unwrap_or(0.0);
    Ok(f)
}

/// Peak resident set size of a live process (`VmHWM`), in MiB.
pub fn peak_rss_mib(pid: u32) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).with_context(|| format!("/proc/{pid}/status"))?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).context("no VmHWM line")?;
    let kib: f64 = line.split_whitespace().nth(1).context("VmHWM value")?.parse()?;
    Ok(kib / 1024.0)
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
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}
