//! The decentralised registry (trust-registry.md §2): keys, value formats,
//! the producer's lease state machine and name resolution, sans-IO.
//!
//! The registry is an iroh-docs document. Producers write contract pointers
//! and endpoint leases into it; readers sync it and resolve
//! `(service, contract id | version | channel)` to ranked endpoints. This
//! module holds everything about that document that is not I/O: the runtime
//! reads entries into [`DocEntry`] values, calls [`resolve`], and writes what
//! a [`LeasePublisher`] returns. Time is always a parameter (epoch ms); the
//! random strategy takes the caller's seed.
//!
//! | Module | Spec | What |
//! |---|---|---|
//! | [`keys`] | §2.2 | key builders and the strict parser |
//! | [`ArtifactRef`], [`EndpointLease`], [`GossipEvent`], [`AclList`] | §2.3, §2.6, §2.8 | values, byte-exact with the reference |
//! | [`LeasePublisher`] | §2.5 | register / refresh / set_health / withdraw |
//! | [`resolve`], [`resolve_all`] | §2.7 | the resolve pipeline |
//!
//! ```
//! use aster_proto::registry::{
//!     resolve, DocEntry, HealthStatus, LeasePublisher, LeaseSpec, LeaseTiming, ResolveOptions,
//!     ResolveQuery, ResolverState, Selector, Snapshot,
//! };
//!
//! let cid = "ab".repeat(32);
//! let now = 1_700_000_000_000;
//! // Producer: register, then report ready. Each call returns the write to perform.
//! let spec = LeaseSpec::new("node-1", &cid, "Echo", 1);
//! let (mut publisher, _first) = LeasePublisher::register(spec, LeaseTiming::default(), now).unwrap();
//! let ready = publisher.set_health(HealthStatus::Ready, now + 10).unwrap();
//!
//! // The doc as a reader sees it (the runtime fills this from iroh-docs).
//! let doc = vec![
//!     DocEntry::new("services/Echo/versions/v1", "author", 1, cid.clone()),
//!     DocEntry::new(ready.key.clone(), "author", 2, ready.value_bytes()),
//! ];
//! let mut state = ResolverState::new();
//! let lease = resolve(
//!     &Snapshot::with_doc_acl(&doc, None),
//!     &ResolveQuery::new("Echo", Selector::version(1)),
//!     &ResolveOptions::default(),
//!     &mut state,
//!     now + 1_000,
//! )
//! .unwrap();
//! assert_eq!(lease.endpoint_id, "node-1");
//! ```
//!
//! # Rules (for spec/)
//!
//! **Freshness** (gap R5). A reader at `now` (its own clock) uses a lease only
//! if all three hold, with `D` = lease duration (45 s) and `S` = clock-skew
//! tolerance ([`CLOCK_SKEW_TOLERANCE_MS`], 5 s):
//!
//! 1. `updated_at − now ≤ S` — a lease stamped further in the future comes
//!    from a writer whose clock is ahead by more than we tolerate; it is
//!    refused ([`Freshness::FromFuture`]) rather than trusted for longer than
//!    its term;
//! 2. `now − updated_at ≤ D` — the reference's rule, unchanged (inclusive);
//! 3. `now − lease_expires ≤ S` — the writer's own expiry is honoured (the
//!    reference ignores it), with the same tolerance.
//!
//! Consequences: a writer whose clock is behind ours by `k ≤ D` sees its
//! leases age `k` sooner (its 15 s refresh keeps it usable while `k < 30 s`);
//! a writer ahead by up to `S` is unaffected; ahead by more is not routable
//! until its clock is fixed — loudly, as [`Rejections::from_future`]. All
//! arithmetic is in `i128`; hostile timestamps cannot overflow.
//!
//! **Monotonicity** per (service, contract, endpoint), remembered in the
//! caller's [`ResolverState`]: a lease is accepted if nothing was seen, if
//! its `lease_seq` is greater than the last accepted, if it is *equal and the
//! stored bytes are identical* (gap R1: the reference rejects equal seqs, so
//! a second resolve before the next refresh returns nothing), or if its
//! `updated_at` is after the last accepted lease's `lease_expires` (a
//! restarted publisher counts from 1 again; the reference would refuse it
//! until the seq caught up). Anything else — strictly older, or the same seq
//! with different content — is refused. Remembered leases that have gone
//! stale are forgotten; that is safe because anything they shield against
//! is older still and fails freshness.
//!
//! **Gossip** (gap R3). Events are unsigned; they are hints that say which
//! prefix to re-read ([`GossipEvent::resync_prefix`]), never data. Unknown
//! event types are refused, as in the Python reference.
//!
//! # Deliberate differences from the reference
//!
//! * R1, R5, restart, R3: above.
//! * R4: [`DOWNLOAD_PREFIXES`] includes `manifests/`.
//! * Keys are checked (no `/` in names, bounded lengths, contract ids are 64
//!   lowercase hex); the reference formats anything.
//! * Lease rows whose body names another service/contract/endpoint than
//!   their key are skipped; several authors' rows for one endpoint yield one
//!   candidate (highest `(lease_seq, updated_at)`), not duplicates.
//! * Round robin keeps one cursor per health group; the reference's single
//!   cursor per contract is advanced by both groups, so with any degraded
//!   endpoint present the ready group's rotation stalls.
//! * Records tolerate unknown keys (Python's `Cls(**data)` raises) and read
//!   missing or `null` optional fields as their defaults (the reference
//!   core's serde model); `health_status` outside the four states and
//!   `collection_format` outside raw/index are refused, not carried along.
//! * ACL: a writers list that exists but is unreadable, or longer than
//!   10,000, trusts nobody (the reference stays open, or truncates); the
//!   list that counts is the named admin's, else the newest
//!   ([`RegistryAcl::from_entries`]).
//! * A pointer value that is not a contract id stops the resolve with
//!   [`NotFoundReason::MalformedPointer`] (the reference looks up leases
//!   under the garbage id, or raises on non-UTF-8).
//! * [`resolve_all`] reports an empty result as [`ResolveError::NotFound`],
//!   like `resolve`, instead of returning an empty list.
//! * [`LeaseSpec::new`] defaults `aster_version` to this crate's version
//!   (the reference writes `"0.2.0"`); [`LeasePublisher::set_load`] exists
//!   (the core's `renew_lease` carries load; the Python publisher cannot).
//!
//! Kept as the reference does, on purpose: the filter order, the pointer
//! tie-break (equal timestamps: the smallest author id, which Python's
//! `max` keeps), round robin's move-to-front order (`[g[i]] + g[:i] +
//! g[i+1:]`, not the core's rotation), the refresh cadence (15 s after
//! registration and after each refresh, regardless of health writes), an
//! empty caller ALPN or mode list meaning "no ALPN filter" / `fory-xlang`,
//! and refusing unknown gossip types (the core maps them to 5).

pub mod keys;

mod acl;
mod artifact;
mod gossip;
mod json;
mod lease;
mod publisher;
mod resolve;

pub use acl::{AclList, MAX_ACL_LIST_LEN, MAX_ACL_VALUE_LEN, RegistryAcl};
pub use artifact::{ArtifactRef, CollectionFormat, MAX_ARTIFACT_REF_LEN};
pub use gossip::{GossipEvent, GossipEventType, MAX_GOSSIP_EVENT_LEN};
pub use json::RecordError;
pub use keys::{AclKind, DOWNLOAD_PREFIXES, KeyError, REFERENCE_DOWNLOAD_PREFIXES, RegistryKey};
pub use lease::{
    DEFAULT_ALPN, DEFAULT_SERIALIZATION_MODE, EndpointLease, Freshness, HealthStatus, LeaseValue,
    MAX_LEASE_LEN, freshness,
};
pub use publisher::{LeaseError, LeasePublisher, LeaseSpec, LeaseTiming, LeaseWrite};
pub use resolve::{
    DocEntry, MAX_TRACKED_CURSORS, MAX_TRACKED_LEASES, NotFoundReason, Pointer, Rejections,
    ResolveError, ResolveOptions, ResolveQuery, ResolverState, Selector, Snapshot, Strategy,
    resolve, resolve_all,
};

/// Lease term and reader freshness window: 45 s (§2.5).
pub const LEASE_DURATION_MS: i64 = 45_000;
/// Producer refresh cadence: 15 s (§2.5).
pub const LEASE_REFRESH_INTERVAL_MS: i64 = 15_000;
/// Time between `draining` and the tombstone on withdraw: 5 s (§2.5).
pub const WITHDRAW_GRACE_MS: i64 = 5_000;
/// Clock skew a reader tolerates on lease timestamps (module doc). The same
/// 5 s the call layer allows on deadlines (`limits::DEADLINE_SKEW_TOLERANCE_MS`).
pub const CLOCK_SKEW_TOLERANCE_MS: i64 = 5_000;
