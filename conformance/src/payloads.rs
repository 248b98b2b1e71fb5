//! `protocol-payloads.json`: StreamHeader, CallHeader and RpcStatus in both forms.

use aster_proto::message::{CallHeader, MessageForm, ProtocolMessage, RpcStatus, StreamHeader};
use serde_json::Value;

use crate::{Report, hex_field, name_of, same_bytes};

pub fn check(file: &str, doc: &Value, report: &mut Report) {
    for v in doc
        .get("vectors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let kind = v.get("type").and_then(Value::as_str).unwrap_or("");
        let result = match kind {
            "StreamHeader" => check_message::<StreamHeader>(v),
            "CallHeader" => check_message::<CallHeader>(v),
            "RpcStatus" => check_message::<RpcStatus>(v),
            other => Err(format!("unknown message type `{other}`")),
        };
        report.record(file, kind, &name_of(v), result);
    }
}

fn check_message<M: ProtocolMessage + PartialEq + std::fmt::Debug>(
    v: &Value,
) -> Result<(), String> {
    let input = v.get("input").ok_or("missing `input`")?;
    let msg: M = serde_json::from_value(input.clone())
        .map_err(|e| format!("input does not fit the message: {e}"))?;
    if v.get("xlang_hex").is_some() {
        let want = hex_field(v, "xlang_hex")?;
        same_bytes("XLANG encoding", &want, &msg.encode(MessageForm::Xlang))?;
        let (back, _) = M::decode(&want).map_err(|e| format!("XLANG decode: {e}"))?;
        if back != msg {
            return Err(format!("XLANG decoded to {back:?}"));
        }
    }
    if let Some(json) = v.get("json_utf8").and_then(Value::as_str) {
        same_bytes(
            "JSON encoding",
            json.as_bytes(),
            &msg.encode(MessageForm::Json),
        )?;
        let (back, _) = M::decode(json.as_bytes()).map_err(|e| format!("JSON decode: {e}"))?;
        if back != msg {
            return Err(format!("JSON decoded to {back:?}"));
        }
    }
    Ok(())
}
