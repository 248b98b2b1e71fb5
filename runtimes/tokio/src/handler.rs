//! The server-side shape of a service, as the runtime drives it.
//!
//! `#[aster::service]` turns a trait into a [`Service`]: a descriptor plus a
//! way to obtain a [`Dispatch`] (one shared instance, or one per session).
//! The runtime decodes nothing itself: it hands request payloads to
//! [`Dispatch::call`] and writes what comes back. Typed decoding happens in
//! the generated code through the helpers at the bottom of this module.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use aster_proto::codec::{self, Message, SerializationMode};
use aster_proto::frame::{Flags, FrameBuf, FrameError};
use aster_proto::service::ServiceDescriptor;
use aster_proto::{Status, StatusCode};
use bytes::Bytes;
use futures_core::Stream;

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;
pub type BoxStream<T> = Pin<Box<dyn Stream<Item = T> + Send + 'static>>;

/// A message ready to be framed: encoded by the stream driver straight into
/// its send queue in the call's mode (large `Bytes` fields by reference).
pub trait OutgoingMessage: Send + 'static {
    fn encode_frame(&self, mode: SerializationMode, out: &mut FrameBuf) -> Result<(), FrameError>;
}

impl<T: Message> OutgoingMessage for T {
    fn encode_frame(&self, mode: SerializationMode, out: &mut FrameBuf) -> Result<(), FrameError> {
        codec::encode_message_into(self, mode, out)
    }
}

/// A payload already serialized in the call's mode (dynamic callers).
#[derive(Debug, Clone)]
pub struct RawPayload(pub Bytes);

impl OutgoingMessage for RawPayload {
    fn encode_frame(&self, mode: SerializationMode, out: &mut FrameBuf) -> Result<(), FrameError> {
        let out = &mut out.bytes;
        if !mode.is_json() && self.0.len() > aster_proto::limits::COMPRESSION_THRESHOLD {
            let packed = codec::compress::compress(&self.0);
            aster_proto::frame::encode_frame(Flags::COMPRESSED, &packed, out)
        } else {
            aster_proto::frame::encode_frame(Flags::NONE, &self.0, out)
        }
    }
}

pub type BoxMessage = Box<dyn OutgoingMessage>;

/// What a call receives: its one request, or a stream of them.
pub enum Incoming {
    Unary(Bytes),
    Stream(BoxStream<Result<Bytes, Status>>),
}

/// What a call answers: one response, or a stream of them.
pub enum Outgoing {
    Unary(BoxMessage),
    Stream(BoxStream<Result<BoxMessage, Status>>),
}

/// Who is calling and how: available to every handler.
#[derive(Debug, Clone)]
pub struct CallContext {
    pub service: &'static str,
    pub method: &'static str,
    /// The caller's endpoint id (hex), as proven by the QUIC handshake.
    /// Shared by every call of the connection, not copied per call.
    pub peer: Option<Arc<str>>,
    /// Request metadata pairs, in the order sent.
    pub metadata: Vec<(String, String)>,
    /// Attributes granted to the peer at admission (e.g. `aster.role`).
    pub attributes: BTreeMap<String, String>,
    /// The caller's deadline, epoch milliseconds.
    pub deadline_epoch_ms: Option<u64>,
    /// The caller's call id (may be empty).
    pub call_id: String,
    /// Set for calls of a session-scoped service.
    pub session_id: Option<String>,
    pub mode: SerializationMode,
}

impl CallContext {
    /// The value under `key`; a later duplicate wins, as with the reference.
    pub fn metadata_value(&self, key: &str) -> Option<&str> {
        self.metadata
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Roles from the admitted `aster.role` attribute (comma-separated).
    pub fn roles(&self) -> Vec<&str> {
        self.attributes
            .get("aster.role")
            .map(|r| {
                r.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The opening of a session-scoped service instance.
#[derive(Debug, Clone)]
pub struct SessionContext {
    pub service: &'static str,
    /// The caller's endpoint id (hex).
    pub peer: Option<Arc<str>>,
    pub session_id: String,
    pub metadata: Vec<(String, String)>,
    pub attributes: BTreeMap<String, String>,
}

/// A registered service.
pub trait Service: Send + Sync + 'static {
    fn descriptor(&self) -> &'static ServiceDescriptor;
    /// The instance that serves calls: the same one for a shared service, a
    /// new one per session for a session-scoped service.
    fn open(&self, session: &SessionContext) -> Arc<dyn Dispatch>;
    /// The manifest the registry publishes for this service. Generated
    /// servers fill in their request and response types' real defaults;
    /// the fallback uses each field type's default.
    fn manifest(&self) -> aster_proto::contract::manifest::Manifest {
        self.descriptor().manifest()
    }
}

/// Runs calls of one service instance.
pub trait Dispatch: Send + Sync + 'static {
    /// Runs method `method` (index into the descriptor's methods).
    fn call(
        &self,
        method: usize,
        ctx: CallContext,
        input: Incoming,
    ) -> BoxFuture<Result<Outgoing, Status>>;
    /// A session ended (session-scoped services).
    fn close(&self) -> BoxFuture<()> {
        Box::pin(async {})
    }
}

/// The request messages of a client-stream or bidi call, decoded as they
/// arrive. Ends when the client ends its side; an undecodable message is an
/// `Err` item.
pub struct RequestStream<T> {
    inner: BoxStream<Result<Bytes, Status>>,
    mode: SerializationMode,
    _t: std::marker::PhantomData<fn() -> T>,
}

impl<T: Message> RequestStream<T> {
    pub fn new(inner: BoxStream<Result<Bytes, Status>>, mode: SerializationMode) -> Self {
        RequestStream {
            inner,
            mode,
            _t: std::marker::PhantomData,
        }
    }
}

impl<T: Message> Stream for RequestStream<T> {
    type Item = Result<T, Status>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mode = self.mode;
        self.inner
            .as_mut()
            .poll_next(cx)
            .map(|item| item.map(|r| r.and_then(|payload| decode::<T>(&payload, mode))))
    }
}

/// The response messages of a server-stream or bidi call.
pub type ResponseStream<T> = BoxStream<Result<T, Status>>;

/// Decodes a (decompressed) payload as `T`; large `Bytes` fields share
/// the payload instead of copying it.
pub fn decode<T: Message>(payload: &Bytes, mode: SerializationMode) -> Result<T, Status> {
    codec::decode_shared_message(payload, mode).map_err(|e| e.to_status())
}

/// Helpers called by `#[aster::service]`-generated code.
#[doc(hidden)]
pub mod generated {
    use futures_util::StreamExt;

    use super::*;

    pub fn unary_request<T: Message>(ctx: &CallContext, input: Incoming) -> Result<T, Status> {
        match input {
            Incoming::Unary(payload) => decode(&payload, ctx.mode),
            Incoming::Stream(_) => Err(Status::internal(
                "streamed input for a single-request method",
            )),
        }
    }

    pub fn request_stream<T: Message>(
        ctx: &CallContext,
        input: Incoming,
    ) -> Result<RequestStream<T>, Status> {
        match input {
            Incoming::Stream(s) => Ok(RequestStream::new(s, ctx.mode)),
            Incoming::Unary(payload) => Ok(RequestStream::new(
                Box::pin(futures_util::stream::once(async move { Ok(payload) })),
                ctx.mode,
            )),
        }
    }

    pub fn unary_response<T: Message>(value: T) -> Outgoing {
        Outgoing::Unary(Box::new(value))
    }

    pub fn stream_response<T: Message>(stream: ResponseStream<T>) -> Outgoing {
        Outgoing::Stream(Box::pin(
            stream.map(|item| item.map(|m| Box::new(m) as BoxMessage)),
        ))
    }

    pub fn unknown_method(service: &str, method: usize) -> BoxFuture<Result<Outgoing, Status>> {
        let status = Status::new(
            StatusCode::Unimplemented,
            format!("{service} has no method #{method}"),
        );
        Box::pin(async move { Err(status) })
    }
}
