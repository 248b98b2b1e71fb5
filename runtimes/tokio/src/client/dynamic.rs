//! The dynamic client: call any method of any service knowing only its
//! name, JSON in and JSON out, without the service's Rust types.
//!
//! Two ways to the wire. When the peer lists JSON mode for the service, the
//! JSON goes as is and the server's strict decoding checks it against the
//! contract. Otherwise (the reference's services are XLANG-only by default)
//! the client learns the contract from the peer's registry — the bundle,
//! verified against the advertised contract id, plus the manifest's hints —
//! and converts JSON to and from XLANG with a
//! [`ContractSchema`](aster_proto::contract::schema::ContractSchema).

use std::sync::Arc;

use aster_proto::Status;
use aster_proto::call::Pattern;
use aster_proto::codec::SerializationMode;
use aster_proto::codec::json::to_python_json;
use aster_proto::contract::schema::ContractSchema;
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

/// How a dynamic call's JSON reaches the wire.
#[derive(Clone)]
enum DynCodec {
    Json,
    /// XLANG through the service's schema, for one method.
    Xlang(Arc<ContractSchema>, String),
}

impl DynCodec {
    fn mode(&self) -> SerializationMode {
        match self {
            DynCodec::Json => SerializationMode::Json,
            DynCodec::Xlang(..) => SerializationMode::Xlang,
        }
    }

    fn method(&self) -> Result<&aster_proto::contract::schema::MethodSchema, Status> {
        match self {
            DynCodec::Xlang(schema, method) => schema
                .lookup(method)
                .map_err(|e| Status::unimplemented(e.to_string())),
            DynCodec::Json => Err(Status::internal("not an XLANG call")),
        }
    }

    fn encode(&self, value: &Value) -> Result<BoxMessage, Status> {
        let bytes = match self {
            DynCodec::Json => Bytes::from(to_python_json(value)),
            DynCodec::Xlang(..) => self
                .method()?
                .encode_request(value)
                .map_err(|e| e.to_status())?,
        };
        Ok(Box::new(RawPayload(bytes)))
    }

    fn decode(&self, payload: &[u8]) -> Result<Value, Status> {
        match self {
            DynCodec::Json => serde_json::from_slice(payload)
                .map_err(|e| Status::internal(format!("response is not JSON: {e}"))),
            DynCodec::Xlang(..) => self
                .method()?
                .decode_response(payload)
                .map_err(|e| e.to_status()),
        }
    }

    fn outbound(&self, input: JsonInput) -> Result<Outbound, Status> {
        Ok(match input {
            JsonInput::One(v) => Outbound::Unary(self.encode(&v)?),
            JsonInput::Stream(s) => {
                // A value that does not fit the schema ends the request stream.
                let codec = self.clone();
                let encoded = s.map(move |v| codec.encode(&v).ok()).take_while(|m| {
                    if m.is_none() {
                        tracing::warn!(
                            "request stream item does not fit the contract; stream ended"
                        );
                    }
                    futures_util::future::ready(m.is_some())
                });
                Outbound::Stream(Box::pin(encoded.filter_map(futures_util::future::ready)))
            }
        })
    }

    fn output(&self, inbound: Inbound) -> Result<JsonOutput, Status> {
        Ok(match inbound {
            Inbound::Unary(p) => JsonOutput::One(self.decode(&p)?),
            Inbound::Stream(s) => {
                let codec = self.clone();
                JsonOutput::Stream(Box::pin(s.map(move |r| r.and_then(|p| codec.decode(&p)))))
            }
        })
    }
}

impl Client {
    /// The version the peer lists for `service` (1 if unlisted).
    fn listed_version(&self, service: &str) -> i64 {
        self.services()
            .iter()
            .find(|s| s.name == service)
            .map_or(1, |s| s.version)
    }

    /// JSON when asked for, or when the peer lists JSON for the service;
    /// else XLANG through the schema from the peer's registry.
    async fn dyn_codec(
        &self,
        service: &str,
        method: &str,
        options: &CallOptions,
    ) -> Result<DynCodec, Status> {
        let json_listed = self
            .services()
            .iter()
            .find(|s| s.name == service)
            .is_some_and(|s| s.serialization_modes.iter().any(|m| m == "json"));
        match options.mode {
            Some(SerializationMode::Json) => return Ok(DynCodec::Json),
            Some(_) => {}
            None if json_listed => return Ok(DynCodec::Json),
            None => {}
        }
        let schema = self.schema(service).await?;
        Ok(DynCodec::Xlang(schema, method.to_owned()))
    }

    /// The XLANG schema of `service`, built once from the peer's registry.
    pub async fn schema(&self, service: &str) -> Result<Arc<ContractSchema>, Status> {
        if let Some(s) = self
            .inner
            .schemas
            .lock()
            .ok()
            .and_then(|m| m.get(service).cloned())
        {
            return Ok(s);
        }
        let unavailable = |e: &dyn std::fmt::Display| {
            Status::failed_precondition(format!(
                "'{service}' does not accept JSON and its contract could not be read from the peer's registry: {e}"
            ))
        };
        let bundle = self
            .contract_bundle(service)
            .await
            .map_err(|e| unavailable(&e))?;
        let manifest = match bundle.manifest() {
            Some(Ok(m)) => Some(m),
            _ => self.manifest(service).await.ok(),
        };
        let schema =
            ContractSchema::from_bundle(&bundle.contract, &bundle.types, manifest.as_ref())
                .map_err(|e| unavailable(&e))?;
        let schema = Arc::new(schema);
        if let Ok(mut m) = self.inner.schemas.lock() {
            m.insert(service.to_owned(), schema.clone());
        }
        Ok(schema)
    }

    /// A unary JSON call. A session-scoped service gets a one-call session,
    /// as with the reference's `aster call`.
    pub async fn call_json(
        &self,
        service: &str,
        method: &str,
        request: Value,
    ) -> Result<Value, Status> {
        match self
            .call_json_with(
                service,
                method,
                Pattern::Unary,
                JsonInput::One(request),
                CallOptions::default(),
            )
            .await?
        {
            JsonOutput::One(v) => Ok(v),
            JsonOutput::Stream(_) => Err(Status::internal("a stream came back for a unary call")),
        }
    }

    /// Any pattern, JSON in and out. Over XLANG the method's pattern comes
    /// from the contract; `pattern` is used in JSON mode.
    pub async fn call_json_with(
        &self,
        service: &str,
        method: &str,
        pattern: Pattern,
        input: JsonInput,
        options: CallOptions,
    ) -> Result<JsonOutput, Status> {
        let version = self.listed_version(service);
        let codec = self.dyn_codec(service, method, &options).await?;
        let pattern = match &codec {
            DynCodec::Xlang(..) => codec.method()?.pattern(),
            DynCodec::Json => pattern,
        };
        let input = codec.outbound(input)?;
        if self.is_session_service(service) {
            let session = self
                .session_raw(service, version, codec.mode(), CallOptions::default())
                .await?;
            let (_, inbound) = session.call_raw(method, pattern, options, input).await?;
            return codec.output(inbound);
        }
        let (_, inbound) = self
            .call_raw(
                service,
                version,
                method,
                pattern,
                codec.mode(),
                options,
                input,
            )
            .await?;
        codec.output(inbound)
    }

    /// A dynamic session with a service known only by name (JSON or XLANG,
    /// chosen as for [`Client::call_json_with`]).
    pub async fn json_session(&self, service: &str) -> Result<JsonSession, Status> {
        let version = self.listed_version(service);
        let probe = self.dyn_codec(service, "", &CallOptions::default()).await?;
        let session = self
            .session_raw(service, version, probe.mode(), CallOptions::default())
            .await?;
        Ok(JsonSession {
            session,
            codec: probe,
        })
    }
}

/// A session used with JSON calls.
#[derive(Clone, Debug)]
pub struct JsonSession {
    session: Session,
    codec: DynCodec,
}

impl std::fmt::Debug for DynCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DynCodec::Json => f.write_str("Json"),
            DynCodec::Xlang(s, _) => write!(f, "Xlang({})", s.service()),
        }
    }
}

impl JsonSession {
    pub async fn call(
        &self,
        method: &str,
        pattern: Pattern,
        input: JsonInput,
        options: CallOptions,
    ) -> Result<JsonOutput, Status> {
        let codec = match &self.codec {
            DynCodec::Xlang(schema, _) => DynCodec::Xlang(schema.clone(), method.to_owned()),
            DynCodec::Json => DynCodec::Json,
        };
        let pattern = match &codec {
            DynCodec::Xlang(..) => codec.method()?.pattern(),
            DynCodec::Json => pattern,
        };
        let (_, inbound) = self
            .session
            .call_raw(method, pattern, options, codec.outbound(input)?)
            .await?;
        codec.output(inbound)
    }
}
