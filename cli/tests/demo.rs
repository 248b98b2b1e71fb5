//! The README's first command: `aster demo` runs a real server and client on
//! loopback and exercises every pattern, a session, the registry and JSON
//! mode. Bounded in time; the output is checked line by line.

use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn the_demo_runs_every_pattern_on_loopback() {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_aster"))
        .arg("demo")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("aster demo starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("aster demo did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for needle in [
        "address aster1",
        "service MissionControl v1 (shared) contract 3029351e231333dd960d7c38f90ab8efcb78951b438e692feeda9d6f0bfb440a",
        "service AgentSession v1 (session) contract 59136b4a6d90cd5d2711df19021262432f1ae62c1d7bec5ef6b57407b5f7c9c9",
        "getStatus      -> edge-7 is running",
        "tailLogs       -> [error] edge-7: disk full",
        "ingestMetrics  -> accepted 500",
        "register       -> train-42",
        "runCommand     -> would run: df -h",
        "registry       -> MissionControl v1 contract 3029351e231333dd",
        "dynamic call   -> {\"agent_id\":\"dynamic-agent\"",
        "JSON mode      -> {\"agent_id\":\"json-agent\"",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?} in:\n{stdout}");
    }
    assert_eq!(stdout.lines().last(), Some("ok"));
    eprintln!("demo took {:?}", started.elapsed());
}
