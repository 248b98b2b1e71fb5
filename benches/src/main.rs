//! `cargo run --release -p aster-bench`: protocol-core micro benchmarks.
//!
//! Measures the per-call work the sans-IO core adds on top of the transport:
//! frame encode/decode, header and trailer encode/decode, a whole unary call
//! through `ClientCall` and `ServerStream` in memory, and XLANG payload
//! encode/decode for a Mission Control type. Prints one line per figure and a
//! JSON report as the last line.

mod proto_core;

fn main() -> anyhow::Result<()> {
    let report = proto_core::run();
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}
