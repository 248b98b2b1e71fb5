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
//! aster-bench client-aster ADDR [WORKLOAD..]    run workloads (unary, concurrent, stream, bulk)
//! aster-bench client-raw ADDR [WORKLOAD..]      ... and print the figures as one JSON line
//! aster-bench proto                             protocol-core micro benchmarks (in memory)
//! ```
//!
//! `ASTER_BENCH_SECS` sets the seconds per figure (default 3).

mod e2e;
mod proto_core;

use anyhow::Context;

use e2e::{Selection, aster_side, figure_secs, orchestrate, raw_side, run_workloads, runtime};

const USAGE: &str = "usage: aster-bench [proto | serve-aster | serve-raw | client-aster ADDR [WORKLOAD..] | client-raw ADDR [WORKLOAD..]]";

fn main() -> anyhow::Result<()> {
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
            let selection = Selection::parse(&args[2..])?;
            let secs = figure_secs();
            let figures = runtime()?.block_on(async move {
                if role == "client-aster" {
                    let target = aster_side::AsterTarget::connect(&address).await?;
                    run_workloads("aster", target, secs, selection).await
                } else {
                    let target = raw_side::RawTarget::connect(&address).await?;
                    run_workloads("raw_iroh", target, secs, selection).await
                }
            })?;
            println!("{}", serde_json::to_string(&figures)?);
            // Exit without tearing down the endpoint: the server is killed
            // next and the figures are already out.
            std::process::exit(0);
        }
        Some(other) => anyhow::bail!("unknown role {other:?}\n{USAGE}"),
    }
}
