//! `aster registry create | ls | resolve` against real processes on
//! loopback: a registry host, two Mission Control producers joining it, and
//! the CLI reading it. Every process is killed on drop; every wait bounded.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn aster() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_aster"));
    c.env("ASTER_LOG", "error");
    c
}

/// The mission-control binary, built next to ours by the workspace.
fn mission_control() -> Command {
    let dir = std::path::Path::new(env!("CARGO_BIN_EXE_aster"))
        .parent()
        .expect("bin dir")
        .to_path_buf();
    let bin = dir.join("mission-control");
    if !bin.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "mission-control"])
            .status()
            .expect("cargo build mission-control");
        assert!(status.success(), "building mission-control failed");
    }
    let mut c = Command::new(bin);
    c.env("ASTER_LOG", "error");
    c
}

/// Lines a process prints until `n` lines or the deadline.
fn first_lines(child: &mut Child, n: usize) -> Vec<String> {
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut lines = Vec::new();
    while lines.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) => lines.push(l),
            Err(_) => panic!("only {lines:?} within 30 s"),
        }
    }
    lines
}

fn run(mut cmd: Command) -> Output {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let (tx, rx) = std::sync::mpsc::channel();
    let pid = child.id();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(out) => out.expect("output"),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("command did not finish within 60 s");
        }
    }
}

#[test]
fn create_ls_and_resolve_a_shared_registry() {
    let mut host = aster()
        .args([
            "registry",
            "create",
            "--loopback",
            "--lease-secs",
            "20",
            "--refresh-secs",
            "2",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("registry create");
    let lines = first_lines(&mut host, 3);
    let _host = Proc(host);
    let ticket = |prefix: &str| {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} in {lines:?}"))
            .to_owned()
    };
    let (write, read) = (ticket("write "), ticket("read "));
    assert!(
        write.starts_with("doc") && read.starts_with("doc"),
        "{lines:?}"
    );

    let mut producers = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..2 {
        let mut p = mission_control()
            .args(["--loopback", "--registry", &write])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("mission-control");
        let address = first_lines(&mut p, 1).remove(0);
        assert!(address.starts_with("aster1"), "{address}");
        producers.push(Proc(p));
        ids.push(address);
    }

    // Both producers' leases, as JSON lines, best first (bounded retries:
    // the leases propagate through the host).
    let deadline = Instant::now() + Duration::from_secs(30);
    let leases = loop {
        let out = run({
            let mut c = aster();
            c.args([
                "registry",
                "resolve",
                &read,
                "MissionControl",
                "--version",
                "1",
                "--loopback",
            ]);
            c
        });
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let leases: Vec<serde_json::Value> = text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        if leases.len() == 2 {
            assert!(out.status.success());
            break leases;
        }
        assert!(
            Instant::now() < deadline,
            "resolve gave {text} / {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    for l in &leases {
        assert_eq!(l["service"], "MissionControl");
        assert_eq!(
            l["contract_id"],
            "3029351e231333dd960d7c38f90ab8efcb78951b438e692feeda9d6f0bfb440a"
        );
        assert_eq!(l["health_status"], "ready");
        assert_eq!(l["alpn"], "aster/1");
    }

    // The table view. The wait above covered MissionControl only; each
    // producer's AgentSession lease may still be on its way to the host
    // (bounded retries again).
    let deadline = Instant::now() + Duration::from_secs(30);
    let text = loop {
        let out = run({
            let mut c = aster();
            c.args(["registry", "ls", &read, "--loopback"]);
            c
        });
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{text}");
        if text.matches(": ready").count() >= 4 || Instant::now() >= deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    assert!(text.contains("service MissionControl"), "{text}");
    assert!(text.contains("service AgentSession"), "{text}");
    assert!(text.contains("v1 -> contract 3029351e2313"), "{text}");
    assert_eq!(
        text.matches(": ready").count(),
        4,
        "two producers x two services: {text}"
    );

    // JSON view.
    let out = run({
        let mut c = aster();
        c.args(["registry", "ls", &read, "--loopback", "--json"]);
        c
    });
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("ls --json");
    let endpoints = v["services"]["MissionControl"]["endpoints"]
        .as_array()
        .unwrap_or_else(|| panic!("endpoints in {v}"));
    assert_eq!(endpoints.len(), 2);
    assert!(endpoints.iter().all(|e| e["freshness"] == "Fresh"), "{v}");

    // A service nobody serves: NOT_FOUND (exit 5), with the reason.
    let out = run({
        let mut c = aster();
        c.args([
            "registry",
            "resolve",
            &read,
            "Nobody",
            "--version",
            "1",
            "--loopback",
        ]);
        c
    });
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Nobody"));

    // A server's own registry, by its address.
    let out = run({
        let mut c = aster();
        c.args(["registry", "ls", &ids[0], "--loopback"]);
        c
    });
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("v1 -> contract 59136b4a6d90"),
        "{text}"
    );
    drop(producers);
}
