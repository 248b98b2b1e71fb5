//! `cargo run --release -p aster-bench`: the end-to-end loopback benchmark.
//!
//! With no arguments it measures Aster against raw iroh streams (and the
//! Python reference when its virtualenv exists), each with its server and
//! its client in separate child processes (this binary, re-executed), and
//! prints a JSON report as the last line of stdout. See `benches/README.md`.
//!
//! Roles (the orchestrator uses the first four; they are also handy alone,
//! e.g. under a profiler):
//!
//! ```text
//! aster-bench                                   the whole run, JSON report last
//! aster-bench serve-aster | serve-raw           print an address line, serve until killed
//! aster-bench client-aster ADDR [FIGURE..]      warm up, measure figures (unary c16 c64 stream bulk;
//! aster-bench client-raw ADDR [FIGURE..]          all by default), print them as one JSON line
//! aster-bench client-{aster,raw} ADDR --driven  take commands on stdin (the orchestrator's mode)
//! aster-bench proto                             protocol-core micro benchmarks (in memory)
//! ```
//!
//! `ASTER_BENCH_SECS` sets the seconds per figure (default 3).

mod e2e;
mod proto_core;

use anyhow::Context;

use e2e::{
    ClientFigures, Figure, Target, aster_side, figure_secs, orchestrate, raw_side, run_driven,
    run_workloads, runtime,
};

const USAGE: &str = "usage: aster-bench [proto | serve-aster | serve-raw | client-aster ADDR [FIGURE..|--driven] | client-raw ADDR [FIGURE..|--driven]]";

fn main() {
    if let Err(e) = run() {
        eprintln!("aster-bench: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => orchestrate::run(),
        Some("proto") => {
            let report = proto_core::run();
            println!("{}", serde_json::to_string(&report)?);
            Ok(())
        }
        Some("serve-aster") => runtime()?.block_on(aster_side::serve()),
        Some("serve-raw") => runtime()?.block_on(raw_side::serve()),
        Some(role @ ("client-aster" | "client-raw")) => {
            let address = args.get(1).context(USAGE)?.clone();
            let rest = &args[2..];
            let driven = rest.iter().any(|a| a == "--driven");
            let figures = if rest.is_empty() {
                Figure::ALL.to_vec()
            } else {
                rest.iter()
                    .filter(|a| *a != "--driven")
                    .map(|a| Figure::parse(a))
                    .collect::<anyhow::Result<_>>()?
            };
            let secs = figure_secs();
            let rt = runtime()?;
            let printed = rt.block_on(async move {
                if role == "client-aster" {
                    let target = aster_side::AsterTarget::connect(&address).await?;
                    client("aster", target, driven, secs, &figures).await
                } else {
                    let target = raw_side::RawTarget::connect(&address).await?;
                    client("raw_iroh", target, driven, secs, &figures).await
                }
            })?;
            if let Some(figures) = printed {
                println!("{}", serde_json::to_string(&figures)?);
            }
            // Exit without tearing down the endpoint: the server is killed
            // next and the figures are already out.
            std::process::exit(0);
        }
        Some(other) => anyhow::bail!("unknown role {other:?}\n{USAGE}"),
    }
}

/// A client child: driven by the orchestrator, or a batch of figures.
async fn client<T: Target>(
    label: &str,
    target: T,
    driven: bool,
    secs: f64,
    figures: &[Figure],
) -> anyhow::Result<Option<ClientFigures>> {
    if driven {
        run_driven(label, target).await?;
        Ok(None)
    } else {
        Ok(Some(run_workloads(label, target, secs, figures).await?))
    }
}
