//! Aster RPC on tokio and iroh.
//!
//! A service is a trait of async methods; its address is its node's ed25519
//! public key. iroh finds a path to that key (direct UDP, hole punching,
//! relay) and the QUIC handshake proves both identities.
//!
//! ```
//! use aster::{CallContext, Client, Server, Status, WireType};
//!
//! #[derive(Debug, Clone, Default, WireType)]
//! #[wire(tag = "mission/StatusRequest")]
//! pub struct StatusRequest {
//!     pub agent_id: String,
//! }
//!
//! #[derive(Debug, Clone, Default, WireType)]
//! #[wire(tag = "mission/StatusResponse")]
//! pub struct StatusResponse {
//!     pub agent_id: String,
//!     pub status: String,
//! }
//!
//! #[aster::service(name = "MissionControl", version = 1, rename_all = "camelCase")]
//! pub trait MissionControl {
//!     #[rpc(timeout = 5.0, idempotent)]
//!     async fn get_status(&self, ctx: CallContext, req: StatusRequest) -> Result<StatusResponse, Status>;
//! }
//!
//! struct Control;
//!
//! impl MissionControl for Control {
//!     async fn get_status(&self, _ctx: CallContext, req: StatusRequest) -> Result<StatusResponse, Status> {
//!         Ok(StatusResponse { agent_id: req.agent_id, status: "running".into() })
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A server on loopback (relay and address lookup off), open for the demo.
//! let server = Server::builder().service(MissionControlServer::new(Control)).loopback().dev_mode().bind().await?;
//! // Any peer can dial it by its `aster1…` address (its key plus hints).
//! let client = Client::builder().loopback().connect(&server.ticket()).await?;
//! let mc = MissionControlClient::new(client.clone());
//! let answer = mc.get_status(StatusRequest { agent_id: "edge-7".into() }).await?;
//! assert_eq!(answer.status, "running");
//! client.close().await;
//! server.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! The protocol itself lives in [`proto`] (sans-IO); this crate owns the
//! I/O: endpoints, streams, tasks and timers.
//!
//! Every call has a `tracing` span on each side: `rpc` on the server (INFO)
//! and `rpc.client` on the client (DEBUG), with the service, method, peer,
//! status and duration in microseconds. They are made once a `tracing`
//! subscriber is set; without one, calls skip them entirely.

pub mod bridge;
pub mod caller;
pub mod client;
pub mod handler;
pub mod net;
mod quic;
pub mod registry;
pub mod server;
mod spans;
mod timer;
pub mod trust;

pub use aster_macros::{WireType, service};
pub use aster_proto as proto;
pub use aster_proto::{Status, StatusCode};
pub use caller::{CallFuture, CallOptions, Caller, Inbound, Outbound};
pub use client::{Client, ClientBuilder, ClientError, JsonInput, JsonOutput, JsonSession, Session};
pub use handler::{
    BoxFuture, BoxStream, CallContext, Dispatch, Incoming, Outgoing, OutgoingMessage, RawPayload,
    RequestStream, ResponseStream, Service, SessionContext,
};
pub use iroh::{EndpointAddr, EndpointId, SecretKey};
pub use net::NetworkMode;
pub use server::{Server, ServerBuilder, ServerError};
pub use trust::TrustConfig;

#[doc(hidden)]
pub mod __private {
    //! For macro-generated code only.
    pub use crate::caller::generated as caller;
    pub use crate::handler::generated as handler;
    pub use futures_core::Stream;
}
