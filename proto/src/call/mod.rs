//! Per-call state machines (spec §3): what may be sent and received, in
//! which order, and how every call ends with exactly one status.
//!
//! - [`ServerStream`]: one accepted stream on the server, carrying either one
//!   shared call or a whole G1 session (many sequential calls).
//! - [`ClientCall`]: one shared call on its own stream, client side.
//! - [`ClientSession`]: a G1 session stream, client side.
//!
//! They are sans-IO: the runtime feeds received bytes (`handle_data`), end of
//! stream (`handle_fin`) and the time (`handle_timeout`, epoch milliseconds),
//! and drains [`Transmit`]s (bytes to write, and whether to finish the send
//! side), events, and the next timer. Messages travel as payload bytes; the
//! typed encode/decode helpers are in [`crate::codec`].

mod client;
mod metadata;
mod outbox;
mod route;
mod server;
mod session;

pub use client::{CallRequest, ClientCall, ClientEvent};

/// QUIC stream reset code a server uses to refuse a stream it has not read
/// (it is draining): the call was not processed, so a client may safely
/// send it to another server, whatever the method. Any other reset is an
/// ordinary "stream reset by peer".
pub const STREAM_REFUSED_CODE: u32 = 8;

/// The status message of a call refused with [`STREAM_REFUSED_CODE`].
pub const REFUSED_MESSAGE: &str =
    "stream refused by the server (draining); the call was not processed";
pub use metadata::{MetadataError, check_metadata};
pub use outbox::{Transmit, TransmitRef};
pub use route::{MethodSpec, Route, RouteError, Scope, ServiceSpec, ServiceTable};
pub use server::{CallInfo, ServerEvent, ServerStream, SessionInfo};
pub use session::{ClientSession, SessionCall, SessionEvent};

/// The four call shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pattern {
    Unary,
    ServerStream,
    ClientStream,
    Bidi,
}

impl Pattern {
    /// The name the reference uses in manifests (`"server_stream"`).
    pub fn name(self) -> &'static str {
        match self {
            Pattern::Unary => "unary",
            Pattern::ServerStream => "server_stream",
            Pattern::ClientStream => "client_stream",
            Pattern::Bidi => "bidi_stream",
        }
    }

    /// The client sends more than one request message.
    pub fn client_streams(self) -> bool {
        matches!(self, Pattern::ClientStream | Pattern::Bidi)
    }

    /// The server sends more than one response message.
    pub fn server_streams(self) -> bool {
        matches!(self, Pattern::ServerStream | Pattern::Bidi)
    }
}

/// Identifies one call on a stream, so that an application action that
/// races with the call's end (a late response after a CANCEL) is recognised
/// as stale instead of being applied to the next call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(pub u64);

/// An application action the state machine cannot take in its state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("the call has already ended")]
    Ended,
    #[error("call {0:?} is not the current call on this stream")]
    NotCurrent(CallId),
    #[error("a {pattern:?} call takes exactly one {what}")]
    SingleMessage {
        pattern: Pattern,
        what: &'static str,
    },
    #[error("the request side is already finished")]
    SendFinished,
    #[error("another call is in progress on this session")]
    Busy,
    #[error("the session is closed")]
    SessionClosed,
    #[error("message too large: {0}")]
    Frame(#[from] crate::frame::FrameError),
}
