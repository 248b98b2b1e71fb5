//! Client side of a G1 session stream (spec §3.6).
//!
//! One long-lived stream opened by a HEADER with `method = ""`; calls run one
//! at a time, each started by a CALL frame. A successful unary or
//! client-stream call ends with its single response (no trailer); streaming
//! responses end with a trailer; client-stream and bidi requests end with an
//! explicit TRAILER(OK). Cancelling sends CANCEL; the server ends the call
//! with one trailer (CANCELLED, or the call's outcome if it ended first),
//! which this side absorbs before the next call's frames.

use std::collections::VecDeque;

use bytes::Bytes;

use super::client::CallRequest;
use super::outbox::{Outbox, Transmit};
use super::{CallError, CallId, Pattern};
use crate::SmallString;
use crate::codec::{Message, SerializationMode, payload_bytes};
use crate::frame::{Flags, Frame, FrameDecoder};
use crate::message::{CallHeader, MessageForm, RpcStatus};
use crate::status::Status;

/// A call to start on the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionCall {
    pub method: String,
    pub pattern: Pattern,
    pub call_id: String,
    /// Enforced locally; the reference's client sends 0 in the CallHeader and
    /// so does this one unless set.
    pub deadline_epoch_ms: Option<u64>,
    pub metadata: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    Response {
        id: CallId,
        payload: Bytes,
    },
    /// Call `id` is over; exactly once per call.
    Done {
        id: CallId,
        status: Status,
    },
    /// The server ended the session (with the status it sent, if any).
    Closed(Status),
}

#[derive(Debug)]
struct Current {
    id: CallId,
    pattern: Pattern,
    requests: u64,
    responses: u64,
    request_finished: bool,
    deadline: Option<u64>,
}

#[derive(Debug)]
pub struct ClientSession {
    mode: SerializationMode,
    form: MessageForm,
    decoder: FrameDecoder,
    out: Outbox,
    events: VecDeque<SessionEvent>,
    current: Option<Current>,
    /// CANCEL frames sent whose CANCELLED trailer has not come back yet.
    unacked_cancels: u32,
    next_id: u64,
    closed: bool,
}

impl ClientSession {
    /// Opens the session: queues the HEADER (`request.method` is ignored and
    /// sent empty; `request.call_id` is the session id).
    pub fn new(request: &CallRequest) -> ClientSession {
        let form = if request.mode.is_json() {
            MessageForm::Json
        } else {
            MessageForm::Xlang
        };
        let mut header = request.header();
        header.method = SmallString::default();
        header.deadline_epoch_ms = 0;
        let mut out = Outbox::with_capacity(256);
        out.protocol(Flags::HEADER, &header, form);
        ClientSession {
            mode: request.mode,
            form,
            decoder: FrameDecoder::new(),
            out,
            events: VecDeque::new(),
            current: None,
            unacked_cancels: 0,
            next_id: 0,
            closed: false,
        }
    }

    pub fn mode(&self) -> SerializationMode {
        self.mode
    }

    /// Starts a call; fails while another is in progress.
    pub fn start_call(&mut self, call: &SessionCall) -> Result<CallId, CallError> {
        if self.closed || self.out.is_finished() {
            return Err(CallError::SessionClosed);
        }
        if self.current.is_some() {
            return Err(CallError::Busy);
        }
        let (metadata_keys, metadata_values) = call.metadata.iter().cloned().unzip();
        let header = CallHeader {
            method: SmallString::new(&call.method),
            call_id: call.call_id.clone(),
            deadline_epoch_ms: 0,
            metadata_keys,
            metadata_values,
        };
        self.out.protocol(Flags::CALL, &header, self.form);
        self.next_id += 1;
        let id = CallId(self.next_id);
        self.current = Some(Current {
            id,
            pattern: call.pattern,
            requests: 0,
            responses: 0,
            request_finished: false,
            deadline: call.deadline_epoch_ms,
        });
        Ok(id)
    }

    fn current_mut(&mut self, id: CallId) -> Result<&mut Current, CallError> {
        match &mut self.current {
            Some(c) if c.id == id => Ok(c),
            Some(_) => Err(CallError::NotCurrent(id)),
            None => Err(CallError::Ended),
        }
    }

    fn before_send(&mut self, id: CallId) -> Result<(), CallError> {
        let c = self.current_mut(id)?;
        if c.request_finished {
            return Err(CallError::SendFinished);
        }
        if !c.pattern.client_streams() && c.requests == 1 {
            return Err(CallError::SingleMessage {
                pattern: c.pattern,
                what: "request",
            });
        }
        c.requests += 1;
        if !c.pattern.client_streams() {
            c.request_finished = true;
        }
        Ok(())
    }

    pub fn send_message<T: Message>(&mut self, id: CallId, value: &T) -> Result<(), CallError> {
        self.before_send(id)?;
        self.out.message(value, self.mode)?;
        Ok(())
    }

    pub fn send_payload(&mut self, id: CallId, payload: &[u8]) -> Result<(), CallError> {
        self.before_send(id)?;
        self.out.raw_message(payload, self.mode)?;
        Ok(())
    }

    /// Sends one request message that `encode` frames itself.
    pub fn send_with(
        &mut self,
        id: CallId,
        encode: impl FnOnce(
            SerializationMode,
            &mut crate::frame::FrameBuf,
        ) -> Result<(), crate::frame::FrameError>,
    ) -> Result<(), CallError> {
        self.before_send(id)?;
        self.out.with(self.mode, encode)?;
        Ok(())
    }

    /// Ends the request side of a client-stream or bidi call with TRAILER(OK).
    pub fn finish_sending(&mut self, id: CallId) -> Result<(), CallError> {
        let c = self.current_mut(id)?;
        if !c.pattern.client_streams() {
            return Err(CallError::SingleMessage {
                pattern: c.pattern,
                what: "request",
            });
        }
        if c.request_finished {
            return Err(CallError::SendFinished);
        }
        c.request_finished = true;
        let form = self.form;
        self.out.protocol(Flags::TRAILER, &RpcStatus::ok(), form);
        Ok(())
    }

    /// Cancels call `id`: sends CANCEL and ends the call now.
    pub fn cancel_call(&mut self, id: CallId) -> Result<(), CallError> {
        self.current_mut(id)?;
        self.abandon(Status::cancelled("cancelled"));
        Ok(())
    }

    /// Ends the session (finishes the send side). A call in progress is
    /// cancelled locally.
    pub fn close(&mut self) {
        if let Some(c) = self.current.take() {
            self.events.push_back(SessionEvent::Done {
                id: c.id,
                status: Status::cancelled("session closed"),
            });
        }
        self.out.finish();
    }

    fn abandon(&mut self, status: Status) {
        if let Some(c) = self.current.take() {
            self.out.empty(Flags::CANCEL);
            self.unacked_cancels += 1;
            self.events
                .push_back(SessionEvent::Done { id: c.id, status });
        }
    }

    pub fn handle_data(&mut self, data: &[u8]) {
        if self.closed {
            return;
        }
        if let Err(e) = self.decoder.push(data) {
            return self.fail_session(Status::internal(e.to_string()));
        }
        while !self.closed {
            match self.decoder.next_frame() {
                Ok(Some(frame)) => self.on_frame(frame),
                Ok(None) => return,
                Err(e) => return self.fail_session(Status::internal(e.to_string())),
            }
        }
    }

    pub fn handle_fin(&mut self) {
        self.fail_session(Status::unavailable("session ended by the server"));
    }

    pub fn handle_reset(&mut self) {
        self.fail_session(Status::unavailable("session stream reset by peer"));
    }

    /// The peer reset its side with `code`. [`super::STREAM_REFUSED_CODE`]
    /// means the server refused the stream before reading it (draining), so
    /// no call of this session was processed: the failure says so, as for
    /// shared calls ([`super::REFUSED_MESSAGE`]).
    pub fn handle_reset_code(&mut self, code: u64) {
        if code == u64::from(super::STREAM_REFUSED_CODE) {
            self.fail_session(Status::unavailable(super::REFUSED_MESSAGE));
        } else {
            self.handle_reset();
        }
    }

    /// Cancels the current call when its deadline has passed.
    pub fn handle_timeout(&mut self, now_ms: u64) {
        if self
            .current
            .as_ref()
            .and_then(|c| c.deadline)
            .is_some_and(|d| now_ms >= d)
        {
            self.abandon(Status::deadline_exceeded("deadline exceeded"));
        }
    }

    pub fn poll_timeout(&self) -> Option<u64> {
        self.current.as_ref().and_then(|c| c.deadline)
    }

    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        self.events.pop_front()
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.poll()
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// True when no call is in progress.
    pub fn is_idle(&self) -> bool {
        self.current.is_none()
    }

    fn fail_session(&mut self, status: Status) {
        if self.closed {
            return;
        }
        if let Some(c) = self.current.take() {
            self.events.push_back(SessionEvent::Done {
                id: c.id,
                status: status.clone(),
            });
        }
        self.closed = true;
        self.events.push_back(SessionEvent::Closed(status));
    }

    fn on_frame(&mut self, frame: Frame) {
        let flags = frame.flags;
        if flags.contains(Flags::ROW_SCHEMA) {
            return;
        }
        if flags.contains(Flags::HEADER)
            || flags.contains(Flags::CALL)
            || flags.contains(Flags::CANCEL)
        {
            return self.fail_session(Status::internal(format!(
                "unexpected frame with flags {:#04x}",
                flags.bits()
            )));
        }
        if flags.contains(Flags::TRAILER) {
            let status = match RpcStatus::decode_status(&frame.payload) {
                Ok(s) => s,
                Err(e) => {
                    return self.fail_session(Status::internal(format!("malformed trailer: {e}")));
                }
            };
            // A cancelled call's frames end with one trailer, whatever its
            // code: CANCELLED, or the call's own outcome when it ended first
            // (the reference's server consumes a CANCEL during a bidi call as
            // the end of input and may answer OK).
            if self.unacked_cancels > 0 {
                self.unacked_cancels -= 1;
                return;
            }
            match self.current.take() {
                Some(c) => {
                    let status =
                        if status.is_ok() && !c.pattern.server_streams() && c.responses == 0 {
                            Status::internal("call ended without a response")
                        } else {
                            status
                        };
                    self.events
                        .push_back(SessionEvent::Done { id: c.id, status });
                }
                // A trailer outside any call: the server is ending the session.
                None => {
                    self.closed = true;
                    self.events.push_back(SessionEvent::Closed(status));
                }
            }
            return;
        }
        if self.unacked_cancels > 0 {
            return;
        }
        let Some(c) = self.current.as_mut() else {
            return self.fail_session(Status::internal("response frame outside a call"));
        };
        let id = c.id;
        let single = !c.pattern.server_streams();
        match payload_bytes(frame.payload, flags) {
            Ok(payload) => {
                c.responses += 1;
                self.events
                    .push_back(SessionEvent::Response { id, payload });
                if single {
                    // Spec §3.6: the single response is the success outcome.
                    self.current = None;
                    self.events.push_back(SessionEvent::Done {
                        id,
                        status: Status::ok(),
                    });
                }
            }
            Err(e) => {
                let status = e.to_status();
                self.abandon(status);
            }
        }
    }
}
