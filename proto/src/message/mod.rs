//! The three protocol messages (spec §3.1–§3.4), each in two forms: XLANG
//! (tags `_aster/StreamHeader`, `_aster/CallHeader`, `_aster/RpcStatus`) and
//! JSON (compact, keys in declaration order, non-ASCII escaped — Python's
//! `json.dumps(..., separators=(",", ":"))`). Both are byte-identical with
//! the reference.
//!
//! A receiver tells the forms apart by the first byte: `{` is JSON, anything
//! else XLANG (which starts `02 ff`).

use serde::{Deserialize, Serialize};

use crate::SmallString;
use crate::codec::json::to_python_json;
use crate::status::Status;
use crate::wire_struct;
use crate::xlang::{self, DecodeError};

/// Which form a message was (or is to be) encoded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageForm {
    Xlang,
    Json,
}

impl MessageForm {
    /// Spec §4.1: a payload starting with `{` is JSON.
    pub fn sniff(payload: &[u8]) -> MessageForm {
        if payload.first() == Some(&b'{') {
            MessageForm::Json
        } else {
            MessageForm::Xlang
        }
    }
}

/// A protocol message could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("XLANG: {0}")]
    Xlang(#[from] DecodeError),
    #[error("JSON: {0}")]
    Json(String),
}

/// First frame of every stream (HEADER flag). G1 layout.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct StreamHeader {
    pub service: SmallString,
    /// Empty opens a session stream.
    pub method: SmallString,
    /// The reference's clients always send 1 for shared services.
    pub version: i64,
    /// Empty for unary calls; a UUID for streams and sessions.
    pub call_id: String,
    /// Absolute Unix epoch milliseconds; 0 = no deadline.
    pub deadline_epoch_ms: i64,
    /// 0 XLANG, 1 NATIVE, 2 ROW, 3 JSON.
    pub serialization_mode: i64,
    pub metadata_keys: Vec<String>,
    pub metadata_values: Vec<String>,
}

wire_struct!(StreamHeader, "_aster/StreamHeader", {
    service: SmallString => "service",
    method: SmallString => "method",
    version: i64 => "version",
    call_id: String => "callId",
    deadline_epoch_ms: i64 => "deadlineEpochMs",
    serialization_mode: i64 => "serializationMode",
    metadata_keys: Vec<String> => "metadataKeys",
    metadata_values: Vec<String> => "metadataValues",
});

/// Starts one call on a G1 session stream (CALL flag).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct CallHeader {
    pub method: SmallString,
    pub call_id: String,
    /// The reference's client always sends 0.
    pub deadline_epoch_ms: i64,
    pub metadata_keys: Vec<String>,
    pub metadata_values: Vec<String>,
}

wire_struct!(CallHeader, "_aster/CallHeader", {
    method: SmallString => "method",
    call_id: String => "callId",
    deadline_epoch_ms: i64 => "deadlineEpochMs",
    metadata_keys: Vec<String> => "metadataKeys",
    metadata_values: Vec<String> => "metadataValues",
});

/// The trailer: last frame of a call (TRAILER flag).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct RpcStatus {
    pub code: i64,
    pub message: String,
    pub detail_keys: Vec<String>,
    pub detail_values: Vec<String>,
}

wire_struct!(RpcStatus, "_aster/RpcStatus", {
    code: i64 => "code",
    message: String => "message",
    detail_keys: Vec<String> => "detailKeys",
    detail_values: Vec<String> => "detailValues",
});

impl RpcStatus {
    pub fn ok() -> RpcStatus {
        RpcStatus::default()
    }

    /// The XLANG form of a plain OK status (no message, no details). It ends
    /// nearly every call, so it is encoded once, and a received trailer with
    /// exactly these bytes is taken as OK without decoding it.
    pub fn ok_xlang() -> &'static [u8] {
        static OK: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        OK.get_or_init(|| RpcStatus::ok().encode(MessageForm::Xlang).to_vec())
    }

    /// The status a trailer's payload carries (either form).
    pub fn decode_status(payload: &[u8]) -> Result<Status, MessageError> {
        if payload == Self::ok_xlang() {
            return Ok(Status::ok());
        }
        RpcStatus::decode(payload).map(|(s, _)| s.to_status())
    }

    /// Keys and values are zipped; a length mismatch drops the extras, as the
    /// reference does.
    pub fn to_status(&self) -> Status {
        let details = self
            .detail_keys
            .iter()
            .cloned()
            .zip(self.detail_values.iter().cloned())
            .collect();
        Status::from_wire(self.code, self.message.clone(), details)
    }
}

impl From<&Status> for RpcStatus {
    fn from(s: &Status) -> RpcStatus {
        let (detail_keys, detail_values) = s.details.iter().cloned().unzip();
        RpcStatus {
            code: s.code.as_i64(),
            message: s.message.clone(),
            detail_keys,
            detail_values,
        }
    }
}

impl StreamHeader {
    /// Metadata as pairs; extra keys or values are dropped.
    pub fn metadata(&self) -> impl Iterator<Item = (&str, &str)> {
        self.metadata_keys
            .iter()
            .map(String::as_str)
            .zip(self.metadata_values.iter().map(String::as_str))
    }
}

/// A protocol message in both forms.
pub trait ProtocolMessage: xlang::WireStruct + Serialize + for<'de> Deserialize<'de> {
    /// Appends the message in `form`.
    fn encode_into(&self, form: MessageForm, out: &mut bytes::BytesMut) {
        match form {
            MessageForm::Xlang => xlang::encode_into(self, out),
            MessageForm::Json => out.extend_from_slice(&to_python_json(self)),
        }
    }

    /// Encodes the message in `form` as a fresh buffer.
    fn encode(&self, form: MessageForm) -> bytes::BytesMut {
        let mut out = bytes::BytesMut::with_capacity(64);
        self.encode_into(form, &mut out);
        out
    }

    /// Decodes either form, chosen by the first byte.
    fn decode(payload: &[u8]) -> Result<(Self, MessageForm), MessageError> {
        match MessageForm::sniff(payload) {
            MessageForm::Xlang => Ok((xlang::decode(payload)?, MessageForm::Xlang)),
            MessageForm::Json => serde_json::from_slice(payload)
                .map(|m| (m, MessageForm::Json))
                .map_err(|e| MessageError::Json(e.to_string())),
        }
    }
}

impl ProtocolMessage for StreamHeader {}
impl ProtocolMessage for CallHeader {}
impl ProtocolMessage for RpcStatus {}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn stream_header_matches_reference_bytes() {
        let h = StreamHeader {
            service: "Echo".into(),
            method: "echo".into(),
            version: 1,
            call_id: "test-call-1".into(),
            ..Default::default()
        };
        let x = h.encode(MessageForm::Xlang);
        assert_eq!(
            hex(&x),
            "02ff1d08016c129922120476538900ce9c801922a40518de0000022c746573742d63616c6c2d31106563686f104563686f0000"
        );
        assert_eq!(
            StreamHeader::decode(&x).unwrap(),
            (h.clone(), MessageForm::Xlang)
        );
        let j = h.encode(MessageForm::Json);
        assert_eq!(
            std::str::from_utf8(&j).unwrap(),
            r#"{"service":"Echo","method":"echo","version":1,"callId":"test-call-1","deadlineEpochMs":0,"serializationMode":0,"metadataKeys":[],"metadataValues":[]}"#
        );
        assert_eq!(StreamHeader::decode(&j).unwrap(), (h, MessageForm::Json));
    }

    #[test]
    fn ok_trailer_matches_reference_bytes() {
        assert_eq!(
            hex(&RpcStatus::ok().encode(MessageForm::Xlang)),
            "02ff1d08016c1299220e0256785626026a245353ca9f00000000"
        );
        assert_eq!(
            RpcStatus::ok().encode(MessageForm::Json).as_ref(),
            br#"{"code":0,"message":"","detailKeys":[],"detailValues":[]}"#
        );
    }

    #[test]
    fn json_header_with_unknown_key_is_rejected() {
        assert!(StreamHeader::decode(br#"{"service":"E","bogus":1}"#).is_err());
    }
}
