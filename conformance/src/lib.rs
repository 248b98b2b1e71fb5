//! Checks golden vector files against this implementation.
//!
//! File kinds are recognised by content, so files keep whatever name they
//! have: the reference project's `framing.json` (`encode_vectors`...),
//! `protocol-payloads.json` (`vectors` of protocol messages),
//! `contract-identity.json` (`golden_vectors`), and our own `xlang-types.json`
//! (`types` + `vectors`). Unknown files are reported, not fatal.

mod contract;
mod framing;
mod payloads;
mod xlang_types;

use std::path::Path;

use anyhow::Context;
use serde_json::Value;

/// Outcome of checking vectors.
#[derive(Debug, Default)]
pub struct Report {
    pub lines: Vec<String>,
    pub passed: usize,
    pub failed: usize,
}

impl Report {
    fn record(&mut self, file: &str, section: &str, name: &str, result: Result<(), String>) {
        match result {
            Ok(()) => {
                self.passed += 1;
                self.lines.push(format!("PASS {file} {section}: {name}"));
            }
            Err(why) => {
                self.failed += 1;
                self.lines
                    .push(format!("FAIL {file} {section}: {name}: {why}"));
            }
        }
    }

    fn note(&mut self, line: String) {
        self.lines.push(line);
    }
}

/// Checks every `*.json` file of `dir` (sorted by name).
pub fn check_dir(dir: &Path) -> anyhow::Result<Report> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    let mut report = Report::default();
    for path in paths {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        check_file(&name, &text, &mut report);
    }
    Ok(report)
}

/// Checks one vector file's contents.
pub fn check_file(name: &str, text: &str, report: &mut Report) {
    let doc: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            report.record(name, "file", "parse", Err(format!("not JSON: {e}")));
            return;
        }
    };
    if doc.get("encode_vectors").is_some() || doc.get("decode_vectors").is_some() {
        framing::check(name, &doc, report);
    } else if doc.get("golden_vectors").is_some() {
        contract::check(name, &doc, report);
    } else if doc.get("types").is_some() && doc.get("vectors").is_some() {
        xlang_types::check(name, &doc, report);
    } else if doc.get("vectors").is_some() {
        payloads::check(name, &doc, report);
    } else {
        report.note(format!("SKIP {name}: unknown vector file kind"));
    }
}

/// `Err` naming the first differing byte, or `Ok`.
pub(crate) fn same_bytes(what: &str, expected: &[u8], got: &[u8]) -> Result<(), String> {
    if expected == got {
        return Ok(());
    }
    let at = expected
        .iter()
        .zip(got)
        .position(|(a, b)| a != b)
        .unwrap_or(expected.len().min(got.len()));
    let show = |b: &[u8]| {
        let end = (at + 8).min(b.len());
        hex::encode(&b[at.min(end)..end])
    };
    Err(format!(
        "{what} differs at byte {at} (expected {} bytes, got {}): expected ..{}.., got ..{}..",
        expected.len(),
        got.len(),
        show(expected),
        show(got)
    ))
}

pub(crate) fn hex_field(v: &Value, key: &str) -> Result<Vec<u8>, String> {
    let s = v
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("missing `{key}`"))?;
    hex::decode(s).map_err(|e| format!("`{key}` is not hex: {e}"))
}

pub(crate) fn name_of(v: &Value) -> String {
    v.get("name")
        .and_then(Value::as_str)
        .unwrap_or("<unnamed>")
        .to_string()
}
