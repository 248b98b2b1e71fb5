//! Aster RPC on tokio and iroh.
//!
//! A service is a trait of async methods; its address is its node's ed25519
//! public key. iroh finds a path to that key (direct UDP, hole punching,
//! relay) and the QUIC handshake proves both identities.
//!
//! ```ignore
//! #[derive(Debug, Clone, Default, aster::WireType)]
//! #[wire(tag = "mission/StatusRequest")]
//! pub struct StatusRequest { pub agent_id: String }
//!
//! #[aster::service(name = "MissionControl", version = 1, rename_all = "camelCase")]
//! pub trait MissionControl {
//!     #[rpc]
//!     async fn get_status(&self, ctx: CallContext, req: StatusRequest) -> Result<StatusResponse, Status>;
//! }
//! ```
//!
//! The protocol itself lives in [`proto`] (sans-IO); this crate owns the
//! I/O: endpoints, streams, tasks and timers.

pub mod bridge;
pub mod caller;
pub mod client;
pub mod handler;
pub mod net;
pub mod registry;
pub mod server;
pub mod trust;

pub use aster_macros::{WireType, service};
pub use aster_proto as proto;
pub use aster_proto::{Status, StatusCode};
pub use caller::{CallOptions, Caller, Inbound, Outbound};
pub use client::{Client, ClientBuilder, ClientError, JsonInput, JsonOutput, JsonSession, Session};
pub use iroh::{EndpointAddr, EndpointId, SecretKey};
pub use net::NetworkMode;
pub use server::{Server, ServerBuilder, ServerError};
pub use trust::TrustConfig;
pub use handler::{
    BoxFuture, BoxStream, CallContext, Dispatch, Incoming, Outgoing, OutgoingMessage, RawPayload, RequestStream,
    ResponseStream, Service, SessionContext,
};

#[doc(hidden)]
pub mod __private {
    //! For macro-generated code only.
    pub use crate::caller::generated as caller;
    pub use crate::handler::generated as handler;
    pub use futures_core::Stream;
}
