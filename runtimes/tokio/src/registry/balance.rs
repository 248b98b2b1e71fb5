//! Calls spread over every producer of a service in a shared registry.
//!
//! A [`Balancer`] is a [`Caller`]: typed stubs and the dynamic client work
//! over it unchanged. Per call it resolves the service's contract to ranked
//! live leases ([`resolve_all`], round robin by default), admits itself to
//! the chosen producer once (one cached [`Client`] per endpoint), and calls.
//! When a call with a single request (unary, server stream) fails with
//! UNAVAILABLE it is retried on the next producer if that is safe: when
//! nothing was sent or the producer refused the stream unread, and for
//! idempotent methods also when the request may have been processed.
//! Calls with request streams are never retried: the stream was consumed. A producer that failed is avoided for a while, so a killed
//! process costs one failed attempt, not one per call until its lease lapses.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aster_proto::Status;
use aster_proto::call::{Pattern, Scope};
use aster_proto::codec::SerializationMode;
use aster_proto::frame::{FrameBuf, FrameError};
use aster_proto::registry::{
    DocEntry, EndpointLease, ResolveOptions, ResolveQuery, ResolverState, Selector, Snapshot,
    Strategy, resolve_all,
};
use aster_proto::service::{MethodDescriptor, ServiceDescriptor};
use iroh::address_lookup::MemoryLookup;
use iroh::protocol::Router;
use iroh::{Endpoint, EndpointAddr, EndpointId};
use n0_future::StreamExt;
use tracing::{debug, warn};

use super::{DEFAULT_SYNC_WAIT, RegistryDoc, RegistryError, RegistryNode, lease_config};
use crate::caller::{CallFuture, CallOptions, Caller, Inbound, Outbound};
use crate::client::{CallFailure, Client};
use crate::handler::{BoxMessage, OutgoingMessage};
use crate::net::{EndpointOptions, NetworkMode, bind_endpoint, now_ms};

/// How long a snapshot of a service's registry entries is reused when no
/// change was seen.
/// Where the registry ACL lists live (§2.8).
const ACL_PREFIX: &str = "_aster/acl/";

const SNAPSHOT_TTL: Duration = Duration::from_millis(500);

/// Configures a [`Balancer`].
pub struct BalancerBuilder {
    endpoint: EndpointOptions,
    credential_json: String,
    strategy: Strategy,
    max_attempts: usize,
    avoid_for: Duration,
    sync_wait: Duration,
    connect_timeout: Duration,
}

impl BalancerBuilder {
    /// How long connecting and admission to one producer may take before
    /// the call moves on to the next (default 3 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
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

    /// The credential presented at each producer's admission.
    pub fn credential_json(mut self, json: impl Into<String>) -> Self {
        self.credential_json = json.into();
        self
    }

    /// Ranking among live producers (default round robin).
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Producers tried per call, at most (default 3).
    pub fn max_attempts(mut self, n: usize) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// How long a silent producer connection is kept (default 5 s): a
    /// producer that died without closing fails its calls, which are then
    /// retried elsewhere, after at most this long.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.endpoint.idle_timeout = timeout;
        self
    }

    /// How long a producer that failed a call is passed over (default 10 s).
    pub fn avoid_for(mut self, d: Duration) -> Self {
        self.avoid_for = d;
        self
    }

    /// Joins the shared registry `ticket` names (a read ticket suffices)
    /// on a new endpoint.
    pub async fn join(self, ticket: &str) -> Result<Balancer, RegistryError> {
        let lookup = MemoryLookup::new();
        let endpoint = bind_endpoint(&self.endpoint, &lookup)
            .await
            .map_err(|e| RegistryError::Storage(e.to_string()))?;
        let node = RegistryNode::spawn(&endpoint, None).await?;
        let router = node.install(Router::builder(endpoint.clone())).spawn();
        let doc = RegistryDoc::join_ticket(&node, ticket, self.sync_wait).await?;
        let timing = lease_config(&doc).await?;
        let options = ResolveOptions {
            lease_duration_ms: timing.lease_duration_ms,
            // Our clients speak both modes; the lease must share one.
            caller_serialization_modes: vec!["fory-xlang".into(), "json".into()],
            ..ResolveOptions::default()
        };
        let inner = Arc::new(Inner {
            endpoint,
            lookup,
            router,
            doc,
            options,
            strategy: self.strategy,
            max_attempts: self.max_attempts,
            avoid_for: self.avoid_for,
            connect_timeout: self.connect_timeout,
            credential_json: self.credential_json,
            state: Mutex::new(ResolverState::new()),
            snapshots: Mutex::new(HashMap::new()),
            avoid: Mutex::new(HashMap::new()),
            clients: tokio::sync::Mutex::new(HashMap::new()),
        });
        tokio::spawn(watch_changes(Arc::downgrade(&inner)));
        let peers: Vec<EndpointId> = match iroh_docs::DocTicket::from_str(ticket.trim()) {
            Ok(t) => t.nodes.iter().map(|n| n.id).collect(),
            Err(_) => Vec::new(),
        };
        match super::leases::join_gossip(&inner.doc, peers).await {
            Ok((_sender, receiver)) => {
                tokio::spawn(watch_hints(Arc::downgrade(&inner), receiver));
            }
            Err(e) => {
                debug!(error = %e, "registry gossip unavailable; relying on document sync alone")
            }
        }
        Ok(Balancer { inner })
    }
}

/// A service's registry entries and when they were read.
type CachedEntries = (Instant, Arc<Vec<DocEntry>>);

struct Inner {
    endpoint: Endpoint,
    lookup: MemoryLookup,
    router: Router,
    doc: RegistryDoc,
    options: ResolveOptions,
    strategy: Strategy,
    max_attempts: usize,
    avoid_for: Duration,
    connect_timeout: Duration,
    credential_json: String,
    state: Mutex<ResolverState>,
    /// Per service: its entries and when they were read.
    snapshots: Mutex<HashMap<String, CachedEntries>>,
    /// Endpoints passed over until the given instant.
    avoid: Mutex<HashMap<String, Instant>>,
    clients: tokio::sync::Mutex<HashMap<String, Client>>,
}

/// Spreads calls over the live producers of a shared registry.
#[derive(Clone)]
pub struct Balancer {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Balancer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Balancer")
            .field("registry", &self.inner.doc.namespace())
            .finish()
    }
}

/// Drops cached snapshots whenever the document changes (a remote insert
/// or a finished sync), so the next call re-reads the truth.
async fn watch_changes(inner: std::sync::Weak<Inner>) {
    let Some(doc) = inner.upgrade().map(|i| i.doc.clone()) else {
        return;
    };
    let Ok(mut events) = doc.subscribe().await else {
        return;
    };
    while let Some(event) = events.next().await {
        let Some(inner) = inner.upgrade() else { return };
        if matches!(
            event,
            Ok(iroh_docs::engine::LiveEvent::InsertRemote { .. }
                | iroh_docs::engine::LiveEvent::ContentReady { .. })
        ) {
            expire_snapshots(&inner);
        }
    }
}

/// Registry gossip (§2.6) is a hint, never data (gap R3): a well-formed
/// event only makes the next call re-read the document, which is the
/// truth; malformed ones are dropped.
async fn watch_hints(inner: std::sync::Weak<Inner>, mut events: iroh_gossip::api::GossipReceiver) {
    while let Some(event) = events.next().await {
        let Some(inner) = inner.upgrade() else { return };
        if let Ok(iroh_gossip::api::Event::Received(message)) = event {
            match aster_proto::registry::GossipEvent::decode(&message.content) {
                Ok(hint) => {
                    debug!(kind = ?hint.kind, "registry hint; re-reading the document");
                    expire_snapshots(&inner);
                }
                Err(e) => debug!(error = %e, "malformed registry gossip dropped"),
            }
        }
    }
}

/// Marks every cached snapshot stale, keeping its entries for the merge.
fn expire_snapshots(inner: &Inner) {
    if let Ok(mut s) = inner.snapshots.lock() {
        let stale = Instant::now()
            .checked_sub(SNAPSHOT_TTL)
            .unwrap_or_else(Instant::now);
        for (at, _) in s.values_mut() {
            *at = stale;
        }
    }
}

/// A request that can be sent more than once (to another producer after a
/// failure): the caller's message behind a lock, encoded per attempt.
struct SharedMessage(Arc<Mutex<BoxMessage>>);

impl OutgoingMessage for SharedMessage {
    fn encode_frame(&self, mode: SerializationMode, out: &mut FrameBuf) -> Result<(), FrameError> {
        match self.0.lock() {
            Ok(m) => m.encode_frame(mode, out),
            Err(p) => p.into_inner().encode_frame(mode, out),
        }
    }
}

impl Balancer {
    pub fn builder() -> BalancerBuilder {
        BalancerBuilder {
            endpoint: EndpointOptions {
                idle_timeout: Duration::from_secs(5),
                ..EndpointOptions::default()
            },
            credential_json: String::new(),
            strategy: Strategy::RoundRobin,
            max_attempts: 3,
            avoid_for: Duration::from_secs(10),
            sync_wait: DEFAULT_SYNC_WAIT,
            connect_timeout: Duration::from_secs(3),
        }
    }

    /// The shared registry document.
    pub fn registry(&self) -> &RegistryDoc {
        &self.inner.doc
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.inner.endpoint
    }

    /// Live producers of `service` for `selector`, best first.
    pub async fn resolve_all(
        &self,
        service: &str,
        selector: Selector,
    ) -> Result<Vec<EndpointLease>, RegistryError> {
        let entries = self.snapshot(service).await?;
        let snapshot = Snapshot::with_doc_acl(&entries, None);
        let query = ResolveQuery::new(service, selector).with_strategy(self.inner.strategy);
        let mut state = self.inner.state.lock().unwrap_or_else(|p| p.into_inner());
        Ok(resolve_all(
            &snapshot,
            &query,
            &self.inner.options,
            &mut state,
            now_ms() as i64,
        )?)
    }

    /// The entries a resolve of `service` reads: its keys and the ACL.
    ///
    /// A row whose newer value has synced but whose content has not yet
    /// arrived reads as absent; the previous snapshot's value for it is kept
    /// meanwhile (it is older, and the resolver's freshness rules still
    /// apply), so a refresh in flight never hides a live producer.
    async fn snapshot(&self, service: &str) -> Result<Arc<Vec<DocEntry>>, RegistryError> {
        let previous = self
            .inner
            .snapshots
            .lock()
            .ok()
            .and_then(|s| s.get(service).cloned());
        if let Some((at, entries)) = &previous {
            if at.elapsed() < SNAPSHOT_TTL {
                return Ok(entries.clone());
            }
        }
        let mut entries = self
            .inner
            .doc
            .entries(&format!("services/{service}/"))
            .await?;
        entries.extend(self.inner.doc.entries(ACL_PREFIX).await?);
        if let Some((_, old)) = previous {
            for e in old.iter() {
                if !entries
                    .iter()
                    .any(|n| n.key == e.key && n.author == e.author)
                {
                    entries.push(e.clone());
                }
            }
        }
        let entries = Arc::new(entries);
        if let Ok(mut s) = self.inner.snapshots.lock() {
            s.insert(service.to_owned(), (Instant::now(), entries.clone()));
        }
        Ok(entries)
    }

    fn avoided(&self, endpoint: &str) -> bool {
        let mut avoid = self.inner.avoid.lock().unwrap_or_else(|p| p.into_inner());
        match avoid.get(endpoint) {
            Some(until) if *until > Instant::now() => true,
            Some(_) => {
                avoid.remove(endpoint);
                false
            }
            None => false,
        }
    }

    fn avoid(&self, endpoint: &str) {
        let mut avoid = self.inner.avoid.lock().unwrap_or_else(|p| p.into_inner());
        avoid.insert(endpoint.to_owned(), Instant::now() + self.inner.avoid_for);
    }

    /// The admitted client for a lease's endpoint, connecting once.
    async fn client_for(&self, lease: &EndpointLease) -> Result<Client, Status> {
        let mut clients = self.inner.clients.lock().await;
        if let Some(c) = clients.get(&lease.endpoint_id) {
            return Ok(c.clone());
        }
        let addr = lease_addr(lease).map_err(Status::unavailable)?;
        let client = Client::builder()
            .endpoint(self.inner.endpoint.clone(), self.inner.lookup.clone())
            .credential_json(self.inner.credential_json.clone())
            .connect_timeout(self.inner.connect_timeout)
            .connect_addr(addr)
            .await
            .map_err(|e| Status::unavailable(format!("producer {}: {e}", lease.endpoint_id)))?;
        clients.insert(lease.endpoint_id.clone(), client.clone());
        Ok(client)
    }

    async fn forget_client(&self, endpoint: &str) {
        if let Some(c) = self.inner.clients.lock().await.remove(endpoint) {
            c.close().await;
        }
    }

    async fn call_balanced(
        &self,
        service: &'static ServiceDescriptor,
        method: &'static MethodDescriptor,
        options: CallOptions,
        input: Outbound,
    ) -> Result<(SerializationMode, Inbound), Status> {
        if service.scope == Scope::Session {
            return Err(Status::failed_precondition(format!(
                "'{}' is session-scoped: open a session on one producer's Client",
                service.name
            )));
        }
        let selector = Selector::contract(&service.contract_id().to_hex());
        // A single request can be replayed on another producer; a stream cannot.
        let (replayable, mut input) = match input {
            Outbound::Unary(m) => (Some(Arc::new(Mutex::new(m))), None),
            stream => (None, Some(stream)),
        };
        let may_retry_delivered =
            method.idempotent && matches!(method.pattern, Pattern::Unary | Pattern::ServerStream);
        let mut last = None;
        for attempt in 0..self.inner.max_attempts {
            let leases = match self.resolve_all(service.name, selector.clone()).await {
                Ok(l) => l,
                Err(e) => return Err(last.unwrap_or_else(|| Status::unavailable(e.to_string()))),
            };
            let lease = leases
                .iter()
                .find(|l| !self.avoided(&l.endpoint_id))
                .unwrap_or(&leases[0])
                .clone();
            let this_input = match (&replayable, input.take()) {
                (Some(m), _) => Outbound::Unary(Box::new(SharedMessage(m.clone()))),
                (None, Some(stream)) => stream,
                (None, None) => break,
            };
            let outcome = match self.client_for(&lease).await {
                Ok(client) => {
                    client
                        .attempt(service, method, options.clone(), this_input)
                        .await
                }
                Err(status) => Err(CallFailure {
                    status,
                    maybe_delivered: false,
                }),
            };
            match outcome {
                Ok(r) => return Ok(r),
                Err(f) if f.status.code == aster_proto::StatusCode::Unavailable => {
                    warn!(endpoint = %lease.endpoint_id, attempt, status = %f.status, "producer failed; trying another");
                    self.avoid(&lease.endpoint_id);
                    self.forget_client(&lease.endpoint_id).await;
                    let retry = replayable.is_some() && (!f.maybe_delivered || may_retry_delivered);
                    last = Some(f.status);
                    if !retry {
                        break;
                    }
                }
                Err(f) => return Err(f.status),
            }
        }
        debug!(
            service = service.name,
            method = method.name,
            "no producer succeeded"
        );
        Err(last.unwrap_or_else(|| Status::unavailable("no producer available")))
    }

    /// Closes every producer connection and the endpoint.
    pub async fn close(&self) {
        let clients: Vec<Client> = self
            .inner
            .clients
            .lock()
            .await
            .drain()
            .map(|(_, c)| c)
            .collect();
        for c in clients {
            c.close().await;
        }
        let _ = self.inner.router.shutdown().await;
    }
}

/// Where a lease says its producer is.
fn lease_addr(lease: &EndpointLease) -> Result<EndpointAddr, String> {
    let id: EndpointId = lease
        .endpoint_id
        .parse()
        .map_err(|e| format!("lease endpoint id: {e}"))?;
    let mut addr = EndpointAddr::new(id);
    for a in &lease.direct_addrs {
        if let Ok(sock) = a.parse() {
            addr = addr.with_ip_addr(sock);
        }
    }
    if let Some(url) = lease.relay_url.as_deref().and_then(|u| u.parse().ok()) {
        addr = addr.with_relay_url(url);
    }
    Ok(addr)
}

impl Caller for Balancer {
    fn call(
        &self,
        service: &'static ServiceDescriptor,
        method: &'static MethodDescriptor,
        options: CallOptions,
        input: Outbound,
    ) -> CallFuture<'_> {
        Box::pin(self.call_balanced(service, method, options, input))
    }
}
