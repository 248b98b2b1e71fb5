//! Three producer processes and one consumer on loopback, through a shared
//! registry: calls spread over the three; one producer is killed mid-run
//! (SIGKILL: no withdraw) and idempotent calls keep succeeding while its
//! lease lapses and resolve drops it; another withdraws gracefully and no
//! call in flight fails.
//!
//! The test binary is also the producer: started with `PRODUCER_TICKET` in
//! its environment it serves until its stdin closes (then drains) or it is
//! killed. Hence `harness = false`; every wait is bounded.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use aster::proto::registry::Selector;
use aster::registry::{Balancer, RegistryHost};
use aster::{NetworkMode, Server};
use common::{WhoClient, WhoImpl, WhoRequest, WhoServer};

const PRODUCER_TICKET: &str = "ASTER_TEST_PRODUCER_TICKET";
const PRODUCER_NAME: &str = "ASTER_TEST_PRODUCER_NAME";
/// A producer process never outlives this, whatever happens to the test.
const PRODUCER_LIFETIME: Duration = Duration::from_secs(120);

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    if let Ok(ticket) = std::env::var(PRODUCER_TICKET) {
        let name = std::env::var(PRODUCER_NAME).unwrap_or_else(|_| "producer".into());
        runtime.block_on(producer(&name, &ticket));
        return;
    }
    let started = Instant::now();
    runtime
        .block_on(async {
            tokio::time::timeout(
                Duration::from_secs(90),
                three_producers_one_killed_one_withdrawn(),
            )
            .await
        })
        .expect("the scenario finished within 90 s");
    println!(
        "test three_producers_one_killed_one_withdrawn ... ok ({:.1}s)",
        started.elapsed().as_secs_f64()
    );
}

async fn producer(name: &str, ticket: &str) {
    let server = Server::builder()
        .service(WhoServer::new(WhoImpl::new(name)))
        .loopback()
        .dev_mode()
        .shared_registry(ticket)
        .withdraw_grace(Duration::from_millis(500))
        .bind()
        .await
        .expect("producer starts");
    println!("READY {}", server.endpoint_id());
    // Serve until stdin closes (graceful drain) or the lifetime is over.
    let stdin_closed = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        while std::io::stdin()
            .read_line(&mut line)
            .map(|n| n > 0)
            .unwrap_or(false)
        {
            line.clear();
        }
    });
    let _ = tokio::time::timeout(PRODUCER_LIFETIME, stdin_closed).await;
    server.drain(Duration::from_secs(5)).await;
    println!("DRAINED");
}

/// A producer process, killed on drop.
struct Producer {
    child: Child,
    id: String,
    stdout: BufReader<std::process::ChildStdout>,
}

impl Producer {
    fn spawn(name: &str, ticket: &str) -> Producer {
        let mut child = Command::new(std::env::current_exe().expect("test binary"))
            .env(PRODUCER_TICKET, ticket)
            .env(PRODUCER_NAME, name)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn producer");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("producer output");
        let id = line
            .trim()
            .strip_prefix("READY ")
            .unwrap_or_else(|| panic!("producer said {line:?}"))
            .to_owned();
        Producer { child, id, stdout }
    }

    /// Closes stdin: the producer withdraws its leases and drains.
    fn drain(&mut self) -> std::thread::JoinHandle<String> {
        drop(self.child.stdin.take());
        let mut out = std::mem::replace(&mut self.stdout, BufReader::new(empty_stdout()));
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = out.read_line(&mut line);
            line
        })
    }
}

/// A placeholder reader for a producer whose stdout was handed off.
fn empty_stdout() -> std::process::ChildStdout {
    let mut child = Command::new("true")
        .stdout(Stdio::piped())
        .spawn()
        .expect("true");
    let out = child.stdout.take().expect("stdout");
    let _ = child.wait();
    out
}

impl Drop for Producer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn resolved(balancer: &Balancer) -> Vec<String> {
    balancer
        .resolve_all("Who", Selector::version(3))
        .await
        .map(|l| l.into_iter().map(|l| l.endpoint_id).collect())
        .unwrap_or_default()
}

async fn wait_for(balancer: &Balancer, what: &str, ok: impl Fn(&[String]) -> bool) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ids = resolved(balancer).await;
        if ok(&ids) {
            return ids;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting until {what}; resolved {ids:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn three_producers_one_killed_one_withdrawn() {
    let t0 = Instant::now();
    let step = |what: &str| eprintln!("  [{:5.1}s] {what}", t0.elapsed().as_secs_f64());
    let host = RegistryHost::bind(NetworkMode::loopback(), None, None)
        .await
        .expect("registry host");
    host.set_lease_timing(Duration::from_secs(3), Duration::from_secs(1))
        .await
        .expect("lease timing");
    let write = host.write_ticket().await.expect("write ticket");
    let read = host.read_ticket().await.expect("read ticket");

    let mut producers: Vec<Producer> = ["p0", "p1", "p2"]
        .iter()
        .map(|n| Producer::spawn(n, &write))
        .collect();
    step("producers started");
    let balancer = Balancer::builder()
        .loopback()
        .connect_timeout(Duration::from_secs(2))
        .avoid_for(Duration::from_secs(30))
        .join(&read)
        .await
        .expect("consumer joins");
    wait_for(&balancer, "all three producers resolve", |ids| {
        ids.len() == 3
    })
    .await;
    step("three producers resolved");

    // Spread.
    let who = WhoClient::new(balancer.clone());
    let mut by_server: BTreeMap<String, usize> = BTreeMap::new();
    for i in 0..60 {
        let r = who
            .whoami(WhoRequest {
                caller: format!("spread-{i}"),
            })
            .await
            .expect("call");
        *by_server.entry(r.server).or_default() += 1;
    }
    assert_eq!(by_server.len(), 3, "calls reach all three: {by_server:?}");
    assert!(
        by_server.values().all(|n| *n >= 10),
        "calls spread: {by_server:?}"
    );
    step(&format!("60 calls spread {by_server:?}"));

    // Kill p1 while a steady stream of idempotent calls runs.
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicUsize::new(0));
    let load = {
        let (who, stop, ok) = (who.clone(), stop.clone(), ok.clone());
        tokio::spawn(async move {
            let mut failures = Vec::new();
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                match who
                    .whoami(WhoRequest {
                        caller: format!("load-{i}"),
                    })
                    .await
                {
                    Ok(_) => {
                        ok.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(e) => failures.push(e.to_string()),
                }
                i += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            failures
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let killed = producers.remove(1);
    let killed_id = killed.id.clone();
    drop(killed); // SIGKILL
    let after_kill = wait_for(&balancer, "the killed producer's lease lapses", |ids| {
        !ids.contains(&killed_id)
    })
    .await;
    assert_eq!(after_kill.len(), 2, "{after_kill:?}");
    step("killed producer no longer resolved");

    // Withdraw p2 (stdin closed: draining lease, grace, tombstone, drain).
    let withdrawn_id = producers[1].id.clone();
    let drained = producers[1].drain();
    wait_for(&balancer, "the withdrawn producer is gone", |ids| {
        !ids.contains(&withdrawn_id)
    })
    .await;
    let said = tokio::task::spawn_blocking(move || drained.join().expect("reader"))
        .await
        .expect("join");
    assert_eq!(said.trim(), "DRAINED");
    step("withdrawn producer gone and drained");

    // The load goes on through the survivor. A call that was in flight to
    // the killed producer waits for its connection to time out (seconds)
    // before it is retried elsewhere, so how many calls fit in the steps
    // above depends on timing; what must hold is that calls succeed again
    // afterwards (bounded wait) and that none failed.
    let before = ok.load(Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(30);
    while ok.load(Ordering::SeqCst) < before + 10 {
        assert!(
            Instant::now() < deadline,
            "the load stalled: {} calls in 30 s after the withdraw",
            ok.load(Ordering::SeqCst) - before
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.store(true, Ordering::SeqCst);
    let failures = load.await.expect("load task");
    assert!(
        failures.is_empty(),
        "idempotent calls failed during kill/withdraw: {failures:?}"
    );
    let calls = ok.load(Ordering::SeqCst);
    step(&format!(
        "load: {calls} calls, {} after the withdraw",
        calls - before
    ));

    // Everything now goes to the survivor.
    let r = who
        .whoami(WhoRequest {
            caller: "last".into(),
        })
        .await
        .expect("call");
    assert_eq!(r.server, "p0");

    step("load checked");
    balancer.close().await;
    step("balancer closed");
    drop(producers);
    host.shutdown().await;
    step("done");
}
