//! Trust on the server: who may connect (Gate 0), who is admitted and with
//! which attributes (Gate 1), and what each call may do (Gates 2 and 3).
//!
//! The decisions are `aster_proto::trust`'s; this module keeps the state they
//! need (admitted peers, the nonce store, the producer mesh) and answers the
//! runtime's questions. Gate 0 runs inside iroh's handshake hook with no
//! channel and no timeout, so it cannot fail open: a peer not found admitted
//! is refused.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use aster_proto::admission::{
    AdmissionRequest, AdmissionResponse, CONSUMER_ADMISSION_ALPN, PRODUCER_ADMISSION_ALPN,
    ServiceSummary,
};
use aster_proto::service::{MethodDescriptor, ServiceDescriptor};
use aster_proto::trust::{
    Attributes, MemoryNonceStore, NonceStore, PEER_TTL_SECS, PeerAdmission, RootPublicKey,
    admit_consumer_json, admit_producer_json, authorize,
};
use aster_proto::{Status, StatusCode};
use iroh::endpoint::{AfterHandshakeOutcome, Connection, EndpointHooks, Side, VarInt};
use serde::Serialize;
use tracing::{debug, info, warn};

use crate::net::now_ms;

fn now_secs() -> u64 {
    now_ms() / 1000
}

/// The QUIC close code and reason for a peer refused by Gate 0 (the reference's).
pub const NOT_ADMITTED_CODE: u32 = 403;
pub const NOT_ADMITTED_REASON: &[u8] = b"not admitted";

/// How a server decides who may use it.
pub struct TrustConfig {
    /// The deployment's root public key. Without one, the consumer gate is open.
    pub root: Option<RootPublicKey>,
    /// Admit consumers without a credential even when a root key is set.
    pub allow_all_consumers: bool,
    /// Serve producer admission only when false (the reference's default is true).
    pub allow_all_producers: bool,
    /// Enforce `requires` with an open consumer gate: callers without a
    /// credential then fail every guarded method (the reference's behaviour).
    /// `false` is dev mode: requirements are not checked at all.
    pub enforce_requirements: bool,
    /// Where consumed one-time-credential nonces are kept.
    pub nonces: Box<dyn NonceStore + Send>,
    /// How long an admission lasts at most, whatever the credential says.
    pub peer_ttl_secs: u64,
}

impl Default for TrustConfig {
    fn default() -> Self {
        TrustConfig {
            root: None,
            allow_all_consumers: false,
            allow_all_producers: true,
            enforce_requirements: true,
            nonces: Box::new(MemoryNonceStore::new()),
            peer_ttl_secs: PEER_TTL_SECS,
        }
    }
}

impl TrustConfig {
    pub fn consumer_gate_open(&self) -> bool {
        self.root.is_none() || self.allow_all_consumers
    }
}

/// Producer admission's answer (reference field names and order).
#[derive(Debug, Serialize)]
struct ProducerAdmissionResponse {
    accepted: bool,
    salt: String,
    accepted_producers: Vec<String>,
    reason: String,
}

/// [`TrustConfig`] without its nonce store (which the gatekeeper locks apart).
struct Settings {
    root: Option<RootPublicKey>,
    allow_all_consumers: bool,
    allow_all_producers: bool,
    enforce_requirements: bool,
    peer_ttl_secs: u64,
}

impl Settings {
    fn consumer_gate_open(&self) -> bool {
        self.root.is_none() || self.allow_all_consumers
    }
}

/// One peer's admission as the table holds it.
///
/// A connection keeps the entry its peer had when it was accepted and
/// checks each call against it, instead of looking the peer up under the
/// table's lock: with calls on both cores, that lock's count would move
/// between them on every call. An entry is never changed; replacing or
/// removing it marks it superseded, and a connection whose entry is
/// superseded looks the peer up again.
pub(crate) struct PeerEntry {
    record: PeerAdmission,
    superseded: AtomicBool,
}

impl PeerEntry {
    fn new(record: PeerAdmission) -> Arc<PeerEntry> {
        Arc::new(PeerEntry {
            record,
            superseded: AtomicBool::new(false),
        })
    }

    fn supersede(&self) {
        self.superseded.store(true, Ordering::Release);
    }

    fn is_current(&self) -> bool {
        !self.superseded.load(Ordering::Acquire)
    }
}

/// The trust state of one server.
pub(crate) struct Gatekeeper {
    config: Settings,
    /// What admission reports as the root key: the configured one, or an
    /// ephemeral one in open mode (as the reference does).
    root_hex: String,
    peers: RwLock<HashMap<String, Arc<PeerEntry>>>,
    /// Taken out of `config` at construction; locked per admission so a
    /// nonce is checked and consumed atomically.
    nonces: Mutex<Box<dyn NonceStore + Send>>,
    mesh: Mutex<Mesh>,
    /// Members of shared registries this server joined (the tickets'
    /// nodes): let through Gate 0 on the registry ALPNs only, so a closed
    /// producer still syncs its leases with the registry host.
    registry_peers: RwLock<std::collections::HashSet<String>>,
}

struct Mesh {
    salt: [u8; 32],
    accepted: std::collections::BTreeSet<String>,
}

impl Gatekeeper {
    pub(crate) fn new(
        config: TrustConfig,
        ephemeral_root_hex: String,
        mesh_salt: [u8; 32],
    ) -> Gatekeeper {
        let TrustConfig {
            root,
            allow_all_consumers,
            allow_all_producers,
            enforce_requirements,
            nonces,
            peer_ttl_secs,
        } = config;
        let config = Settings {
            root,
            allow_all_consumers,
            allow_all_producers,
            enforce_requirements,
            peer_ttl_secs,
        };
        let root_hex = config.root.map_or(ephemeral_root_hex, |r| r.to_hex());
        if config.consumer_gate_open() {
            if config.enforce_requirements {
                warn!(
                    "consumer gate is OPEN: any peer that can reach this endpoint may connect (methods with `requires` still refuse callers without roles)"
                );
            } else {
                warn!(
                    "DEV MODE: consumer gate is OPEN and method requirements are NOT enforced; anyone can call everything"
                );
            }
        }
        Gatekeeper {
            config,
            root_hex,
            peers: RwLock::new(HashMap::new()),
            nonces: Mutex::new(nonces),
            mesh: Mutex::new(Mesh {
                salt: mesh_salt,
                accepted: Default::default(),
            }),
            registry_peers: RwLock::new(Default::default()),
        }
    }

    /// Lets `peer` through Gate 0 on the docs, gossip and blobs ALPNs.
    pub(crate) fn allow_registry_peer(&self, peer: &str) {
        if let Ok(mut peers) = self.registry_peers.write() {
            peers.insert(peer.to_owned());
        }
    }

    fn is_registry_peer(&self, peer: &str, alpn: &[u8]) -> bool {
        let registry_alpn =
            alpn == iroh_docs::ALPN || alpn == iroh_gossip::ALPN || alpn == iroh_blobs::ALPN;
        registry_alpn && self.registry_peers.read().is_ok_and(|p| p.contains(peer))
    }

    pub(crate) fn gate_open(&self) -> bool {
        self.config.consumer_gate_open()
    }

    pub(crate) fn serves_producer_admission(&self) -> bool {
        !self.config.allow_all_producers && self.config.root.is_some()
    }

    /// The peer's current admission entry, if any and not expired; an
    /// expired one is removed.
    pub(crate) fn entry(&self, peer: &str, now: u64) -> Option<Arc<PeerEntry>> {
        let entry = self.peers.read().ok()?.get(peer).cloned()?;
        if entry
            .record
            .is_expired_with_ttl(now, self.config.peer_ttl_secs)
        {
            if let Ok(mut peers) = self.peers.write() {
                // Unless it was replaced meanwhile.
                if peers.get(peer).is_some_and(|e| Arc::ptr_eq(e, &entry)) {
                    peers.remove(peer);
                    entry.supersede();
                }
            }
            return None;
        }
        Some(entry)
    }

    /// The peer's current admission, if any and not expired.
    fn admission(&self, peer: &str, now: u64) -> Option<PeerAdmission> {
        self.entry(peer, now).map(|e| e.record.clone())
    }

    /// Gate 0: may this peer open a connection on `alpn`?
    pub(crate) fn may_connect(&self, peer: &str, alpn: &[u8]) -> bool {
        alpn == CONSUMER_ADMISSION_ALPN
            || (alpn == PRODUCER_ADMISSION_ALPN && self.serves_producer_admission())
            || self.gate_open()
            || self.admission(peer, now_secs()).is_some()
            || self.is_registry_peer(peer, alpn)
    }

    /// The attributes a peer's calls carry (empty when not admitted).
    pub(crate) fn attributes_of(&self, peer: &str) -> BTreeMap<String, String> {
        self.admission(peer, now_secs())
            .map(|a| {
                a.attributes
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every new call: with a closed gate the peer must still be admitted
    /// at `now` (epoch seconds; an expired admission loses access to new
    /// calls), then Gates 2 and 3; returns the peer's attributes.
    ///
    /// `known` is the entry the peer's connection kept ([`PeerEntry`]);
    /// the table is looked up only when there is none or it was superseded.
    pub(crate) fn authorize_call(
        &self,
        peer: &str,
        known: Option<&PeerEntry>,
        service: &ServiceDescriptor,
        method: &MethodDescriptor,
        now: u64,
    ) -> Result<BTreeMap<String, String>, Status> {
        match known.filter(|e| e.is_current()) {
            Some(entry) => self.authorize_with(Some(&entry.record), service, method, now),
            None => {
                // Checked under the read lock, without copying the record.
                let peers = self
                    .peers
                    .read()
                    .map_err(|_| Status::internal("admission table poisoned"))?;
                let record = peers.get(peer).map(|e| &e.record);
                self.authorize_with(record, service, method, now)
            }
        }
    }

    fn authorize_with(
        &self,
        record: Option<&PeerAdmission>,
        service: &ServiceDescriptor,
        method: &MethodDescriptor,
        now: u64,
    ) -> Result<BTreeMap<String, String>, Status> {
        // An expired record grants nothing; `entry` removes it.
        let admission = record.filter(|r| !r.is_expired_with_ttl(now, self.config.peer_ttl_secs));
        if admission.is_none() && !self.gate_open() {
            return Err(Status::new(
                StatusCode::Unauthenticated,
                "peer is not admitted (or its admission expired)",
            ));
        }
        let none = Attributes::new();
        let attributes = admission.map_or(&none, |a| &a.attributes);
        if self.config.enforce_requirements {
            authorize(
                service.requires.as_ref(),
                method.requires.as_ref(),
                attributes,
            )
            .map_err(|d| d.to_status(service.name, method.name))?;
        }
        Ok(attributes
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect())
    }

    /// Consumer admission (Gate 1) for `peer`, whose id the QUIC handshake proved.
    pub(crate) fn admit_consumer(
        &self,
        raw: &[u8],
        peer: &str,
        services: &[ServiceSummary],
    ) -> AdmissionResponse {
        let denied = || AdmissionResponse::denied(self.root_hex.clone());
        let request = match AdmissionRequest::decode(raw) {
            Ok(r) => r,
            Err(e) => {
                debug!(%peer, error = %e, "malformed admission request");
                return denied();
            }
        };
        let now = now_secs();
        let record = if request.credential_json.is_empty() {
            if !self.gate_open() {
                debug!(%peer, "admission denied: no credential and the gate is closed");
                return denied();
            }
            PeerAdmission::open_gate(peer, now)
        } else {
            let Some(root) = self.config.root.as_ref() else {
                // Open gate without a root: nothing to check a credential
                // against; admit without attributes.
                return self.admitted(PeerAdmission::open_gate(peer, now), services);
            };
            let result = match self.nonces.lock() {
                Ok(mut store) => admit_consumer_json(
                    &request.credential_json,
                    root,
                    peer,
                    now,
                    Some(store.as_mut()),
                ),
                // A poisoned store is unusable: fail closed.
                Err(_) => admit_consumer_json(&request.credential_json, root, peer, now, None),
            };
            match result {
                Ok(admitted) => PeerAdmission::consumer(peer, &admitted, now),
                Err(denial) => {
                    info!(%peer, reason = %denial, "admission denied");
                    if self.gate_open() {
                        // Open gate: a credential that does not check out
                        // grants nothing, but the peer may still connect.
                        PeerAdmission::open_gate(peer, now)
                    } else {
                        return denied();
                    }
                }
            }
        };
        self.admitted(record, services)
    }

    fn admitted(&self, record: PeerAdmission, services: &[ServiceSummary]) -> AdmissionResponse {
        let attributes = record
            .attributes
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let peer = record.endpoint_id.clone();
        info!(%peer, roles = ?record.attributes.roles(), "peer admitted");
        if let Ok(mut peers) = self.peers.write() {
            if let Some(old) = peers.insert(peer.clone(), PeerEntry::new(record)) {
                old.supersede();
            }
        }
        let gossip_topic = (peer == self.root_hex).then(|| self.mesh_topic_hex());
        AdmissionResponse {
            admitted: true,
            attributes,
            services: services.to_vec(),
            registry_namespace: String::new(),
            root_pubkey: self.root_hex.clone(),
            reason: String::new(),
            gossip_topic,
        }
    }

    /// The producer-mesh gossip topic: BLAKE3(root || "aster-producer-mesh" || salt).
    fn mesh_topic_hex(&self) -> String {
        let salt = self.mesh.lock().map(|m| m.salt).unwrap_or([0; 32]);
        let root = self.config.root.map(|r| *r.as_bytes()).unwrap_or([0; 32]);
        let mut h = blake3::Hasher::new();
        h.update(&root);
        h.update(b"aster-producer-mesh");
        h.update(&salt);
        h.finalize().to_hex().to_string()
    }

    /// Producer admission: the credential must name the QUIC-authenticated
    /// peer (the reference checked it against the credential's own field, T1).
    pub(crate) fn admit_producer(&self, raw: &[u8], peer: &str) -> Vec<u8> {
        let refuse = || ProducerAdmissionResponse {
            accepted: false,
            salt: String::new(),
            accepted_producers: vec![],
            reason: String::new(),
        };
        let response = match (AdmissionRequest::decode(raw), self.config.root.as_ref()) {
            (Ok(request), Some(root)) => {
                match admit_producer_json(&request.credential_json, root, peer, now_secs()) {
                    Ok(_) => match self.mesh.lock() {
                        Ok(mut mesh) => {
                            mesh.accepted.insert(peer.to_string());
                            info!(%peer, "producer admitted to the mesh");
                            ProducerAdmissionResponse {
                                accepted: true,
                                salt: hex::encode(mesh.salt),
                                accepted_producers: mesh.accepted.iter().cloned().collect(),
                                reason: String::new(),
                            }
                        }
                        Err(_) => refuse(),
                    },
                    Err(denial) => {
                        info!(%peer, reason = %denial, "producer admission denied");
                        refuse()
                    }
                }
            }
            _ => refuse(),
        };
        aster_proto::codec::json::to_python_json(&response)
    }
}

/// Gate 0 in iroh's handshake hook.
#[derive(Clone)]
pub(crate) struct Gate0 {
    pub(crate) keeper: Arc<Gatekeeper>,
}

impl std::fmt::Debug for Gate0 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Gate0")
    }
}

impl EndpointHooks for Gate0 {
    async fn after_handshake<'a>(&'a self, conn: &'a Connection) -> AfterHandshakeOutcome {
        // Hooks also run for our own outgoing connections.
        if conn.side() == Side::Client {
            return AfterHandshakeOutcome::Accept;
        }
        let peer = conn.remote_id().to_string();
        if self.keeper.may_connect(&peer, conn.alpn()) {
            AfterHandshakeOutcome::Accept
        } else {
            debug!(%peer, alpn = %String::from_utf8_lossy(conn.alpn()), "gate 0: not admitted");
            AfterHandshakeOutcome::Reject {
                error_code: VarInt::from_u32(NOT_ADMITTED_CODE),
                reason: NOT_ADMITTED_REASON.to_vec(),
            }
        }
    }
}

/// Peer roles in attribute form (for tests and logs).
pub fn roles_of(attributes: &Attributes) -> Vec<String> {
    attributes.roles().into_iter().map(str::to_string).collect()
}
