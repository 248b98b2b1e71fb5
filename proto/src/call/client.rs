//! Client side of one shared call on its own stream (spec §3.5).
//!
//! The HEADER frame is queued at creation. Unary and server-stream calls send
//! exactly one request, which also finishes the send side; client-stream and
//! bidi calls send any number and finish with [`ClientCall::finish_sending`]
//! (G1 has no client trailer: the half-close ends the input). The call ends
//! with exactly one [`ClientEvent::Done`].

use bytes::Bytes;

use super::outbox::{Outbox, Transmit, TransmitRef};
use super::{CallError, Pattern};
use crate::SmallString;
use crate::codec::{Message, SerializationMode, payload_bytes};
use crate::frame::{Flags, Frame, FrameDecoder};
use crate::message::{MessageForm, RpcStatus, StreamHeader};
use crate::small::InlineQueue;
use crate::status::Status;

/// What to call and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRequest {
    pub service: SmallString,
    pub method: SmallString,
    /// Service version; the reference's clients always send 1.
    pub version: i64,
    pub pattern: Pattern,
    pub mode: SerializationMode,
    /// Empty for unary calls, a UUID for streams (the caller supplies it:
    /// this crate has no randomness).
    pub call_id: String,
    /// Absolute epoch milliseconds.
    pub deadline_epoch_ms: Option<u64>,
    pub metadata: Vec<(String, String)>,
}

impl CallRequest {
    pub(crate) fn header(&self) -> StreamHeader {
        self.clone().into_header()
    }

    fn into_header(self) -> StreamHeader {
        let (metadata_keys, metadata_values) = self.metadata.into_iter().unzip();
        StreamHeader {
            service: self.service,
            method: self.method,
            version: self.version,
            call_id: self.call_id,
            deadline_epoch_ms: self.deadline_epoch_ms.map_or(0, |d| d as i64),
            serialization_mode: self.mode as i64,
            metadata_keys,
            metadata_values,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// One response message (decompressed payload).
    Response(Bytes),
    /// The call is over; the only terminal event.
    Done(Status),
}

/// One client call.
#[derive(Debug)]
pub struct ClientCall {
    pattern: Pattern,
    mode: SerializationMode,
    decoder: FrameDecoder,
    out: Outbox,
    /// Usually a response and the outcome: kept in place.
    events: InlineQueue<ClientEvent, 2>,
    deadline: Option<u64>,
    requests: u64,
    responses: u64,
    done: bool,
    /// The call ended here (cancel, deadline, bad input), not by the peer's
    /// trailer: the runtime should reset the stream rather than wait for it.
    ended_locally: bool,
}

impl ClientCall {
    pub fn new(request: &CallRequest) -> ClientCall {
        ClientCall::from_request(request.clone())
    }

    /// [`ClientCall::new`], taking the request: its strings move into the
    /// header instead of being copied.
    pub fn from_request(request: CallRequest) -> ClientCall {
        let mut out = Outbox::with_capacity(128);
        let form = if request.mode.is_json() {
            MessageForm::Json
        } else {
            MessageForm::Xlang
        };
        let (pattern, mode, deadline) = (request.pattern, request.mode, request.deadline_epoch_ms);
        out.protocol(Flags::HEADER, &request.into_header(), form);
        ClientCall {
            pattern,
            mode,
            decoder: FrameDecoder::new(),
            out,
            events: InlineQueue::new(),
            deadline,
            requests: 0,
            responses: 0,
            done: false,
            ended_locally: false,
        }
    }

    pub fn pattern(&self) -> Pattern {
        self.pattern
    }

    pub fn mode(&self) -> SerializationMode {
        self.mode
    }

    /// Sends one request message.
    pub fn send_message<T: Message>(&mut self, value: &T) -> Result<(), CallError> {
        self.before_send()?;
        self.out.message(value, self.mode)?;
        self.after_send();
        Ok(())
    }

    /// Sends one request message already serialized in the call's mode.
    pub fn send_payload(&mut self, payload: &[u8]) -> Result<(), CallError> {
        self.before_send()?;
        self.out.raw_message(payload, self.mode)?;
        self.after_send();
        Ok(())
    }

    /// Sends one request message that `encode` frames itself.
    pub fn send_with(
        &mut self,
        encode: impl FnOnce(
            SerializationMode,
            &mut crate::frame::FrameBuf,
        ) -> Result<(), crate::frame::FrameError>,
    ) -> Result<(), CallError> {
        self.before_send()?;
        self.out.with(self.mode, encode)?;
        self.after_send();
        Ok(())
    }

    fn before_send(&self) -> Result<(), CallError> {
        if self.done {
            return Err(CallError::Ended);
        }
        if self.out.is_finished() {
            return Err(CallError::SendFinished);
        }
        Ok(())
    }

    fn after_send(&mut self) {
        self.requests += 1;
        if !self.pattern.client_streams() {
            self.out.finish();
        }
    }

    /// Ends the request side (client stream, bidi). For a unary or server-stream call that has
    /// not sent its request this is an error.
    pub fn finish_sending(&mut self) -> Result<(), CallError> {
        if !self.pattern.client_streams() && self.requests == 0 {
            return Err(CallError::SingleMessage {
                pattern: self.pattern,
                what: "request",
            });
        }
        self.out.finish();
        Ok(())
    }

    /// Abandons the call; the runtime resets the stream.
    pub fn cancel(&mut self) {
        self.end_locally(Status::cancelled("cancelled"));
    }

    /// Ends the call with a local error (e.g. a response that failed to decode).
    pub fn fail(&mut self, status: Status) {
        self.end_locally(status);
    }

    pub fn handle_data(&mut self, data: &[u8]) {
        if self.done {
            return;
        }
        let pushed = self.decoder.push(data);
        self.take_frames(pushed);
    }

    /// [`ClientCall::handle_data`] for an owned chunk: frames inside it
    /// reach the application without being copied.
    pub fn handle_bytes(&mut self, data: Bytes) {
        if self.done {
            return;
        }
        let pushed = self.decoder.push_bytes(data);
        self.take_frames(pushed);
    }

    fn take_frames(&mut self, pushed: Result<(), crate::frame::FrameError>) {
        if let Err(e) = pushed {
            return self.end_locally(Status::internal(e.to_string()));
        }
        while !self.done {
            match self.decoder.next_frame() {
                Ok(Some(frame)) => self.on_frame(frame),
                Ok(None) => return,
                Err(e) => return self.end_locally(Status::internal(e.to_string())),
            }
        }
    }

    pub fn handle_fin(&mut self) {
        if !self.done {
            self.end_locally(Status::unavailable("stream ended before trailer"));
        }
    }

    pub fn handle_reset(&mut self) {
        if !self.done {
            self.end_locally(Status::unavailable("stream reset by peer"));
        }
    }

    /// The peer reset its side with `code`; [`super::STREAM_REFUSED_CODE`]
    /// means it refused the call unprocessed ([`super::REFUSED_MESSAGE`]).
    pub fn handle_reset_code(&mut self, code: u64) {
        if code == u64::from(super::STREAM_REFUSED_CODE) && !self.done {
            self.end_locally(Status::unavailable(super::REFUSED_MESSAGE));
        } else {
            self.handle_reset();
        }
    }

    pub fn handle_timeout(&mut self, now_ms: u64) {
        if !self.done && self.deadline.is_some_and(|d| now_ms >= d) {
            self.end_locally(Status::deadline_exceeded("deadline exceeded"));
        }
    }

    pub fn poll_timeout(&self) -> Option<u64> {
        if self.done { None } else { self.deadline }
    }

    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        if self.ended_locally {
            return None;
        }
        self.out.poll()
    }

    /// What [`ClientCall::poll_transmit`] would return next, borrowed;
    /// once it is written, [`ClientCall::advance_transmit`].
    pub fn peek_transmit(&self) -> Option<TransmitRef<'_>> {
        if self.ended_locally {
            return None;
        }
        self.out.peek()
    }

    /// Drops what [`ClientCall::peek_transmit`] showed (it was written).
    pub fn advance_transmit(&mut self) {
        if !self.ended_locally {
            self.out.advance();
        }
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    /// See the field doc: true when the stream should be reset.
    pub fn ended_locally(&self) -> bool {
        self.ended_locally
    }

    fn end(&mut self, status: Status) {
        self.done = true;
        self.events.push_back(ClientEvent::Done(status));
    }

    fn end_locally(&mut self, status: Status) {
        if !self.done {
            self.ended_locally = true;
            self.end(status);
        }
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
            return self.end_locally(Status::internal(format!(
                "unexpected frame with flags {:#04x}",
                flags.bits()
            )));
        }
        if flags.contains(Flags::TRAILER) {
            let status = match RpcStatus::decode_status(&frame.payload) {
                Ok(s) => s,
                Err(e) => {
                    return self.end_locally(Status::internal(format!("malformed trailer: {e}")));
                }
            };
            if status.is_ok() && !self.pattern.server_streams() && self.responses == 0 {
                return self.end(Status::internal("call ended without a response"));
            }
            return self.end(status);
        }
        if !self.pattern.server_streams() && self.responses == 1 {
            return self.end_locally(Status::internal("received multiple response frames"));
        }
        match payload_bytes(frame.payload, flags) {
            Ok(payload) => {
                self.responses += 1;
                self.events.push_back(ClientEvent::Response(payload));
            }
            Err(e) => self.end_locally(e.to_status()),
        }
    }
}
