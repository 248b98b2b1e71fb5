//! Stream framing (spec §2): `u32 LE length` (flags byte + payload), one
//! flags byte, the payload.
//!
//! [`FrameDecoder`] is incremental: feed it whatever the transport delivered
//! (one byte, or many frames at once) and pull whole frames out. A declared
//! length over 16 MiB is refused as soon as the 4 length bytes are in, before
//! any of the body is buffered.

use std::collections::VecDeque;

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::limits::MAX_FRAME_SIZE;

/// The flags byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(pub u8);

impl Flags {
    pub const NONE: Flags = Flags(0);
    /// The payload is one zstd frame.
    pub const COMPRESSED: Flags = Flags(0x01);
    /// The payload is an `RpcStatus`: the last frame of a call.
    pub const TRAILER: Flags = Flags(0x02);
    /// The payload is a `StreamHeader`: the first frame of a stream.
    pub const HEADER: Flags = Flags(0x04);
    /// A Fory row schema. Defined, never sent by the reference; skipped.
    pub const ROW_SCHEMA: Flags = Flags(0x08);
    /// The payload is a `CallHeader`: starts a call on a session stream.
    pub const CALL: Flags = Flags(0x10);
    /// Cancel the current session call; empty payload.
    pub const CANCEL: Flags = Flags(0x20);
    /// Defined by the reference's unreleased second wire generation only;
    /// carried through, never interpreted.
    pub const END_STREAM: Flags = Flags(0x40);

    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    pub const fn union(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }

    pub const fn bits(self) -> u8 {
        self.0
    }
}

impl std::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        self.union(rhs)
    }
}

/// One frame off the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub flags: Flags,
    pub payload: Bytes,
}

/// A framing violation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("frame length is zero: a frame holds at least its flags byte")]
    ZeroLength,
    #[error("frame length {0} exceeds the 16 MiB limit (16777216)")]
    TooLarge(u64),
    #[error("empty payload with flags {0:#04x}: only TRAILER and CANCEL frames may be empty")]
    EmptyPayload(u8),
    #[error("stream ended inside a frame: {buffered} of {expected} bytes received")]
    Incomplete { buffered: usize, expected: usize },
}

/// Appends one frame to `out`.
///
/// Spec §2.3: the encoder refuses an empty payload unless TRAILER or CANCEL is
/// set, and a body (flags + payload) over 16 MiB.
pub fn encode_frame(flags: Flags, payload: &[u8], out: &mut BytesMut) -> Result<(), FrameError> {
    let body = payload.len() as u64 + 1;
    if body > u64::from(MAX_FRAME_SIZE) {
        return Err(FrameError::TooLarge(body));
    }
    if payload.is_empty() && flags.0 & (Flags::TRAILER.0 | Flags::CANCEL.0) == 0 {
        return Err(FrameError::EmptyPayload(flags.0));
    }
    out.reserve(5 + payload.len());
    out.put_u32_le(body as u32);
    out.put_u8(flags.0);
    out.put_slice(payload);
    Ok(())
}

/// Starts a frame whose payload the caller appends next, so a payload can be
/// serialized straight into the output buffer. Returns the offset to pass to
/// [`finish_frame`].
pub fn begin_frame(flags: Flags, out: &mut BytesMut) -> usize {
    let at = out.len();
    out.put_u32_le(0);
    out.put_u8(flags.0);
    at
}

/// Completes a frame started with [`begin_frame`], writing its length.
/// On error the partial frame is removed from `out`.
pub fn finish_frame(at: usize, out: &mut BytesMut) -> Result<(), FrameError> {
    finish_frame_with(at, out, 0)
}

/// [`finish_frame`] for a frame whose body also has `shared` bytes held
/// outside `out` (see [`FrameBuf`]).
pub(crate) fn finish_frame_with(
    at: usize,
    out: &mut BytesMut,
    shared: usize,
) -> Result<(), FrameError> {
    let body = (out.len() - at - 4 + shared) as u64;
    let flags = out[at + 4];
    if body > u64::from(MAX_FRAME_SIZE) {
        out.truncate(at);
        return Err(FrameError::TooLarge(body));
    }
    if body == 1 && flags & (Flags::TRAILER.0 | Flags::CANCEL.0) == 0 {
        out.truncate(at);
        return Err(FrameError::EmptyPayload(flags));
    }
    out[at..at + 4].copy_from_slice(&(body as u32).to_le_bytes());
    Ok(())
}

/// A piece of a [`FrameBuf`] to send, without taking it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// Bytes of the buffer itself.
    Borrowed(&'a [u8]),
    /// A large field sent by reference.
    Shared(&'a Bytes),
}

impl Chunk<'_> {
    pub fn as_slice(&self) -> &[u8] {
        match self {
            Chunk::Borrowed(b) => b,
            Chunk::Shared(b) => b,
        }
    }
}

/// Frames queued for sending.
///
/// Their bytes are in `bytes`, except large `Bytes` fields of XLANG payloads:
/// those stay shared, each kept with the offset in `bytes` where it belongs
/// (before the byte at that offset). Sent in order ([`FrameBuf::take_chunk`]),
/// the pieces are byte for byte the contiguous encoding, and a large field is
/// never copied into a frame buffer.
#[derive(Debug, Default)]
pub struct FrameBuf {
    pub bytes: BytesMut,
    /// `(offset in bytes, data)`, in offset order.
    pub(crate) shared: VecDeque<(usize, Bytes)>,
}

impl FrameBuf {
    pub fn with_capacity(n: usize) -> FrameBuf {
        FrameBuf {
            bytes: BytesMut::with_capacity(n),
            shared: VecDeque::new(),
        }
    }

    /// Bytes queued, shared ones included.
    pub fn len(&self) -> usize {
        self.bytes.len() + self.shared.iter().map(|(_, b)| b.len()).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty() && self.shared.is_empty()
    }

    /// [`FrameBuf::take_chunk`] without taking it: the bytes are borrowed
    /// from `bytes` unless the piece is a shared one.
    pub fn peek_chunk(&self) -> Option<Chunk<'_>> {
        match self.shared.front() {
            Some((0, data)) => Some(Chunk::Shared(data)),
            Some(&(at, _)) => Some(Chunk::Borrowed(&self.bytes[..at])),
            None if self.bytes.is_empty() => None,
            None => Some(Chunk::Borrowed(&self.bytes[..])),
        }
    }

    /// Drops the piece [`FrameBuf::peek_chunk`] shows. Borrowed bytes are
    /// dropped in place: the buffer is not split, which would make it
    /// shared (an allocation) the first time.
    pub fn consume_chunk(&mut self) {
        match self.shared.front() {
            Some(&(0, _)) => {
                self.shared.pop_front();
            }
            Some(&(at, _)) => {
                bytes::Buf::advance(&mut self.bytes, at);
                for (offset, _) in &mut self.shared {
                    *offset -= at;
                }
            }
            None => self.bytes.clear(),
        }
    }

    /// True when the piece [`FrameBuf::peek_chunk`] shows is the last one.
    pub(crate) fn peeking_last(&self) -> bool {
        match self.shared.front() {
            Some(&(0, _)) => self.shared.len() == 1 && self.bytes.is_empty(),
            Some(_) => false,
            None => true,
        }
    }

    /// The next piece to send, in order; `None` when all were taken.
    pub fn take_chunk(&mut self) -> Option<Bytes> {
        match self.shared.front() {
            Some(&(0, _)) => self.shared.pop_front().map(|(_, data)| data),
            Some(&(at, _)) => {
                let head = self.bytes.split_to(at).freeze();
                for (offset, _) in &mut self.shared {
                    *offset -= at;
                }
                Some(head)
            }
            None if self.bytes.is_empty() => None,
            None => Some(self.bytes.split().freeze()),
        }
    }

    /// Drops everything from offset `at` of `bytes` on (a frame that could
    /// not be finished). Shared data placed at `at` belongs to the frame
    /// before and stays.
    pub(crate) fn truncate(&mut self, at: usize) {
        self.bytes.truncate(at);
        self.shared.retain(|&(offset, _)| offset <= at);
    }

    /// Copies the shared pieces from index `first` on into `bytes`, at their
    /// places (a payload that is to be compressed after all).
    pub(crate) fn inline_shared(&mut self, first: usize) {
        let Some(&(from, _)) = self.shared.get(first) else {
            return;
        };
        let pieces: Vec<(usize, Bytes)> = self.shared.drain(first..).collect();
        let tail = self.bytes.split_off(from);
        let extra: usize = pieces.iter().map(|(_, b)| b.len()).sum();
        self.bytes.reserve(tail.len() + extra);
        splice(&mut self.bytes, &tail, from, &pieces);
    }

    /// Everything queued as one buffer (tests, and callers that want it so).
    pub fn to_contiguous(&self) -> BytesMut {
        let mut out = BytesMut::with_capacity(self.len());
        splice(&mut out, &self.bytes, 0, self.shared.iter());
        out
    }
}

/// Appends `bytes` to `out` with each piece inserted at its offset, offsets
/// counted from `base` (the offset of `bytes[0]`) and in order.
fn splice<'p>(
    out: &mut BytesMut,
    bytes: &[u8],
    base: usize,
    pieces: impl IntoIterator<Item = &'p (usize, Bytes)>,
) {
    let mut cursor = 0;
    for (offset, data) in pieces {
        let at = offset - base;
        out.extend_from_slice(&bytes[cursor..at]);
        out.extend_from_slice(data);
        cursor = at;
    }
    out.extend_from_slice(&bytes[cursor..]);
}

/// Incremental frame decoder.
///
/// Input comes as borrowed slices ([`FrameDecoder::push`], copied) or as
/// owned chunks ([`FrameDecoder::push_bytes`]): frames lying whole inside
/// an owned chunk are handed out as slices of it, without a copy. Only a
/// frame split across chunks is assembled in a buffer.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    /// An owned chunk not yet consumed. When it is not empty, `buf` is.
    chunk: Bytes,
    /// Bytes of a frame being assembled across chunks.
    buf: BytesMut,
    /// Body length of the frame at the front, once its prefix is in.
    pending: Option<usize>,
}

impl FrameDecoder {
    pub fn new() -> FrameDecoder {
        FrameDecoder::default()
    }

    /// Adds received bytes (copied). Fails if a length prefix that is now
    /// complete declares an invalid length; the decoder is then unusable.
    pub fn push(&mut self, data: &[u8]) -> Result<(), FrameError> {
        self.spill();
        self.buf.extend_from_slice(data);
        self.check_prefix()
    }

    /// Adds a received chunk without copying it; otherwise as [`FrameDecoder::push`].
    /// A payload handed out from it shares (and keeps alive) the chunk; typed
    /// decoding copies out of it, so this matters only to a caller that keeps
    /// raw payloads for long.
    pub fn push_bytes(&mut self, data: Bytes) -> Result<(), FrameError> {
        if self.buf.is_empty() && self.chunk.is_empty() {
            self.chunk = data;
        } else {
            self.spill();
            self.buf.extend_from_slice(&data);
        }
        self.check_prefix()
    }

    /// Moves the unconsumed chunk into the assembly buffer.
    fn spill(&mut self) {
        if !self.chunk.is_empty() {
            self.buf.extend_from_slice(&self.chunk);
            self.chunk = Bytes::new();
        }
    }

    /// The unconsumed input, in order (one of the two is empty).
    fn front(&self) -> &[u8] {
        if self.chunk.is_empty() {
            &self.buf
        } else {
            &self.chunk
        }
    }

    fn check_prefix(&mut self) -> Result<(), FrameError> {
        let front = self.front();
        if self.pending.is_none() && front.len() >= 4 {
            let len = u32::from_le_bytes([front[0], front[1], front[2], front[3]]);
            if len == 0 {
                return Err(FrameError::ZeroLength);
            }
            if len > MAX_FRAME_SIZE {
                return Err(FrameError::TooLarge(u64::from(len)));
            }
            self.pending = Some(len as usize);
        }
        Ok(())
    }

    /// The next whole frame, if one is buffered.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        self.check_prefix()?;
        let Some(len) = self.pending else {
            // Fewer than 4 bytes: keep them for the next chunk.
            self.spill();
            return Ok(None);
        };
        if !self.chunk.is_empty() {
            if self.chunk.len() >= 4 + len {
                let flags = Flags(self.chunk[4]);
                let payload = self.chunk.slice(5..4 + len);
                self.chunk.advance(4 + len);
                self.pending = None;
                return Ok(Some(Frame { flags, payload }));
            }
            self.spill();
        }
        if self.buf.len() < 4 + len {
            // Make room for the rest of the body in one allocation.
            self.buf.reserve(4 + len - self.buf.len());
            return Ok(None);
        }
        self.buf.advance(4);
        let flags = Flags(self.buf.get_u8());
        let payload = self.buf.split_to(len - 1).freeze();
        self.pending = None;
        // The next prefix is checked on the next call, so that this frame is
        // delivered even when the one after it is invalid.
        Ok(Some(Frame { flags, payload }))
    }

    /// Bytes held that do not yet form a whole frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Call at end of stream: fails if a partial frame is buffered.
    pub fn finish(&self) -> Result<(), FrameError> {
        if self.buffered() == 0 {
            Ok(())
        } else {
            Err(FrameError::Incomplete {
                buffered: self.buffered(),
                expected: self.pending.map_or(4, |l| l + 4),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(flags: Flags, payload: &[u8]) -> Vec<u8> {
        let mut out = BytesMut::new();
        encode_frame(flags, payload, &mut out).unwrap();
        out.to_vec()
    }

    #[test]
    fn encodes_reference_layout() {
        assert_eq!(
            frame(Flags::NONE, b"Hello"),
            hex_literal("060000000048656c6c6f")
        );
        assert_eq!(frame(Flags::TRAILER, b""), hex_literal("0100000002"));
        assert_eq!(frame(Flags::CANCEL, b""), hex_literal("0100000020"));
    }

    fn hex_literal(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn rejects_empty_data_frame_on_encode_but_accepts_on_decode() {
        let mut out = BytesMut::new();
        assert_eq!(
            encode_frame(Flags::HEADER, b"", &mut out),
            Err(FrameError::EmptyPayload(4))
        );
        let mut d = FrameDecoder::new();
        d.push(&[1, 0, 0, 0, 4]).unwrap();
        assert_eq!(
            d.next_frame().unwrap(),
            Some(Frame {
                flags: Flags::HEADER,
                payload: Bytes::new()
            })
        );
    }

    #[test]
    fn oversize_is_refused_before_the_body() {
        let mut d = FrameDecoder::new();
        assert_eq!(
            d.push(&[0x01, 0x00, 0x00, 0x01]),
            Err(FrameError::TooLarge(16_777_217))
        );
        let mut d = FrameDecoder::new();
        assert_eq!(d.push(&[0, 0, 0, 0]), Err(FrameError::ZeroLength));
        let mut d = FrameDecoder::new();
        d.push(&[0x00, 0x00, 0x00, 0x01, 0x00]).unwrap();
        assert_eq!(d.buffered(), 5);
    }

    #[test]
    fn begin_and_finish_frame() {
        let mut out = BytesMut::new();
        let at = begin_frame(Flags::HEADER, &mut out);
        out.put_slice(b"abc");
        finish_frame(at, &mut out).unwrap();
        assert_eq!(out.to_vec(), frame(Flags::HEADER, b"abc"));
        let at = begin_frame(Flags::NONE, &mut out);
        assert!(finish_frame(at, &mut out).is_err());
        assert_eq!(out.len(), 8);
    }

    #[test]
    fn incomplete_at_end_of_stream() {
        let mut d = FrameDecoder::new();
        d.push(&[3, 0, 0, 0, 0, 1]).unwrap();
        assert_eq!(d.next_frame().unwrap(), None);
        assert!(matches!(
            d.finish(),
            Err(FrameError::Incomplete {
                buffered: 6,
                expected: 7
            })
        ));
    }
}
