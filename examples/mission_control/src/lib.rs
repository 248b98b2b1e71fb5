//! Mission Control: the reference walkthrough's two services, in Rust, with
//! the same wire types and tags, so the reference's Python agent and
//! operator work against it unchanged.
//!
//! - `MissionControl` (shared): `getStatus`, `submitLog`, `tailLogs` (server
//!   stream), `ingestMetrics` (client stream).
//! - `AgentSession` (one instance per session): `register`, `heartbeat`,
//!   `runCommand` (bidi). Commands are *not* executed: this example only
//!   reports what it would run.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use aster::{CallContext, RequestStream, ResponseStream, SessionContext, Status, WireType};
use futures_util::StreamExt;
use tokio::sync::broadcast;

// -- Chapter 1: status --------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq, WireType)]
#[wire(tag = "mission/StatusRequest")]
pub struct StatusRequest {
    pub agent_id: String,
}

#[derive(Debug, Clone, PartialEq, WireType)]
#[wire(tag = "mission/StatusResponse")]
pub struct StatusResponse {
    pub agent_id: String,
    pub status: String,
    pub uptime_secs: i64,
}

impl Default for StatusResponse {
    fn default() -> Self {
        StatusResponse {
            agent_id: String::new(),
            status: "idle".into(),
            uptime_secs: 0,
        }
    }
}

// -- Chapter 2: logs ----------------------------------------------------------

#[derive(Debug, Clone, PartialEq, WireType)]
#[wire(tag = "mission/LogEntry")]
pub struct LogEntry {
    pub timestamp: f64,
    pub level: String,
    pub message: String,
    pub agent_id: String,
}

impl Default for LogEntry {
    fn default() -> Self {
        LogEntry {
            timestamp: 0.0,
            level: "info".into(),
            message: String::new(),
            agent_id: String::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, WireType)]
#[wire(tag = "mission/SubmitLogResult")]
pub struct SubmitLogResult {
    pub accepted: bool,
}

impl Default for SubmitLogResult {
    fn default() -> Self {
        SubmitLogResult { accepted: true }
    }
}

#[derive(Debug, Clone, PartialEq, WireType)]
#[wire(tag = "mission/TailRequest")]
pub struct TailRequest {
    pub agent_id: String,
    pub level: String,
}

impl Default for TailRequest {
    fn default() -> Self {
        TailRequest {
            agent_id: String::new(),
            level: "info".into(),
        }
    }
}

// -- Chapter 3: metrics -------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq, WireType)]
#[wire(tag = "mission/MetricPoint")]
pub struct MetricPoint {
    pub name: String,
    pub value: f64,
    pub timestamp: f64,
    pub tags: BTreeMap<String, String>,
}

/// `pyfory.int32` fields in the reference, hence `i32`.
#[derive(Debug, Clone, Default, PartialEq, WireType)]
#[wire(tag = "mission/IngestResult")]
pub struct IngestResult {
    pub accepted: i32,
    pub dropped: i32,
}

// -- Chapter 4: sessions and commands -----------------------------------------

#[derive(Debug, Clone, Default, PartialEq, WireType)]
#[wire(tag = "mission/Heartbeat")]
pub struct Heartbeat {
    pub agent_id: String,
    pub capabilities: Vec<String>,
    pub load_avg: f64,
}

#[derive(Debug, Clone, Default, PartialEq, WireType)]
#[wire(tag = "mission/Assignment")]
pub struct Assignment {
    pub task_id: String,
    pub command: String,
}

#[derive(Debug, Clone, Default, PartialEq, WireType)]
#[wire(tag = "mission/Command")]
pub struct Command {
    pub command: String,
}

#[derive(Debug, Clone, PartialEq, WireType)]
#[wire(tag = "mission/CommandResult")]
pub struct CommandResult {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i32,
}

impl Default for CommandResult {
    fn default() -> Self {
        CommandResult {
            stdout: String::new(),
            stderr: String::new(),
            exit_code: -1,
        }
    }
}

// Roles (Chapter 5). Requirements never change a contract id, so the same
// services serve both modes: the server enforces them when it runs with a
// root key (`--auth`), and not in dev mode.

/// `ops.status`: may read agent status.
pub const ROLE_STATUS: &str = "ops.status";
/// `ops.logs`: may tail logs.
pub const ROLE_LOGS: &str = "ops.logs";
/// `ops.admin`: may do anything, including run commands.
pub const ROLE_ADMIN: &str = "ops.admin";
/// `ops.ingest`: may push metrics and register agents.
pub const ROLE_INGEST: &str = "ops.ingest";

/// Shared service: one instance, every client sees the same state.
#[aster::service(name = "MissionControl", version = 1, rename_all = "camelCase")]
pub trait MissionControl {
    /// Status of an agent.
    #[rpc(requires = "ops.status")]
    async fn get_status(&self, req: StatusRequest) -> Result<StatusResponse, Status>;
    /// Agents push log entries.
    #[rpc]
    async fn submit_log(&self, entry: LogEntry) -> Result<SubmitLogResult, Status>;
    /// Log entries as they arrive, filtered by agent and minimum level.
    #[server_stream(requires = any_of("ops.logs", "ops.admin"))]
    async fn tail_logs(&self, req: TailRequest) -> Result<ResponseStream<LogEntry>, Status>;
    /// A stream of metric points from an agent.
    #[client_stream(requires = "ops.ingest")]
    async fn ingest_metrics(
        &self,
        points: RequestStream<MetricPoint>,
    ) -> Result<IngestResult, Status>;
}

/// Session-scoped service: one instance per connected agent.
#[aster::service(
    name = "AgentSession",
    version = 1,
    scope = "session",
    rename_all = "camelCase"
)]
pub trait AgentSession {
    /// An agent announces itself and gets an assignment.
    #[rpc(requires = "ops.ingest")]
    async fn register(&self, hb: Heartbeat) -> Result<Assignment, Status>;
    /// Periodic check-in.
    #[rpc]
    async fn heartbeat(&self, hb: Heartbeat) -> Result<Assignment, Status>;
    /// Commands for this agent; each is answered with a result.
    #[bidi_stream(requires = "ops.admin")]
    async fn run_command(
        &self,
        ctx: CallContext,
        commands: RequestStream<Command>,
    ) -> Result<ResponseStream<CommandResult>, Status>;
}

/// Reads the root public key for `--auth` the way the reference does:
/// `ASTER_ROOT_PUBKEY_FILE` (JSON `{"public_key": hex}` or bare hex), else
/// `ASTER_ROOT_PUBKEY` (hex).
pub fn root_pubkey_from_env() -> Result<aster::proto::trust::RootPublicKey, String> {
    use aster::proto::trust::RootPublicKey;
    if let Ok(path) = std::env::var("ASTER_ROOT_PUBKEY_FILE") {
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        return RootPublicKey::from_pub_file(&text).map_err(|e| format!("{path}: {e}"));
    }
    if let Ok(hex) = std::env::var("ASTER_ROOT_PUBKEY") {
        return RootPublicKey::from_hex(hex.trim()).map_err(|e| format!("ASTER_ROOT_PUBKEY: {e}"));
    }
    Err("--auth needs ASTER_ROOT_PUBKEY_FILE or ASTER_ROOT_PUBKEY".into())
}

fn level_rank(level: &str) -> u8 {
    match level.to_ascii_lowercase().as_str() {
        "debug" => 0,
        "info" => 1,
        "warn" => 2,
        "error" => 3,
        _ => 0,
    }
}

/// The fleet-wide state.
pub struct Control {
    started: Instant,
    logs: broadcast::Sender<LogEntry>,
    metrics: Mutex<Vec<MetricPoint>>,
}

impl Default for Control {
    fn default() -> Self {
        Control {
            started: Instant::now(),
            logs: broadcast::channel(1024).0,
            metrics: Mutex::new(Vec::new()),
        }
    }
}

impl Control {
    /// Metric points received so far.
    pub fn metrics_received(&self) -> usize {
        self.metrics.lock().map(|m| m.len()).unwrap_or(0)
    }
}

impl MissionControl for Control {
    async fn get_status(&self, req: StatusRequest) -> Result<StatusResponse, Status> {
        Ok(StatusResponse {
            agent_id: req.agent_id,
            status: "running".into(),
            uptime_secs: self.started.elapsed().as_secs() as i64,
        })
    }

    async fn submit_log(&self, entry: LogEntry) -> Result<SubmitLogResult, Status> {
        // No tailer listening is fine: the entry is simply not delivered.
        let _ = self.logs.send(entry);
        Ok(SubmitLogResult { accepted: true })
    }

    async fn tail_logs(&self, req: TailRequest) -> Result<ResponseStream<LogEntry>, Status> {
        let min_rank = level_rank(&req.level);
        let rx = self.logs.subscribe();
        let stream = futures_util::stream::unfold(rx, move |mut rx| {
            let agent = req.agent_id.clone();
            async move {
                loop {
                    match rx.recv().await {
                        Ok(entry) => {
                            if (!agent.is_empty() && entry.agent_id != agent)
                                || level_rank(&entry.level) < min_rank
                            {
                                continue;
                            }
                            return Some((Ok(entry), rx));
                        }
                        // A tailer that fell behind skips what it missed.
                        Err(broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            }
        });
        Ok(Box::pin(stream))
    }

    async fn ingest_metrics(
        &self,
        mut points: RequestStream<MetricPoint>,
    ) -> Result<IngestResult, Status> {
        let mut accepted = 0;
        while let Some(point) = points.next().await {
            let point = point?;
            if let Ok(mut m) = self.metrics.lock() {
                m.push(point);
            }
            accepted += 1;
        }
        Ok(IngestResult {
            accepted,
            dropped: 0,
        })
    }
}

/// One agent's session.
pub struct Agent {
    peer: Option<Arc<str>>,
    agent_id: Mutex<String>,
    commands_run: Arc<AtomicI32>,
}

impl Agent {
    pub fn new(session: &SessionContext) -> Agent {
        Agent {
            peer: session.peer.clone(),
            agent_id: Mutex::new(String::new()),
            commands_run: Arc::new(AtomicI32::new(0)),
        }
    }
}

impl AgentSession for Agent {
    async fn register(&self, hb: Heartbeat) -> Result<Assignment, Status> {
        tracing::info!(agent = %hb.agent_id, peer = ?self.peer, "agent registered");
        if let Ok(mut id) = self.agent_id.lock() {
            *id = hb.agent_id.clone();
        }
        if hb.capabilities.iter().any(|c| c == "gpu") {
            Ok(Assignment {
                task_id: "train-42".into(),
                command: "python train.py".into(),
            })
        } else {
            Ok(Assignment {
                task_id: "idle".into(),
                command: "sleep 60".into(),
            })
        }
    }

    async fn heartbeat(&self, _hb: Heartbeat) -> Result<Assignment, Status> {
        Ok(Assignment {
            task_id: "continue".into(),
            command: String::new(),
        })
    }

    async fn run_command(
        &self,
        _ctx: CallContext,
        commands: RequestStream<Command>,
    ) -> Result<ResponseStream<CommandResult>, Status> {
        let count = self.commands_run.clone();
        Ok(Box::pin(commands.map(move |c| {
            let c = c?;
            count.fetch_add(1, Ordering::SeqCst);
            // Received over the network: reported, never executed.
            Ok(CommandResult {
                stdout: format!("would run: {}\n", c.command),
                stderr: String::new(),
                exit_code: 0,
            })
        })))
    }
}
