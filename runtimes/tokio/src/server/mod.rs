//! The server: services on an iroh endpoint, reachable by its public key.
//!
//! ```ignore
//! let server = Server::builder()
//!     .service(MissionControlServer::new(Control::default()))
//!     .network(NetworkMode::loopback())
//!     .bind()
//!     .await?;
//! println!("{}", server.ticket());
//! ```
//!
//! `aster/1` and the admission ALPNs are served through iroh's `Router`, so
//! more protocols (blobs, docs, gossip) can share the endpoint.

mod admission;
mod stream;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use aster_proto::admission::{CONSUMER_ADMISSION_ALPN, PRODUCER_ADMISSION_ALPN, RPC_ALPN, ServiceSummary};
use aster_proto::trust::{FileNonceStore, RootPublicKey};
use aster_proto::call::ServiceTable;
use aster_proto::service::{MethodDescriptor, ServiceDescriptor};
use aster_proto::Status;
use iroh::address_lookup::MemoryLookup;
use iroh::endpoint::Connection;
use iroh::protocol::{AcceptError, ProtocolHandler, Router, RouterBuilder};
use iroh::{Endpoint, EndpointAddr, SecretKey};
use tokio::sync::Notify;
use tracing::{debug, info, warn};

use crate::handler::Service;
use crate::net::{EndpointOptions, NetError, NetworkMode, bind_endpoint_hooked, node_addr_of, ticket_of};
use crate::trust::{Gate0, Gatekeeper, TrustConfig};
use stream::{PeerInfo, serve_stream};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Net(#[from] NetError),
    #[error("service table: {0}")]
    Services(#[from] aster_proto::call::RouteError),
    #[error("no services registered")]
    NoServices,
    #[error("trust configuration: {0}")]
    Trust(String),
}

/// State shared by every connection and stream of a server.
pub(crate) struct ServerShared {
    pub(crate) table: Arc<ServiceTable>,
    pub(crate) services: Vec<Arc<dyn Service>>,
    summaries: Vec<ServiceSummary>,
    pub(crate) keeper: Arc<Gatekeeper>,
    active_streams: AtomicUsize,
    idle: Notify,
    draining: AtomicBool,
}

impl ServerShared {
    /// Attributes granted to a peer at admission (none when not admitted).
    pub(crate) fn attributes_of(&self, peer: &str) -> BTreeMap<String, String> {
        self.keeper.attributes_of(peer)
    }

    /// Admission still valid, then Gates 2 and 3; returns the peer's
    /// attributes. A refusal is the call's only outcome: the handler never runs.
    pub(crate) fn authorize(
        &self,
        peer: &str,
        service: &ServiceDescriptor,
        method: &MethodDescriptor,
    ) -> Result<BTreeMap<String, String>, Status> {
        self.keeper.authorize_call(peer, service, method)
    }

    fn stream_started(&self) {
        self.active_streams.fetch_add(1, Ordering::SeqCst);
    }

    fn stream_ended(&self) {
        if self.active_streams.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.idle.notify_waiters();
        }
    }
}

/// Configures and starts a [`Server`].
pub struct ServerBuilder {
    services: Vec<Arc<dyn Service>>,
    endpoint: EndpointOptions,
    trust: TrustConfig,
    protocols: Vec<Box<dyn FnOnce(RouterBuilder) -> RouterBuilder + Send>>,
}

impl ServerBuilder {
    /// Registers a service (a generated `<Trait>Server`).
    pub fn service(mut self, service: impl Service) -> Self {
        self.services.push(Arc::new(service));
        self
    }

    pub fn secret_key(mut self, key: SecretKey) -> Self {
        self.endpoint.secret_key = Some(key);
        self
    }

    pub fn network(mut self, network: NetworkMode) -> Self {
        self.endpoint.network = network;
        self
    }

    /// No relay, no address lookup, bound to 127.0.0.1: the one-line mode for
    /// tests, demos and air-gapped hosts.
    pub fn loopback(self) -> Self {
        self.network(NetworkMode::loopback())
    }

    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.endpoint.idle_timeout = timeout;
        self
    }

    /// Closes the consumer gate: only peers presenting a credential signed by
    /// this root key are admitted (Gate 1) and may connect at all (Gate 0).
    pub fn root_pubkey(mut self, root: RootPublicKey) -> Self {
        self.trust.root = Some(root);
        self
    }

    /// The whole trust configuration.
    pub fn trust(mut self, trust: TrustConfig) -> Self {
        self.trust = trust;
        self
    }

    /// Keeps consumed one-time-credential nonces in `path`, so a one-time
    /// credential cannot be replayed, even after a restart.
    pub fn nonce_file(mut self, path: impl Into<std::path::PathBuf>) -> Result<Self, ServerError> {
        let store = FileNonceStore::open(path.into()).map_err(|e| ServerError::Trust(e.to_string()))?;
        self.trust.nonces = Box::new(store);
        Ok(self)
    }

    /// Open gate and requirements not enforced: for local development only
    /// (loudly logged).
    pub fn dev_mode(mut self) -> Self {
        self.trust.root = None;
        self.trust.enforce_requirements = false;
        self
    }

    /// Adds another protocol to the endpoint's router (blobs, docs, ...).
    pub fn protocol(mut self, alpn: &'static [u8], handler: impl ProtocolHandler) -> Self {
        self.protocols.push(Box::new(move |r| r.accept(alpn, handler)));
        self
    }

    /// Binds the endpoint and starts serving.
    pub async fn bind(self) -> Result<Server, ServerError> {
        if self.services.is_empty() {
            return Err(ServerError::NoServices);
        }
        let table = Arc::new(ServiceTable::new(self.services.iter().map(|s| s.descriptor().spec()).collect())?);
        let mut salt = [0u8; 32];
        rand::fill(&mut salt);
        let keeper = Arc::new(Gatekeeper::new(self.trust, SecretKey::generate().public().to_string(), salt));
        let lookup = MemoryLookup::new();
        let endpoint = bind_endpoint_hooked(&self.endpoint, &lookup, Gate0 { keeper: keeper.clone() }).await?;
        let addr = endpoint.addr();
        let rpc_address = node_addr_of(&addr);
        let summaries = self
            .services
            .iter()
            .map(|s| {
                let d = s.descriptor();
                ServiceSummary {
                    name: d.name.to_string(),
                    version: i64::from(d.version),
                    contract_id: d.contract_id().to_string(),
                    channels: [("rpc".to_string(), rpc_address.clone())].into(),
                    pattern: d.scope_name().to_string(),
                    serialization_modes: d.effective_modes().iter().map(|m| m.name().to_string()).collect(),
                }
            })
            .collect();
        let shared = Arc::new(ServerShared {
            table,
            services: self.services,
            summaries,
            keeper: keeper.clone(),
            active_streams: AtomicUsize::new(0),
            idle: Notify::new(),
            draining: AtomicBool::new(false),
        });
        let mut router = Router::builder(endpoint.clone())
            .accept(RPC_ALPN, RpcProtocol { shared: shared.clone() })
            .accept(CONSUMER_ADMISSION_ALPN, admission::ConsumerAdmission { shared: shared.clone() });
        if keeper.serves_producer_admission() {
            router = router.accept(PRODUCER_ADMISSION_ALPN, admission::ProducerAdmission { shared: shared.clone() });
        }
        for add in self.protocols {
            router = add(router);
        }
        let router = router.spawn();
        for s in &shared.services {
            let d = s.descriptor();
            info!(service = d.name, version = d.version, contract_id = %d.contract_id(), "serving");
        }
        info!(endpoint_id = %endpoint.id(), ticket = %ticket_of(&addr), "server ready");
        Ok(Server { router, shared, lookup })
    }
}

/// A running server.
pub struct Server {
    router: Router,
    shared: Arc<ServerShared>,
    lookup: MemoryLookup,
}

impl Server {
    pub fn builder() -> ServerBuilder {
        ServerBuilder {
            services: Vec::new(),
            endpoint: EndpointOptions::default(),
            trust: TrustConfig::default(),
            protocols: Vec::new(),
        }
    }

    pub fn endpoint(&self) -> &Endpoint {
        self.router.endpoint()
    }

    /// Peer addresses learned by this server's endpoint (to dial by id).
    pub fn address_lookup(&self) -> &MemoryLookup {
        &self.lookup
    }

    pub fn endpoint_id(&self) -> iroh::EndpointId {
        self.endpoint().id()
    }

    /// The endpoint's current address (id plus direct addresses and relay).
    pub fn addr(&self) -> EndpointAddr {
        self.endpoint().addr()
    }

    /// The `aster1…` address to hand to clients.
    pub fn ticket(&self) -> String {
        ticket_of(&self.addr())
    }

    /// What admission tells consumers about each service.
    pub fn services(&self) -> &[ServiceSummary] {
        &self.shared.summaries
    }

    /// Streams being served right now.
    pub fn active_streams(&self) -> usize {
        self.shared.active_streams.load(Ordering::SeqCst)
    }

    /// Stops taking new calls, waits up to `grace` for the calls in flight,
    /// then shuts down.
    pub async fn drain(self, grace: Duration) {
        self.shared.draining.store(true, Ordering::SeqCst);
        let waited = tokio::time::timeout(grace, async {
            loop {
                let idle = self.shared.idle.notified();
                if self.shared.active_streams.load(Ordering::SeqCst) == 0 {
                    return;
                }
                idle.await;
            }
        })
        .await;
        if waited.is_err() {
            warn!(remaining = self.active_streams(), "drain grace period over; closing with calls in flight");
        }
        self.shutdown().await;
    }

    /// Closes every connection and the endpoint.
    pub async fn shutdown(self) {
        if let Err(e) = self.router.shutdown().await {
            debug!(error = %e, "router shutdown");
        }
    }
}

/// `aster/1`: every bi-stream a peer opens is one call or one session.
#[derive(Clone)]
struct RpcProtocol {
    shared: Arc<ServerShared>,
}

impl std::fmt::Debug for RpcProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RpcProtocol")
    }
}

impl ProtocolHandler for RpcProtocol {
    async fn accept(&self, conn: Connection) -> Result<(), AcceptError> {
        let peer = Arc::new(PeerInfo { id: conn.remote_id().to_string() });
        debug!(peer = %peer.id, "rpc connection");
        loop {
            let (send, recv) = match conn.accept_bi().await {
                Ok(s) => s,
                Err(e) => {
                    debug!(peer = %peer.id, reason = %e, "rpc connection ended");
                    return Ok(());
                }
            };
            if self.shared.draining.load(Ordering::SeqCst) {
                // Draining: refuse new streams, let the running ones finish.
                let mut send = send;
                let _ = send.reset(iroh::endpoint::VarInt::from_u32(8));
                continue;
            }
            let shared = self.shared.clone();
            shared.stream_started();
            let peer = peer.clone();
            tokio::spawn(async move {
                serve_stream(shared.clone(), peer, send, recv).await;
                shared.stream_ended();
            });
        }
    }
}
