//! The client-side shape of a call, as typed stubs use it.
//!
//! A generated client (`MissionControlClient<C>`) is generic over [`Caller`]:
//! anything that can carry a call — a connected [`crate::Client`], a
//! [`crate::Session`] of a session-scoped service, or a test double.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use aster_proto::Status;
use aster_proto::codec::{Message, SerializationMode};
use aster_proto::service::{MethodDescriptor, ServiceDescriptor};
use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt;

use crate::handler::{BoxMessage, BoxStream, ResponseStream, decode};

/// Per-call options.
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    /// Sent as header metadata.
    pub metadata: Vec<(String, String)>,
    /// Deadline relative to the call's start. Defaults to the method's
    /// declared timeout, if any.
    pub timeout: Option<Duration>,
    /// Overrides the serialization mode.
    pub mode: Option<SerializationMode>,
}

impl CallOptions {
    pub fn new() -> CallOptions {
        CallOptions::default()
    }

    pub fn timeout(mut self, timeout: Duration) -> CallOptions {
        self.timeout = Some(timeout);
        self
    }

    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> CallOptions {
        self.metadata.push((key.into(), value.into()));
        self
    }

    pub fn mode(mut self, mode: SerializationMode) -> CallOptions {
        self.mode = Some(mode);
        self
    }
}

/// What a call sends.
pub enum Outbound {
    Unary(BoxMessage),
    Stream(BoxStream<BoxMessage>),
}

/// What a call got back (payloads decompressed), with the mode used.
pub enum Inbound {
    Unary(Bytes),
    Stream(BoxStream<Result<Bytes, Status>>),
}

/// A call in flight: it may borrow the caller, since a typed stub awaits it
/// at once (so a connected client need not be cloned per call).
pub type CallFuture<'a> =
    Pin<Box<dyn Future<Output = Result<(SerializationMode, Inbound), Status>> + Send + 'a>>;

/// Carries calls to a service.
pub trait Caller: Send + Sync {
    fn call(
        &self,
        service: &'static ServiceDescriptor,
        method: &'static MethodDescriptor,
        options: CallOptions,
        input: Outbound,
    ) -> CallFuture<'_>;
}

impl<C: Caller + ?Sized> Caller for std::sync::Arc<C> {
    fn call(
        &self,
        service: &'static ServiceDescriptor,
        method: &'static MethodDescriptor,
        options: CallOptions,
        input: Outbound,
    ) -> CallFuture<'_> {
        (**self).call(service, method, options, input)
    }
}

/// Helpers called by `#[aster::service]`-generated clients.
#[doc(hidden)]
pub mod generated {
    use super::*;

    pub fn one<T: Message>(value: T) -> Outbound {
        Outbound::Unary(Box::new(value))
    }

    pub fn many<T: Message, S: Stream<Item = T> + Send + 'static>(stream: S) -> Outbound {
        Outbound::Stream(Box::pin(stream.map(|m| Box::new(m) as BoxMessage)))
    }

    pub fn expect_one<T: Message>(result: (SerializationMode, Inbound)) -> Result<T, Status> {
        match result {
            (mode, Inbound::Unary(payload)) => decode(&payload, mode),
            (_, Inbound::Stream(_)) => Err(Status::internal(
                "a stream came back for a single-response method",
            )),
        }
    }

    pub fn expect_stream<T: Message>(
        result: (SerializationMode, Inbound),
    ) -> Result<ResponseStream<T>, Status> {
        match result {
            (mode, Inbound::Stream(s)) => Ok(Box::pin(
                s.map(move |r| r.and_then(|p| decode::<T>(&p, mode))),
            )),
            (mode, Inbound::Unary(p)) => {
                let item = decode::<T>(&p, mode);
                Ok(Box::pin(futures_util::stream::once(async move { item })))
            }
        }
    }
}
