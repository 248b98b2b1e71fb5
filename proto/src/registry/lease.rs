//! `EndpointLease`, the value at a lease key (trust-registry.md §2.3, §2.5),
//! its tombstone, and the freshness rule readers apply.

use serde::{Deserialize, Serialize};

use super::json::{RecordError, check_size, null_as_default, parse};
use super::{CLOCK_SKEW_TOLERANCE_MS, LEASE_DURATION_MS};
use crate::codec::json::to_python_json;

/// Largest lease value accepted, in bytes. A reference lease is ~600 bytes;
/// the cap leaves room for many addresses and tags and bounds what one
/// untrusted row can make a reader parse.
pub const MAX_LEASE_LEN: usize = 64 * 1024;

/// The ALPN a lease advertises by default and a resolver asks for by default.
pub const DEFAULT_ALPN: &str = "aster/1";
/// The serialization mode a publisher advertises, and a resolver asks for,
/// when none is given (the reference's `["fory-xlang"]`).
pub const DEFAULT_SERIALIZATION_MODE: &str = "fory-xlang";

/// Health of an endpoint (§2.3). Written as the lowercase name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// Registered, not yet accepting calls. Not routable.
    Starting,
    /// Accepting calls. Routable, preferred.
    Ready,
    /// Accepting calls with reduced capacity. Routable after every ready one.
    Degraded,
    /// Shutting down; the tombstone follows after the grace period. Not routable.
    Draining,
}

impl HealthStatus {
    /// Ready or degraded: the only states a resolver returns (§2.7 step 4).
    pub fn is_routable(self) -> bool {
        matches!(self, HealthStatus::Ready | HealthStatus::Degraded)
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Starting => "starting",
            HealthStatus::Ready => "ready",
            HealthStatus::Degraded => "degraded",
            HealthStatus::Draining => "draining",
        }
    }
}

/// A live endpoint's advertisement, at
/// `services/{service}/contracts/{contract_id}/endpoints/{endpoint_id}`.
///
/// Encoding is the reference's `EndpointLease.to_json()`: compact JSON, the 18
/// keys always present in this order, `null` for absent options, `load` as a
/// Python float. Decoding follows the reference core's serde model (declared
/// normative): the identity fields, `version`, both timestamps, `lease_seq`,
/// `alpn` and `health_status` are required; the lists, `aster_version` and the
/// options default when missing *or* `null`; unknown keys are ignored (the
/// Python `EndpointLease(**data)` refuses them). `health_status` must be one of
/// the four states: a lease with another value is malformed, which a resolver
/// counts and skips exactly as the reference's health filter would drop it.
/// Non-finite `load` (`NaN`, which Python can write) is not JSON and is refused.
/// Precision: the workspace builds serde_json without `float_roundtrip`, so a
/// 17-significant-digit `load` (Python writes shortest reprs) may be read one
/// ulp off; ranking is unaffected in practice, re-encoding such a value is not
/// byte-exact. Encoding is always exact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointLease {
    /// The endpoint (iroh EndpointId hex).
    pub endpoint_id: String,
    /// The contract served.
    pub contract_id: String,
    /// The service name.
    pub service: String,
    /// The service version (int32).
    pub version: i32,
    /// Absolute expiry, epoch ms (the writer's clock).
    pub lease_expires_epoch_ms: i64,
    /// Monotonic per (service, contract, endpoint) within one publisher run.
    pub lease_seq: i64,
    /// ALPN to dial, e.g. `aster/1`.
    pub alpn: String,
    /// Modes served, e.g. `["fory-xlang"]`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub serialization_modes: Vec<String>,
    /// Feature flags.
    #[serde(default, deserialize_with = "null_as_default")]
    pub feature_flags: Vec<String>,
    /// Relay URL, if any.
    #[serde(default)]
    pub relay_url: Option<String>,
    /// Direct addresses, `ip:port`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub direct_addrs: Vec<String>,
    /// Load 0.0..=1.0, if reported.
    #[serde(default)]
    pub load: Option<f64>,
    /// e.g. `python/3.13`, `rust/1.85`.
    #[serde(default)]
    pub language_runtime: Option<String>,
    /// Version of the Aster implementation.
    #[serde(default, deserialize_with = "null_as_default")]
    pub aster_version: String,
    /// Policy realm, if any.
    #[serde(default)]
    pub policy_realm: Option<String>,
    /// Health.
    pub health_status: HealthStatus,
    /// Tags.
    #[serde(default, deserialize_with = "null_as_default")]
    pub tags: Vec<String>,
    /// Time of the last write, epoch ms (the writer's clock).
    pub updated_at_epoch_ms: i64,
}

impl EndpointLease {
    /// The bytes the reference writes for this lease.
    pub fn encode(&self) -> Vec<u8> {
        to_python_json(self)
    }

    /// Reads a lease object. The tombstone is not a lease: use
    /// [`LeaseValue::decode`] for stored values.
    pub fn decode(bytes: &[u8]) -> Result<EndpointLease, RecordError> {
        check_size("EndpointLease", bytes, MAX_LEASE_LEN)?;
        parse("EndpointLease", bytes)
    }

    /// Ready or degraded.
    pub fn is_routable(&self) -> bool {
        self.health_status.is_routable()
    }

    /// The reader's freshness verdict at `now_ms` (see [`Freshness`]).
    pub fn freshness(
        &self,
        now_ms: i64,
        lease_duration_ms: i64,
        skew_tolerance_ms: i64,
    ) -> Freshness {
        freshness(
            self.updated_at_epoch_ms,
            self.lease_expires_epoch_ms,
            now_ms,
            lease_duration_ms,
            skew_tolerance_ms,
        )
    }

    /// [`EndpointLease::freshness`] with the defaults (45 s, 5 s) is `Fresh`.
    pub fn is_fresh(&self, now_ms: i64) -> bool {
        self.freshness(now_ms, LEASE_DURATION_MS, CLOCK_SKEW_TOLERANCE_MS) == Freshness::Fresh
    }
}

/// What a lease key holds: a lease, or the tombstone a withdraw leaves.
// Boxing the lease would cost an allocation on every (common) lease to save
// stack space on the (rare) tombstone.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum LeaseValue {
    /// A lease.
    Lease(EndpointLease),
    /// The endpoint withdrew. iroh-docs cannot delete, so the reference writes
    /// the four bytes `null`; readers also treat an empty value as deleted.
    Tombstone,
}

impl LeaseValue {
    /// The stored bytes: the lease JSON, or `null`.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            LeaseValue::Lease(lease) => lease.encode(),
            LeaseValue::Tombstone => b"null".to_vec(),
        }
    }

    /// Reads a stored value: empty or exactly `null` is the tombstone (as the
    /// reference's `if not raw or raw == b"null"`), anything else must be a lease.
    pub fn decode(bytes: &[u8]) -> Result<LeaseValue, RecordError> {
        if bytes.is_empty() || bytes == b"null" {
            return Ok(LeaseValue::Tombstone);
        }
        EndpointLease::decode(bytes).map(LeaseValue::Lease)
    }
}

/// A reader's verdict on a lease's age (module doc, "Freshness").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Freshness {
    /// Usable.
    Fresh,
    /// `updated_at` is more than the lease duration before `now`.
    Stale,
    /// `lease_expires` is more than the skew tolerance before `now`.
    Expired,
    /// `updated_at` is more than the skew tolerance after `now`: the writer's
    /// clock is ahead of ours by more than we accept.
    FromFuture,
}

/// The freshness rule (module doc): fresh iff
/// `updated_at - now <= skew`, `now - updated_at <= duration` and
/// `now - expires <= skew`. Arithmetic is done in `i128`, so hostile
/// timestamps cannot overflow.
pub fn freshness(
    updated_at_ms: i64,
    expires_ms: i64,
    now_ms: i64,
    lease_duration_ms: i64,
    skew_tolerance_ms: i64,
) -> Freshness {
    let (updated, expires, now) = (
        i128::from(updated_at_ms),
        i128::from(expires_ms),
        i128::from(now_ms),
    );
    if updated - now > i128::from(skew_tolerance_ms) {
        Freshness::FromFuture
    } else if now - updated > i128::from(lease_duration_ms) {
        Freshness::Stale
    } else if now - expires > i128::from(skew_tolerance_ms) {
        Freshness::Expired
    } else {
        Freshness::Fresh
    }
}
