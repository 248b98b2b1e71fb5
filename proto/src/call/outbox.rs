//! Outgoing bytes of one stream.

use bytes::Bytes;

use crate::codec::{self, Message, SerializationMode};
use crate::frame::{self, Chunk, Flags, FrameBuf, FrameError};
use crate::message::{MessageForm, ProtocolMessage, RpcStatus};
use crate::status::Status;

/// Bytes the runtime must write, in order; `fin` says to finish the send
/// side after them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub data: Bytes,
    pub fin: bool,
}

/// [`Transmit`] borrowed from the stream's buffer, for runtimes whose
/// transport copies small writes anyway (iroh copies writes of up to about
/// a packet): writing from here spares making the bytes a [`Bytes`]. After
/// writing all of `data`, the runtime calls the stream's `advance_transmit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransmitRef<'a> {
    pub data: Chunk<'a>,
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

    /// What [`Outbox::poll`] would return next, borrowed.
    pub fn peek(&self) -> Option<TransmitRef<'_>> {
        let pending_fin = self.fin && !self.fin_taken;
        match self.buf.peek_chunk() {
            Some(data) => Some(TransmitRef {
                data,
                fin: pending_fin && self.buf.peeking_last(),
            }),
            None if pending_fin => Some(TransmitRef {
                data: Chunk::Borrowed(&[]),
                fin: true,
            }),
            None => None,
        }
    }

    /// Drops what [`Outbox::peek`] shows.
    pub fn advance(&mut self) {
        self.fin_taken |= self.fin && self.buf.peeking_last();
        self.buf.consume_chunk();
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

    /// Everything `poll` would hand out, in order.
    fn polled(mut out: Outbox) -> Vec<(Vec<u8>, bool)> {
        std::iter::from_fn(|| out.poll().map(|t| (t.data.to_vec(), t.fin))).collect()
    }

    /// The same through `peek` and `advance`.
    fn peeked(mut out: Outbox) -> Vec<(Vec<u8>, bool)> {
        let mut seen = vec![];
        while let Some(t) = out.peek() {
            seen.push((t.data.as_slice().to_vec(), t.fin));
            out.advance();
            assert!(seen.len() < 100, "peek never ran dry");
        }
        seen
    }

    /// Borrowed transmits are the same pieces, in the same order, with the
    /// FIN on the same one, as owned ones: with and without shared pieces,
    /// with data and FIN together or FIN alone, and across refills.
    #[test]
    fn peeking_hands_out_what_polling_does() {
        let big = Bytes::from(vec![7u8; 70_000]);
        let cases: Vec<Box<dyn Fn() -> Outbox>> = vec![
            Box::new(Outbox::default),
            Box::new(|| {
                let mut o = Outbox::default();
                o.finish();
                o
            }),
            Box::new(|| {
                let mut o = Outbox::with_capacity(16);
                o.raw_message(b"hello", SerializationMode::Xlang).unwrap();
                o.trailer(&Status::ok(), MessageForm::Xlang);
                o.finish();
                o
            }),
            Box::new(|| {
                let mut o = Outbox::default();
                o.raw_message(b"no fin yet", SerializationMode::Xlang)
                    .unwrap();
                o
            }),
            Box::new(move || {
                // A shared piece in the middle, then more bytes, then the FIN.
                let mut o = Outbox::default();
                o.buf.bytes.extend_from_slice(b"head");
                o.buf.shared.push_back((4, big.clone()));
                o.buf.bytes.extend_from_slice(b"tail");
                o.finish();
                o
            }),
            Box::new({
                let big = Bytes::from(vec![9u8; 65_536]);
                move || {
                    // A shared piece first and last: the FIN comes with it.
                    let mut o = Outbox::default();
                    o.buf.shared.push_back((0, big.clone()));
                    o.finish();
                    o
                }
            }),
        ];
        for (i, make) in cases.iter().enumerate() {
            assert_eq!(peeked(make()), polled(make()), "case {i}");
        }

        // Consumed in place, the buffer takes new frames after the old ones.
        let mut o = Outbox::with_capacity(8);
        o.raw_message(b"one", SerializationMode::Xlang).unwrap();
        let first = o.peek().map(|t| t.data.as_slice().to_vec());
        o.advance();
        o.raw_message(b"two", SerializationMode::Xlang).unwrap();
        o.finish();
        let second = o.peek().map(|t| (t.data.as_slice().to_vec(), t.fin));
        o.advance();
        assert!(o.peek().is_none());
        let mut again = Outbox::with_capacity(8);
        again.raw_message(b"one", SerializationMode::Xlang).unwrap();
        assert_eq!(first, again.poll().map(|t| t.data.to_vec()));
        again.raw_message(b"two", SerializationMode::Xlang).unwrap();
        again.finish();
        assert_eq!(second, again.poll().map(|t| (t.data.to_vec(), t.fin)));
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
