//! The call state machines driven against each other in memory (spec
//! §3.5–§3.8): a client and a server stream joined by a byte pipe that can
//! deliver in any chunk size, with a scripted server application.

use std::sync::Arc;

use aster_proto::call::{
    CallId, CallRequest, ClientCall, ClientEvent, ClientSession, MethodSpec, Pattern, Scope,
    ServerEvent, ServerStream, ServiceSpec, ServiceTable, SessionCall, SessionEvent, Transmit,
};
use aster_proto::codec::{SerializationMode, decode_message};
use aster_proto::frame::{Flags, FrameDecoder, encode_frame};
use aster_proto::message::{CallHeader, MessageForm, ProtocolMessage, RpcStatus, StreamHeader};
use aster_proto::{Status, StatusCode, wire_struct};
use bytes::{Bytes, BytesMut};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct EchoRequest {
    message: String,
}
wire_struct!(EchoRequest, "echo/EchoRequest", { message: String => "message" });

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct EchoResponse {
    reply: String,
}
wire_struct!(EchoResponse, "echo/EchoResponse", { reply: String => "reply" });

const NOW: u64 = 1_700_000_000_000;

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn table() -> Arc<ServiceTable> {
    let m = |name: &str, pattern| MethodSpec {
        name: name.into(),
        pattern,
    };
    Arc::new(
        ServiceTable::new(vec![
            ServiceSpec {
                name: "Echo".into(),
                version: 1,
                scope: Scope::Shared,
                modes: vec![SerializationMode::Xlang],
                methods: vec![
                    m("echo", Pattern::Unary),
                    m("count", Pattern::ServerStream),
                    m("collect", Pattern::ClientStream),
                    m("chat", Pattern::Bidi),
                ],
            },
            ServiceSpec {
                name: "Tally".into(),
                version: 1,
                scope: Scope::Session,
                modes: vec![SerializationMode::Xlang],
                methods: vec![
                    m("add", Pattern::Unary),
                    m("count", Pattern::ServerStream),
                    m("collect", Pattern::ClientStream),
                    m("chat", Pattern::Bidi),
                ],
            },
            ServiceSpec {
                name: "V2".into(),
                version: 2,
                scope: Scope::Shared,
                modes: vec![SerializationMode::Xlang],
                methods: vec![m("echo", Pattern::Unary)],
            },
        ])
        .unwrap(),
    )
}

fn request(method: &str, pattern: Pattern) -> CallRequest {
    CallRequest {
        service: "Echo".into(),
        method: method.into(),
        version: 1,
        pattern,
        mode: SerializationMode::Xlang,
        call_id: String::new(),
        deadline_epoch_ms: None,
        metadata: vec![],
    }
}

fn echo(msg: &str) -> EchoRequest {
    EchoRequest {
        message: msg.into(),
    }
}

/// A scripted server application: echoes each request; server streams send
/// `count` copies where `count` is the request length; client streams join
/// the messages.
#[derive(Default)]
struct App {
    calls: Vec<(CallId, Pattern, SerializationMode)>,
    received: Vec<String>,
    aborted: Vec<(CallId, Status)>,
    closed: bool,
    sessions: usize,
    /// Don't answer (to test deadlines and cancels).
    hold: bool,
    /// Refuse every call with this status (authorization).
    deny: Option<Status>,
}

impl App {
    fn run(&mut self, server: &mut ServerStream) {
        while let Some(ev) = server.poll_event() {
            match ev {
                ServerEvent::SessionOpen(_) => self.sessions += 1,
                ServerEvent::Call(info) => {
                    self.calls.push((info.id, info.pattern, info.mode));
                    if let Some(s) = &self.deny {
                        server.complete(info.id, Err(s.clone())).unwrap();
                    }
                }
                ServerEvent::Request { id, payload } => {
                    let mode = server.mode();
                    let req: EchoRequest = match decode_message(&payload, Flags::NONE, mode) {
                        Ok(r) => r,
                        Err(e) => {
                            let _ = server.complete(id, Err(e.to_status()));
                            continue;
                        }
                    };
                    self.received.push(req.message.clone());
                    let pattern = self.calls.iter().find(|c| c.0 == id).map(|c| c.1);
                    if self.hold {
                        continue;
                    }
                    match pattern {
                        Some(Pattern::Bidi) => {
                            let _ = server.send_message(
                                id,
                                &EchoResponse {
                                    reply: req.message.clone(),
                                },
                            );
                        }
                        Some(Pattern::ServerStream) => {
                            for i in 0..req.message.len() {
                                server
                                    .send_message(
                                        id,
                                        &EchoResponse {
                                            reply: format!("{i}"),
                                        },
                                    )
                                    .unwrap();
                            }
                        }
                        _ => {}
                    }
                    if pattern == Some(Pattern::Unary) {
                        server
                            .send_message(id, &EchoResponse { reply: req.message })
                            .unwrap();
                    }
                }
                ServerEvent::RequestEnd { id } => {
                    if self.hold {
                        continue;
                    }
                    let pattern = self.calls.iter().find(|c| c.0 == id).map(|c| c.1);
                    if pattern == Some(Pattern::ClientStream) {
                        let joined = self.received.join(",");
                        let _ = server.send_message(id, &EchoResponse { reply: joined });
                    }
                    let _ = server.complete(id, Ok(()));
                }
                ServerEvent::Aborted { id, status } => self.aborted.push((id, status)),
                ServerEvent::Closed => self.closed = true,
            }
        }
    }
}

/// Moves bytes between a client side and a server stream in `chunk`-sized pieces.
struct Pipe {
    chunk: usize,
    to_server: Vec<u8>,
    to_server_fin: bool,
    server_fin_delivered: bool,
    to_client: Vec<u8>,
    to_client_fin: bool,
    client_fin_delivered: bool,
}

impl Pipe {
    fn new(chunk: usize) -> Pipe {
        Pipe {
            chunk,
            to_server: vec![],
            to_server_fin: false,
            server_fin_delivered: false,
            to_client: vec![],
            to_client_fin: false,
            client_fin_delivered: false,
        }
    }

    fn take(t: Option<Transmit>, buf: &mut Vec<u8>, fin: &mut bool) -> bool {
        match t {
            Some(t) => {
                buf.extend_from_slice(&t.data);
                *fin |= t.fin;
                true
            }
            None => false,
        }
    }

    /// Pumps until neither side has anything to say.
    fn run(
        &mut self,
        client_tx: &mut dyn FnMut() -> Option<Transmit>,
        client_rx: &mut dyn FnMut(&[u8], bool),
        server: &mut ServerStream,
        app: &mut App,
    ) {
        for _ in 0..1_000_000 {
            let mut progress = false;
            while Self::take(client_tx(), &mut self.to_server, &mut self.to_server_fin) {
                progress = true;
            }
            if !self.to_server.is_empty() {
                let n = self.chunk.min(self.to_server.len());
                let chunk: Vec<u8> = self.to_server.drain(..n).collect();
                server.handle_data(&chunk, NOW);
                progress = true;
            } else if self.to_server_fin && !self.server_fin_delivered {
                self.server_fin_delivered = true;
                server.handle_fin(NOW);
                progress = true;
            }
            app.run(server);
            while Self::take(
                server.poll_transmit(),
                &mut self.to_client,
                &mut self.to_client_fin,
            ) {
                progress = true;
            }
            if !self.to_client.is_empty() {
                let n = self.chunk.min(self.to_client.len());
                let chunk: Vec<u8> = self.to_client.drain(..n).collect();
                client_rx(&chunk, false);
                progress = true;
            } else if self.to_client_fin && !self.client_fin_delivered {
                self.client_fin_delivered = true;
                client_rx(&[], true);
                progress = true;
            }
            if !progress {
                return;
            }
        }
        panic!("pipe did not settle");
    }
}

/// Runs one shared call; returns the client events.
fn run_call(
    req: &CallRequest,
    requests: &[&str],
    finish: bool,
    chunk: usize,
    app: &mut App,
) -> (Vec<ClientEvent>, ServerStream) {
    let mut client = ClientCall::new(req);
    for r in requests {
        client.send_message(&echo(r)).unwrap();
    }
    if finish && req.pattern.client_streams() {
        client.finish_sending().unwrap();
    }
    let mut server = ServerStream::new(table());
    let mut pipe = Pipe::new(chunk);
    let client = std::cell::RefCell::new(client);
    let mut events = vec![];
    pipe.run(
        &mut || client.borrow_mut().poll_transmit(),
        &mut |data, fin| {
            let mut c = client.borrow_mut();
            if fin {
                c.handle_fin();
            } else {
                c.handle_data(data);
            }
        },
        &mut server,
        app,
    );
    let mut c = client.into_inner();
    while let Some(e) = c.poll_event() {
        events.push(e);
    }
    (events, server)
}

fn replies(events: &[ClientEvent], mode: SerializationMode) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Response(p) => Some(
                decode_message::<EchoResponse>(p, Flags::NONE, mode)
                    .unwrap()
                    .reply,
            ),
            _ => None,
        })
        .collect()
}

fn done(events: &[ClientEvent]) -> Status {
    let dones: Vec<&Status> = events
        .iter()
        .filter_map(|e| match e {
            ClientEvent::Done(s) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(dones.len(), 1, "exactly one outcome: {events:?}");
    dones[0].clone()
}

#[test]
fn unary_bytes_match_the_reference() {
    // wire.md §9.1 unary-echo call 1: client bytes.
    let mut client = ClientCall::new(&request("echo", Pattern::Unary));
    client.send_message(&echo("Hello, World!")).unwrap();
    let t = client.poll_transmit().unwrap();
    assert!(t.fin);
    assert_eq!(
        t.data.as_ref(),
        unhex(
            "29000000 04 02ff1d08016c129922120476538900ce9c801922a40518de 00 00 02 00 106563686f 104563686f 00 00
             26000000 00 02ff1d06011047701204f4823bbb12428494c0215625dd 34 48656c6c6f2c20576f726c6421"
        )
    );
    // Server answer, fed back byte by byte.
    let mut server = ServerStream::new(table());
    server.handle_data(&t.data, NOW);
    let mut app = App::default();
    app.run(&mut server);
    let out = server.poll_transmit().unwrap();
    assert!(out.fin);
    let (resp, trailer) = out.data.split_at(0x26 + 4);
    assert_eq!(&resp[..5], &unhex("26000000 00")[..]);
    assert_eq!(
        trailer,
        unhex("1b000000 02 02ff1d08016c1299220e0256785626026a245353ca9f 00 00 00 00")
    );
    for b in out.data.iter() {
        client.handle_data(&[*b]);
    }
    let events: Vec<_> = std::iter::from_fn(|| client.poll_event()).collect();
    assert_eq!(
        replies(&events, SerializationMode::Xlang),
        ["Hello, World!"]
    );
    assert!(done(&events).is_ok());
}

#[test]
fn all_patterns_in_any_chunking() {
    for chunk in [1, 2, 3, 7, 64, 4096] {
        let mut app = App::default();
        let (ev, _) = run_call(
            &request("echo", Pattern::Unary),
            &["hi"],
            false,
            chunk,
            &mut app,
        );
        assert_eq!(replies(&ev, SerializationMode::Xlang), ["hi"]);
        assert!(done(&ev).is_ok());

        let mut app = App::default();
        let (ev, _) = run_call(
            &request("count", Pattern::ServerStream),
            &["abc"],
            false,
            chunk,
            &mut app,
        );
        assert_eq!(replies(&ev, SerializationMode::Xlang), ["0", "1", "2"]);
        assert!(done(&ev).is_ok());

        let mut app = App::default();
        let (ev, _) = run_call(
            &request("count", Pattern::ServerStream),
            &[""],
            false,
            chunk,
            &mut app,
        );
        assert!(replies(&ev, SerializationMode::Xlang).is_empty());
        assert!(done(&ev).is_ok());

        let mut app = App::default();
        let (ev, _) = run_call(
            &request("collect", Pattern::ClientStream),
            &["a", "b", "c"],
            true,
            chunk,
            &mut app,
        );
        assert_eq!(replies(&ev, SerializationMode::Xlang), ["a,b,c"]);
        assert!(done(&ev).is_ok());

        let mut app = App::default();
        let (ev, _) = run_call(
            &request("chat", Pattern::Bidi),
            &["x", "y"],
            true,
            chunk,
            &mut app,
        );
        assert_eq!(replies(&ev, SerializationMode::Xlang), ["x", "y"]);
        assert!(done(&ev).is_ok());
    }
}

#[test]
fn json_mode_uses_json_everywhere() {
    let mut req = request("echo", Pattern::Unary);
    req.mode = SerializationMode::Json;
    let mut client = ClientCall::new(&req);
    client.send_message(&echo("hé")).unwrap();
    let t = client.poll_transmit().unwrap();
    let mut d = FrameDecoder::new();
    d.push(&t.data).unwrap();
    let h = d.next_frame().unwrap().unwrap();
    assert_eq!(h.payload[0], b'{');
    let body = d.next_frame().unwrap().unwrap();
    assert_eq!(body.payload.as_ref(), br#"{"message":"h\u00e9"}"#);

    let mut app = App::default();
    let (ev, _) = run_call(&req, &["hé"], false, 5, &mut app);
    assert_eq!(replies(&ev, SerializationMode::Json), ["hé"]);
    assert!(done(&ev).is_ok());

    // An unknown JSON field: CONTRACT_VIOLATION, trailer in JSON.
    let mut server = ServerStream::new(table());
    let mut buf = BytesMut::new();
    let header = StreamHeader {
        service: "Echo".into(),
        method: "echo".into(),
        version: 1,
        serialization_mode: 3,
        ..Default::default()
    };
    encode_frame(Flags::HEADER, &header.encode(MessageForm::Json), &mut buf).unwrap();
    encode_frame(Flags::NONE, br#"{"message":"x","bogus":1}"#, &mut buf).unwrap();
    server.handle_data(&buf, NOW);
    App::default().run(&mut server);
    let status = trailer_of(&server.poll_transmit().unwrap().data);
    assert_eq!(status.code, StatusCode::ContractViolation);
    assert_eq!(
        status.message,
        r#"contract violation at EchoRequest: unexpected JSON field(s) ["'bogus'"] (expected: ['message'])"#
    );
}

/// The status of the (last) trailer frame in `data`; also checks it is the last frame.
fn trailer_of(data: &[u8]) -> Status {
    let mut d = FrameDecoder::new();
    d.push(data).unwrap();
    let mut last = None;
    while let Some(f) = d.next_frame().unwrap() {
        last = Some(f);
    }
    let f = last.expect("a frame");
    assert!(f.flags.contains(Flags::TRAILER), "last frame is a trailer");
    RpcStatus::decode(&f.payload).unwrap().0.to_status()
}

fn header_frame(h: &StreamHeader) -> Vec<u8> {
    let mut buf = BytesMut::new();
    encode_frame(Flags::HEADER, &h.encode(MessageForm::Xlang), &mut buf).unwrap();
    buf.to_vec()
}

fn echo_header(service: &str, method: &str) -> StreamHeader {
    StreamHeader {
        service: service.into(),
        method: method.into(),
        version: 1,
        ..Default::default()
    }
}

/// Feeds raw bytes (and optionally FIN) to a fresh server; returns its trailer
/// status and whether it finished its side.
fn refuse(input: &[u8], fin: bool) -> (Status, ServerStream) {
    let mut server = ServerStream::new(table());
    server.handle_data(input, NOW);
    if fin {
        server.handle_fin(NOW);
    }
    App::default().run(&mut server);
    let t = server.poll_transmit().expect("a trailer");
    assert!(t.fin, "shared stream finishes after its trailer");
    (trailer_of(&t.data), server)
}

#[test]
fn dispatch_errors_match_the_reference() {
    let mut buf = BytesMut::new();
    encode_frame(Flags::NONE, b"x", &mut buf).unwrap();
    let (s, _) = refuse(&buf, false);
    assert_eq!(
        (s.code, s.message.as_str()),
        (StatusCode::Internal, "First frame must have HEADER flag")
    );

    buf.clear();
    encode_frame(Flags::HEADER, b"\x02\xff\x1dgarbage", &mut buf).unwrap();
    let (s, _) = refuse(&buf, false);
    assert_eq!(
        (s.code, s.message.as_str()),
        (StatusCode::Internal, "Invalid StreamHeader")
    );

    let (s, _) = refuse(&header_frame(&echo_header("", "echo")), false);
    assert_eq!(
        (s.code, s.message.as_str()),
        (StatusCode::InvalidArgument, "Missing service name")
    );

    let (s, _) = refuse(&header_frame(&echo_header("Nope", "echo")), false);
    assert_eq!(
        (s.code, s.message.as_str()),
        (StatusCode::NotFound, "Service 'Nope' v1 not found")
    );

    let mut h = echo_header("Echo", "echo");
    h.version = 3;
    let (s, _) = refuse(&header_frame(&h), false);
    assert_eq!(
        (s.code, s.message.as_str()),
        (StatusCode::NotFound, "Service 'Echo' v3 not found")
    );

    let (s, _) = refuse(&header_frame(&echo_header("Echo", "")), false);
    assert_eq!(s.code, StatusCode::FailedPrecondition);
    assert!(s.message.contains("'Echo' is shared"));

    let (s, _) = refuse(&header_frame(&echo_header("Tally", "add")), false);
    assert_eq!(s.code, StatusCode::FailedPrecondition);
    assert!(s.message.contains("'Tally' is session-scoped"));

    let (s, _) = refuse(&header_frame(&echo_header("Echo", "nope")), false);
    assert_eq!(
        (s.code, s.message.as_str()),
        (
            StatusCode::Unimplemented,
            "Method 'Echo.nope' not implemented"
        )
    );

    for mode in [1, 2, 7] {
        let mut h = echo_header("Echo", "echo");
        h.serialization_mode = mode;
        let (s, _) = refuse(&header_frame(&h), false);
        assert_eq!(
            s,
            Status::invalid_argument(format!("Unsupported serialization mode: {mode}"))
        );
    }

    let mut h = echo_header("Echo", "echo");
    h.deadline_epoch_ms = (NOW - 6_000) as i64;
    let (s, _) = refuse(&header_frame(&h), false);
    assert_eq!(s.code, StatusCode::DeadlineExceeded);
    assert!(
        s.message
            .starts_with("deadline already expired on receipt (now="),
        "{}",
        s.message
    );

    let mut h = echo_header("Echo", "echo");
    h.metadata_keys = vec!["k".into()];
    h.metadata_values = vec!["v".repeat(4097)];
    let (s, _) = refuse(&header_frame(&h), false);
    assert_eq!(s.code, StatusCode::ResourceExhausted);
}

#[test]
fn expired_deadlines_are_refused_and_version_one_reaches_v2() {
    // Within the 5 s skew tolerance the reference still refuses, with a short message.
    let mut app = App::default();
    let mut req = request("echo", Pattern::Unary);
    req.deadline_epoch_ms = Some(NOW - 4_000);
    let (ev, _) = run_call(&req, &["x"], false, 64, &mut app);
    assert_eq!(done(&ev), Status::deadline_exceeded("deadline exceeded"));
    let mut req = request("echo", Pattern::Unary);
    req.deadline_epoch_ms = Some(NOW + 4_000);
    let (ev, _) = run_call(&req, &["x"], false, 64, &mut App::default());
    assert!(done(&ev).is_ok());

    // The reference's clients send version 1 for every shared call.
    let mut req = request("echo", Pattern::Unary);
    req.service = "V2".into();
    let (ev, _) = run_call(&req, &["x"], false, 64, &mut App::default());
    assert!(done(&ev).is_ok());
}

#[test]
fn metadata_is_truncated_to_64_pairs() {
    let mut h = echo_header("Echo", "echo");
    h.metadata_keys = (0..70).map(|i| format!("k{i}")).collect();
    h.metadata_values = (0..70).map(|i| format!("v{i}")).collect();
    let mut server = ServerStream::new(table());
    server.handle_data(&header_frame(&h), NOW);
    match server.poll_event() {
        Some(ServerEvent::Call(info)) => {
            assert_eq!(info.metadata.len(), 64);
            assert_eq!(info.metadata[63], ("k63".to_string(), "v63".to_string()));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unary_request_side_violations() {
    let h = header_frame(&echo_header("Echo", "echo"));
    let (s, _) = refuse(&h, true);
    assert_eq!(s, Status::unavailable("Stream ended"));

    let mut buf = BytesMut::from(&h[..]);
    encode_frame(
        Flags::TRAILER,
        &RpcStatus::ok().encode(MessageForm::Xlang),
        &mut buf,
    )
    .unwrap();
    let (s, _) = refuse(&buf, false);
    assert_eq!(s, Status::unavailable("Unexpected trailer"));

    // CANCEL on a shared stream is ignored; the call goes on.
    let mut buf = BytesMut::from(&h[..]);
    encode_frame(Flags::CANCEL, b"", &mut buf).unwrap();
    let mut server = ServerStream::new(table());
    server.handle_data(&buf, NOW);
    let mut app = App::default();
    app.run(&mut server);
    assert!(server.poll_transmit().is_none());
    assert!(app.aborted.is_empty());

    // Oversize frame mid-call: INTERNAL and the stream is over.
    let mut buf = BytesMut::from(&h[..]);
    buf.extend_from_slice(&[0x01, 0x00, 0x00, 0x01, 0x00]);
    let (s, server) = refuse(&buf, false);
    assert_eq!(s.code, StatusCode::Internal);
    assert!(s.message.contains("16 MiB"));
    assert!(server.is_closed());
}

#[test]
fn compression_and_bombs() {
    // A 5000-char request is compressed on the wire (wire.md §9.2) and arrives whole.
    let long = "z".repeat(5000);
    let mut client = ClientCall::new(&request("echo", Pattern::Unary));
    client.send_message(&echo(&long)).unwrap();
    let t = client.poll_transmit().unwrap();
    let mut d = FrameDecoder::new();
    d.push(&t.data).unwrap();
    d.next_frame().unwrap();
    let f = d.next_frame().unwrap().unwrap();
    assert_eq!(f.flags, Flags::COMPRESSED);
    assert_eq!(&f.payload[..4], &[0x28, 0xb5, 0x2f, 0xfd]);
    let (ev, _) = run_call(
        &request("echo", Pattern::Unary),
        &[&long],
        false,
        1000,
        &mut App::default(),
    );
    assert_eq!(
        replies(&ev, SerializationMode::Xlang),
        std::slice::from_ref(&long)
    );

    // 17 MiB of zeros compress to a few KiB: refused as RESOURCE_EXHAUSTED.
    let bomb = aster_proto::codec::compress::compress(&vec![0u8; 17 * 1024 * 1024]);
    let mut buf = BytesMut::from(&header_frame(&echo_header("Echo", "echo"))[..]);
    encode_frame(Flags::COMPRESSED, &bomb, &mut buf).unwrap();
    let (s, _) = refuse(&buf, false);
    assert_eq!(s.code, StatusCode::ResourceExhausted);
}

#[test]
fn client_stream_rules() {
    let mut buf = BytesMut::from(&header_frame(&echo_header("Echo", "collect"))[..]);
    let mut one = BytesMut::new();
    aster_proto::codec::encode_message_frame(&echo("a"), SerializationMode::Xlang, &mut one)
        .unwrap();
    buf.extend_from_slice(&one);
    let bad = RpcStatus {
        code: 13,
        ..Default::default()
    };
    encode_frame(Flags::TRAILER, &bad.encode(MessageForm::Xlang), &mut buf).unwrap();
    let (s, _) = refuse(&buf, false);
    assert_eq!(
        s,
        Status::internal("client sent non-OK EoI trailer (code=13)")
    );

    // An OK trailer ends the input like a half-close does.
    let mut buf = BytesMut::from(&header_frame(&echo_header("Echo", "collect"))[..]);
    buf.extend_from_slice(&one);
    encode_frame(
        Flags::TRAILER,
        &RpcStatus::ok().encode(MessageForm::Xlang),
        &mut buf,
    )
    .unwrap();
    let mut server = ServerStream::new(table());
    server.handle_data(&buf, NOW);
    let mut app = App::default();
    app.run(&mut server);
    assert_eq!(app.received, ["a"]);
    assert!(trailer_of(&server.poll_transmit().unwrap().data).is_ok());
}

#[test]
fn client_stream_item_cap() {
    let mut buf = BytesMut::from(&header_frame(&echo_header("Echo", "collect"))[..]);
    let mut one = BytesMut::new();
    aster_proto::codec::encode_message_frame(&echo(""), SerializationMode::Xlang, &mut one)
        .unwrap();
    let mut server = ServerStream::new(table());
    server.handle_data(&buf, NOW);
    buf.clear();
    let mut aborted = None;
    let mut count = 0u64;
    'outer: for _ in 0..100_001 {
        server.handle_data(&one, NOW);
        while let Some(ev) = server.poll_event() {
            match ev {
                ServerEvent::Request { .. } => count += 1,
                ServerEvent::Aborted { status, .. } => {
                    aborted = Some(status);
                    break 'outer;
                }
                _ => {}
            }
        }
    }
    assert_eq!(count, 100_000);
    assert_eq!(
        aborted,
        Some(Status::resource_exhausted(
            "client stream exceeded 100000 items"
        ))
    );
}

#[test]
fn handler_deadline_and_stale_completion() {
    let mut h = echo_header("Echo", "echo");
    h.deadline_epoch_ms = (NOW + 1_000) as i64;
    let mut buf = BytesMut::from(&header_frame(&h)[..]);
    aster_proto::codec::encode_message_frame(&echo("x"), SerializationMode::Xlang, &mut buf)
        .unwrap();
    let mut server = ServerStream::new(table());
    server.handle_data(&buf, NOW);
    let mut app = App {
        hold: true,
        ..Default::default()
    };
    app.run(&mut server);
    assert_eq!(server.poll_timeout(), Some(NOW + 1_000));
    server.handle_timeout(NOW + 999);
    assert!(server.poll_transmit().is_none());
    server.handle_timeout(NOW + 1_000);
    app.run(&mut server);
    assert_eq!(app.aborted.len(), 1);
    assert_eq!(app.aborted[0].1.code, StatusCode::DeadlineExceeded);
    let t = server.poll_transmit().unwrap();
    assert_eq!(
        trailer_of(&t.data),
        Status::deadline_exceeded("deadline exceeded")
    );
    // The handler's late answer is refused and nothing more is written.
    let id = app.calls[0].0;
    assert!(server.send_message(id, &EchoResponse::default()).is_err());
    assert!(server.complete(id, Ok(())).is_err());
    assert!(server.poll_transmit().is_none());

    // Without a deadline the handler gets 300 s.
    let mut server = ServerStream::new(table());
    let mut buf = BytesMut::from(&header_frame(&echo_header("Echo", "echo"))[..]);
    aster_proto::codec::encode_message_frame(&echo("x"), SerializationMode::Xlang, &mut buf)
        .unwrap();
    server.handle_data(&buf, NOW);
    assert_eq!(server.poll_timeout(), Some(NOW + 300_000));
}

#[test]
fn unary_single_response_rules() {
    let mut server = ServerStream::new(table());
    let mut buf = BytesMut::from(&header_frame(&echo_header("Echo", "echo"))[..]);
    aster_proto::codec::encode_message_frame(&echo("x"), SerializationMode::Xlang, &mut buf)
        .unwrap();
    server.handle_data(&buf, NOW);
    let mut id = None;
    while let Some(ev) = server.poll_event() {
        if let ServerEvent::Call(info) = ev {
            id = Some(info.id);
        }
    }
    let id = id.unwrap();
    server.send_message(id, &EchoResponse::default()).unwrap();
    assert!(server.send_message(id, &EchoResponse::default()).is_err());
    server.complete(id, Ok(())).unwrap();

    // complete(Ok) with no response is turned into INTERNAL.
    let mut server = ServerStream::new(table());
    server.handle_data(&buf, NOW);
    let id = std::iter::from_fn(|| server.poll_event())
        .find_map(|e| {
            if let ServerEvent::Call(i) = e {
                Some(i.id)
            } else {
                None
            }
        })
        .unwrap();
    server.complete(id, Ok(())).unwrap();
    assert_eq!(
        trailer_of(&server.poll_transmit().unwrap().data).code,
        StatusCode::Internal
    );
}

#[test]
fn authorization_refusal_is_the_only_outcome() {
    let mut app = App {
        deny: Some(Status::permission_denied("nope")),
        ..Default::default()
    };
    let (ev, _) = run_call(
        &request("echo", Pattern::Unary),
        &["x"],
        false,
        64,
        &mut app,
    );
    assert_eq!(done(&ev), Status::permission_denied("nope"));
    assert!(replies(&ev, SerializationMode::Xlang).is_empty());
}

fn client_with(frames: &[(Flags, Vec<u8>)], pattern: Pattern, fin: bool) -> Vec<ClientEvent> {
    let mut client = ClientCall::new(&request("echo", pattern));
    let mut buf = BytesMut::new();
    for (flags, payload) in frames {
        encode_frame(*flags, payload, &mut buf).unwrap();
    }
    client.handle_data(&buf);
    if fin {
        client.handle_fin();
    }
    std::iter::from_fn(|| client.poll_event()).collect()
}

fn resp(s: &str) -> Vec<u8> {
    aster_proto::xlang::to_bytes(&EchoResponse { reply: s.into() }).to_vec()
}

fn ok_trailer() -> Vec<u8> {
    RpcStatus::ok().encode(MessageForm::Xlang).to_vec()
}

#[test]
fn client_side_rules() {
    let ev = client_with(
        &[(Flags::NONE, resp("a")), (Flags::NONE, resp("b"))],
        Pattern::Unary,
        false,
    );
    assert_eq!(
        done(&ev),
        Status::internal("received multiple response frames")
    );

    let ev = client_with(&[(Flags::NONE, resp("a"))], Pattern::Unary, true);
    assert_eq!(
        done(&ev),
        Status::unavailable("stream ended before trailer")
    );

    let ev = client_with(&[(Flags::TRAILER, ok_trailer())], Pattern::Unary, false);
    assert_eq!(done(&ev).code, StatusCode::Internal);

    let ev = client_with(
        &[
            (Flags::ROW_SCHEMA, vec![1]),
            (Flags::NONE, resp("a")),
            (Flags::TRAILER, ok_trailer()),
        ],
        Pattern::ServerStream,
        false,
    );
    assert_eq!(replies(&ev, SerializationMode::Xlang), ["a"]);
    assert!(done(&ev).is_ok());

    let ev = client_with(&[(Flags::HEADER, vec![1])], Pattern::ServerStream, false);
    assert_eq!(done(&ev).code, StatusCode::Internal);

    // Error trailers pass through with their message (PERMISSION_DENIED "nope", wire.md §9.2).
    let mut client = ClientCall::new(&request("echo", Pattern::Unary));
    client.handle_data(&unhex(
        "1f0000000202ff1d08016c1299220e0256785626026a245353ca9f0e106e6f70650000",
    ));
    let ev: Vec<_> = std::iter::from_fn(|| client.poll_event()).collect();
    assert_eq!(done(&ev), Status::permission_denied("nope"));

    // A JSON-mode client reading an XLANG error trailer (the reference sends those).
    let mut req = request("echo", Pattern::Unary);
    req.mode = SerializationMode::Json;
    let mut client = ClientCall::new(&req);
    client.handle_data(&unhex(
        "1f0000000202ff1d08016c1299220e0256785626026a245353ca9f0e106e6f70650000",
    ));
    assert_eq!(
        client.poll_event(),
        Some(ClientEvent::Done(Status::permission_denied("nope")))
    );

    // Deadline: one outcome, and the stream is to be reset.
    let mut req = request("echo", Pattern::Unary);
    req.deadline_epoch_ms = Some(NOW + 10);
    let mut client = ClientCall::new(&req);
    assert_eq!(client.poll_timeout(), Some(NOW + 10));
    client.handle_timeout(NOW + 10);
    client.handle_data(&unhex(
        "1b0000000202ff1d08016c1299220e0256785626026a245353ca9f00000000",
    ));
    let ev: Vec<_> = std::iter::from_fn(|| client.poll_event()).collect();
    assert_eq!(done(&ev).code, StatusCode::DeadlineExceeded);
    assert!(client.ended_locally());

    // Cancel: one outcome; nothing more is transmitted.
    let mut client = ClientCall::new(&request("chat", Pattern::Bidi));
    client.cancel();
    assert!(client.poll_transmit().is_none());
    assert_eq!(
        client.poll_event(),
        Some(ClientEvent::Done(Status::cancelled("cancelled")))
    );
    assert!(client.send_message(&echo("x")).is_err());
}

// ---- sessions ----

struct SessionPair {
    client: ClientSession,
    server: ServerStream,
    app: App,
    pipe: Pipe,
    events: Vec<SessionEvent>,
}

impl SessionPair {
    fn new(chunk: usize) -> SessionPair {
        let mut req = request("", Pattern::Unary);
        req.service = "Tally".into();
        req.call_id = "2b7e8e8c-0000-4000-8000-000000000001".into();
        SessionPair {
            client: ClientSession::new(&req),
            server: ServerStream::new(table()),
            app: App::default(),
            pipe: Pipe::new(chunk),
            events: vec![],
        }
    }

    fn pump(&mut self) {
        let client = std::cell::RefCell::new(&mut self.client);
        self.pipe.run(
            &mut || client.borrow_mut().poll_transmit(),
            &mut |data, fin| {
                let mut c = client.borrow_mut();
                if fin {
                    c.handle_fin();
                } else {
                    c.handle_data(data);
                }
            },
            &mut self.server,
            &mut self.app,
        );
        while let Some(e) = self.client.poll_event() {
            self.events.push(e);
        }
    }

    fn call(&mut self, method: &str, pattern: Pattern, reqs: &[&str]) -> (Vec<String>, Status) {
        self.events.clear();
        let id = self
            .client
            .start_call(&session_call(method, pattern, "c"))
            .unwrap();
        for r in reqs {
            self.client.send_message(id, &echo(r)).unwrap();
        }
        if pattern.client_streams() {
            self.client.finish_sending(id).unwrap();
        }
        self.pump();
        self.outcome(id)
    }

    fn outcome(&self, id: CallId) -> (Vec<String>, Status) {
        let mut out = vec![];
        let mut status = vec![];
        for e in &self.events {
            match e {
                SessionEvent::Response { id: i, payload } if *i == id => out.push(
                    decode_message::<EchoResponse>(payload, Flags::NONE, SerializationMode::Xlang)
                        .unwrap()
                        .reply,
                ),
                SessionEvent::Done { id: i, status: s } if *i == id => status.push(s.clone()),
                _ => {}
            }
        }
        assert_eq!(status.len(), 1, "one outcome per call: {:?}", self.events);
        (out, status.remove(0))
    }
}

/// A session call without deadline or metadata.
fn session_call(method: &str, pattern: Pattern, call_id: impl Into<String>) -> SessionCall {
    SessionCall {
        method: method.into(),
        pattern,
        call_id: call_id.into(),
        deadline_epoch_ms: None,
        metadata: vec![],
    }
}

#[test]
fn session_calls_of_every_pattern() {
    for chunk in [1, 5, 4096] {
        let mut p = SessionPair::new(chunk);
        let (r, s) = p.call("add", Pattern::Unary, &["a"]);
        assert_eq!((r, s), (vec!["a".to_string()], Status::ok()));
        assert_eq!(p.app.sessions, 1);
        let (r, s) = p.call("count", Pattern::ServerStream, &["xy"]);
        assert_eq!(
            (r, s),
            (vec!["0".to_string(), "1".to_string()], Status::ok())
        );
        let (r, s) = p.call("collect", Pattern::ClientStream, &["p", "q"]);
        assert_eq!((r, s), (vec!["a,xy,p,q".to_string()], Status::ok()));
        let (r, s) = p.call("chat", Pattern::Bidi, &["m", "n"]);
        assert_eq!(
            (r, s),
            (vec!["m".to_string(), "n".to_string()], Status::ok())
        );
        p.client.close();
        p.pump();
        assert!(p.app.closed);
        assert!(p.server.is_closed());
    }
}

#[test]
fn session_unary_success_has_no_trailer() {
    let mut p = SessionPair::new(4096);
    let id = p
        .client
        .start_call(&session_call("add", Pattern::Unary, "c"))
        .unwrap();
    p.client.send_message(id, &echo("a")).unwrap();
    let t = p.client.poll_transmit().unwrap();
    p.server.handle_data(&t.data, NOW);
    p.app.run(&mut p.server);
    let out = p.server.poll_transmit().unwrap();
    let mut d = FrameDecoder::new();
    d.push(&out.data).unwrap();
    let f = d.next_frame().unwrap().unwrap();
    assert_eq!(f.flags, Flags::NONE);
    assert!(
        d.next_frame().unwrap().is_none(),
        "no trailer after a successful session unary call"
    );
    assert!(!out.fin);
}

#[test]
fn session_cancel_and_out_of_order_frames() {
    // CANCEL mid-call: CANCELLED, and the session goes on.
    let mut p = SessionPair::new(7);
    p.app.hold = true;
    let id = p
        .client
        .start_call(&session_call("add", Pattern::Unary, "c"))
        .unwrap();
    p.client.send_message(id, &echo("a")).unwrap();
    p.pump();
    p.client.cancel_call(id).unwrap();
    p.pump();
    assert_eq!(p.outcome(id).1, Status::cancelled("cancelled"));
    assert_eq!(p.app.aborted.len(), 1);
    p.app.hold = false;
    let (r, s) = p.call("add", Pattern::Unary, &["b"]);
    assert_eq!((r, s), (vec!["b".to_string()], Status::ok()));

    // Server side: CALL while a call runs, CANCEL while idle, then a data frame while idle.
    let mut server = ServerStream::new(table());
    let mut h = echo_header("Tally", "");
    h.call_id = "s".into();
    let mut buf = BytesMut::from(&header_frame(&h)[..]);
    let call = |m: &str| CallHeader {
        method: m.into(),
        call_id: "c".into(),
        ..Default::default()
    };
    encode_frame(
        Flags::CALL,
        &call("add").encode(MessageForm::Xlang),
        &mut buf,
    )
    .unwrap();
    encode_frame(
        Flags::CALL,
        &call("add").encode(MessageForm::Xlang),
        &mut buf,
    )
    .unwrap();
    server.handle_data(&buf, NOW);
    let mut app = App {
        hold: true,
        ..Default::default()
    };
    app.run(&mut server);
    assert_eq!(app.calls.len(), 2);
    assert_eq!(
        app.aborted[0].1,
        Status::failed_precondition("CALL frame before request")
    );
    assert_eq!(
        trailer_of(&server.poll_transmit().unwrap().data),
        Status::failed_precondition("CALL frame before request")
    );
    buf.clear();
    encode_frame(Flags::CANCEL, b"", &mut buf).unwrap();
    encode_frame(Flags::CANCEL, b"", &mut buf).unwrap();
    server.handle_data(&buf, NOW);
    app.run(&mut server);
    let t = server.poll_transmit().unwrap();
    let mut d = FrameDecoder::new();
    d.push(&t.data).unwrap();
    for _ in 0..2 {
        let f = d.next_frame().unwrap().unwrap();
        assert_eq!(RpcStatus::decode(&f.payload).unwrap().0.code, 1);
    }
    buf.clear();
    encode_frame(Flags::NONE, b"x", &mut buf).unwrap();
    server.handle_data(&buf, NOW);
    app.run(&mut server);
    let t = server.poll_transmit().unwrap();
    assert_eq!(
        trailer_of(&t.data),
        Status::failed_precondition("Expected CALL frame")
    );
    assert!(t.fin && app.closed);
}

#[test]
fn session_errors_that_end_or_keep_the_session() {
    let open = || {
        let mut h = echo_header("Tally", "");
        h.call_id = "s".into();
        BytesMut::from(&header_frame(&h)[..])
    };
    let call = |m: &str| CallHeader {
        method: m.into(),
        call_id: "c".into(),
        ..Default::default()
    };

    let mut buf = open();
    encode_frame(
        Flags::CALL,
        &call("nope").encode(MessageForm::Xlang),
        &mut buf,
    )
    .unwrap();
    let (s, server) = refuse(&buf, false);
    assert_eq!(s, Status::unimplemented("Method not found: nope"));
    assert!(server.is_closed());

    let mut buf = open();
    encode_frame(Flags::CALL, b"\x02\xffbad", &mut buf).unwrap();
    let (s, _) = refuse(&buf, false);
    assert_eq!(s.code, StatusCode::Internal);
    assert!(s.message.starts_with("Invalid CallHeader"));

    let mut buf = open();
    let mut c = call("add");
    c.metadata_keys = (0..65).map(|i| i.to_string()).collect();
    c.metadata_values = c.metadata_keys.clone();
    encode_frame(Flags::CALL, &c.encode(MessageForm::Xlang), &mut buf).unwrap();
    let (s, _) = refuse(&buf, false);
    assert_eq!(s.code, StatusCode::ResourceExhausted);

    // An authorization refusal keeps the session open.
    let mut p = SessionPair::new(64);
    p.app.deny = Some(Status::permission_denied("no"));
    let (_, s) = p.call("add", Pattern::Unary, &["a"]);
    assert_eq!(s, Status::permission_denied("no"));
    p.app.deny = None;
    let (r, s) = p.call("add", Pattern::Unary, &["a"]);
    assert_eq!((r, s), (vec!["a".to_string()], Status::ok()));

    // Non-OK EoI trailer in a session client stream.
    let mut buf = open();
    encode_frame(
        Flags::CALL,
        &call("collect").encode(MessageForm::Xlang),
        &mut buf,
    )
    .unwrap();
    let bad = RpcStatus {
        code: 2,
        ..Default::default()
    };
    encode_frame(Flags::TRAILER, &bad.encode(MessageForm::Xlang), &mut buf).unwrap();
    let mut server = ServerStream::new(table());
    server.handle_data(&buf, NOW);
    App::default().run(&mut server);
    let t = server.poll_transmit().unwrap();
    assert_eq!(
        trailer_of(&t.data),
        Status::internal("client sent non-OK EoI trailer (code=2)")
    );
    assert!(!t.fin, "the session survives");
}

#[test]
fn session_refusals_skip_the_refused_calls_request_frames() {
    let mut h = echo_header("Tally", "");
    h.call_id = "s".into();
    let mut buf = BytesMut::from(&header_frame(&h)[..]);
    let expired = CallHeader {
        method: "collect".into(),
        deadline_epoch_ms: (NOW - 1) as i64,
        ..Default::default()
    };
    encode_frame(Flags::CALL, &expired.encode(MessageForm::Xlang), &mut buf).unwrap();
    for m in ["a", "b"] {
        aster_proto::codec::encode_message_frame(&echo(m), SerializationMode::Xlang, &mut buf)
            .unwrap();
    }
    encode_frame(
        Flags::TRAILER,
        &RpcStatus::ok().encode(MessageForm::Xlang),
        &mut buf,
    )
    .unwrap();
    encode_frame(
        Flags::CALL,
        &CallHeader {
            method: "add".into(),
            ..Default::default()
        }
        .encode(MessageForm::Xlang),
        &mut buf,
    )
    .unwrap();
    aster_proto::codec::encode_message_frame(&echo("c"), SerializationMode::Xlang, &mut buf)
        .unwrap();
    let mut server = ServerStream::new(table());
    server.handle_data(&buf, NOW);
    let mut app = App::default();
    app.run(&mut server);
    assert_eq!(
        app.received,
        ["c"],
        "the refused call's frames were dropped, the next call ran"
    );
    let t = server.poll_transmit().unwrap();
    assert!(!t.fin);
    let mut d = FrameDecoder::new();
    d.push(&t.data).unwrap();
    let first = d.next_frame().unwrap().unwrap();
    assert_eq!(
        RpcStatus::decode(&first.payload).unwrap().0.to_status(),
        Status::deadline_exceeded("deadline exceeded")
    );
    assert_eq!(d.next_frame().unwrap().unwrap().flags, Flags::NONE);

    // A client-stream call refused by authorization: its items are dropped too.
    let mut p = SessionPair::new(3);
    p.app.deny = Some(Status::permission_denied("no"));
    let (_, s) = p.call("collect", Pattern::ClientStream, &["x", "y"]);
    assert_eq!(s, Status::permission_denied("no"));
    p.app.deny = None;
    let (r, s) = p.call("add", Pattern::Unary, &["z"]);
    assert_eq!((r, s), (vec!["z".to_string()], Status::ok()));
}

#[test]
fn a_call_whose_request_never_comes_still_times_out() {
    let mut h = echo_header("Echo", "echo");
    h.deadline_epoch_ms = (NOW + 50) as i64;
    let mut server = ServerStream::new(table());
    server.handle_data(&header_frame(&h), NOW);
    server.handle_timeout(NOW + 50);
    let mut app = App::default();
    app.run(&mut server);
    assert_eq!(app.aborted[0].1.code, StatusCode::DeadlineExceeded);
    assert_eq!(
        trailer_of(&server.poll_transmit().unwrap().data).code,
        StatusCode::DeadlineExceeded
    );
}

#[test]
fn session_header_bytes_match_the_reference() {
    // wire.md §9.2: a session opens with method "" and the real version.
    let mut req = request("", Pattern::Unary);
    req.service = "Tally".into();
    req.call_id = "x".into();
    let mut s = ClientSession::new(&req);
    let t = s.poll_transmit().unwrap();
    let mut d = FrameDecoder::new();
    d.push(&t.data).unwrap();
    let f = d.next_frame().unwrap().unwrap();
    assert_eq!(f.flags, Flags::HEADER);
    let (h, _) = StreamHeader::decode(&f.payload).unwrap();
    assert_eq!(
        (h.service.as_str(), h.method.as_str(), h.call_id.as_str()),
        ("Tally", "", "x")
    );
    // §9.2 CALL frame payload for method "add".
    let id = s
        .start_call(&session_call("add", Pattern::Unary, "e".repeat(36)))
        .unwrap();
    let _ = id;
    let t = s.poll_transmit().unwrap();
    let mut d = FrameDecoder::new();
    d.push(&t.data).unwrap();
    let f = d.next_frame().unwrap().unwrap();
    assert_eq!(f.flags, Flags::CALL);
    let want_prefix = unhex("02ff1d08016c1299221002380165c22001888871258679 00 9001");
    assert_eq!(&f.payload[..want_prefix.len()], &want_prefix[..]);
    assert_eq!(
        &f.payload[want_prefix.len() + 36..],
        &unhex("0c616464 00 00")[..]
    );
}

#[test]
fn stale_ids_are_refused() {
    let mut server = ServerStream::new(table());
    let mut buf = BytesMut::from(&header_frame(&echo_header("Echo", "echo"))[..]);
    aster_proto::codec::encode_message_frame(&echo("x"), SerializationMode::Xlang, &mut buf)
        .unwrap();
    server.handle_data(&buf, NOW);
    assert!(server.complete(CallId(99), Ok(())).is_err());
    assert!(server.poll_transmit().is_none());
    let _ = Bytes::new();
}

/// A draining server resets a new stream with code 8 before reading it.
/// A session on such a stream processed nothing: its call fails with the
/// refused message (retryable anywhere); any other code is a plain reset.
#[test]
fn refused_session_stream_says_nothing_was_processed() {
    for (code, message) in [
        (
            u64::from(aster_proto::call::STREAM_REFUSED_CODE),
            aster_proto::call::REFUSED_MESSAGE,
        ),
        (1, "session stream reset by peer"),
    ] {
        let mut req = request("", Pattern::Unary);
        req.service = "Tally".into();
        let mut client = ClientSession::new(&req);
        let id = client
            .start_call(&session_call("add", Pattern::Unary, "c"))
            .unwrap();
        client.send_message(id, &echo("1")).unwrap();
        while client.poll_transmit().is_some() {}
        client.handle_reset_code(code);
        let events: Vec<_> = std::iter::from_fn(|| client.poll_event()).collect();
        let expected = Status::unavailable(message);
        assert_eq!(
            events,
            vec![
                SessionEvent::Done {
                    id,
                    status: expected.clone()
                },
                SessionEvent::Closed(expected),
            ],
            "code {code}"
        );
        assert!(
            client
                .start_call(&session_call("add", Pattern::Unary, "d"))
                .is_err(),
            "a failed session takes no more calls"
        );
    }
}
