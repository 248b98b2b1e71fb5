//! `aster-conformance check DIR`: runs every `*.json` vector file in DIR
//! against this implementation, one line per vector, then `N passed, M failed`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> anyhow::Result<bool> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = match args.as_slice() {
        [cmd, dir] if cmd == "check" => PathBuf::from(dir),
        [cmd] if cmd == "check" => PathBuf::from("conformance/vectors"),
        _ => bail!("usage: aster-conformance check DIR"),
    };
    let report = aster_conformance::check_dir(&dir)
        .with_context(|| format!("checking {}", dir.display()))?;
    for line in &report.lines {
        println!("{line}");
    }
    println!("{} passed, {} failed", report.passed, report.failed);
    Ok(report.failed == 0)
}
