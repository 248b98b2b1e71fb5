//! The payload layer (spec §4): how a request or response message becomes
//! frame payload bytes in each serialization mode, with compression.
//!
//! NATIVE and ROW put the same XLANG bytes on the wire as XLANG (the reference
//! never emits anything else), so they share its path.

pub mod compress;
pub mod json;

use bytes::{Bytes, BytesMut};

use crate::frame::{Flags, FrameBuf, FrameError, begin_frame, finish_frame, finish_frame_with};
use crate::limits::COMPRESSION_THRESHOLD;
use crate::status::Status;
use crate::xlang::{self, WireStruct};
use compress::CompressionError;

/// `StreamHeader.serializationMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum SerializationMode {
    Xlang = 0,
    Native = 1,
    Row = 2,
    Json = 3,
}

impl SerializationMode {
    pub fn from_i64(v: i64) -> Option<SerializationMode> {
        Some(match v {
            0 => SerializationMode::Xlang,
            1 => SerializationMode::Native,
            2 => SerializationMode::Row,
            3 => SerializationMode::Json,
            _ => return None,
        })
    }

    /// The lowercase name used in contracts and manifests (`"xlang"`).
    pub fn name(self) -> &'static str {
        match self {
            SerializationMode::Xlang => "xlang",
            SerializationMode::Native => "native",
            SerializationMode::Row => "row",
            SerializationMode::Json => "json",
        }
    }

    pub fn from_name(name: &str) -> Option<SerializationMode> {
        Some(match name {
            "xlang" => SerializationMode::Xlang,
            "native" => SerializationMode::Native,
            "row" => SerializationMode::Row,
            "json" => SerializationMode::Json,
            _ => return None,
        })
    }

    pub fn is_json(self) -> bool {
        self == SerializationMode::Json
    }
}

/// A message type usable as a request or response: XLANG through
/// [`WireStruct`], JSON through [`json::WireJson`]; both use the same wire
/// field names.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a wire message",
    label = "requests and responses are wire structs",
    note = "add #[derive(Default, WireType)] and #[wire(tag = \"namespace/Name\")] to the struct"
)]
pub trait Message: WireStruct + json::WireJson + Send + 'static {}
impl<T: WireStruct + json::WireJson + Send + 'static> Message for T {}

/// A payload that could not be turned into a message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PayloadError {
    #[error(transparent)]
    Compression(#[from] CompressionError),
    #[error("XLANG payload: {0}")]
    Xlang(#[from] xlang::DecodeError),
    #[error("JSON payload: {0}")]
    Json(String),
    /// Already a status (a strict-JSON contract violation).
    #[error("{0}")]
    Status(Status),
}

impl PayloadError {
    /// Spec §4: the status a receiver answers with. A bomb is
    /// RESOURCE_EXHAUSTED, an unknown JSON field CONTRACT_VIOLATION (101), any
    /// other undecodable payload INTERNAL.
    pub fn to_status(&self) -> Status {
        match self {
            PayloadError::Compression(CompressionError::TooLarge { .. }) => {
                Status::resource_exhausted(self.to_string())
            }
            PayloadError::Status(s) => s.clone(),
            _ => Status::internal(format!("cannot decode payload: {self}")),
        }
    }
}

/// Appends one DATA frame carrying `value` in `mode` (spec §4.3): an XLANG
/// payload over 4096 bytes is zstd-compressed (COMPRESSED flag) when that
/// makes it smaller, and sent as is otherwise; JSON payloads never are, as
/// with the reference. The payload is serialized straight into `out` and,
/// if compressed, replaced there: no intermediate buffer.
pub fn encode_message_frame<T: Message>(
    value: &T,
    mode: SerializationMode,
    out: &mut BytesMut,
) -> Result<(), FrameError> {
    let at = begin_frame(Flags::NONE, out);
    if mode.is_json() {
        out.extend_from_slice(&json::to_python_json(&value.to_json()));
        return finish_frame(at, out);
    }
    xlang::encode_into(value, out);
    finish_xlang_frame(at, out)
}

/// Completes the DATA frame begun at `at` whose XLANG payload is all of
/// `out` after its 5-byte head: compressed in place if that shrinks it.
fn finish_xlang_frame(at: usize, out: &mut BytesMut) -> Result<(), FrameError> {
    let start = at + 5;
    if out.len() - start > COMPRESSION_THRESHOLD && compress::compress_tail_if_smaller(out, start) {
        out[at + 4] = Flags::COMPRESSED.bits();
    }
    finish_frame(at, out)
}

/// [`encode_message_frame`] into a send queue: an XLANG message's large
/// `Bytes` fields stay shared instead of being copied into the frame, unless
/// a sample of them compresses (then the payload is made whole and goes the
/// usual way). The bytes sent are the same either way. On error, `out` is
/// left as it was.
pub fn encode_message_into<T: Message>(
    value: &T,
    mode: SerializationMode,
    out: &mut FrameBuf,
) -> Result<(), FrameError> {
    if mode.is_json() {
        return encode_message_frame(value, mode, &mut out.bytes);
    }
    let at = begin_frame(Flags::NONE, &mut out.bytes);
    let first = out.shared.len();
    xlang::encode_into_sharing(value, &mut out.bytes, &mut out.shared);
    let shared: usize = out.shared.iter().skip(first).map(|(_, b)| b.len()).sum();
    if shared > 0
        && !out
            .shared
            .iter()
            .skip(first)
            .any(|(_, b)| compress::worth_compressing(b))
    {
        return finish_frame_with(at, &mut out.bytes, shared).inspect_err(|_| out.truncate(at));
    }
    out.inline_shared(first);
    finish_xlang_frame(at, &mut out.bytes)
}

/// Appends one DATA frame carrying a payload already serialized in `mode`
/// (dynamic callers), by the rule of [`encode_message_frame`].
pub fn encode_payload_frame(
    payload: &[u8],
    mode: SerializationMode,
    out: &mut BytesMut,
) -> Result<(), FrameError> {
    let at = begin_frame(Flags::NONE, out);
    if !mode.is_json()
        && payload.len() > COMPRESSION_THRESHOLD
        && compress::compress_into_if_smaller(payload, out)
    {
        out[at + 4] = Flags::COMPRESSED.bits();
    } else {
        out.extend_from_slice(payload);
    }
    finish_frame(at, out)
}

/// Decodes a DATA frame's payload as `T`.
pub fn decode_message<T: Message>(
    payload: &[u8],
    flags: Flags,
    mode: SerializationMode,
) -> Result<T, PayloadError> {
    let owned;
    let data = if flags.contains(Flags::COMPRESSED) {
        owned = compress::decompress(payload)?;
        &owned[..]
    } else {
        payload
    };
    if mode.is_json() {
        decode_json(data)
    } else {
        Ok(xlang::decode(data)?)
    }
}

/// [`decode_message`] for an uncompressed payload held as shared bytes:
/// large `Bytes` fields of an XLANG message are slices of `payload`.
pub fn decode_shared_message<T: Message>(
    payload: &Bytes,
    mode: SerializationMode,
) -> Result<T, PayloadError> {
    if mode.is_json() {
        decode_json(payload)
    } else {
        Ok(xlang::decode_shared(payload)?)
    }
}

/// Strict JSON decoding of a message (see [`json::WireJson`]).
pub fn decode_json<T: Message>(data: &[u8]) -> Result<T, PayloadError> {
    let value: serde_json::Value =
        serde_json::from_slice(data).map_err(|e| PayloadError::Json(e.to_string()))?;
    T::from_json(value, json::root_path(T::TAG)).map_err(PayloadError::Status)
}

/// Encodes a message's payload (uncompressed) in `mode`.
pub fn encode_payload<T: Message>(value: &T, mode: SerializationMode) -> Bytes {
    if mode.is_json() {
        Bytes::from(json::to_python_json(&value.to_json()))
    } else {
        xlang::to_bytes(value).freeze()
    }
}

/// Decompresses a payload if its frame says so (shared by raw-byte users such
/// as the dynamic client).
pub fn payload_bytes(payload: Bytes, flags: Flags) -> Result<Bytes, PayloadError> {
    if flags.contains(Flags::COMPRESSED) {
        Ok(Bytes::from(compress::decompress(&payload)?))
    } else {
        Ok(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::FrameDecoder;

    #[derive(Debug, Clone, Default, PartialEq)]
    struct Blob {
        data: Vec<u8>,
    }
    crate::wire_struct!(Blob, "test/Blob", { data: Vec<u8> => "data" });

    /// xorshift: bytes zstd cannot shrink.
    fn noise(len: usize) -> Vec<u8> {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    fn one_frame(buf: &[u8]) -> crate::frame::Frame {
        let mut d = FrameDecoder::new();
        d.push(buf).unwrap();
        let f = d.next_frame().unwrap().unwrap();
        assert!(d.next_frame().unwrap().is_none());
        f
    }

    /// Spec §4.3: above 4096 bytes, compressed only when that shrinks the
    /// payload; either way the receiver gets the message back.
    #[test]
    fn large_payloads_compress_only_when_smaller() {
        for (data, compressed) in [
            (vec![7u8; 5000], true),
            (noise(5000), false),
            (noise(1 << 20), false),
            (vec![1u8; 4000], false),
        ] {
            let value = Blob { data };
            let mut out = BytesMut::from(&b"prefix"[..]);
            encode_message_frame(&value, SerializationMode::Xlang, &mut out).unwrap();
            assert_eq!(&out[..6], b"prefix");
            let f = one_frame(&out[6..]);
            assert_eq!(
                f.flags.contains(Flags::COMPRESSED),
                compressed,
                "{} bytes",
                value.data.len()
            );
            assert_eq!(
                decode_message::<Blob>(&f.payload, f.flags, SerializationMode::Xlang).unwrap(),
                value
            );
            // Same frame from the pre-encoded path.
            let mut raw = BytesMut::new();
            encode_payload_frame(&xlang::to_bytes(&value), SerializationMode::Xlang, &mut raw)
                .unwrap();
            assert_eq!(raw, out[6..]);
        }
        // JSON is never compressed.
        let value = Blob {
            data: vec![7u8; 5000],
        };
        let mut out = BytesMut::new();
        encode_message_frame(&value, SerializationMode::Json, &mut out).unwrap();
        assert_eq!(one_frame(&out).flags, Flags::NONE);
    }

    #[derive(Debug, Clone, Default, PartialEq)]
    struct Chunk {
        small: Bytes,
        big: Bytes,
    }
    crate::wire_struct!(Chunk, "test/Chunk", { small: Bytes => "small", big: Bytes => "big" });

    /// Large `Bytes` fields decoded from shared bytes point into the payload;
    /// small ones are copies; both decode to the same values as from a slice.
    #[test]
    fn shared_decoding_slices_large_bytes_fields() {
        let value = Chunk {
            small: Bytes::from_static(b"tiny"),
            big: Bytes::from(noise(64 << 10)),
        };
        let payload = Bytes::from(xlang::to_bytes(&value));
        let shared: Chunk = decode_shared_message(&payload, SerializationMode::Xlang).unwrap();
        let copied: Chunk =
            decode_message(&payload, Flags::NONE, SerializationMode::Xlang).unwrap();
        assert_eq!(shared, value);
        assert_eq!(copied, value);
        let inside = |b: &Bytes| {
            let (p, start) = (b.as_ptr() as usize, payload.as_ptr() as usize);
            p >= start && p + b.len() <= start + payload.len()
        };
        assert!(
            inside(&shared.big),
            "the large field is a slice of the payload"
        );
        assert!(!inside(&shared.small), "the small field is a copy");
        assert!(!inside(&copied.big), "decoding from a slice copies");
        // JSON goes through the same entry point.
        let json = encode_payload(&value, SerializationMode::Json);
        assert_eq!(
            decode_shared_message::<Chunk>(&json, SerializationMode::Json).unwrap(),
            value
        );
    }

    /// Encoding into a send queue gives the same bytes as the contiguous
    /// encoding, whatever the sizes; an incompressible large field stays
    /// shared (the very same memory), a compressible one is compressed.
    #[test]
    fn sending_shares_large_fields_and_sends_the_same_bytes() {
        let sizes = [0usize, 10, 4000, (64 << 10) - 1, 64 << 10, 300_000];
        for &small in &sizes {
            for &big in &sizes {
                for compressible in [false, true] {
                    // Two unrelated noises (one reversed): zstd would find a
                    // copy of one field in the other.
                    let fill = |n: usize, reversed: bool| {
                        let mut data = if compressible { vec![9u8; n] } else { noise(n) };
                        if reversed {
                            data.reverse();
                        }
                        Bytes::from(data)
                    };
                    let value = Chunk {
                        small: fill(small, true),
                        big: fill(big, false),
                    };
                    let mut whole = BytesMut::from(&b"before"[..]);
                    encode_message_frame(&value, SerializationMode::Xlang, &mut whole).unwrap();
                    let mut queue = FrameBuf::default();
                    queue.bytes.extend_from_slice(b"before");
                    encode_message_into(&value, SerializationMode::Xlang, &mut queue).unwrap();
                    let case = format!("small {small} big {big} compressible {compressible}");
                    assert_eq!(queue.len(), whole.len(), "{case}");
                    assert_eq!(queue.to_contiguous(), whole, "{case}");
                    let shared: Vec<_> = queue.shared.iter().map(|(_, b)| b.clone()).collect();
                    let expect: Vec<&Bytes> = [&value.small, &value.big]
                        .into_iter()
                        .filter(|b| !compressible && b.len() >= xlang::SHARE_ON_WRITE_FROM)
                        .collect();
                    assert_eq!(shared.len(), expect.len(), "{case}");
                    // In wire order, which need not be declaration order.
                    for e in expect {
                        assert!(
                            shared.iter().any(|s| s.as_ptr() == e.as_ptr()),
                            "{case}: shared, not copied"
                        );
                    }
                    let mut sent = BytesMut::new();
                    while let Some(chunk) = queue.take_chunk() {
                        assert!(!chunk.is_empty(), "{case}");
                        sent.extend_from_slice(&chunk);
                    }
                    assert_eq!(sent, whole, "{case}");
                    assert!(queue.is_empty());
                }
            }
        }
    }

    /// A frame over the size limit is refused and leaves the queue as it
    /// was, the frame before it (ending with a shared field) included.
    #[test]
    fn an_oversized_shared_frame_is_refused_whole() {
        let first = Chunk {
            small: Bytes::new(),
            big: Bytes::from(noise(100_000)),
        };
        let mut queue = FrameBuf::default();
        encode_message_into(&first, SerializationMode::Xlang, &mut queue).unwrap();
        let before = queue.to_contiguous();
        let huge = Chunk {
            small: Bytes::from(noise(64 << 10)),
            big: Bytes::from(noise(crate::limits::MAX_FRAME_SIZE as usize)),
        };
        let err = encode_message_into(&huge, SerializationMode::Xlang, &mut queue).unwrap_err();
        assert!(matches!(err, FrameError::TooLarge(_)), "{err:?}");
        assert_eq!(queue.to_contiguous(), before);
        assert_eq!(queue.shared.len(), 1);
    }
}
