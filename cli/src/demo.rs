//! `aster demo`: a Mission Control server on loopback, called from the same
//! process over real QUIC: every pattern, a session, the registry (manifest
//! and a typeless XLANG call), and JSON mode.

use std::time::Duration;

use anyhow::Context;
use aster::{Client, NetworkMode, Server};
use futures_util::StreamExt;
use mission_control::{
    Agent, AgentSessionClient, AgentSessionServer, Command, Control, Heartbeat, LogEntry,
    MetricPoint, MissionControlClient, MissionControlServer, StatusRequest, TailRequest,
};

pub async fn run() -> anyhow::Result<()> {
    let server = Server::builder()
        .service(MissionControlServer::new(Control::default()))
        .service(AgentSessionServer::new(Agent::new))
        .network(NetworkMode::loopback())
        // The walkthrough's chapters 1-4: no credentials, roles not checked.
        .dev_mode()
        .bind()
        .await
        .context("starting the server")?;
    println!("server  {}", server.endpoint_id());
    println!("address {}", server.ticket());
    for s in server.services() {
        println!(
            "service {} v{} ({}) contract {}",
            s.name, s.version, s.pattern, s.contract_id
        );
    }

    let client = Client::builder()
        .network(NetworkMode::loopback())
        .connect(&server.ticket())
        .await?;
    let mc = MissionControlClient::new(client.clone());

    let status = mc
        .get_status(StatusRequest {
            agent_id: "edge-7".into(),
        })
        .await?;
    println!(
        "getStatus      -> {} is {} (up {}s)",
        status.agent_id, status.status, status.uptime_secs
    );

    let mut tail = mc
        .tail_logs(TailRequest {
            agent_id: String::new(),
            level: "info".into(),
        })
        .await?;
    // Give the tailer's subscription a moment to be in place before logging.
    tokio::time::sleep(Duration::from_millis(50)).await;
    for (level, message) in [
        ("debug", "noise"),
        ("info", "agent started"),
        ("error", "disk full"),
    ] {
        let entry = LogEntry {
            level: level.into(),
            message: message.into(),
            agent_id: "edge-7".into(),
            ..Default::default()
        };
        mc.submit_log(entry).await?;
    }
    for _ in 0..2 {
        let entry = tokio::time::timeout(Duration::from_secs(5), tail.next())
            .await
            .context("tailLogs stalled")?;
        if let Some(entry) = entry {
            let entry = entry?;
            println!(
                "tailLogs       -> [{}] {}: {}",
                entry.level, entry.agent_id, entry.message
            );
        }
    }
    drop(tail);

    let points = futures_util::stream::iter((0..500).map(|i| MetricPoint {
        name: "cpu.usage".into(),
        value: f64::from(i % 100),
        ..Default::default()
    }));
    let ingested = mc.ingest_metrics(points).await?;
    println!("ingestMetrics  -> accepted {}", ingested.accepted);

    let session = AgentSessionClient::new(
        client
            .session(AgentSessionClient::<Client>::descriptor())
            .await?,
    );
    let hb = Heartbeat {
        agent_id: "edge-7".into(),
        capabilities: vec!["gpu".into()],
        load_avg: 0.4,
    };
    let assignment = session.register(hb.clone()).await?;
    println!(
        "register       -> {} `{}`",
        assignment.task_id, assignment.command
    );
    println!("heartbeat      -> {}", session.heartbeat(hb).await?.task_id);
    let commands =
        futures_util::stream::iter(["uptime", "df -h"].map(|c| Command { command: c.into() }));
    let mut results = session.run_command(commands).await?;
    while let Some(r) = results.next().await {
        println!("runCommand     -> {}", r?.stdout.trim_end());
    }

    // The registry: the server published its contracts; read the manifest and
    // call with no Rust types at all (JSON in, XLANG on the wire, JSON out).
    let manifest = client.manifest("MissionControl").await?;
    let methods: Vec<&str> = manifest.methods.iter().map(|m| m.name.as_str()).collect();
    println!(
        "registry       -> {} v{} contract {}… methods {methods:?}",
        manifest.service,
        manifest.version,
        &manifest.contract_id[..16]
    );
    let dynamic = client
        .call_json(
            "MissionControl",
            "getStatus",
            serde_json::json!({"agent_id": "dynamic-agent"}),
        )
        .await?;
    println!("dynamic call   -> {dynamic}");
    let json = client
        .call_json_with(
            "MissionControl",
            "getStatus",
            aster::proto::call::Pattern::Unary,
            aster::JsonInput::One(serde_json::json!({"agent_id": "json-agent"})),
            aster::CallOptions::new().mode(aster::proto::codec::SerializationMode::Json),
        )
        .await?;
    if let aster::JsonOutput::One(v) = json {
        println!("JSON mode      -> {v}");
    }

    client.close().await;
    server.shutdown().await;
    println!("ok");
    Ok(())
}
