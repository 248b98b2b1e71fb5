//! `framing.json`: encoder output, decoder output and rejected inputs.

use aster_proto::frame::{Flags, FrameDecoder, FrameError, encode_frame};
use bytes::BytesMut;
use serde_json::Value;

use crate::{Report, hex_field, name_of, same_bytes};

pub fn check(file: &str, doc: &Value, report: &mut Report) {
    for v in doc
        .get("encode_vectors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        report.record(file, "encode", &name_of(v), encode(v));
    }
    for v in doc
        .get("decode_vectors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        report.record(file, "decode", &name_of(v), decode(v));
    }
    for v in doc
        .get("error_vectors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        report.record(file, "error", &name_of(v), error(v));
    }
}

fn flags(v: &Value, key: &str) -> Result<Flags, String> {
    v.get(key)
        .and_then(Value::as_u64)
        .and_then(|f| u8::try_from(f).ok())
        .map(Flags)
        .ok_or_else(|| format!("missing `{key}`"))
}

fn encode(v: &Value) -> Result<(), String> {
    let payload = hex_field(v, "payload_hex")?;
    let want = hex_field(v, "expected_wire_hex")?;
    let mut out = BytesMut::new();
    encode_frame(flags(v, "flags")?, &payload, &mut out)
        .map_err(|e| format!("encoder refused: {e}"))?;
    same_bytes("frame", &want, &out)
}

/// Decodes all of `wire`, returning every frame, or the first error
/// (including an incomplete frame at the end).
fn decode_all(wire: &[u8]) -> Result<Vec<aster_proto::frame::Frame>, FrameError> {
    let mut d = FrameDecoder::new();
    d.push(wire)?;
    let mut frames = vec![];
    while let Some(f) = d.next_frame()? {
        frames.push(f);
    }
    d.finish()?;
    Ok(frames)
}

fn decode(v: &Value) -> Result<(), String> {
    let wire = hex_field(v, "wire_hex")?;
    let want = hex_field(v, "expected_payload_hex")?;
    let want_flags = flags(v, "expected_flags")?;
    let frames = decode_all(&wire).map_err(|e| format!("decoder refused: {e}"))?;
    match frames.as_slice() {
        [f] if f.flags == want_flags => same_bytes("payload", &want, &f.payload),
        [f] => Err(format!(
            "flags {:#04x}, expected {:#04x}",
            f.flags.bits(),
            want_flags.bits()
        )),
        other => Err(format!("{} frames decoded, expected 1", other.len())),
    }
}

/// Error labels of the reference's files, mapped to our error kinds.
fn matches_label(label: &str, e: &FrameError) -> bool {
    let l = label.to_ascii_lowercase();
    match e {
        FrameError::ZeroLength => {
            l.contains("zero-length frame") || l.contains("zero length frame")
        }
        FrameError::EmptyPayload(_) => {
            l.contains("zero-length payload") || l.contains("empty payload")
        }
        FrameError::TooLarge(_) => l.contains("exceeds") || l.contains("too large"),
        FrameError::Incomplete { .. } => l.contains("incomplete") || l.contains("truncated"),
    }
}

fn error(v: &Value) -> Result<(), String> {
    let label = v.get("error").and_then(Value::as_str).unwrap_or("");
    let result = if let Some(len) = v.get("wire_length_value").and_then(Value::as_u64) {
        let len = u32::try_from(len).map_err(|_| format!("length {len} does not fit u32"))?;
        decode_all(&len.to_le_bytes()).map(|_| ())
    } else if v.get("wire_hex").is_some() {
        decode_all(&hex_field(v, "wire_hex")?).map(|_| ())
    } else {
        let payload = hex_field(v, "payload_hex")?;
        encode_frame(flags(v, "flags")?, &payload, &mut BytesMut::new())
    };
    match result {
        Ok(()) => Err(format!("accepted, expected error `{label}`")),
        Err(e) if matches_label(label, &e) => Ok(()),
        Err(e) => Err(format!("rejected with `{e}`, expected `{label}`")),
    }
}
