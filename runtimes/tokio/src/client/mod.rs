//! The client: connects to a peer by address, runs consumer admission, and
//! carries calls as a [`Caller`] (one QUIC stream per call; sessions on their
//! own stream).

mod drive;
mod dynamic;
mod registry;
mod session;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use aster_proto::Status;
use aster_proto::admission::{
    AdmissionRequest, AdmissionResponse, CONSUMER_ADMISSION_ALPN, RPC_ALPN, ServiceSummary,
};
use aster_proto::call::{CallRequest, ClientCall, ClientSession, Pattern, Scope};
use aster_proto::codec::SerializationMode;
use aster_proto::limits::MAX_ADMISSION_PAYLOAD_SIZE;
use aster_proto::service::{MethodDescriptor, ServiceDescriptor};
use aster_proto::trust::{Credential, IdentityFile, PeerRole};
use futures_util::FutureExt;
use futures_util::future::Either;
use iroh::address_lookup::MemoryLookup;
use iroh::endpoint::{Connection, VarInt};
use iroh::{Endpoint, EndpointAddr, EndpointId, SecretKey};
use rand::RngExt;
use tracing::{Instrument, debug};

use crate::caller::{CallFuture, CallOptions, Caller, Inbound, Outbound};
use crate::net::{
    EndpointOptions, NetError, NetworkMode, bind_endpoint, now_ms, parse_address, remember,
};
pub use dynamic::{JsonInput, JsonOutput, JsonSession};
pub use session::Session;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Net(#[from] NetError),
    #[error("cannot reach {peer}: {reason}")]
    Connect { peer: String, reason: String },
    #[error("admission exchange failed: {0}")]
    Admission(String),
    #[error("admission denied by {peer}")]
    Denied { peer: String },
    #[error("credential {path}: {reason}")]
    Credential { path: String, reason: String },
}

/// See [`ClientBuilder::connect_timeout`].
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// A random UUID4 in text form, for stream and session call ids.
pub(crate) fn new_call_id() -> String {
    let mut b: [u8; 16] = rand::rng().random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Configures a [`Client`].
pub struct ClientBuilder {
    endpoint: EndpointOptions,
    shared_endpoint: Option<(Endpoint, MemoryLookup)>,
    credential_json: String,
    registry_node: Option<crate::registry::RegistryNode>,
    connect_timeout: Duration,
}

impl ClientBuilder {
    pub fn secret_key(mut self, key: SecretKey) -> Self {
        self.endpoint.secret_key = Some(key);
        self
    }

    pub fn network(mut self, network: NetworkMode) -> Self {
        self.endpoint.network = network;
        self
    }

    /// No relay, no address lookup, bound to 127.0.0.1.
    pub fn loopback(self) -> Self {
        self.network(NetworkMode::loopback())
    }

    /// Uses an existing endpoint (e.g. a server's) instead of binding one.
    pub fn endpoint(mut self, endpoint: Endpoint, lookup: MemoryLookup) -> Self {
        self.shared_endpoint = Some((endpoint, lookup));
        self
    }

    /// How long a connection attempt may take before the call fails with
    /// UNAVAILABLE (default 15 s). A peer that vanished without closing
    /// otherwise costs a full QUIC idle timeout.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Reads registries through this node (e.g. the server's, when the
    /// client shares its endpoint) instead of starting one on first use.
    pub fn registry_node(mut self, node: crate::registry::RegistryNode) -> Self {
        self.registry_node = Some(node);
        self
    }

    /// The credential presented at admission, as its JSON text (file or
    /// wire form; it is sent in the wire form the reference's server reads).
    pub fn credential_json(mut self, json: impl Into<String>) -> Self {
        self.credential_json = json.into();
        self
    }

    /// Presents the credential in `path`: a credential JSON file (`aster
    /// trust sign`), or an `.aster-identity` file (`aster enroll node`),
    /// whose node key then also becomes this client's identity (a credential
    /// bound to an endpoint only works from that endpoint).
    pub fn credential_file(
        mut self,
        path: impl AsRef<std::path::Path>,
    ) -> Result<Self, ClientError> {
        let path = path.as_ref();
        let bad = |reason: String| ClientError::Credential {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        if text.trim_start().starts_with('{') {
            let credential = Credential::from_json(&text).map_err(|e| bad(e.to_string()))?;
            self.credential_json = credential.to_wire_json();
            return Ok(self);
        }
        let identity = IdentityFile::parse(&text).map_err(|e| bad(e.to_string()))?;
        let peer = identity
            .find_peer(None, Some(PeerRole::Consumer))
            .or_else(|| identity.peers.first())
            .ok_or_else(|| bad("the identity file has no [[peers]] entry".into()))?;
        let credential = peer.to_credential().map_err(|e| bad(e.to_string()))?;
        self.credential_json = credential.to_wire_json();
        if let Some(key) = &identity.node.secret_key {
            self.endpoint.secret_key = Some(SecretKey::from_bytes(&key.to_bytes()));
        }
        Ok(self)
    }

    /// Connects to `address` (`aster1…`, hex endpoint id, or base64 NodeAddr)
    /// and runs consumer admission.
    pub async fn connect(self, address: &str) -> Result<Client, ClientError> {
        let peer = parse_address(address)?;
        self.connect_addr(peer).await
    }

    pub async fn connect_addr(self, peer: EndpointAddr) -> Result<Client, ClientError> {
        let (endpoint, lookup, owned) = match self.shared_endpoint {
            Some((e, l)) => (e, l, false),
            None => {
                let lookup = MemoryLookup::new();
                (bind_endpoint(&self.endpoint, &lookup).await?, lookup, true)
            }
        };
        remember(&lookup, &peer);
        // Send the wire form whatever form was given (a file's JSON differs).
        let credential_json = match Credential::from_json(&self.credential_json) {
            Ok(c) if !self.credential_json.is_empty() => c.to_wire_json(),
            _ => self.credential_json.clone(),
        };
        let admission = tokio::time::timeout(
            self.connect_timeout,
            admit(&endpoint, &peer, &credential_json),
        )
        .await
        .map_err(|_| ClientError::Connect {
            peer: peer.id.to_string(),
            reason: format!("no admission answer within {:?}", self.connect_timeout),
        })??;
        // Parsed once here: decoding an address checks the key (an ed25519
        // point decompression), far too slow to repeat per call.
        // Each distinct endpoint gets one connection slot, found per call
        // without a map lookup.
        let mut slots: HashMap<EndpointId, Arc<ConnSlot>> = HashMap::new();
        let mut target = |addr: EndpointAddr| Target {
            slot: slots.entry(addr.id).or_default().clone(),
            addr,
        };
        let peer_target = target(peer.clone());
        let mut rpc_targets = Vec::with_capacity(admission.services.len());
        for s in &admission.services {
            let addr = s.channels.get("rpc").and_then(|a| parse_address(a).ok());
            if let Some(addr) = &addr {
                remember(&lookup, addr);
            }
            rpc_targets.push(addr.map(&mut target));
        }
        Ok(Client {
            inner: Arc::new(Inner {
                endpoint,
                owns_endpoint: owned,
                peer,
                admission,
                peer_target,
                rpc_targets,
                connect_timeout: self.connect_timeout,
                conns: slots.into_values().collect(),
                registry: registry::ClientRegistry::new(self.registry_node),
                schemas: Mutex::new(HashMap::new()),
            }),
        })
    }
}

/// Runs the consumer-admission exchange with `peer`.
async fn admit(
    endpoint: &Endpoint,
    peer: &EndpointAddr,
    credential_json: &str,
) -> Result<AdmissionResponse, ClientError> {
    let fail = |e: &dyn std::fmt::Display| ClientError::Admission(e.to_string());
    let conn = endpoint
        .connect(peer.clone(), CONSUMER_ADMISSION_ALPN)
        .await
        .map_err(|e| ClientError::Connect {
            peer: peer.id.to_string(),
            reason: e.to_string(),
        })?;
    let (mut send, mut recv) = conn.open_bi().await.map_err(|e| fail(&e))?;
    let request = AdmissionRequest {
        credential_json: credential_json.to_string(),
        iid_token: String::new(),
    };
    send.write_all(&request.encode())
        .await
        .map_err(|e| fail(&e))?;
    send.finish().map_err(|e| fail(&e))?;
    let answer = recv
        .read_to_end(MAX_ADMISSION_PAYLOAD_SIZE)
        .await
        .map_err(|e| fail(&e))?;
    conn.close(VarInt::from_u32(0), b"");
    let answer = AdmissionResponse::decode(&answer).map_err(|e| fail(&e))?;
    if !answer.admitted {
        return Err(ClientError::Denied {
            peer: peer.id.to_string(),
        });
    }
    debug!(peer = %peer.id, services = answer.services.len(), "admitted");
    Ok(answer)
}

struct Inner {
    endpoint: Endpoint,
    owns_endpoint: bool,
    peer: EndpointAddr,
    admission: AdmissionResponse,
    /// Where to call the peer itself (services without an RPC address).
    peer_target: Target,
    /// Where to call each of `admission.services`: its RPC address, parsed.
    rpc_targets: Vec<Option<Target>>,
    connect_timeout: Duration,
    /// Every connection slot (of `peer_target` and `rpc_targets`), for `close`.
    conns: Vec<Arc<ConnSlot>>,
    /// The peer's registry, joined on first use.
    registry: registry::ClientRegistry,
    /// XLANG schemas of services called dynamically, by name.
    schemas: Mutex<HashMap<String, Arc<aster_proto::contract::schema::ContractSchema>>>,
}

/// An endpoint to call and its connection slot.
struct Target {
    addr: EndpointAddr,
    slot: Arc<ConnSlot>,
}

/// The cached connection to one RPC endpoint.
///
/// Calls read the cached connection without a lock (two calls on different
/// threads would otherwise both write the lock's cache line); only
/// (re)connecting goes through the async lock, so that concurrent callers
/// dial once. A connection that died is found out by the call that tries to
/// open a stream on it ([`Client::open_stream`] then reconnects).
///
/// The connection is kept behind an `Arc`: cloning an iroh `Connection`
/// copies its ALPN (an allocation), which would happen on every call.
#[derive(Default)]
struct ConnSlot {
    live: ArcSwapOption<Connection>,
    connecting: tokio::sync::Mutex<()>,
}

impl ConnSlot {
    fn get(&self) -> Option<Arc<Connection>> {
        self.live.load_full()
    }

    fn set(&self, conn: Option<Arc<Connection>>) -> Option<Arc<Connection>> {
        self.live.swap(conn)
    }
}

/// A connection to one Aster peer.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("peer", &self.inner.peer.id)
            .finish()
    }
}

impl Client {
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            endpoint: EndpointOptions::default(),
            shared_endpoint: None,
            credential_json: String::new(),
            registry_node: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }

    /// Connects with the default network settings.
    pub async fn connect(address: &str) -> Result<Client, ClientError> {
        Client::builder().connect(address).await
    }

    /// The services the peer listed at admission.
    pub fn services(&self) -> &[ServiceSummary] {
        &self.inner.admission.services
    }

    /// The peer's registry document (iroh-docs namespace, hex), if any.
    pub fn registry_namespace(&self) -> &str {
        &self.inner.admission.registry_namespace
    }

    /// Attributes the peer granted at admission.
    pub fn attributes(&self) -> &std::collections::BTreeMap<String, String> {
        &self.inner.admission.attributes
    }

    pub fn peer(&self) -> &EndpointAddr {
        &self.inner.peer
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.inner.endpoint
    }

    fn summary(&self, name: &str, version: i64) -> Option<&ServiceSummary> {
        let services = &self.inner.admission.services;
        services
            .iter()
            .find(|s| s.name == name && s.version == version)
            .or_else(|| services.iter().find(|s| s.name == name))
    }

    /// Where to call `name`: the RPC address the peer gave for it, else the peer itself.
    fn rpc_target(&self, name: &str, version: i64) -> &Target {
        let services = &self.inner.admission.services;
        let index = services
            .iter()
            .position(|s| s.name == name && s.version == version)
            .or_else(|| services.iter().position(|s| s.name == name));
        index
            .and_then(|i| self.inner.rpc_targets.get(i).and_then(Option::as_ref))
            .unwrap_or(&self.inner.peer_target)
    }

    /// The mode for a call: the caller's choice, else JSON when the peer
    /// lists JSON but not XLANG for the service, else the service's default.
    fn mode_for(&self, service: &ServiceDescriptor, options: &CallOptions) -> SerializationMode {
        if let Some(m) = options.mode {
            return m;
        }
        let listed = self
            .summary(service.name, i64::from(service.version))
            .map(|s| &s.serialization_modes);
        match listed {
            Some(modes)
                if modes.iter().any(|m| m == "json") && !modes.iter().any(|m| m == "xlang") =>
            {
                SerializationMode::Json
            }
            _ => service.default_mode(),
        }
    }

    /// The cached connection to the target, connecting once if needed;
    /// `stale` (a connection that just failed) is not used again.
    async fn connection(
        &self,
        target: &Target,
        stale: Option<&Connection>,
    ) -> Result<Arc<Connection>, Status> {
        if let Some(c) = target.slot.get().filter(|c| usable(c, stale)) {
            return Ok(c);
        }
        // Dialing is rare and its future large: kept out of every call's.
        // It runs in a span of its own, not the call's: the connection's
        // spans outlive the call and would keep its span open as their parent.
        let span = crate::spans::call_span!(parent: None, tracing::Level::DEBUG, "rpc.dial", peer = %target.addr.id.fmt_short());
        Box::pin(self.dial(target, stale)).instrument(span).await
    }

    /// [`Client::connection`] without a usable cached connection: one caller
    /// dials, the others wait for it and share its connection.
    async fn dial(
        &self,
        target: &Target,
        stale: Option<&Connection>,
    ) -> Result<Arc<Connection>, Status> {
        let (addr, slot) = (&target.addr, &target.slot);
        let _dialing = slot.connecting.lock().await;
        // Another caller may have reconnected while this one waited.
        if let Some(c) = slot
            .get()
            .filter(|c| usable(c, stale) && c.close_reason().is_none())
        {
            return Ok(c);
        }
        let conn = self.inner.endpoint.connect(addr.clone(), RPC_ALPN);
        let conn = tokio::time::timeout(self.inner.connect_timeout, conn)
            .await
            .map_err(|_| {
                Status::unavailable(format!(
                    "cannot connect to {}: no answer within {:?}",
                    addr.id, self.inner.connect_timeout
                ))
            })?
            .map_err(|e| Status::unavailable(format!("cannot connect to {}: {e}", addr.id)))?;
        let conn = Arc::new(conn);
        slot.set(Some(conn.clone()));
        Ok(conn)
    }

    /// Opens a bi-stream, reconnecting once if the cached connection is dead.
    async fn open_stream(
        &self,
        target: &Target,
    ) -> Result<(iroh::endpoint::SendStream, iroh::endpoint::RecvStream), Status> {
        let conn = self.connection(target, None).await?;
        match conn.open_bi().await {
            Ok(s) => Ok(s),
            Err(_) => {
                let conn = self.connection(target, Some(&conn)).await?;
                conn.open_bi()
                    .await
                    .map_err(|e| Status::unavailable(format!("cannot open a stream: {e}")))
            }
        }
    }

    /// Runs one shared call described at run time (the typed stubs and the
    /// dynamic JSON client both end here).
    #[allow(clippy::too_many_arguments)]
    pub async fn call_raw(
        &self,
        service: &str,
        version: i64,
        method: &str,
        pattern: Pattern,
        mode: SerializationMode,
        options: CallOptions,
        input: Outbound,
    ) -> Result<(SerializationMode, Inbound), Status> {
        self.attempt_raw(service, version, method, pattern, mode, options, input)
            .await
            .map_err(|f| f.status)
    }

    /// [`Client::call_raw`], telling a failure before anything was sent
    /// (safe to retry elsewhere) from one after.
    ///
    /// Everything that needs no waiting (the header, the call's state
    /// machine, the span) is done before the returned future, which then
    /// holds only what the exchange needs: a typed call boxes this future,
    /// and below about a kilobyte the allocator serves it from its fast path.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn attempt_raw(
        &self,
        service: &str,
        version: i64,
        method: &str,
        pattern: Pattern,
        mode: SerializationMode,
        options: CallOptions,
        input: Outbound,
    ) -> impl Future<Output = Result<(SerializationMode, Inbound), CallFailure>> + Send + use<'_>
    {
        let target = self.rpc_target(service, version);
        let span = crate::spans::call_span!(
            tracing::Level::DEBUG,
            "rpc.client",
            service,
            method,
            peer = %target.addr.id.fmt_short(),
            status = tracing::field::Empty,
            elapsed_us = tracing::field::Empty
        );
        // Timed only when the span records anything.
        let timing = (!span.is_disabled()).then(|| (span.clone(), std::time::Instant::now()));
        let call = Box::new(ClientCall::from_request(CallRequest {
            service: service.into(),
            method: method.into(),
            version,
            pattern,
            mode,
            // The reference sends "" for unary calls and a UUID for streams.
            call_id: if pattern == Pattern::Unary {
                String::new()
            } else {
                new_call_id()
            },
            deadline_epoch_ms: options.timeout.map(|t| now_ms() + t.as_millis() as u64),
            metadata: options.metadata,
        }));
        async move {
            let (send, recv) = self
                .open_stream(target)
                .await
                .map_err(|status| CallFailure {
                    status,
                    maybe_delivered: false,
                })?;
            drive::run(call, send, recv, input).await.map_err(|status| {
                // A refused stream was never read: as good as not sent.
                let maybe_delivered = status.message != aster_proto::call::REFUSED_MESSAGE;
                CallFailure {
                    status,
                    maybe_delivered,
                }
            })
        }
        .instrument(span)
        // A combinator, not an outer `async` block: that would hold the
        // future twice (captured, then moved to be awaited).
        .inspect(move |result| {
            if let Some((span, started)) = timing {
                // For streaming responses this is the outcome of opening the stream.
                span.record(
                    "status",
                    result
                        .as_ref()
                        .map_or_else(|f| f.status.code.name(), |_| "OK"),
                );
                span.record("elapsed_us", started.elapsed().as_micros() as u64);
            }
        })
    }

    /// A typed call (what [`Caller::call`] does), with the failure's stage.
    pub(crate) fn attempt(
        &self,
        service: &'static ServiceDescriptor,
        method: &'static MethodDescriptor,
        options: CallOptions,
        input: Outbound,
    ) -> impl Future<Output = Result<(SerializationMode, Inbound), CallFailure>> + Send + use<'_>
    {
        if service.scope == Scope::Session {
            return Either::Right(std::future::ready(Err(CallFailure {
                status: Status::failed_precondition(format!(
                    "'{}' is session-scoped: open a session with Client::session",
                    service.name
                )),
                maybe_delivered: false,
            })));
        }
        let mode = self.mode_for(service, &options);
        let mut options = options;
        options.timeout = options.timeout.or_else(|| {
            (method.timeout_secs > 0.0).then(|| Duration::from_secs_f64(method.timeout_secs))
        });
        Either::Left(self.attempt_raw(
            service.name,
            i64::from(service.version),
            method.name,
            method.pattern,
            mode,
            options,
            input,
        ))
    }

    /// Whether the peer lists `service` as session-scoped.
    pub fn is_session_service(&self, service: &str) -> bool {
        self.inner
            .admission
            .services
            .iter()
            .any(|s| s.name == service && s.pattern == "session")
    }

    /// Opens a session of a session-scoped service. Calls on the returned
    /// [`Session`] share one instance on the server, in order.
    pub async fn session(&self, service: &'static ServiceDescriptor) -> Result<Session, Status> {
        if service.scope != Scope::Session {
            return Err(Status::failed_precondition(format!(
                "'{}' is shared: call it directly",
                service.name
            )));
        }
        let options = CallOptions::default();
        let mode = self.mode_for(service, &options);
        self.session_raw(service.name, i64::from(service.version), mode, options)
            .await
    }

    /// Opens a session of a service known only by name.
    pub async fn session_raw(
        &self,
        service: &str,
        version: i64,
        mode: SerializationMode,
        options: CallOptions,
    ) -> Result<Session, Status> {
        let target = self.rpc_target(service, version);
        let (send, recv) = self.open_stream(target).await?;
        let request = CallRequest {
            service: service.into(),
            method: Default::default(),
            version,
            pattern: Pattern::Unary,
            mode,
            call_id: new_call_id(),
            deadline_epoch_ms: None,
            metadata: options.metadata,
        };
        Ok(Session::start(
            ClientSession::new(&request),
            send,
            recv,
            service.to_string(),
        ))
    }

    /// Closes the client's connections (and its endpoint, if it owns one).
    pub async fn close(&self) {
        for slot in &self.inner.conns {
            if let Some(c) = slot.set(None) {
                c.close(VarInt::from_u32(0), b"normal close");
            }
        }
        self.inner.registry.close().await;
        if self.inner.owns_endpoint {
            self.inner.endpoint.close().await;
        }
    }
}

impl Caller for Client {
    fn call(
        &self,
        service: &'static ServiceDescriptor,
        method: &'static MethodDescriptor,
        options: CallOptions,
        input: Outbound,
    ) -> CallFuture<'_> {
        Box::pin(
            self.attempt(service, method, options, input)
                .map(|r| r.map_err(|f| f.status)),
        )
    }
}

/// Whether a cached connection may carry a call: not the one that just
/// failed to open a stream.
fn usable(conn: &Connection, stale: Option<&Connection>) -> bool {
    stale.is_none_or(|s| s.stable_id() != conn.stable_id())
}

/// A failed call and whether the peer may have seen its request.
#[derive(Debug)]
pub(crate) struct CallFailure {
    pub(crate) status: Status,
    /// False when the call failed before a stream was open: nothing
    /// reached the peer, so any method may be retried elsewhere.
    pub(crate) maybe_delivered: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn future_size<A, B, C, D, E, F>(_: fn(A, B, C, D, E) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    /// A typed call's boxed future and its state machine each stay under
    /// about a kilobyte, where glibc's allocator has its fast path.
    #[test]
    fn a_call_stays_small() {
        let call = future_size(Client::attempt);
        let machine = std::mem::size_of::<ClientCall>();
        assert!(call <= 800, "call future is {call} bytes");
        assert!(machine <= 1000, "call state machine is {machine} bytes");
    }
}
