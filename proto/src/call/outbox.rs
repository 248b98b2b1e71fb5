//! Outgoing bytes of one stream.

use bytes::Bytes;

use crate::codec::{self, Message, SerializationMode};
use crate::frame::{self, Flags, FrameBuf, FrameError};
use crate::message::{MessageForm, ProtocolMessage, RpcStatus};
use crate::status::Status;

/// Bytes the runtime must write, in order; `fin` says to finish the send
/// side after them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub data: Bytes,
    pub fin: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Outbox {
    buf: FrameBuf,
    fin: bool,
    fin_taken: bool,
}

impl Outbox {
    pub fn with_capacity(n: usize) -> Outbox {
        Outbox {
            buf: FrameBuf::with_capacity(n),
            ..Default::default()
        }
    }

    pub fn message<T: Message>(
        &mut self,
        value: &T,
        mode: SerializationMode,
    ) -> Result<(), FrameError> {
        codec::encode_message_into(value, mode, &mut self.buf)
    }

    /// A message written by `encode` (which appends exactly one DATA frame).
    /// On error, whatever `encode` appended is removed.
    pub fn with(
        &mut self,
        mode: SerializationMode,
        encode: impl FnOnce(SerializationMode, &mut FrameBuf) -> Result<(), FrameError>,
    ) -> Result<(), FrameError> {
        let at = self.buf.bytes.len();
        encode(mode, &mut self.buf).inspect_err(|_| self.buf.truncate(at))
    }

    /// A pre-encoded payload (dynamic callers): compressed like a typed one.
    pub fn raw_message(
        &mut self,
        payload: &[u8],
        mode: SerializationMode,
    ) -> Result<(), FrameError> {
        codec::encode_payload_frame(payload, mode, &mut self.buf.bytes)
    }

    pub fn protocol<M: ProtocolMessage>(&mut self, flags: Flags, msg: &M, form: MessageForm) {
        let at = frame::begin_frame(flags, &mut self.buf.bytes);
        msg.encode_into(form, &mut self.buf.bytes);
        // Protocol messages are far below the frame limit and never empty.
        if frame::finish_frame(at, &mut self.buf.bytes).is_err() {
            self.buf.truncate(at);
        }
    }

    pub fn trailer(&mut self, status: &Status, form: MessageForm) {
        if form == MessageForm::Xlang && status.is_plain_ok() {
            // Same bytes as encoding it (`RpcStatus::ok_xlang`).
            let _ = frame::encode_frame(Flags::TRAILER, RpcStatus::ok_xlang(), &mut self.buf.bytes);
            return;
        }
        self.protocol(Flags::TRAILER, &RpcStatus::from(status), form);
    }

    pub fn empty(&mut self, flags: Flags) {
        // TRAILER/CANCEL may be empty; other flags never reach here.
        let _ = frame::encode_frame(flags, &[], &mut self.buf.bytes);
    }

    pub fn finish(&mut self) {
        self.fin = true;
    }

    pub fn is_finished(&self) -> bool {
        self.fin
    }

    /// The next piece to write. A large shared field is a piece of its own;
    /// `fin` comes with the last one.
    pub fn poll(&mut self) -> Option<Transmit> {
        let data = self.buf.take_chunk().unwrap_or_default();
        let fin = self.fin && !self.fin_taken && self.buf.is_empty();
        if data.is_empty() && !fin {
            return None;
        }
        self.fin_taken |= fin;
        Some(Transmit { data, fin })
    }
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;

    use super::*;

    fn trailer_bytes(status: &Status, form: MessageForm) -> Bytes {
        let mut out = Outbox::default();
        out.trailer(status, form);
        out.poll().map(|t| t.data).unwrap_or_default()
    }

    /// The precomputed OK trailer is the bytes encoding would give, and it
    /// reads back as OK; any other status takes the general path both ways.
    #[test]
    fn the_ok_trailer_is_the_encoded_one() {
        for status in [
            Status::ok(),
            Status::new(crate::StatusCode::Ok, "fine"),
            Status::internal("boom"),
            Status::ok().with_details(vec![("k".into(), "v".into())]),
        ] {
            for form in [MessageForm::Xlang, MessageForm::Json] {
                let mut general = BytesMut::new();
                let at = frame::begin_frame(Flags::TRAILER, &mut general);
                RpcStatus::from(&status).encode_into(form, &mut general);
                frame::finish_frame(at, &mut general).unwrap();
                let sent = trailer_bytes(&status, form);
                assert_eq!(&sent[..], &general[..], "{status:?} {form:?}");
                let back = RpcStatus::decode_status(&sent[5..]).unwrap();
                assert_eq!(back, status, "{form:?}");
            }
        }
        assert_eq!(
            RpcStatus::decode_status(RpcStatus::ok_xlang()).unwrap(),
            Status::ok()
        );
    }
}
