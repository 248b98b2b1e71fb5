//! `#[derive(WireType)]` and `#[aster::service]` end to end, in memory: the
//! generated descriptor, contract ids equal to the reference's, the server
//! dispatcher and the typed client joined by an in-process `Caller`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use aster::proto::call::{Pattern, Scope};
use aster::proto::codec::SerializationMode;
use aster::proto::service::{MethodDescriptor, Requirement, ServiceDescriptor};
use aster::{
    CallContext, CallFuture, CallOptions, Caller, Dispatch, Inbound, Incoming, Outbound, Outgoing,
    RequestStream, ResponseStream, Service, SessionContext, Status, WireType,
};
use bytes::Bytes;
use futures_util::StreamExt;

#[derive(Debug, Clone, Default, PartialEq, WireType)]
#[wire(tag = "mission/StatusRequest")]
pub struct StatusRequest {
    pub agent_id: String,
}

#[derive(Debug, Clone, Default, PartialEq, WireType)]
#[wire(tag = "mission/StatusResponse")]
pub struct StatusResponse {
    pub agent_id: String,
    pub status: String,
    pub uptime_secs: i64,
}

#[derive(Debug, Clone, Default, PartialEq, WireType)]
#[wire(tag = "mission/LogEntry")]
pub struct LogEntry {
    pub timestamp: f64,
    pub level: String,
    pub message: String,
    pub agent_id: String,
}

#[derive(Debug, Clone, Default, PartialEq, WireType)]
#[wire(tag = "mission/SubmitLogResult")]
pub struct SubmitLogResult {
    pub accepted: bool,
}

#[derive(Debug, Clone, Default, PartialEq, WireType)]
#[wire(tag = "mission/TailRequest")]
pub struct TailRequest {
    pub agent_id: String,
    pub level: String,
}

#[derive(Debug, Clone, Default, PartialEq, WireType)]
#[wire(tag = "mission/MetricPoint")]
pub struct MetricPoint {
    pub name: String,
    pub value: f64,
    pub timestamp: f64,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, WireType)]
#[wire(tag = "mission/IngestResult")]
pub struct IngestResult {
    pub accepted: i32,
    pub dropped: i32,
}

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

#[derive(Debug, Clone, Default, PartialEq, WireType)]
#[wire(tag = "mission/CommandResult")]
pub struct CommandResult {
    pub stdout: String,
    pub stderr: String,
    pub exit_code: i32,
}

/// Fleet-wide status, logs and metrics.
#[aster::service(name = "MissionControl", version = 1, rename_all = "camelCase")]
pub trait MissionControl {
    /// Current status of an agent.
    #[rpc]
    async fn get_status(
        &self,
        ctx: CallContext,
        req: StatusRequest,
    ) -> Result<StatusResponse, Status>;
    #[rpc(requires = "ops.logs")]
    async fn submit_log(&self, entry: LogEntry) -> Result<SubmitLogResult, Status>;
    #[server_stream]
    async fn tail_logs(
        &self,
        ctx: CallContext,
        req: TailRequest,
    ) -> Result<ResponseStream<LogEntry>, Status>;
    #[client_stream]
    async fn ingest_metrics(
        &self,
        ctx: CallContext,
        points: RequestStream<MetricPoint>,
    ) -> Result<IngestResult, Status>;
}

#[aster::service(
    name = "AgentSession",
    version = 1,
    scope = "session",
    rename_all = "camelCase"
)]
pub trait AgentSession {
    #[rpc]
    async fn register(&self, hb: Heartbeat) -> Result<Assignment, Status>;
    #[rpc]
    async fn heartbeat(&self, hb: Heartbeat) -> Result<Assignment, Status>;
    #[bidi_stream(requires = any_of("ops.admin", "root"))]
    async fn run_command(
        &self,
        ctx: CallContext,
        cmds: RequestStream<Command>,
    ) -> Result<ResponseStream<CommandResult>, Status>;
}

/// The golden vector "pipeline: Ledger v7 with modes [xlang, json],
/// timeouts and idempotent" of conformance/vectors/contract-identity.json.
#[aster::service(name = "Ledger", version = 7, modes = ["xlang", "json"])]
pub trait Ledger {
    #[rpc(timeout = 2.5, idempotent)]
    async fn balance(&self, req: StatusRequest) -> Result<StatusResponse, Status>;
    #[rpc(timeout = 30)]
    async fn post(&self, entry: LogEntry) -> Result<SubmitLogResult, Status>;
}

struct Control;

impl MissionControl for Control {
    async fn get_status(
        &self,
        ctx: CallContext,
        req: StatusRequest,
    ) -> Result<StatusResponse, Status> {
        Ok(StatusResponse {
            agent_id: req.agent_id,
            status: format!("running via {}", ctx.method),
            uptime_secs: 3600,
        })
    }
    async fn submit_log(&self, _entry: LogEntry) -> Result<SubmitLogResult, Status> {
        Ok(SubmitLogResult { accepted: true })
    }
    async fn tail_logs(
        &self,
        _ctx: CallContext,
        req: TailRequest,
    ) -> Result<ResponseStream<LogEntry>, Status> {
        let entries: Vec<Result<LogEntry, Status>> = (0..3)
            .map(|i| {
                Ok(LogEntry {
                    level: req.level.clone(),
                    message: format!("line {i}"),
                    ..Default::default()
                })
            })
            .collect();
        Ok(Box::pin(futures_util::stream::iter(entries)))
    }
    async fn ingest_metrics(
        &self,
        _ctx: CallContext,
        mut points: RequestStream<MetricPoint>,
    ) -> Result<IngestResult, Status> {
        let mut accepted = 0;
        while let Some(p) = points.next().await {
            p?;
            accepted += 1;
        }
        Ok(IngestResult {
            accepted,
            dropped: 0,
        })
    }
}

struct Agent {
    peer: Option<String>,
    beats: AtomicU32,
    closed: Arc<AtomicU32>,
}

impl AgentSession for Agent {
    async fn register(&self, hb: Heartbeat) -> Result<Assignment, Status> {
        let task = if hb.capabilities.iter().any(|c| c == "gpu") {
            "train-42"
        } else {
            "idle"
        };
        Ok(Assignment {
            task_id: task.into(),
            command: self.peer.clone().unwrap_or_default(),
        })
    }
    async fn heartbeat(&self, _hb: Heartbeat) -> Result<Assignment, Status> {
        let n = self.beats.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(Assignment {
            task_id: format!("beat-{n}"),
            command: String::new(),
        })
    }
    async fn run_command(
        &self,
        _ctx: CallContext,
        cmds: RequestStream<Command>,
    ) -> Result<ResponseStream<CommandResult>, Status> {
        Ok(Box::pin(cmds.map(|c| {
            c.map(|c| CommandResult {
                stdout: c.command,
                stderr: String::new(),
                exit_code: 0,
            })
        })))
    }
    async fn on_session_close(&self) {
        self.closed.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn descriptors_hold_what_the_trait_declares() {
    let d: &ServiceDescriptor = MissionControlServer::<Control>::descriptor();
    assert_eq!(
        (d.name, d.version, d.scope),
        ("MissionControl", 1, Scope::Shared)
    );
    let names: Vec<_> = d.methods.iter().map(|m| (m.name, m.pattern)).collect();
    assert_eq!(
        names,
        [
            ("getStatus", Pattern::Unary),
            ("submitLog", Pattern::Unary),
            ("tailLogs", Pattern::ServerStream),
            ("ingestMetrics", Pattern::ClientStream)
        ]
    );
    assert_eq!(d.methods[0].doc, "Current status of an agent.");
    assert_eq!(d.methods[1].requires, Some(Requirement::Role("ops.logs")));
    assert_eq!(d.methods[0].request.tag, "mission/StatusRequest");
    assert_eq!(d.doc, "Fleet-wide status, logs and metrics.");

    let a = AgentSessionClient::<Loopback>::descriptor();
    assert_eq!(a.scope, Scope::Session);
    assert_eq!(
        a.methods[2].requires,
        Some(Requirement::AnyOf(&["ops.admin", "root"]))
    );
    let l = LedgerClient::<Loopback>::descriptor();
    let balance: &MethodDescriptor = &l.methods[0];
    assert!(balance.idempotent);
    assert_eq!(
        (balance.timeout_secs, l.methods[1].timeout_secs),
        (2.5, 30.0)
    );
    assert_eq!(l.modes, [SerializationMode::Xlang, SerializationMode::Json]);
}

#[test]
fn contract_ids_equal_the_reference_walkthrough() {
    // Printed by aster-rpc 0.1.2 for examples/python/mission_control/services.py
    // (see proto/tests/contract.rs for the command); requires never enter the id.
    assert_eq!(
        MissionControlServer::<Control>::descriptor()
            .contract_id()
            .to_string(),
        "3029351e231333dd960d7c38f90ab8efcb78951b438e692feeda9d6f0bfb440a"
    );
    assert_eq!(
        AgentSessionClient::<Loopback>::descriptor()
            .contract_id()
            .to_string(),
        "59136b4a6d90cd5d2711df19021262432f1ae62c1d7bec5ef6b57407b5f7c9c9"
    );
    let vectors: serde_json::Value = serde_json::from_str(include_str!(
        "../../../conformance/vectors/contract-identity.json"
    ))
    .unwrap();
    let ledger = vectors["golden_vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| {
            v["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("pipeline: Ledger v7"))
        })
        .unwrap();
    assert_eq!(
        LedgerClient::<Loopback>::descriptor()
            .contract_id()
            .to_string(),
        ledger["expected_blake3"]
    );
}

/// Routes calls straight into a `Dispatch`, encoding and decoding payloads in
/// the chosen mode: exercises everything generated except the network.
#[derive(Clone)]
struct Loopback {
    dispatch: Arc<dyn Dispatch>,
    mode: SerializationMode,
}

fn encode(m: &dyn aster::OutgoingMessage, mode: SerializationMode) -> Bytes {
    let mut buf = aster::proto::frame::FrameBuf::default();
    m.encode_frame(mode, &mut buf).unwrap();
    let mut d = aster::proto::frame::FrameDecoder::new();
    d.push(&buf.to_contiguous()).unwrap();
    let f = d.next_frame().unwrap().unwrap();
    aster::proto::codec::payload_bytes(f.payload, f.flags).unwrap()
}

impl Caller for Loopback {
    fn call(
        &self,
        service: &'static ServiceDescriptor,
        method: &'static MethodDescriptor,
        options: CallOptions,
        input: Outbound,
    ) -> CallFuture<'_> {
        let dispatch = self.dispatch.clone();
        let mode = options.mode.unwrap_or(self.mode);
        Box::pin(async move {
            let (index, _) = service
                .method(method.name)
                .ok_or_else(|| Status::unimplemented("no such method"))?;
            let input = match input {
                Outbound::Unary(m) => Incoming::Unary(encode(&*m, mode)),
                Outbound::Stream(s) => {
                    Incoming::Stream(Box::pin(s.map(move |m| Ok(encode(&*m, mode)))))
                }
            };
            let ctx = CallContext {
                service: service.name,
                method: method.name,
                peer: None,
                metadata: options.metadata,
                attributes: BTreeMap::new(),
                deadline_epoch_ms: None,
                call_id: String::new(),
                session_id: None,
                mode,
            };
            let out = match dispatch.call(index, ctx, input).await? {
                Outgoing::Unary(m) => Inbound::Unary(encode(&*m, mode)),
                Outgoing::Stream(s) => {
                    Inbound::Stream(Box::pin(s.map(move |r| r.map(|m| encode(&*m, mode)))))
                }
            };
            Ok((mode, out))
        })
    }
}

fn session(peer: &str) -> SessionContext {
    SessionContext {
        service: "AgentSession",
        peer: Some(peer.into()),
        session_id: "s1".into(),
        metadata: vec![],
        attributes: BTreeMap::new(),
    }
}

#[tokio::test]
async fn typed_client_and_server_in_both_modes() {
    for mode in [SerializationMode::Xlang, SerializationMode::Json] {
        let server = MissionControlServer::new(Control);
        let caller = Loopback {
            dispatch: server.open(&session("p")),
            mode,
        };
        let client = MissionControlClient::new(caller);
        let s = client
            .get_status(StatusRequest {
                agent_id: "edge-7".into(),
            })
            .await
            .unwrap();
        assert_eq!(
            s,
            StatusResponse {
                agent_id: "edge-7".into(),
                status: "running via getStatus".into(),
                uptime_secs: 3600
            }
        );
        assert!(
            client
                .submit_log(LogEntry::default())
                .await
                .unwrap()
                .accepted
        );
        let tail: Vec<_> = client
            .tail_logs(TailRequest {
                agent_id: String::new(),
                level: "warn".into(),
            })
            .await
            .unwrap()
            .collect()
            .await;
        assert_eq!(tail.len(), 3);
        assert_eq!(tail[2].as_ref().unwrap().message, "line 2");
        let points = futures_util::stream::iter((0..5).map(|i| MetricPoint {
            value: f64::from(i),
            ..Default::default()
        }));
        assert_eq!(
            client.ingest_metrics(points).await.unwrap(),
            IngestResult {
                accepted: 5,
                dropped: 0
            }
        );
    }
}

#[tokio::test]
async fn session_services_get_an_instance_per_session() {
    let closed = Arc::new(AtomicU32::new(0));
    let c2 = closed.clone();
    let server = AgentSessionServer::new(move |s: &SessionContext| Agent {
        peer: s.peer.as_deref().map(String::from),
        beats: AtomicU32::new(0),
        closed: c2.clone(),
    });
    let a = server.open(&session("peer-a"));
    let b = server.open(&session("peer-b"));
    let ca = AgentSessionClient::new(Loopback {
        dispatch: a.clone(),
        mode: SerializationMode::Xlang,
    });
    let cb = AgentSessionClient::new(Loopback {
        dispatch: b,
        mode: SerializationMode::Xlang,
    });
    let r = ca
        .register(Heartbeat {
            capabilities: vec!["gpu".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        (r.task_id.as_str(), r.command.as_str()),
        ("train-42", "peer-a")
    );
    assert_eq!(
        ca.heartbeat(Heartbeat::default()).await.unwrap().task_id,
        "beat-1"
    );
    assert_eq!(
        ca.heartbeat(Heartbeat::default()).await.unwrap().task_id,
        "beat-2"
    );
    assert_eq!(
        cb.heartbeat(Heartbeat::default()).await.unwrap().task_id,
        "beat-1"
    );
    let cmds = futures_util::stream::iter(vec![
        Command {
            command: "ls".into(),
        },
        Command {
            command: "pwd".into(),
        },
    ]);
    let out: Vec<_> = ca
        .run_command(cmds)
        .await
        .unwrap()
        .map(|r| r.unwrap().stdout)
        .collect()
        .await;
    assert_eq!(out, ["ls", "pwd"]);
    a.close().await;
    assert_eq!(closed.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn bad_payloads_become_statuses() {
    let server = MissionControlServer::new(Control);
    let d = server.open(&session("p"));
    let ctx = CallContext {
        service: "MissionControl",
        method: "getStatus",
        peer: None,
        metadata: vec![],
        attributes: BTreeMap::new(),
        deadline_epoch_ms: None,
        call_id: String::new(),
        session_id: None,
        mode: SerializationMode::Json,
    };
    let err = match d
        .call(
            0,
            ctx.clone(),
            Incoming::Unary(Bytes::from_static(br#"{"agent":"x"}"#)),
        )
        .await
    {
        Err(e) => e,
        Ok(_) => panic!("accepted an unknown field"),
    };
    assert_eq!(err.code, aster::StatusCode::ContractViolation);
    let err = match d.call(9, ctx, Incoming::Unary(Bytes::new())).await {
        Err(e) => e,
        Ok(_) => panic!("accepted an unknown method"),
    };
    assert_eq!(err.code, aster::StatusCode::Unimplemented);
}
