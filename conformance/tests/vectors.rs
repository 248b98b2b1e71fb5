//! The committed golden vectors (generated from aster-rpc 0.1.2) all pass.

use std::path::Path;

#[test]
fn committed_vectors_pass() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors");
    let report = aster_conformance::check_dir(&dir).expect("vector directory");
    let failures: Vec<&String> = report
        .lines
        .iter()
        .filter(|l| l.starts_with("FAIL"))
        .collect();
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    // Every file kind was recognised and exercised.
    for file in [
        "framing.json",
        "protocol-payloads.json",
        "xlang-types.json",
        "contract-identity.json",
    ] {
        let n = report
            .lines
            .iter()
            .filter(|l| l.starts_with("PASS") && l.contains(file))
            .count();
        assert!(n > 10, "{file}: only {n} vectors passed");
    }
}

#[test]
fn a_wrong_vector_fails_with_the_offset() {
    let mut report = aster_conformance::Report::default();
    let file = r#"{"encode_vectors":[{"name":"bad","payload_hex":"48","flags":0,"expected_wire_hex":"0200000000ff"}]}"#;
    aster_conformance::check_file("x.json", file, &mut report);
    assert_eq!((report.passed, report.failed), (0, 1));
    assert!(
        report.lines[0].contains("differs at byte 5"),
        "{}",
        report.lines[0]
    );
}

#[test]
fn unknown_files_are_reported_not_fatal() {
    let mut report = aster_conformance::Report::default();
    aster_conformance::check_file("other.json", r#"{"hello": 1}"#, &mut report);
    assert_eq!((report.passed, report.failed), (0, 0));
    assert!(report.lines[0].starts_with("SKIP"));
}
