//! The server: services on an iroh endpoint, reachable by its public key.
//!
//! Building one (see the crate docs for a service and a client call):
//!
//! ```text
//! let server = Server::builder()
//!     .service(MissionControlServer::new(Control::default()))
//!     .root_pubkey(root)                  // closed gate: credentials signed by this key
//!     .registry_storage("/var/lib/aster") // registry survives restarts
//!     .bind()
//!     .await?;
//! println!("{}", server.ticket());        // the aster1… address to hand out
//! ```
//!
//! `aster/1` and the admission ALPNs are served through iroh's `Router`, so
//! more protocols (blobs, docs, gossip) can share the endpoint.

mod admission;
mod stream;

use std::collections::BTreeMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::Poll;
use std::time::{Duration, Instant};

use aster_proto::Status;
use aster_proto::admission::{
    CONSUMER_ADMISSION_ALPN, PRODUCER_ADMISSION_ALPN, RPC_ALPN, ServiceSummary,
};
use aster_proto::call::{Scope, ServiceTable};
use aster_proto::service::{MethodDescriptor, ServiceDescriptor};
use aster_proto::trust::{FileNonceStore, RootPublicKey};
use iroh::address_lookup::MemoryLookup;
use iroh::endpoint::Connection;
use iroh::protocol::{AcceptError, ProtocolHandler, Router, RouterBuilder};
use iroh::{Endpoint, EndpointAddr, SecretKey};
use tokio::sync::Notify;
use tracing::{debug, error, info, warn};

use std::str::FromStr;

use aster_proto::contract::ContractBundle;
use aster_proto::registry::LeaseSpec;

use crate::handler::{Dispatch, Service, SessionContext};
use crate::net::now_ms;
use crate::net::{
    EndpointOptions, NetError, NetworkMode, bind_endpoint_hooked, node_addr_of, ticket_of,
};
use crate::registry::leases::LeaseKeeper;
use crate::registry::{Publication, RegistryDoc, RegistryNode, own_doc, publish, store_bundle};
use crate::trust::{Gate0, Gatekeeper, PeerEntry, TrustConfig};
use stream::serve_stream;

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
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
    #[error("committed manifest {path}: {reason}")]
    Manifest { path: String, reason: String },
    #[error(
        "{service} v{version}: contract {live} differs from the committed manifest's {committed} ({path}); \
         regenerate it (`aster contract gen`) if the interface change is intended"
    )]
    ContractDrift {
        service: String,
        version: i32,
        live: String,
        committed: String,
        path: String,
    },
}

/// State shared by every connection and stream of a server.
pub(crate) struct ServerShared {
    pub(crate) table: Arc<ServiceTable>,
    pub(crate) services: Vec<Arc<dyn Service>>,
    /// The one instance of each shared service (`None` for session-scoped
    /// ones), opened at start rather than on every call.
    pub(crate) shared_instances: Vec<Option<Arc<dyn Dispatch>>>,
    summaries: Vec<ServiceSummary>,
    pub(crate) keeper: Arc<Gatekeeper>,
    /// The RPC connections accepted so far (dead ones pruned as new ones
    /// come), for counting the streams in flight.
    connections: Mutex<Vec<Weak<ConnShared>>>,
    /// Notified when a connection's last stream ends during a drain.
    idle: Notify,
    draining: AtomicBool,
    /// See [`ServerBuilder::inline_budget`].
    inline_budget: Option<Duration>,
    /// The own registry document's namespace (hex), or "" when none.
    pub(crate) registry_namespace: String,
}

impl ServerShared {
    /// Attributes granted to a peer at admission (none when not admitted).
    pub(crate) fn attributes_of(&self, peer: &str) -> BTreeMap<String, String> {
        self.keeper.attributes_of(peer)
    }

    /// Streams being served on every connection.
    fn active_streams(&self) -> usize {
        let connections = self.connections.lock().unwrap_or_else(|e| e.into_inner());
        connections
            .iter()
            .filter_map(Weak::upgrade)
            .map(|c| c.live.load(Ordering::SeqCst))
            .sum()
    }

    /// Registers a new RPC connection.
    fn connection_accepted(self: &Arc<Self>, conn: &Connection) -> Arc<ConnShared> {
        let peer: Arc<str> = conn.remote_id().to_string().into();
        let admission = self.keeper.entry(&peer, now_ms() / 1000);
        let shared = Arc::new(ConnShared {
            live: AtomicUsize::new(0),
            server: self.clone(),
            peer,
            admission,
        });
        let mut connections = self.connections.lock().unwrap_or_else(|e| e.into_inner());
        connections.retain(|c| c.strong_count() > 0);
        connections.push(Arc::downgrade(&shared));
        shared
    }
}

/// What the streams of one RPC connection share.
///
/// A stream holds one reference to this, where it would otherwise hold
/// several (the server, the peer's id, a server-wide stream count): each
/// count that streams on both cores write moves between the cores' caches
/// on every call, which showed as several percent of a unary call's CPU.
#[repr(C)]
pub(crate) struct ConnShared {
    /// Streams of this connection still running. First, next to the
    /// reference count every stream also changes, so that starting and
    /// ending a stream usually touch a single cache line.
    live: AtomicUsize,
    pub(crate) server: Arc<ServerShared>,
    /// The peer's endpoint id (hex), as the QUIC handshake proved it.
    pub(crate) peer: Arc<str>,
    /// The peer's admission when the connection was accepted.
    admission: Option<Arc<PeerEntry>>,
}

impl ConnShared {
    /// Admission still valid at `now_ms` (epoch ms), then Gates 2 and 3;
    /// returns the peer's attributes. A refusal is the call's only outcome:
    /// the handler never runs.
    pub(crate) fn authorize(
        &self,
        service: &ServiceDescriptor,
        method: &MethodDescriptor,
        now_ms: u64,
    ) -> Result<BTreeMap<String, String>, Status> {
        self.server.keeper.authorize_call(
            &self.peer,
            self.admission.as_deref(),
            service,
            method,
            now_ms / 1000,
        )
    }
}

/// One accepted stream, counted as active from its accept until its task
/// ends (or is dropped unrun), so that a drain waits for it.
pub(crate) struct ActiveStream(Arc<ConnShared>);

impl ActiveStream {
    fn start(conn: Arc<ConnShared>) -> ActiveStream {
        conn.live.fetch_add(1, Ordering::SeqCst);
        ActiveStream(conn)
    }
}

impl Drop for ActiveStream {
    fn drop(&mut self) {
        // Counted down before `draining` is read, and a drain sets
        // `draining` before it counts (both SeqCst): either the drain sees
        // this stream gone or this sees the drain and wakes it.
        if self.0.live.fetch_sub(1, Ordering::SeqCst) == 1
            && self.0.server.draining.load(Ordering::SeqCst)
        {
            self.0.server.idle.notify_waiters();
        }
    }
}

impl std::ops::Deref for ActiveStream {
    type Target = ConnShared;
    fn deref(&self) -> &ConnShared {
        &self.0
    }
}

/// Configures and starts a [`Server`].
pub struct ServerBuilder {
    services: Vec<Arc<dyn Service>>,
    endpoint: EndpointOptions,
    trust: TrustConfig,
    protocols: Vec<Box<dyn FnOnce(RouterBuilder) -> RouterBuilder + Send>>,
    registry: RegistryOptions,
    manifest_check: Option<std::path::PathBuf>,
    inline_budget: Option<Duration>,
}

/// What the server does with the registry.
#[derive(Debug, Clone)]
struct RegistryOptions {
    /// Publish contracts in an own registry document (default on).
    enabled: bool,
    /// Keep blobs, documents and the namespace here.
    storage: Option<std::path::PathBuf>,
    /// A shared registry (doc ticket with write access) to publish into and
    /// keep leases in.
    shared: Option<String>,
    /// Time between `draining` and the tombstone when a drain withdraws
    /// the leases.
    withdraw_grace: Duration,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            enabled: true,
            storage: None,
            shared: None,
            withdraw_grace: Duration::from_millis(aster_proto::registry::WITHDRAW_GRACE_MS as u64),
        }
    }
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

    /// Quick calls are served in their connection's accept loop, without a
    /// task of their own, until one holds that loop up for longer than
    /// `budget` (default 500 µs); then, for a second (twice as long each
    /// time it soon happens again, up to 64 s), each call gets its own
    /// task. `None`: every call gets its own task, always (for services
    /// whose handlers compute for long without awaiting).
    pub fn inline_budget(mut self, budget: Option<Duration>) -> Self {
        self.inline_budget = budget;
        self
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
        let store =
            FileNonceStore::open(path.into()).map_err(|e| ServerError::Trust(e.to_string()))?;
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

    /// Keeps the registry (contract bundles, documents, the own registry's
    /// namespace) in `dir`, so it survives restarts. In memory otherwise.
    pub fn registry_storage(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.registry.storage = Some(dir.into());
        self
    }

    /// Publishes no contracts and serves no blobs/docs/gossip: consumers
    /// then get an empty `registry_namespace`.
    pub fn no_registry(mut self) -> Self {
        self.registry.enabled = false;
        self
    }

    /// Also publishes into the shared registry document `ticket` names (it
    /// must grant write access), and keeps an endpoint lease per service
    /// there, so consumers of that registry can resolve and balance over
    /// this server. [`Server::drain`] withdraws the leases.
    pub fn shared_registry(mut self, ticket: impl Into<String>) -> Self {
        self.registry.shared = Some(ticket.into());
        self
    }

    /// Time between marking the leases `draining` and removing them, when
    /// draining (default 5 s): long enough for readers to stop routing here.
    pub fn withdraw_grace(mut self, grace: Duration) -> Self {
        self.registry.withdraw_grace = grace;
        self
    }

    /// Refuses to start if the manifest file at `path` (what `aster contract
    /// gen` writes, e.g. `.aster/manifest.json`) exists and names another
    /// contract id for one of the services: an interface changed without
    /// the committed contract being regenerated. A missing file is fine.
    pub fn check_manifest(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.manifest_check = Some(path.into());
        self
    }

    /// Adds another protocol to the endpoint's router (blobs, docs, ...).
    pub fn protocol(mut self, alpn: &'static [u8], handler: impl ProtocolHandler) -> Self {
        self.protocols
            .push(Box::new(move |r| r.accept(alpn, handler)));
        self
    }

    /// Binds the endpoint and starts serving.
    pub async fn bind(self) -> Result<Server, ServerError> {
        if self.services.is_empty() {
            return Err(ServerError::NoServices);
        }
        if let Some(path) = &self.manifest_check {
            check_committed_manifest(path, &self.services)?;
        }
        let table = Arc::new(ServiceTable::new(
            self.services
                .iter()
                .map(|s| s.descriptor().spec())
                .collect(),
        )?);
        let mut salt = [0u8; 32];
        rand::fill(&mut salt);
        let keeper = Arc::new(Gatekeeper::new(
            self.trust,
            SecretKey::generate().public().to_string(),
            salt,
        ));
        let lookup = MemoryLookup::new();
        let endpoint = bind_endpoint_hooked(
            &self.endpoint,
            &lookup,
            Gate0 {
                keeper: keeper.clone(),
            },
        )
        .await?;
        let addr = endpoint.addr();
        let rpc_address = node_addr_of(&addr);
        let registry = if self.registry.enabled {
            Some(start_registry(&endpoint, &self.registry, &self.services, &addr).await?)
        } else {
            None
        };
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
                    serialization_modes: d
                        .effective_modes()
                        .iter()
                        .map(|m| m.name().to_string())
                        .collect(),
                }
            })
            .collect();
        let shared_instances = self
            .services
            .iter()
            .map(|s| {
                let desc = s.descriptor();
                (desc.scope == Scope::Shared).then(|| {
                    s.open(&SessionContext {
                        service: desc.name,
                        peer: None,
                        session_id: String::new(),
                        metadata: vec![],
                        attributes: Default::default(),
                    })
                })
            })
            .collect();
        let shared = Arc::new(ServerShared {
            table,
            services: self.services,
            shared_instances,
            summaries,
            keeper: keeper.clone(),
            connections: Mutex::new(Vec::new()),
            idle: Notify::new(),
            draining: AtomicBool::new(false),
            inline_budget: self.inline_budget,
            registry_namespace: registry
                .as_ref()
                .and_then(|r| r.own.as_ref())
                .map(|d| d.namespace().to_string())
                .unwrap_or_default(),
        });
        let mut router = Router::builder(endpoint.clone())
            .accept(
                RPC_ALPN,
                RpcProtocol {
                    shared: shared.clone(),
                },
            )
            .accept(
                CONSUMER_ADMISSION_ALPN,
                admission::ConsumerAdmission {
                    shared: shared.clone(),
                },
            );
        if keeper.serves_producer_admission() {
            router = router.accept(
                PRODUCER_ADMISSION_ALPN,
                admission::ProducerAdmission {
                    shared: shared.clone(),
                },
            );
        }
        if let Some(r) = &registry {
            router = r.node.install(router);
        }
        for add in self.protocols {
            router = add(router);
        }
        let router = router.spawn();
        let mut leases = None;
        let mut shared_doc = None;
        if let (Some(r), Some(ticket)) = (&registry, &self.registry.shared) {
            if let Ok(t) = iroh_docs::DocTicket::from_str(ticket.trim()) {
                for node in &t.nodes {
                    keeper.allow_registry_peer(&node.id.to_string());
                }
            }
            let (doc, keeper) =
                join_shared_registry(r, ticket, &shared.services, &endpoint).await?;
            shared_doc = Some(doc);
            leases = Some(keeper);
        }
        for s in &shared.services {
            let d = s.descriptor();
            info!(service = d.name, version = d.version, contract_id = %d.contract_id(), "serving");
        }
        info!(endpoint_id = %endpoint.id(), ticket = %ticket_of(&addr), "server ready");
        Ok(Server {
            router,
            shared,
            lookup,
            registry: registry.map(|r| ServerRegistry {
                node: r.node,
                own: r.own,
                shared: shared_doc,
            }),
            leases: tokio::sync::Mutex::new(leases),
            withdraw_grace: self.registry.withdraw_grace,
        })
    }
}

/// The startup guard of [`ServerBuilder::check_manifest`].
fn check_committed_manifest(
    path: &std::path::Path,
    services: &[Arc<dyn Service>],
) -> Result<(), ServerError> {
    let shown = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(ServerError::Manifest {
                path: shown,
                reason: e.to_string(),
            });
        }
    };
    let committed =
        aster_proto::contract::manifest::Manifest::from_json_many(&text).map_err(|e| {
            ServerError::Manifest {
                path: shown.clone(),
                reason: e.to_string(),
            }
        })?;
    for s in services {
        let d = s.descriptor();
        let live = d.contract_id().to_hex();
        let same_service = |m: &&aster_proto::contract::manifest::Manifest| {
            m.service == d.name && m.version == i64::from(d.version)
        };
        if let Some(m) = committed.iter().find(same_service) {
            if m.contract_id != live {
                return Err(ServerError::ContractDrift {
                    service: d.name.to_owned(),
                    version: d.version,
                    live,
                    committed: m.contract_id.clone(),
                    path: shown,
                });
            }
        }
    }
    Ok(())
}

/// The registry pieces a server started.
struct StartedRegistry {
    node: RegistryNode,
    own: Option<RegistryDoc>,
    publications: Vec<(Publication, iroh_blobs::Hash)>,
}

/// Starts the registry stack and publishes every service's contract in the
/// own registry document. A publication failure is logged, not fatal: the
/// server still serves (consumers just get no registry).
async fn start_registry(
    endpoint: &Endpoint,
    options: &RegistryOptions,
    services: &[Arc<dyn Service>],
    addr: &EndpointAddr,
) -> Result<StartedRegistry, ServerError> {
    let node = RegistryNode::spawn(endpoint, options.storage.as_deref()).await?;
    let mut publications = Vec::new();
    for s in services {
        let d = s.descriptor();
        let publication = Publication {
            service: d.name.to_owned(),
            version: d.version,
            bundle: ContractBundle::of(d, &s.manifest()),
        };
        let hash = store_bundle(&node, &publication.bundle).await?;
        publications.push((publication, hash));
    }
    let own = match publish_all(&node, None, &publications, addr).await {
        Ok(doc) => Some(doc),
        Err(e) => {
            warn!(error = %e, "contract publication failed; serving without a registry");
            None
        }
    };
    Ok(StartedRegistry {
        node,
        own,
        publications,
    })
}

/// Publishes every service into `doc` (the own document when `None`).
async fn publish_all(
    node: &RegistryNode,
    doc: Option<&RegistryDoc>,
    publications: &[(Publication, iroh_blobs::Hash)],
    addr: &EndpointAddr,
) -> Result<RegistryDoc, crate::registry::RegistryError> {
    let doc = match doc {
        Some(d) => d.clone(),
        None => own_doc(node).await?,
    };
    let author = node.author().await?;
    for (p, hash) in publications {
        publish(&doc, author, p, *hash, addr, now_ms() as i64).await?;
    }
    Ok(doc)
}

/// Joins a shared registry: publishes the contracts there too and starts
/// a lease per service. Fatal on failure: the operator asked for it.
async fn join_shared_registry(
    registry: &StartedRegistry,
    ticket: &str,
    services: &[Arc<dyn Service>],
    endpoint: &Endpoint,
) -> Result<(RegistryDoc, LeaseKeeper), ServerError> {
    let node = &registry.node;
    let doc = RegistryDoc::join_ticket(node, ticket, crate::registry::DEFAULT_SYNC_WAIT).await?;
    let addr = endpoint.addr();
    publish_all(node, Some(&doc), &registry.publications, &addr).await?;
    let timing = crate::registry::lease_config(&doc).await?;
    let specs = services
        .iter()
        .map(|s| {
            let d = s.descriptor();
            let mut spec = LeaseSpec::new(
                &endpoint.id().to_string(),
                &d.contract_id().to_hex(),
                d.name,
                d.version,
            );
            let mut modes: Vec<String> = Vec::new();
            for m in d.effective_modes() {
                let name = lease_mode_name(*m).to_owned();
                if !modes.contains(&name) {
                    modes.push(name);
                }
            }
            spec.serialization_modes = modes;
            spec.direct_addrs = addr.ip_addrs().map(|a| a.to_string()).collect();
            spec.relay_url = addr.relay_urls().next().map(|u| u.to_string());
            spec.language_runtime = Some(format!("rust/{}", env!("CARGO_PKG_VERSION")));
            spec
        })
        .collect();
    let peers: Vec<iroh::EndpointId> = match iroh_docs::DocTicket::from_str(ticket.trim()) {
        Ok(t) => t.nodes.iter().map(|n| n.id).collect(),
        Err(_) => Vec::new(),
    };
    let gossip = match crate::registry::leases::join_gossip(&doc, peers).await {
        Ok((sender, _receiver)) => Some(sender),
        Err(e) => {
            debug!(error = %e, "registry gossip unavailable; leases are written without hints");
            None
        }
    };
    let keeper =
        LeaseKeeper::start(doc.clone(), node.author().await?, specs, timing, gossip).await?;
    info!(registry = %doc.namespace(), "joined the shared registry");
    Ok((doc, keeper))
}

/// How a lease names a mode (the reference's default is `fory-xlang`).
fn lease_mode_name(mode: aster_proto::codec::SerializationMode) -> &'static str {
    match mode {
        aster_proto::codec::SerializationMode::Json => "json",
        _ => "fory-xlang",
    }
}

/// The registry of a running server.
struct ServerRegistry {
    node: RegistryNode,
    own: Option<RegistryDoc>,
    shared: Option<RegistryDoc>,
}

/// A running server.
pub struct Server {
    router: Router,
    shared: Arc<ServerShared>,
    lookup: MemoryLookup,
    registry: Option<ServerRegistry>,
    leases: tokio::sync::Mutex<Option<LeaseKeeper>>,
    withdraw_grace: Duration,
}

impl Server {
    pub fn builder() -> ServerBuilder {
        ServerBuilder {
            services: Vec::new(),
            endpoint: EndpointOptions::default(),
            trust: TrustConfig::default(),
            protocols: Vec::new(),
            registry: RegistryOptions::default(),
            manifest_check: None,
            inline_budget: Some(INLINE_BUDGET),
        }
    }

    /// The registry stack on this server's endpoint, unless disabled.
    pub fn registry_node(&self) -> Option<&RegistryNode> {
        self.registry.as_ref().map(|r| &r.node)
    }

    /// The server's own registry document (what admission advertises).
    pub fn registry(&self) -> Option<&RegistryDoc> {
        self.registry.as_ref().and_then(|r| r.own.as_ref())
    }

    /// The shared registry this server keeps leases in, if any.
    pub fn shared_registry(&self) -> Option<&RegistryDoc> {
        self.registry.as_ref().and_then(|r| r.shared.as_ref())
    }

    /// Reports a load (0..1) in this server's leases.
    pub async fn set_load(&self, load: f64) {
        if let Some(k) = self.leases.lock().await.as_ref() {
            k.set_load(Some(load)).await;
        }
    }

    /// Withdraws this server's leases from the shared registry (draining,
    /// then tombstones after the withdraw grace) while still serving.
    pub async fn withdraw(&self) {
        if let Some(k) = self.leases.lock().await.take() {
            k.withdraw(self.withdraw_grace).await;
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

    /// The manifest of every service (what the registry publishes), e.g.
    /// to write with `Manifest::to_json`.
    pub fn manifests(&self) -> Vec<aster_proto::contract::manifest::Manifest> {
        self.shared.services.iter().map(|s| s.manifest()).collect()
    }

    /// What admission tells consumers about each service.
    pub fn services(&self) -> &[ServiceSummary] {
        &self.shared.summaries
    }

    /// Streams being served right now.
    pub fn active_streams(&self) -> usize {
        self.shared.active_streams()
    }

    /// Stops taking new calls, waits up to `grace` for the calls in flight,
    /// then shuts down.
    pub async fn drain(self, grace: Duration) {
        // Leases first: readers stop routing here while we still serve.
        self.withdraw().await;
        self.shared.draining.store(true, Ordering::SeqCst);
        let waited = tokio::time::timeout(grace, async {
            loop {
                let idle = self.shared.idle.notified();
                if self.shared.active_streams() == 0 {
                    return;
                }
                idle.await;
            }
        })
        .await;
        if waited.is_err() {
            warn!(
                remaining = self.active_streams(),
                "drain grace period over; closing with calls in flight"
            );
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
        let shared = self.shared.connection_accepted(&conn);
        let peer = &shared.peer;
        debug!(%peer, "rpc connection");
        let mut inline = InlinePolicy::new(self.shared.inline_budget);
        loop {
            let (send, recv) = match conn.accept_bi().await {
                Ok(s) => s,
                Err(e) => {
                    debug!(%peer, reason = %e, "rpc connection ended");
                    return Ok(());
                }
            };
            // Counted before the check, so that a drain that has counted
            // cannot miss a stream started just after it looked.
            let active = ActiveStream::start(shared.clone());
            if self.shared.draining.load(Ordering::SeqCst) {
                // Draining: refuse new streams, let the running ones finish.
                let mut send = send;
                let _ = send.reset(iroh::endpoint::VarInt::from_u32(
                    aster_proto::call::STREAM_REFUSED_CODE,
                ));
                continue;
            }
            let Some(budget) = inline.budget(Instant::now()) else {
                tokio::spawn(serve_stream(active, send, recv, false));
                continue;
            };
            if inline.take_turn() {
                tokio::task::yield_now().await;
            }
            // Timed after the yield: time spent in the run queue is not
            // the stream's.
            let started = Instant::now();
            match first_poll(Box::pin(serve_stream(active, send, recv, true))).await {
                FirstPoll::Waiting(stream) => {
                    tokio::spawn(stream);
                }
                FirstPoll::Done => {}
                FirstPoll::Panicked => {
                    // Reporting a panic takes long (backtraces): not a
                    // measure of how long calls hold the loop.
                    error!(%peer, "a call panicked; its stream is dropped");
                    continue;
                }
            }
            // (A panic that `Guarded` caught inside the handler is timed
            // with its report; at worst it pauses inline serving.)
            let now = Instant::now();
            if now.duration_since(started) > budget {
                let pause = inline.overran(now);
                debug!(%peer, ?pause, "rpc connection: calls not served inline for a while");
            }
        }
    }
}

/// When one connection serves its new streams inline ([`first_poll`]).
struct InlinePolicy {
    /// See [`ServerBuilder::inline_budget`].
    budget: Option<Duration>,
    /// Streams skip the inline poll until then.
    paused_until: Option<Instant>,
    /// The pause after the latest overrun.
    pause: Duration,
    last_overrun: Option<Instant>,
    /// Streams served inline so far.
    served: u64,
}

impl InlinePolicy {
    fn new(budget: Option<Duration>) -> InlinePolicy {
        InlinePolicy {
            budget,
            paused_until: None,
            pause: INLINE_PAUSE,
            last_overrun: None,
            served: 0,
        }
    }

    /// The budget for a stream starting now, if it is to be served inline.
    fn budget(&self, now: Instant) -> Option<Duration> {
        match self.paused_until {
            Some(until) if now < until => None,
            _ => self.budget,
        }
    }

    /// Counts a stream served inline; true when the loop should yield first.
    fn take_turn(&mut self) -> bool {
        self.served += 1;
        self.served % INLINE_RUN == 0
    }

    /// A stream held the loop past the budget: pause inline serving, for
    /// twice as long as last time if that was recent (a handler that is
    /// always slow then costs the connection less and less), else for
    /// [`INLINE_PAUSE`]. Returns the pause.
    fn overran(&mut self, now: Instant) -> Duration {
        let recent = self
            .last_overrun
            .is_some_and(|t| now.duration_since(t) < self.pause * 8);
        self.pause = if recent {
            (self.pause * 2).min(INLINE_PAUSE_MAX)
        } else {
            INLINE_PAUSE
        };
        self.last_overrun = Some(now);
        self.paused_until = Some(now + self.pause);
        self.pause
    }
}

/// How long serving a stream inline ([`first_poll`]) may hold up its
/// connection's accept loop before the connection stops doing so for a
/// while (the default of [`ServerBuilder::inline_budget`]).
const INLINE_BUDGET: Duration = Duration::from_micros(500);
/// Streams served inline between two yields of the accept loop. The
/// connection's driver, woken by their writes, tends to wait in this
/// thread's run queue behind the loop; while many calls are in flight the
/// loop would otherwise keep it from sending until `accept_bi` has to wait,
/// and answers would leave in bursts (at 64 calls in flight the client then
/// spent about a third more CPU per call).
const INLINE_RUN: u64 = 16;
/// After a stream went over the inline budget, how long its connection's
/// streams all get tasks of their own; doubled for each overrun that soon
/// follows another, up to [`INLINE_PAUSE_MAX`].
const INLINE_PAUSE: Duration = Duration::from_secs(1);
const INLINE_PAUSE_MAX: Duration = Duration::from_secs(64);

enum FirstPoll<F> {
    Done,
    /// The stream waits for something: it needs a task of its own.
    Waiting(F),
    Panicked,
}

/// Polls a new stream once, in the connection's accept loop.
///
/// A stream is accepted once its first bytes are in, and most unary
/// requests come whole with them: such a call, if its handler answers
/// without waiting, is done in this one poll, with no task spawned and no
/// other thread woken (about a fifth of a unary call's server CPU). Whatever
/// the poll registered wakes the accept loop once, spuriously, if the
/// stream then moves to a task; the task's own poll registers again.
///
/// A panic is caught here, as tokio catches one in a task: it must not end
/// the connection's other calls.
async fn first_poll<F: Future<Output = ()>>(mut stream: Pin<Box<F>>) -> FirstPoll<Pin<Box<F>>> {
    let polled = std::future::poll_fn(|cx| {
        Poll::Ready(std::panic::catch_unwind(AssertUnwindSafe(|| {
            stream.as_mut().poll(cx)
        })))
    })
    .await;
    match polled {
        Ok(Poll::Ready(())) => FirstPoll::Done,
        Ok(Poll::Pending) => FirstPoll::Waiting(stream),
        Err(_) => FirstPoll::Panicked,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_serving_pauses_longer_while_overruns_keep_coming() {
        let budget = Some(Duration::from_micros(500));
        let mut p = InlinePolicy::new(budget);
        let t0 = Instant::now();
        let s = Duration::from_secs;
        assert_eq!(p.budget(t0), budget);

        assert_eq!(p.overran(t0), s(1));
        assert_eq!(p.budget(t0 + Duration::from_millis(500)), None);
        assert_eq!(p.budget(t0 + s(1)), budget, "the pause is over");

        // Overruns soon after each other: 2, 4, ... up to 64 s.
        let mut now = t0 + s(1);
        let mut pauses = vec![];
        for _ in 0..8 {
            pauses.push(p.overran(now).as_secs());
            now += p.pause;
        }
        assert_eq!(pauses, [2, 4, 8, 16, 32, 64, 64, 64]);

        // After a quiet spell, back to one second.
        assert_eq!(p.overran(now + s(64 * 8)), s(1));

        // No budget: never inline.
        assert_eq!(InlinePolicy::new(None).budget(t0), None);
    }

    #[test]
    fn the_accept_loop_yields_every_few_inline_streams() {
        let mut p = InlinePolicy::new(Some(INLINE_BUDGET));
        let yields: Vec<bool> = (0..2 * INLINE_RUN).map(|_| p.take_turn()).collect();
        assert_eq!(yields.iter().filter(|y| **y).count(), 2);
        assert!(yields[INLINE_RUN as usize - 1] && yields[2 * INLINE_RUN as usize - 1]);
    }
}
