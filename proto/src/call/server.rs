//! Server side of one accepted stream (spec §3.5, §3.6).
//!
//! The first frame must be a HEADER. Its `method` decides the stream's kind:
//! a method name starts one shared call; `""` opens a G1 session, after which
//! calls arrive one at a time, each introduced by a CALL frame.
//!
//! The application learns of a call through [`ServerEvent::Call`], runs its
//! authorization and handler, and answers with [`ServerStream::send_message`]
//! and [`ServerStream::complete`]. Everything about frame order, trailers,
//! deadlines and limits is decided here; every path that ends a call queues
//! exactly one outcome on the wire (a trailer, or for a successful session
//! unary/client-stream call the single response).

use std::sync::Arc;

use bytes::Bytes;

use super::metadata::{check_metadata, pairs};
use super::outbox::{Outbox, Transmit, TransmitRef};
use super::route::{Route, Scope, ServiceTable};
use super::{CallError, CallId, Pattern};
use crate::codec::{Message, SerializationMode, payload_bytes};
use crate::frame::{Flags, Frame, FrameDecoder};
use crate::limits::{
    DEADLINE_SKEW_TOLERANCE_MS, MAX_CLIENT_STREAM_ITEMS, MAX_HANDLER_TIMEOUT_MS,
    MAX_METADATA_ENTRIES,
};
use crate::message::{CallHeader, MessageForm, ProtocolMessage, RpcStatus, StreamHeader};
use crate::small::InlineQueue;
use crate::status::{Status, StatusCode};

/// A call that passed routing and the pre-dispatch checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallInfo {
    pub id: CallId,
    pub route: Route,
    pub pattern: Pattern,
    pub mode: SerializationMode,
    /// The peer's call id text (may be empty).
    pub call_id: String,
    /// At most 64 pairs, in order; later duplicates override earlier ones.
    pub metadata: Vec<(String, String)>,
    /// The peer's deadline, absolute epoch milliseconds.
    pub deadline_epoch_ms: Option<u64>,
    /// Set for calls on a session stream.
    pub in_session: bool,
}

/// A session stream was opened: the application creates the service instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub service: usize,
    pub mode: SerializationMode,
    /// The session id the client chose (its `callId`).
    pub session_id: String,
    pub metadata: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerEvent {
    SessionOpen(SessionInfo),
    /// Run the handler of this call (after the application's authorization).
    Call(CallInfo),
    /// One request message (decompressed payload).
    Request {
        id: CallId,
        payload: Bytes,
    },
    /// No more request messages will come for the call.
    RequestEnd {
        id: CallId,
    },
    /// The call ended before its handler did (peer cancel, deadline, bad
    /// input); its trailer is queued. Stop the handler; later actions for
    /// this id are refused.
    Aborted {
        id: CallId,
        status: Status,
    },
    /// Nothing more will happen on this stream; write what is queued and drop it.
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Unary / server stream: the single request has not arrived.
    AwaitRequest,
    /// Client stream / bidi: request messages are flowing.
    Streaming,
    /// All request messages are in; the handler runs.
    RequestDone,
}

#[derive(Debug)]
struct Active {
    id: CallId,
    pattern: Pattern,
    phase: Phase,
    items: u64,
    /// When the handler must be done (epoch ms).
    deadline: u64,
    responded: bool,
}

#[derive(Debug)]
enum State {
    AwaitHeader,
    Shared(Active),
    SessionIdle {
        service: usize,
    },
    SessionCall {
        service: usize,
        call: Active,
    },
    /// A session call ended before its request side did (refused, timed
    /// out, over a limit): its request frames still in flight are dropped,
    /// up to the next CALL or CANCEL. `single` = one request message left
    /// to drop; otherwise drop until the end-of-input trailer.
    SessionSkip {
        service: usize,
        single: bool,
    },
    Done,
}

/// One server-side stream.
#[derive(Debug)]
pub struct ServerStream {
    table: Arc<ServiceTable>,
    decoder: FrameDecoder,
    out: Outbox,
    /// Usually a call, its request and its end: kept in place.
    events: InlineQueue<ServerEvent, 3>,
    state: State,
    mode: SerializationMode,
    /// Form of trailers: JSON for JSON-mode calls.
    form: MessageForm,
    next_id: u64,
    peer_finished: bool,
}

impl ServerStream {
    pub fn new(table: Arc<ServiceTable>) -> ServerStream {
        ServerStream {
            table,
            decoder: FrameDecoder::new(),
            out: Outbox::with_capacity(256),
            events: InlineQueue::new(),
            state: State::AwaitHeader,
            mode: SerializationMode::Xlang,
            form: MessageForm::Xlang,
            next_id: 0,
            peer_finished: false,
        }
    }

    /// Bytes received from the peer.
    pub fn handle_data(&mut self, data: &[u8], now_ms: u64) {
        if matches!(self.state, State::Done) {
            return;
        }
        let pushed = self.decoder.push(data);
        self.take_frames(pushed, now_ms);
    }

    /// [`ServerStream::handle_data`] for an owned chunk: frames inside it
    /// reach the application without being copied.
    pub fn handle_bytes(&mut self, data: Bytes, now_ms: u64) {
        if matches!(self.state, State::Done) {
            return;
        }
        let pushed = self.decoder.push_bytes(data);
        self.take_frames(pushed, now_ms);
    }

    fn take_frames(&mut self, pushed: Result<(), crate::frame::FrameError>, now_ms: u64) {
        if let Err(e) = pushed {
            self.protocol_error(Status::internal(e.to_string()));
            return;
        }
        loop {
            if matches!(self.state, State::Done) {
                return;
            }
            match self.decoder.next_frame() {
                Ok(Some(frame)) => self.on_frame(frame, now_ms),
                Ok(None) => return,
                Err(e) => {
                    self.protocol_error(Status::internal(e.to_string()));
                    return;
                }
            }
        }
    }

    /// The peer finished its send side.
    pub fn handle_fin(&mut self, _now_ms: u64) {
        if self.peer_finished || matches!(self.state, State::Done) {
            self.peer_finished = true;
            return;
        }
        self.peer_finished = true;
        if let Err(e) = self.decoder.finish() {
            self.protocol_error(Status::internal(e.to_string()));
            return;
        }
        match std::mem::replace(&mut self.state, State::Done) {
            State::AwaitHeader => self.close(),
            State::Shared(mut call) => match call.phase {
                Phase::AwaitRequest => {
                    self.state = State::Shared(call);
                    self.abort(Status::unavailable("Stream ended"));
                }
                Phase::Streaming => {
                    call.phase = Phase::RequestDone;
                    self.events
                        .push_back(ServerEvent::RequestEnd { id: call.id });
                    self.state = State::Shared(call);
                }
                Phase::RequestDone => self.state = State::Shared(call),
            },
            State::SessionIdle { .. } | State::SessionSkip { .. } => self.close(),
            State::SessionCall { service, mut call } => match call.phase {
                // The session closed before the call's request came: it
                // cannot complete.
                Phase::AwaitRequest => {
                    self.events.push_back(ServerEvent::Aborted {
                        id: call.id,
                        status: Status::cancelled("session closed"),
                    });
                    self.close();
                }
                // End of stream also ends the request side; the handler may
                // still answer, then the session closes.
                Phase::Streaming => {
                    call.phase = Phase::RequestDone;
                    self.events
                        .push_back(ServerEvent::RequestEnd { id: call.id });
                    self.state = State::SessionCall { service, call };
                }
                Phase::RequestDone => self.state = State::SessionCall { service, call },
            },
            State::Done => {}
        }
    }

    /// The peer reset its send side or the connection is gone: the current
    /// call (if any) is cancelled and the stream is over.
    pub fn handle_reset(&mut self) {
        if matches!(self.state, State::Done) {
            return;
        }
        if let Some(call) = self.active() {
            let id = call.id;
            self.events.push_back(ServerEvent::Aborted {
                id,
                status: Status::cancelled("stream reset by peer"),
            });
        }
        self.close();
    }

    /// Time has passed; ends a call whose handler outlived its deadline.
    pub fn handle_timeout(&mut self, now_ms: u64) {
        if let Some(call) = self.active() {
            if now_ms >= call.deadline {
                self.abort(Status::deadline_exceeded("deadline exceeded"));
            }
        }
    }

    /// When [`ServerStream::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.active().map(|c| c.deadline)
    }

    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.poll()
    }

    /// What [`ServerStream::poll_transmit`] would return next, borrowed;
    /// once it is written, [`ServerStream::advance_transmit`].
    pub fn peek_transmit(&self) -> Option<TransmitRef<'_>> {
        self.out.peek()
    }

    /// Drops what [`ServerStream::peek_transmit`] showed (it was written).
    pub fn advance_transmit(&mut self) {
        self.out.advance();
    }

    /// True once the stream is over (after [`ServerEvent::Closed`]).
    pub fn is_closed(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// The serialization mode of the stream's calls.
    pub fn mode(&self) -> SerializationMode {
        self.mode
    }

    /// Sends one response message of call `id`.
    pub fn send_message<T: Message>(&mut self, id: CallId, value: &T) -> Result<(), CallError> {
        self.before_send(id)?;
        let mode = self.mode;
        self.out.message(value, mode)?;
        self.after_send();
        Ok(())
    }

    /// Sends one response message already serialized in the stream's mode.
    pub fn send_payload(&mut self, id: CallId, payload: &[u8]) -> Result<(), CallError> {
        self.before_send(id)?;
        let mode = self.mode;
        self.out.raw_message(payload, mode)?;
        self.after_send();
        Ok(())
    }

    /// Sends one response message that `encode` frames itself (in `mode`):
    /// for type-erased messages, without an intermediate copy.
    pub fn send_with(
        &mut self,
        id: CallId,
        encode: impl FnOnce(
            SerializationMode,
            &mut crate::frame::FrameBuf,
        ) -> Result<(), crate::frame::FrameError>,
    ) -> Result<(), CallError> {
        self.before_send(id)?;
        let mode = self.mode;
        self.out.with(mode, encode)?;
        self.after_send();
        Ok(())
    }

    fn before_send(&mut self, id: CallId) -> Result<(), CallError> {
        let call = self.current(id)?;
        if !call.pattern.server_streams() && call.responded {
            return Err(CallError::SingleMessage {
                pattern: call.pattern,
                what: "response",
            });
        }
        Ok(())
    }

    fn after_send(&mut self) {
        if let Some(call) = self.active_mut() {
            call.responded = true;
        }
    }

    /// Ends call `id`: `Ok` after its response(s), or an error status (also
    /// the way to refuse a call, e.g. when authorization fails).
    pub fn complete(&mut self, id: CallId, result: Result<(), Status>) -> Result<(), CallError> {
        let call = self.current(id)?;
        let (pattern, responded) = (call.pattern, call.responded);
        let in_session = matches!(self.state, State::SessionCall { .. });
        match result {
            Ok(()) if !pattern.server_streams() && !responded => {
                self.finish_call(Some(Status::internal("handler returned no response")));
            }
            // Spec §3.6: a successful session unary / client-stream call ends
            // with its single response; no trailer.
            Ok(()) if in_session && !pattern.server_streams() => self.finish_call(None),
            Ok(()) => self.finish_call(Some(Status::ok())),
            Err(status) => self.finish_call(Some(status)),
        }
        Ok(())
    }

    fn current(&self, id: CallId) -> Result<&Active, CallError> {
        match self.active() {
            Some(call) if call.id == id => Ok(call),
            Some(_) => Err(CallError::NotCurrent(id)),
            None => Err(CallError::Ended),
        }
    }

    fn active(&self) -> Option<&Active> {
        match &self.state {
            State::Shared(call) | State::SessionCall { call, .. } => Some(call),
            _ => None,
        }
    }

    fn active_mut(&mut self) -> Option<&mut Active> {
        match &mut self.state {
            State::Shared(call) | State::SessionCall { call, .. } => Some(call),
            _ => None,
        }
    }

    /// Writes the call's outcome and moves on: a shared stream is finished, a
    /// session returns to waiting for the next CALL.
    fn finish_call(&mut self, status: Option<Status>) {
        if let Some(status) = &status {
            self.out.trailer(status, self.form);
        }
        match std::mem::replace(&mut self.state, State::Done) {
            State::SessionCall { service, call } if !self.peer_finished => {
                self.state = match call.phase {
                    Phase::RequestDone => State::SessionIdle { service },
                    Phase::AwaitRequest => State::SessionSkip {
                        service,
                        single: true,
                    },
                    Phase::Streaming => State::SessionSkip {
                        service,
                        single: false,
                    },
                };
            }
            _ => self.close(),
        }
    }

    /// Ends the current call early with `status` and tells the application.
    fn abort(&mut self, status: Status) {
        if let Some(call) = self.active() {
            let id = call.id;
            self.events.push_back(ServerEvent::Aborted {
                id,
                status: status.clone(),
            });
        }
        self.finish_call(Some(status));
    }

    /// A framing violation: the stream cannot be parsed any further.
    fn protocol_error(&mut self, status: Status) {
        if let Some(call) = self.active() {
            let id = call.id;
            self.events.push_back(ServerEvent::Aborted {
                id,
                status: status.clone(),
            });
        }
        self.out.trailer(&status, self.form);
        self.close();
    }

    fn close(&mut self) {
        self.state = State::Done;
        self.out.finish();
        self.events.push_back(ServerEvent::Closed);
    }

    /// Refuses the stream before any call started.
    fn refuse(&mut self, status: Status) {
        self.out.trailer(&status, self.form);
        self.close();
    }

    fn new_id(&mut self) -> CallId {
        self.next_id += 1;
        CallId(self.next_id)
    }

    fn on_frame(&mut self, frame: Frame, now_ms: u64) {
        match std::mem::replace(&mut self.state, State::Done) {
            State::AwaitHeader => self.on_header(frame, now_ms),
            State::Shared(call) => {
                self.state = State::Shared(call);
                self.on_call_frame(frame);
            }
            State::SessionIdle { service } => {
                self.state = State::SessionIdle { service };
                self.on_session_idle_frame(service, frame, now_ms);
            }
            State::SessionSkip { service, single } => {
                self.state = State::SessionIdle { service };
                let flags = frame.flags;
                if flags.contains(Flags::CALL) || flags.contains(Flags::CANCEL) {
                    self.on_session_idle_frame(service, frame, now_ms);
                } else if !single && !flags.contains(Flags::TRAILER) {
                    self.state = State::SessionSkip { service, single };
                }
            }
            State::SessionCall { service, call } => {
                self.state = State::SessionCall { service, call };
                if frame.flags.contains(Flags::CALL) {
                    let what = match self.active().map(|c| c.phase) {
                        Some(Phase::AwaitRequest) => "CALL frame before request",
                        _ => "CALL received during active call",
                    };
                    self.abort(Status::failed_precondition(what));
                    self.on_session_idle_frame(service, frame, now_ms);
                } else if frame.flags.contains(Flags::CANCEL) {
                    self.abort(Status::cancelled("cancelled"));
                } else {
                    self.on_call_frame(frame);
                }
            }
            State::Done => {}
        }
    }

    fn on_header(&mut self, frame: Frame, now_ms: u64) {
        if !frame.flags.contains(Flags::HEADER) {
            return self.refuse(Status::internal("First frame must have HEADER flag"));
        }
        let header = match StreamHeader::decode(&frame.payload) {
            Ok((h, _)) => h,
            Err(_) => {
                self.form = MessageForm::sniff(&frame.payload);
                return self.refuse(Status::internal("Invalid StreamHeader"));
            }
        };
        let mode = SerializationMode::from_i64(header.serialization_mode);
        if mode == Some(SerializationMode::Json) {
            self.form = MessageForm::Json;
        }
        if header.service.is_empty() {
            return self.refuse(Status::invalid_argument("Missing service name"));
        }
        let service = match self.table.find_service(&header.service, header.version) {
            Ok(s) => s,
            Err(status) => return self.refuse(status),
        };
        let Some(spec) = self.table.service(service) else {
            return self.refuse(Status::internal("service table changed"));
        };
        let session_stream = header.method.is_empty();
        match (spec.scope, session_stream) {
            (Scope::Session, false) => {
                return self.refuse(Status::failed_precondition(format!(
                    "'{}' is session-scoped: open a session stream (method='') instead of calling method '{}' directly",
                    header.service, header.method
                )));
            }
            (Scope::Shared, true) => {
                return self.refuse(Status::failed_precondition(format!(
                    "'{}' is shared: send a method name instead of opening a session stream (method='')",
                    header.service
                )));
            }
            _ => {}
        }
        let method = if session_stream {
            None
        } else {
            match self.table.find_method(service, &header.method) {
                Some(m) => Some(m),
                None => {
                    return self.refuse(Status::unimplemented(format!(
                        "Method '{}.{}' not implemented",
                        header.service, header.method
                    )));
                }
            }
        };
        let mode = match mode {
            Some(m) if self.table.accepts_mode(service, m) => m,
            _ => {
                return self.refuse(Status::invalid_argument(format!(
                    "Unsupported serialization mode: {}",
                    header.serialization_mode
                )));
            }
        };
        self.mode = mode;
        // Spec §3.8: on a shared stream the reference keeps the first 64
        // pairs; the size limits are enforced (stricter than the reference).
        let mut keys = header.metadata_keys;
        let mut values = header.metadata_values;
        keys.truncate(MAX_METADATA_ENTRIES);
        values.truncate(MAX_METADATA_ENTRIES);
        if let Err(e) = check_metadata(&keys, &values) {
            return self.refuse(Status::resource_exhausted(e.to_string()));
        }
        let metadata = pairs(&keys, &values);

        let Some(method) = method else {
            self.events.push_back(ServerEvent::SessionOpen(SessionInfo {
                service,
                mode,
                session_id: header.call_id,
                metadata,
            }));
            self.state = State::SessionIdle { service };
            return;
        };
        let deadline = match deadline_of(header.deadline_epoch_ms, now_ms) {
            Ok(d) => d,
            Err(status) => return self.refuse(status),
        };
        let route = Route { service, method };
        let Some(pattern) = self.table.method(route).map(|m| m.pattern) else {
            return self.refuse(Status::internal("service table changed"));
        };
        let id = self.new_id();
        self.state = State::Shared(Active {
            id,
            pattern,
            phase: if pattern.client_streams() {
                Phase::Streaming
            } else {
                Phase::AwaitRequest
            },
            items: 0,
            deadline: handler_deadline(deadline, now_ms),
            responded: false,
        });
        self.events.push_back(ServerEvent::Call(CallInfo {
            id,
            route,
            pattern,
            mode,
            call_id: header.call_id,
            metadata,
            deadline_epoch_ms: deadline,
            in_session: false,
        }));
    }

    fn on_session_idle_frame(&mut self, service: usize, frame: Frame, now_ms: u64) {
        if frame.flags.contains(Flags::CANCEL) {
            // Spec §3.6: a CANCEL with no call in flight is answered anyway.
            self.out.trailer(&Status::cancelled("cancelled"), self.form);
            return;
        }
        if !frame.flags.contains(Flags::CALL) {
            return self.refuse(Status::failed_precondition("Expected CALL frame"));
        }
        let header = match CallHeader::decode(&frame.payload) {
            Ok((h, _)) => h,
            Err(e) => return self.refuse(Status::internal(format!("Invalid CallHeader: {e}"))),
        };
        let Some(method) = self.table.find_method(service, &header.method) else {
            return self.refuse(Status::unimplemented(format!(
                "Method not found: {}",
                header.method
            )));
        };
        if let Err(e) = check_metadata(&header.metadata_keys, &header.metadata_values) {
            return self.refuse(Status::resource_exhausted(e.to_string()));
        }
        let route = Route { service, method };
        let Some(pattern) = self.table.method(route).map(|m| m.pattern) else {
            return self.refuse(Status::internal("service table changed"));
        };
        let deadline = match deadline_of(header.deadline_epoch_ms, now_ms) {
            Ok(d) => d,
            Err(status) => {
                // The call is refused; the session goes on, dropping the
                // call's request frames already on their way.
                self.out.trailer(&status, self.form);
                self.state = State::SessionSkip {
                    service,
                    single: !pattern.client_streams(),
                };
                return;
            }
        };
        let id = self.new_id();
        self.state = State::SessionCall {
            service,
            call: Active {
                id,
                pattern,
                phase: if pattern.client_streams() {
                    Phase::Streaming
                } else {
                    Phase::AwaitRequest
                },
                items: 0,
                deadline: handler_deadline(deadline, now_ms),
                responded: false,
            },
        };
        self.events.push_back(ServerEvent::Call(CallInfo {
            id,
            route,
            pattern,
            mode: self.mode,
            call_id: header.call_id,
            metadata: pairs(&header.metadata_keys, &header.metadata_values),
            deadline_epoch_ms: deadline,
            in_session: true,
        }));
    }

    /// A frame for the active call (CALL/CANCEL on sessions handled above).
    fn on_call_frame(&mut self, frame: Frame) {
        let in_session = matches!(self.state, State::SessionCall { .. });
        let Some(call) = self.active_mut() else {
            return;
        };
        let (id, pattern, phase) = (call.id, call.pattern, call.phase);
        let flags = frame.flags;
        if flags.contains(Flags::CANCEL) {
            // Spec §3.5: CANCEL on a shared stream is ignored.
            return;
        }
        if flags.contains(Flags::ROW_SCHEMA) {
            return;
        }
        if flags.contains(Flags::HEADER) || flags.contains(Flags::CALL) {
            return self.abort(Status::internal(
                "unexpected HEADER or CALL frame during a call",
            ));
        }
        match phase {
            Phase::RequestDone => {}
            Phase::AwaitRequest => {
                if flags.contains(Flags::TRAILER) {
                    let status = if in_session {
                        Status::internal("TRAILER frame before request")
                    } else {
                        Status::unavailable("Unexpected trailer")
                    };
                    return self.abort(status);
                }
                match payload_bytes(frame.payload, flags) {
                    Ok(payload) => {
                        if let Some(call) = self.active_mut() {
                            call.phase = Phase::RequestDone;
                        }
                        self.events.push_back(ServerEvent::Request { id, payload });
                        self.events.push_back(ServerEvent::RequestEnd { id });
                    }
                    Err(e) => self.abort(e.to_status()),
                }
            }
            Phase::Streaming => {
                if flags.contains(Flags::TRAILER) {
                    if pattern == Pattern::ClientStream || in_session {
                        match RpcStatus::decode(&frame.payload) {
                            Ok((s, _)) if s.code == 0 => {}
                            Ok((s, _)) => {
                                return self.abort(Status::internal(format!(
                                    "client sent non-OK EoI trailer (code={})",
                                    s.code
                                )));
                            }
                            Err(_) => return self.abort(Status::internal("malformed EoI trailer")),
                        }
                    }
                    if let Some(call) = self.active_mut() {
                        call.phase = Phase::RequestDone;
                    }
                    self.events.push_back(ServerEvent::RequestEnd { id });
                    return;
                }
                if pattern == Pattern::ClientStream && call.items >= MAX_CLIENT_STREAM_ITEMS {
                    return self.abort(Status::resource_exhausted(format!(
                        "client stream exceeded {MAX_CLIENT_STREAM_ITEMS} items"
                    )));
                }
                call.items += 1;
                match payload_bytes(frame.payload, flags) {
                    Ok(payload) => self.events.push_back(ServerEvent::Request { id, payload }),
                    Err(e) => self.abort(e.to_status()),
                }
            }
        }
    }
}

/// Spec §3.8: a deadline that has passed is refused on receipt, with the
/// reference's two messages (past the 5 s skew tolerance, and within it).
/// Returns the deadline (None = none given).
fn deadline_of(deadline_epoch_ms: i64, now_ms: u64) -> Result<Option<u64>, Status> {
    if deadline_epoch_ms <= 0 {
        return Ok(None);
    }
    let deadline = deadline_epoch_ms as u64;
    if now_ms > deadline.saturating_add(DEADLINE_SKEW_TOLERANCE_MS) {
        return Err(Status::new(
            StatusCode::DeadlineExceeded,
            format!(
                "deadline already expired on receipt (now={now_ms}, deadline={deadline}, skew_tolerance={DEADLINE_SKEW_TOLERANCE_MS}ms)"
            ),
        ));
    }
    if now_ms > deadline {
        return Err(Status::deadline_exceeded("deadline exceeded"));
    }
    Ok(Some(deadline))
}

/// The handler's time: the peer's deadline, capped at 300 s from now.
fn handler_deadline(deadline: Option<u64>, now_ms: u64) -> u64 {
    let cap = now_ms.saturating_add(MAX_HANDLER_TIMEOUT_MS);
    deadline.map_or(cap, |d| d.min(cap))
}
