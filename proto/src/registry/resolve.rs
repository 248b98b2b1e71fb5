//! Resolving `(service, contract id | version | channel)` to ranked endpoint
//! leases (trust-registry.md §2.7, library path), as a pure function of a
//! doc snapshot, the caller's options, a [`ResolverState`] the caller keeps
//! between calls, and `now`.
//!
//! The pipeline, in the reference's order (the module doc of
//! [`crate::registry`] says where and why we differ):
//!
//! 1. contract id: the explicit id wins; else the `versions/v{n}` pointer;
//!    else the `channels/{c}` pointer. A pointer read takes, among trusted
//!    authors' entries for the key, the newest by timestamp, and a missing or
//!    empty value falls through to the next selector.
//! 2. lease rows under `services/{s}/contracts/{cid}/endpoints/`: untrusted
//!    authors, tombstones, malformed values and rows whose key and body
//!    disagree are skipped; of several authors' rows for one endpoint the
//!    highest `(lease_seq, updated_at)` is kept.
//! 3. lease_seq monotonicity per (service, contract, endpoint).
//! 4. mandatory filters: routable health, freshness, ALPN, serialization
//!    mode overlap, policy realm.
//! 5. ranking: ready before degraded; within each, round robin, least load
//!    or a seeded shuffle.
//!
//! An empty result is [`ResolveError::NotFound`], whose [`Rejections`] count
//! what each step removed.

use std::collections::BTreeMap;
use std::fmt;

use super::acl::{RegistryAcl, newest};
use super::keys::{
    KeyError, MAX_NAME_LEN, RegistryKey, check_contract_id, check_name, lease_prefix,
};
use super::lease::{
    DEFAULT_ALPN, DEFAULT_SERIALIZATION_MODE, EndpointLease, Freshness, HealthStatus, LeaseValue,
};
use super::{CLOCK_SKEW_TOLERANCE_MS, LEASE_DURATION_MS};

/// Most (service, contract, endpoint) triples whose last lease_seq a
/// [`ResolverState`] remembers. Entries whose lease has gone stale are pruned
/// first (forgetting them is safe: an older lease is staler still); if the
/// state is still full, new leases are accepted without being remembered.
pub const MAX_TRACKED_LEASES: usize = 100_000;
/// Most round-robin cursors a [`ResolverState`] keeps; when full, all are
/// reset (fairness restarts, nothing else changes).
pub const MAX_TRACKED_CURSORS: usize = 10_000;

/// One iroh-docs entry: the latest value an author wrote under a key, as
/// the runtime read it from its replica.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocEntry {
    /// The key bytes.
    pub key: Vec<u8>,
    /// The author (AuthorId as text).
    pub author: String,
    /// The entry timestamp (iroh-docs: microseconds since the epoch).
    pub timestamp: u64,
    /// The content bytes.
    pub value: Vec<u8>,
}

impl DocEntry {
    /// An entry with a text key.
    pub fn new(
        key: impl Into<String>,
        author: impl Into<String>,
        timestamp: u64,
        value: impl Into<Vec<u8>>,
    ) -> DocEntry {
        DocEntry {
            key: key.into().into_bytes(),
            author: author.into(),
            timestamp,
            value: value.into(),
        }
    }
}

/// The entries a resolve reads, with the ACL that filters their authors.
#[derive(Debug, Clone)]
pub struct Snapshot<'a> {
    entries: &'a [DocEntry],
    acl: RegistryAcl,
}

impl<'a> Snapshot<'a> {
    /// Entries filtered by an ACL the caller already has.
    pub fn new(entries: &'a [DocEntry], acl: RegistryAcl) -> Snapshot<'a> {
        Snapshot { entries, acl }
    }

    /// Entries filtered by the ACL they themselves define
    /// ([`RegistryAcl::from_entries`]).
    pub fn with_doc_acl(entries: &'a [DocEntry], admin: Option<&str>) -> Snapshot<'a> {
        Snapshot {
            entries,
            acl: RegistryAcl::from_entries(entries, admin),
        }
    }

    /// The ACL in force.
    pub fn acl(&self) -> &RegistryAcl {
        &self.acl
    }

    /// Reads a pointer key (version, channel or tag): the newest trusted entry.
    pub fn read_pointer(&self, key: &RegistryKey) -> Pointer {
        let key = key.to_bytes();
        let Some(entry) = self
            .entries
            .iter()
            .filter(|e| e.key == key && self.acl.is_trusted_writer(&e.author))
            .max_by(|a, b| newest(a, b))
        else {
            return Pointer::Missing;
        };
        let Ok(text) = std::str::from_utf8(&entry.value) else {
            return Pointer::Malformed;
        };
        // The reference strips whitespace before use.
        match text.trim() {
            "" => Pointer::Missing,
            cid => match check_contract_id(cid) {
                Ok(cid) => Pointer::ContractId(cid),
                Err(_) => Pointer::Malformed,
            },
        }
    }
}

/// What a pointer key holds for a reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pointer {
    /// No trusted entry, or an empty (whitespace-only) value: fall through.
    Missing,
    /// The newest trusted entry is not a contract id (not UTF-8, or not 64
    /// lowercase hex digits).
    Malformed,
    /// A contract id.
    ContractId(String),
}

/// Which contract of a service: by id, by version pointer, by channel
/// pointer. When several are set the first that yields an id wins, in that
/// order (the reference's precedence; the tag selector it accepts is ignored
/// there and absent here).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selector {
    /// An explicit contract id.
    pub contract_id: Option<String>,
    /// A version (`versions/v{n}` pointer).
    pub version: Option<i32>,
    /// A channel (`channels/{c}` pointer).
    pub channel: Option<String>,
}

impl Selector {
    /// By explicit contract id.
    pub fn contract(contract_id: &str) -> Selector {
        Selector {
            contract_id: Some(contract_id.to_owned()),
            ..Selector::default()
        }
    }

    /// By version pointer.
    pub fn version(version: i32) -> Selector {
        Selector {
            version: Some(version),
            ..Selector::default()
        }
    }

    /// By channel pointer.
    pub fn channel(channel: &str) -> Selector {
        Selector {
            channel: Some(channel.to_owned()),
            ..Selector::default()
        }
    }

    /// Also try `channel` when the earlier selectors yield nothing.
    pub fn or_channel(mut self, channel: &str) -> Selector {
        self.channel = Some(channel.to_owned());
        self
    }
}

/// How survivors are ordered within the ready group and within the degraded
/// group (ready always first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Stateful round robin (the default): the endpoint at the group's cursor
    /// moves to the front, the others keep their order; the cursor advances.
    #[default]
    RoundRobin,
    /// Ascending `load`; leases without a load last; ties keep their order.
    LeastLoad,
    /// A shuffle driven by the caller's seed (no randomness in this crate).
    Random {
        /// Seed; the same seed and inputs give the same order.
        seed: u64,
    },
}

/// One resolve call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveQuery {
    /// The service name.
    pub service: String,
    /// Which contract.
    pub selector: Selector,
    /// How to rank.
    pub strategy: Strategy,
}

impl ResolveQuery {
    /// A query with the default strategy (round robin).
    pub fn new(service: &str, selector: Selector) -> ResolveQuery {
        ResolveQuery {
            service: service.to_owned(),
            selector,
            strategy: Strategy::default(),
        }
    }

    /// The same query with another strategy.
    pub fn with_strategy(mut self, strategy: Strategy) -> ResolveQuery {
        self.strategy = strategy;
        self
    }
}

/// The caller's side of the mandatory filters, and the freshness windows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveOptions {
    /// The ALPN the caller speaks; `None` (or empty) skips the ALPN filter,
    /// as an empty `caller_alpn` does in the reference. Default `aster/1`.
    pub caller_alpn: Option<String>,
    /// Modes the caller speaks; a lease must share one. Empty means the
    /// default `["fory-xlang"]`, as in the Python reference (`modes or [...]`).
    pub caller_serialization_modes: Vec<String>,
    /// The caller's realm; leases in another realm are skipped when both are set.
    pub caller_policy_realm: Option<String>,
    /// Freshness window on `updated_at` (default 45 s).
    pub lease_duration_ms: i64,
    /// Clock skew tolerated between writer and reader (default 5 s).
    pub clock_skew_tolerance_ms: i64,
}

impl Default for ResolveOptions {
    fn default() -> Self {
        ResolveOptions {
            caller_alpn: Some(DEFAULT_ALPN.to_owned()),
            caller_serialization_modes: vec![DEFAULT_SERIALIZATION_MODE.to_owned()],
            caller_policy_realm: None,
            lease_duration_ms: LEASE_DURATION_MS,
            clock_skew_tolerance_ms: CLOCK_SKEW_TOLERANCE_MS,
        }
    }
}

/// What each step of the pipeline removed, in pipeline order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rejections {
    /// Lease rows found under the contract's prefix.
    pub rows: usize,
    /// Rows by authors the ACL does not trust.
    pub untrusted: usize,
    /// `null` / empty rows (withdrawn endpoints).
    pub tombstones: usize,
    /// Rows that are not a valid lease.
    pub malformed: usize,
    /// Rows whose key is not a lease key of this contract, or whose lease
    /// names another service, contract or endpoint than its key.
    pub key_mismatch: usize,
    /// Rows superseded by another author's newer row for the same endpoint.
    pub superseded: usize,
    /// Leases older than one already seen (lease_seq monotonicity).
    pub stale_seq: usize,
    /// Health `starting` or `draining`.
    pub not_routable: usize,
    /// `updated_at` older than the lease duration.
    pub stale: usize,
    /// `lease_expires` passed (beyond the skew tolerance).
    pub expired: usize,
    /// `updated_at` ahead of our clock by more than the skew tolerance.
    pub from_future: usize,
    /// Other ALPN.
    pub alpn_mismatch: usize,
    /// No serialization mode in common.
    pub no_common_mode: usize,
    /// Other policy realm.
    pub realm_mismatch: usize,
}

impl fmt::Display for Rejections {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} lease row(s)", self.rows)?;
        let parts = [
            (self.untrusted, "by untrusted authors"),
            (self.tombstones, "withdrawn (null tombstone)"),
            (self.malformed, "malformed"),
            (self.key_mismatch, "not matching their key"),
            (
                self.superseded,
                "superseded by a newer row for the same endpoint",
            ),
            (self.stale_seq, "older than an already-seen lease_seq"),
            (self.not_routable, "not routable (starting/draining)"),
            (self.stale, "stale (updated_at beyond the lease duration)"),
            (self.expired, "expired (lease_expires passed)"),
            (
                self.from_future,
                "from the future (writer clock ahead beyond tolerance)",
            ),
            (self.alpn_mismatch, "on another ALPN"),
            (self.no_common_mode, "sharing no serialization mode"),
            (self.realm_mismatch, "in another policy realm"),
        ];
        let mut first = true;
        for (n, what) in parts {
            if n > 0 {
                write!(f, "{} {n} {what}", if first { ":" } else { "," })?;
                first = false;
            }
        }
        Ok(())
    }
}

/// Why no endpoint came out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotFoundReason {
    /// The selector has no contract id, version or channel.
    EmptySelector,
    /// No trusted, non-empty pointer for the selected version/channel.
    NoPointer,
    /// The newest trusted pointer at `key` is not a contract id.
    MalformedPointer {
        /// The pointer key.
        key: String,
    },
    /// Lease rows existed (or not: `rows == 0`), and every one was removed.
    AllRejected(Box<Rejections>),
}

impl fmt::Display for NotFoundReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotFoundReason::EmptySelector => {
                f.write_str("no contract id, version or channel given")
            }
            NotFoundReason::NoPointer => {
                f.write_str("no trusted version/channel pointer names a contract")
            }
            NotFoundReason::MalformedPointer { key } => {
                write!(f, "pointer {key} does not hold a contract id")
            }
            NotFoundReason::AllRejected(r) if r.rows == 0 => {
                f.write_str("no lease rows for the contract")
            }
            NotFoundReason::AllRejected(r) => write!(f, "{r}"),
        }
    }
}

/// A resolve that produced no endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// The query cannot name a key (bad service name or contract id).
    #[error("invalid resolve query: {0}")]
    InvalidQuery(#[from] KeyError),
    /// Nothing survived; `reason` says which step removed what.
    #[error("no available endpoint for service {service:?}{}: {reason}",
        contract_id.as_deref().map(|c| format!(" (contract {c})")).unwrap_or_default())]
    NotFound {
        /// The service asked for.
        service: String,
        /// The contract id, when step 1 found one.
        contract_id: Option<String>,
        /// What removed the candidates.
        reason: NotFoundReason,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Group {
    Ready,
    Degraded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SeenLease {
    seq: i64,
    digest: [u8; 32],
    updated_at_ms: i64,
    expires_ms: i64,
}

/// What a reader remembers between resolves: the last accepted lease per
/// (service, contract, endpoint) for the monotonicity rule, and a
/// round-robin cursor per (contract, health group). Bounded by
/// [`MAX_TRACKED_LEASES`] and [`MAX_TRACKED_CURSORS`].
#[derive(Debug, Clone, Default)]
pub struct ResolverState {
    seen: BTreeMap<(String, String, String), SeenLease>,
    cursors: BTreeMap<(String, Group), usize>,
}

impl ResolverState {
    /// An empty state.
    pub fn new() -> ResolverState {
        ResolverState::default()
    }

    /// Triples currently remembered.
    pub fn tracked_leases(&self) -> usize {
        self.seen.len()
    }

    /// The monotonicity rule (module doc of [`crate::registry`]): accept if
    /// nothing was seen, if `seq` is greater, if `seq` is equal and the bytes
    /// are the same (gap R1), or if the lease starts after the last one
    /// expired (a restarted publisher counting from 1 again). Accepting
    /// records the lease.
    fn admit(
        &mut self,
        lease: &EndpointLease,
        digest: [u8; 32],
        options: &ResolveOptions,
        now_ms: i64,
    ) -> bool {
        let key = (
            lease.service.clone(),
            lease.contract_id.clone(),
            lease.endpoint_id.clone(),
        );
        let accept = match self.seen.get(&key) {
            None => true,
            Some(last) => {
                lease.lease_seq > last.seq
                    || (lease.lease_seq == last.seq && digest == last.digest)
                    || lease.updated_at_epoch_ms > last.expires_ms
            }
        };
        if !accept {
            return false;
        }
        let seen = SeenLease {
            seq: lease.lease_seq,
            digest,
            updated_at_ms: lease.updated_at_epoch_ms,
            expires_ms: lease.lease_expires_epoch_ms,
        };
        if !self.seen.contains_key(&key) && self.seen.len() >= MAX_TRACKED_LEASES {
            self.seen.retain(|_, s| !is_forgettable(s, options, now_ms));
        }
        if self.seen.contains_key(&key) || self.seen.len() < MAX_TRACKED_LEASES {
            self.seen.insert(key, seen);
        }
        true
    }

    /// Forgets the leases of one contract that are no longer fresh.
    fn prune_contract(
        &mut self,
        service: &str,
        contract_id: &str,
        options: &ResolveOptions,
        now_ms: i64,
    ) {
        let lo = (service.to_owned(), contract_id.to_owned(), String::new());
        let stale: Vec<_> = self
            .seen
            .range(lo..)
            .take_while(|((s, c, _), _)| s == service && c == contract_id)
            .filter(|(_, seen)| is_forgettable(seen, options, now_ms))
            .map(|(k, _)| k.clone())
            .collect();
        for k in stale {
            self.seen.remove(&k);
        }
    }

    /// The round-robin position for a group, advanced as the reference does:
    /// `idx = cursor % n; cursor = (idx + 1) % n`.
    fn next_index(&mut self, contract_id: &str, group: Group, n: usize) -> usize {
        let key = (contract_id.to_owned(), group);
        if !self.cursors.contains_key(&key) && self.cursors.len() >= MAX_TRACKED_CURSORS {
            self.cursors.clear();
        }
        let cursor = self.cursors.entry(key).or_insert(0);
        let idx = *cursor % n;
        *cursor = (idx + 1) % n;
        idx
    }
}

/// A remembered lease may be forgotten once it is stale or expired: any
/// lease it could shield us from is older, hence at least as stale.
fn is_forgettable(seen: &SeenLease, options: &ResolveOptions, now_ms: i64) -> bool {
    matches!(
        super::lease::freshness(
            seen.updated_at_ms,
            seen.expires_ms,
            now_ms,
            options.lease_duration_ms,
            options.clock_skew_tolerance_ms
        ),
        Freshness::Stale | Freshness::Expired
    )
}

/// The best-ranked endpoint (the head of [`resolve_all`]).
pub fn resolve(
    snapshot: &Snapshot<'_>,
    query: &ResolveQuery,
    options: &ResolveOptions,
    state: &mut ResolverState,
    now_ms: i64,
) -> Result<EndpointLease, ResolveError> {
    let all = resolve_all(snapshot, query, options, state, now_ms)?;
    // resolve_all never returns an empty list; the fallback keeps this panic-free regardless.
    all.into_iter()
        .next()
        .ok_or_else(|| ResolveError::NotFound {
            service: query.service.clone(),
            contract_id: None,
            reason: NotFoundReason::AllRejected(Box::default()),
        })
}

/// Every surviving endpoint, ranked; never empty (empty is `NotFound`).
pub fn resolve_all(
    snapshot: &Snapshot<'_>,
    query: &ResolveQuery,
    options: &ResolveOptions,
    state: &mut ResolverState,
    now_ms: i64,
) -> Result<Vec<EndpointLease>, ResolveError> {
    let service = check_name("service name", &query.service, MAX_NAME_LEN)?;
    let not_found = |contract_id: Option<String>, reason| ResolveError::NotFound {
        service: service.clone(),
        contract_id,
        reason,
    };

    // 1. The contract id.
    let contract_id =
        resolve_contract_id(snapshot, &service, &query.selector).map_err(|e| match e {
            StepOneError::Key(k) => ResolveError::InvalidQuery(k),
            StepOneError::NotFound(reason) => not_found(None, reason),
        })?;

    // 2. Lease rows: one candidate per endpoint.
    let prefix = lease_prefix(&service, &contract_id)?;
    let mut rej = Rejections::default();
    let mut best: BTreeMap<String, (EndpointLease, [u8; 32])> = BTreeMap::new();
    for entry in snapshot
        .entries
        .iter()
        .filter(|e| e.key.starts_with(prefix.as_bytes()))
    {
        rej.rows += 1;
        if !snapshot.acl.is_trusted_writer(&entry.author) {
            rej.untrusted += 1;
            continue;
        }
        let lease = match LeaseValue::decode(&entry.value) {
            Ok(LeaseValue::Tombstone) => {
                rej.tombstones += 1;
                continue;
            }
            Ok(LeaseValue::Lease(lease)) => lease,
            Err(_) => {
                rej.malformed += 1;
                continue;
            }
        };
        let matches_key = match RegistryKey::parse(&entry.key) {
            Ok(RegistryKey::Lease {
                service: s,
                contract_id: c,
                endpoint_id: e,
            }) => {
                s == service
                    && c == contract_id
                    && lease.service == s
                    && lease.contract_id == c
                    && lease.endpoint_id == e
            }
            _ => false,
        };
        if !matches_key {
            rej.key_mismatch += 1;
            continue;
        }
        let digest = *blake3::hash(&entry.value).as_bytes();
        match best.get(&lease.endpoint_id) {
            Some((held, held_digest))
                if (held.lease_seq, held.updated_at_epoch_ms, *held_digest)
                    >= (lease.lease_seq, lease.updated_at_epoch_ms, digest) =>
            {
                rej.superseded += 1;
            }
            Some(_) => {
                rej.superseded += 1;
                best.insert(lease.endpoint_id.clone(), (lease, digest));
            }
            None => {
                best.insert(lease.endpoint_id.clone(), (lease, digest));
            }
        }
    }

    // 3. Monotonicity, then 4. the mandatory filters, in the reference's order.
    state.prune_contract(&service, &contract_id, options, now_ms);
    let default_modes = [DEFAULT_SERIALIZATION_MODE.to_owned()];
    let caller_modes: &[String] = if options.caller_serialization_modes.is_empty() {
        &default_modes
    } else {
        &options.caller_serialization_modes
    };
    let caller_alpn = options.caller_alpn.as_deref().filter(|a| !a.is_empty());
    let mut survivors = Vec::with_capacity(best.len());
    for (_, (lease, digest)) in best {
        if !state.admit(&lease, digest, options, now_ms) {
            rej.stale_seq += 1;
            continue;
        }
        if !lease.is_routable() {
            rej.not_routable += 1;
            continue;
        }
        match lease.freshness(
            now_ms,
            options.lease_duration_ms,
            options.clock_skew_tolerance_ms,
        ) {
            Freshness::Fresh => {}
            Freshness::Stale => {
                rej.stale += 1;
                continue;
            }
            Freshness::Expired => {
                rej.expired += 1;
                continue;
            }
            Freshness::FromFuture => {
                rej.from_future += 1;
                continue;
            }
        }
        if caller_alpn.is_some_and(|a| a != lease.alpn) {
            rej.alpn_mismatch += 1;
            continue;
        }
        if !lease
            .serialization_modes
            .iter()
            .any(|m| caller_modes.contains(m))
        {
            rej.no_common_mode += 1;
            continue;
        }
        if let (Some(mine), Some(theirs)) = (&options.caller_policy_realm, &lease.policy_realm) {
            if mine != theirs {
                rej.realm_mismatch += 1;
                continue;
            }
        }
        survivors.push(lease);
    }
    if survivors.is_empty() {
        return Err(not_found(
            Some(contract_id),
            NotFoundReason::AllRejected(Box::new(rej)),
        ));
    }

    // 5. Ranking.
    Ok(rank(survivors, query.strategy, &contract_id, state))
}

enum StepOneError {
    Key(KeyError),
    NotFound(NotFoundReason),
}

fn resolve_contract_id(
    snapshot: &Snapshot<'_>,
    service: &str,
    selector: &Selector,
) -> Result<String, StepOneError> {
    if let Some(cid) = &selector.contract_id {
        return check_contract_id(cid).map_err(StepOneError::Key);
    }
    if selector.version.is_none() && selector.channel.is_none() {
        return Err(StepOneError::NotFound(NotFoundReason::EmptySelector));
    }
    let mut keys = Vec::with_capacity(2);
    if let Some(v) = selector.version {
        keys.push(RegistryKey::version(service, v).map_err(StepOneError::Key)?);
    }
    if let Some(c) = &selector.channel {
        keys.push(RegistryKey::channel(service, c).map_err(StepOneError::Key)?);
    }
    for key in keys {
        match snapshot.read_pointer(&key) {
            Pointer::ContractId(cid) => return Ok(cid),
            Pointer::Missing => {}
            Pointer::Malformed => {
                return Err(StepOneError::NotFound(NotFoundReason::MalformedPointer {
                    key: key.to_string(),
                }));
            }
        }
    }
    Err(StepOneError::NotFound(NotFoundReason::NoPointer))
}

/// Ready group first, then degraded, each ordered by the strategy. Input
/// order (endpoint id order, which is the doc's key order) is the base order.
fn rank(
    survivors: Vec<EndpointLease>,
    strategy: Strategy,
    contract_id: &str,
    state: &mut ResolverState,
) -> Vec<EndpointLease> {
    let (mut ready, mut degraded): (Vec<_>, Vec<_>) = survivors
        .into_iter()
        .partition(|l| l.health_status == HealthStatus::Ready);
    let mut rng = SplitMix64(match strategy {
        Strategy::Random { seed } => seed,
        _ => 0,
    });
    for (group, leases) in [(Group::Ready, &mut ready), (Group::Degraded, &mut degraded)] {
        if leases.is_empty() {
            continue;
        }
        match strategy {
            Strategy::RoundRobin => {
                let idx = state.next_index(contract_id, group, leases.len());
                // Move the chosen one to the front; the rest keep their order
                // (the reference's `[g[idx]] + g[:idx] + g[idx+1:]`).
                leases[..=idx].rotate_right(1);
            }
            Strategy::LeastLoad => {
                leases.sort_by(|a, b| match (a.load, b.load) {
                    (Some(x), Some(y)) => x.total_cmp(&y),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                });
            }
            Strategy::Random { .. } => {
                for i in (1..leases.len()).rev() {
                    let j = rng.below(i as u64 + 1) as usize;
                    leases.swap(i, j);
                }
            }
        }
    }
    ready.extend(degraded);
    ready
}

/// SplitMix64: a tiny, well-mixed generator so that a caller's seed gives a
/// deterministic, evenly spread shuffle.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..bound` (multiply-shift; bias < 2^-32 for our sizes).
    fn below(&mut self, bound: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(bound)) >> 64) as u64
    }
}
