//! The dynamic JSON client: call any method of any service knowing only its
//! name, JSON in and JSON out (the reference's dynamic proxy does the same in
//! JSON mode). No Rust types, no manifest: the server's strict JSON decoding
//! checks the request against its contract.

use aster_proto::Status;
use aster_proto::call::Pattern;
use aster_proto::codec::SerializationMode;
use aster_proto::codec::json::to_python_json;
use bytes::Bytes;
use futures_util::StreamExt;
use serde_json::Value;

use super::{Client, Session};
use crate::caller::{CallOptions, Inbound, Outbound};
use crate::handler::{BoxMessage, BoxStream, RawPayload};

/// What a dynamic call sends.
pub enum JsonInput {
    One(Value),
    Stream(BoxStream<Value>),
}

/// What a dynamic call returns.
pub enum JsonOutput {
    One(Value),
    Stream(BoxStream<Result<Value, Status>>),
}

impl std::fmt::Debug for JsonOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JsonOutput::One(v) => write!(f, "One({v})"),
            JsonOutput::Stream(_) => f.write_str("Stream(..)"),
        }
    }
}

fn encode(value: &Value) -> BoxMessage {
    Box::new(RawPayload(Bytes::from(to_python_json(value))))
}

fn decode(payload: &[u8]) -> Result<Value, Status> {
    serde_json::from_slice(payload).map_err(|e| Status::internal(format!("response is not JSON: {e}")))
}

fn outbound(input: JsonInput) -> Outbound {
    match input {
        JsonInput::One(v) => Outbound::Unary(encode(&v)),
        JsonInput::Stream(s) => Outbound::Stream(Box::pin(s.map(|v| encode(&v)))),
    }
}

fn output(inbound: Inbound) -> Result<JsonOutput, Status> {
    Ok(match inbound {
        Inbound::Unary(p) => JsonOutput::One(decode(&p)?),
        Inbound::Stream(s) => JsonOutput::Stream(Box::pin(s.map(|r| r.and_then(|p| decode(&p))))),
    })
}

impl Client {
    /// The version the peer lists for `service` (1 if unlisted).
    fn listed_version(&self, service: &str) -> i64 {
        self.services().iter().find(|s| s.name == service).map_or(1, |s| s.version)
    }

    /// A unary JSON call. A session-scoped service gets a one-call session,
    /// as with the reference's `aster call`.
    pub async fn call_json(&self, service: &str, method: &str, request: Value) -> Result<Value, Status> {
        match self.call_json_with(service, method, Pattern::Unary, JsonInput::One(request), CallOptions::default()).await? {
            JsonOutput::One(v) => Ok(v),
            JsonOutput::Stream(_) => Err(Status::internal("a stream came back for a unary call")),
        }
    }

    /// Any pattern, JSON in and out.
    pub async fn call_json_with(
        &self,
        service: &str,
        method: &str,
        pattern: Pattern,
        input: JsonInput,
        options: CallOptions,
    ) -> Result<JsonOutput, Status> {
        let version = self.listed_version(service);
        let input = outbound(input);
        if self.is_session_service(service) {
            let session = self.session_raw(service, version, SerializationMode::Json, CallOptions::default()).await?;
            let (_, inbound) = session.call_raw(method, pattern, options, input).await?;
            return output(inbound);
        }
        let (_, inbound) = self.call_raw(service, version, method, pattern, SerializationMode::Json, options, input).await?;
        output(inbound)
    }

    /// A JSON-mode session with a service known only by name.
    pub async fn json_session(&self, service: &str) -> Result<JsonSession, Status> {
        let version = self.listed_version(service);
        let session = self.session_raw(service, version, SerializationMode::Json, CallOptions::default()).await?;
        Ok(JsonSession { session })
    }
}

/// A session used with JSON calls.
#[derive(Clone, Debug)]
pub struct JsonSession {
    session: Session,
}

impl JsonSession {
    pub async fn call(&self, method: &str, pattern: Pattern, input: JsonInput, options: CallOptions) -> Result<JsonOutput, Status> {
        let (_, inbound) = self.session.call_raw(method, pattern, options, outbound(input)).await?;
        output(inbound)
    }
}
