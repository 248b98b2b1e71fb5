//! The producer side of a lease (trust-registry.md §2.5) as a sans-IO state
//! machine: every transition takes `now` and returns the doc write (key,
//! value) and the gossip hint to send; the runtime does the writing, the
//! sending and the sleeping.
//!
//! ```text
//! register ──► Active ──set_health / set_load / refresh (timer)──► Active
//!                 │
//!              withdraw ──► Draining ──grace elapsed (timer)──► Withdrawn
//!              (writes health=draining)          (writes the `null` tombstone,
//!                                                 sends ENDPOINT_DOWN)
//! ```
//!
//! Drive it like quinn-proto: after each call, arm a timer at
//! [`LeasePublisher::poll_timeout`]; when it fires call
//! [`LeasePublisher::handle_timeout`] and perform the write it returns.

use super::gossip::GossipEvent;
use super::keys::{KeyError, RegistryKey};
use super::lease::{
    DEFAULT_ALPN, DEFAULT_SERIALIZATION_MODE, EndpointLease, HealthStatus, LeaseValue,
};
use super::{LEASE_DURATION_MS, LEASE_REFRESH_INTERVAL_MS};

/// What a producer advertises; everything in a lease except the timing,
/// `lease_seq` and `load`. Built with [`LeaseSpec::new`], fields set directly.
#[derive(Debug, Clone, PartialEq)]
pub struct LeaseSpec {
    /// The endpoint (iroh EndpointId hex).
    pub endpoint_id: String,
    /// The contract served.
    pub contract_id: String,
    /// The service name.
    pub service: String,
    /// The service version.
    pub version: i32,
    /// ALPN; default `aster/1`.
    pub alpn: String,
    /// Modes served; default `["fory-xlang"]`. An empty list is replaced by
    /// the default, as the reference's `serialization_modes or [...]` does.
    pub serialization_modes: Vec<String>,
    /// Feature flags.
    pub feature_flags: Vec<String>,
    /// Relay URL.
    pub relay_url: Option<String>,
    /// Direct addresses, `ip:port`.
    pub direct_addrs: Vec<String>,
    /// e.g. `rust/1.85`.
    pub language_runtime: Option<String>,
    /// Implementation version; default this crate's version (the reference
    /// defaults to the literal `"0.2.0"`).
    pub aster_version: String,
    /// Policy realm.
    pub policy_realm: Option<String>,
    /// Initial health; default `starting` (§2.5).
    pub health_status: HealthStatus,
    /// Tags.
    pub tags: Vec<String>,
}

impl LeaseSpec {
    /// A spec with the reference's `register_endpoint` defaults.
    pub fn new(endpoint_id: &str, contract_id: &str, service: &str, version: i32) -> LeaseSpec {
        LeaseSpec {
            endpoint_id: endpoint_id.to_owned(),
            contract_id: contract_id.to_owned(),
            service: service.to_owned(),
            version,
            alpn: DEFAULT_ALPN.to_owned(),
            serialization_modes: vec![DEFAULT_SERIALIZATION_MODE.to_owned()],
            feature_flags: Vec::new(),
            relay_url: None,
            direct_addrs: Vec::new(),
            language_runtime: None,
            aster_version: env!("CARGO_PKG_VERSION").to_owned(),
            policy_realm: None,
            health_status: HealthStatus::Starting,
            tags: Vec::new(),
        }
    }
}

/// Lease timing (§2.5 defaults: 45 s lease, 15 s refresh, 5 s withdraw grace).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseTiming {
    /// Lease term: `lease_expires = now + this` on every write.
    pub lease_duration_ms: i64,
    /// Rewrite (with `lease_seq + 1`) this long after registration and
    /// after each refresh. Like the reference's refresh task, the cadence
    /// ignores `set_health` / `set_load` writes in between.
    pub refresh_interval_ms: i64,
}

impl Default for LeaseTiming {
    fn default() -> Self {
        LeaseTiming {
            lease_duration_ms: LEASE_DURATION_MS,
            refresh_interval_ms: LEASE_REFRESH_INTERVAL_MS,
        }
    }
}

/// One doc write and the gossip hint that follows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LeaseWrite {
    /// The lease key.
    pub key: String,
    /// What the key now holds.
    pub value: LeaseValue,
    /// ENDPOINT_LEASE_UPSERTED or ENDPOINT_DOWN.
    pub gossip: GossipEvent,
}

impl LeaseWrite {
    /// The value bytes to store (lease JSON or `null`).
    pub fn value_bytes(&self) -> Vec<u8> {
        self.value.encode()
    }
}

/// Transitions that cannot happen.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LeaseError {
    /// The spec's service, contract id or endpoint id cannot form a key.
    #[error("cannot register the endpoint: {0}")]
    InvalidKey(#[from] KeyError),
    /// A change after the tombstone was written.
    #[error("the lease was withdrawn; register again to advertise")]
    Withdrawn,
    /// `withdraw` while already draining.
    #[error("the lease is already draining")]
    AlreadyDraining,
    /// `lease_seq` reached `i64::MAX`.
    #[error("lease_seq cannot be incremented past {}", i64::MAX)]
    SeqExhausted,
    /// A load outside 0.0..=1.0 or not finite.
    #[error("load {0} is not within 0.0..=1.0")]
    BadLoad(f64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Active,
    Draining { tombstone_at_ms: i64 },
    Withdrawn,
}

/// One endpoint's lease, producer side.
#[derive(Debug, Clone)]
pub struct LeasePublisher {
    lease: EndpointLease,
    key: String,
    timing: LeaseTiming,
    phase: Phase,
    next_refresh_ms: i64,
}

impl LeasePublisher {
    /// `register_endpoint`: the first lease (`lease_seq = 1`, health from the
    /// spec — `starting` by default — `load = null`, `updated_at = now`,
    /// expiry `now + duration`) and its write.
    pub fn register(
        spec: LeaseSpec,
        timing: LeaseTiming,
        now_ms: i64,
    ) -> Result<(LeasePublisher, LeaseWrite), LeaseError> {
        let key =
            RegistryKey::lease(&spec.service, &spec.contract_id, &spec.endpoint_id)?.to_string();
        let serialization_modes = if spec.serialization_modes.is_empty() {
            vec![DEFAULT_SERIALIZATION_MODE.to_owned()]
        } else {
            spec.serialization_modes
        };
        let lease = EndpointLease {
            endpoint_id: spec.endpoint_id,
            contract_id: spec.contract_id,
            service: spec.service,
            version: spec.version,
            lease_expires_epoch_ms: 0,
            lease_seq: 1,
            alpn: spec.alpn,
            serialization_modes,
            feature_flags: spec.feature_flags,
            relay_url: spec.relay_url,
            direct_addrs: spec.direct_addrs,
            load: None,
            language_runtime: spec.language_runtime,
            aster_version: spec.aster_version,
            policy_realm: spec.policy_realm,
            health_status: spec.health_status,
            tags: spec.tags,
            updated_at_epoch_ms: 0,
        };
        let next_refresh_ms = now_ms.saturating_add(timing.refresh_interval_ms);
        let mut publisher = LeasePublisher {
            lease,
            key,
            timing,
            phase: Phase::Active,
            next_refresh_ms,
        };
        let write = publisher.write(now_ms);
        Ok((publisher, write))
    }

    /// The lease as last written.
    pub fn lease(&self) -> &EndpointLease {
        &self.lease
    }

    /// The lease key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// True once the tombstone has been written.
    pub fn is_withdrawn(&self) -> bool {
        self.phase == Phase::Withdrawn
    }

    /// `set_health`: new health, `lease_seq + 1`, rewrite.
    pub fn set_health(
        &mut self,
        health: HealthStatus,
        now_ms: i64,
    ) -> Result<LeaseWrite, LeaseError> {
        self.check_live()?;
        self.bump()?;
        self.lease.health_status = health;
        Ok(self.write(now_ms))
    }

    /// New load (what the core's `renew_lease` carries): `lease_seq + 1`, rewrite.
    pub fn set_load(&mut self, load: Option<f64>, now_ms: i64) -> Result<LeaseWrite, LeaseError> {
        if let Some(l) = load {
            if !(0.0..=1.0).contains(&l) {
                return Err(LeaseError::BadLoad(l));
            }
        }
        self.check_live()?;
        self.bump()?;
        self.lease.load = load;
        Ok(self.write(now_ms))
    }

    /// A refresh: `lease_seq + 1`, `updated_at = now`, expiry `now + duration`;
    /// the next one is due an interval after this one.
    /// [`LeasePublisher::handle_timeout`] calls this when due; a runtime may
    /// also call it early.
    pub fn refresh(&mut self, now_ms: i64) -> Result<LeaseWrite, LeaseError> {
        self.check_live()?;
        self.bump()?;
        self.next_refresh_ms = now_ms.saturating_add(self.timing.refresh_interval_ms);
        Ok(self.write(now_ms))
    }

    /// `withdraw`: health `draining` (`lease_seq + 1`) now; the tombstone is
    /// due `grace_ms` later (0 = at the next `handle_timeout`). Use
    /// [`super::WITHDRAW_GRACE_MS`] for the reference's 5 s.
    pub fn withdraw(&mut self, grace_ms: i64, now_ms: i64) -> Result<LeaseWrite, LeaseError> {
        match self.phase {
            Phase::Active => {}
            Phase::Draining { .. } => return Err(LeaseError::AlreadyDraining),
            Phase::Withdrawn => return Err(LeaseError::Withdrawn),
        }
        let write = self.set_health(HealthStatus::Draining, now_ms)?;
        self.phase = Phase::Draining {
            tombstone_at_ms: now_ms.saturating_add(grace_ms.max(0)),
        };
        Ok(write)
    }

    /// When [`LeasePublisher::handle_timeout`] next has work: the tombstone
    /// while draining, else the next refresh; `None` once withdrawn.
    pub fn poll_timeout(&self) -> Option<i64> {
        match self.phase {
            Phase::Active => Some(self.next_refresh_ms),
            Phase::Draining { tombstone_at_ms } => Some(tombstone_at_ms.min(self.next_refresh_ms)),
            Phase::Withdrawn => None,
        }
    }

    /// Does what is due at `now`: the tombstone (then nothing more), or a
    /// refresh. While draining, a refresh that falls due before the
    /// tombstone keeps the draining lease fresh, as the reference's refresh
    /// task does until `withdraw` cancels it. `Ok(None)` when nothing is due.
    pub fn handle_timeout(&mut self, now_ms: i64) -> Result<Option<LeaseWrite>, LeaseError> {
        match self.phase {
            Phase::Withdrawn => Ok(None),
            Phase::Draining { tombstone_at_ms } if now_ms >= tombstone_at_ms => {
                self.phase = Phase::Withdrawn;
                Ok(Some(LeaseWrite {
                    key: self.key.clone(),
                    value: LeaseValue::Tombstone,
                    gossip: GossipEvent::endpoint_down(
                        &self.lease.endpoint_id,
                        &self.lease.service,
                        now_ms,
                    ),
                }))
            }
            _ if now_ms >= self.next_refresh_ms => self.refresh(now_ms).map(Some),
            _ => Ok(None),
        }
    }

    fn check_live(&self) -> Result<(), LeaseError> {
        if self.phase == Phase::Withdrawn {
            Err(LeaseError::Withdrawn)
        } else {
            Ok(())
        }
    }

    fn bump(&mut self) -> Result<(), LeaseError> {
        self.lease.lease_seq = self
            .lease
            .lease_seq
            .checked_add(1)
            .ok_or(LeaseError::SeqExhausted)?;
        Ok(())
    }

    /// The reference's `_write_lease`: stamp `updated_at` and the expiry, then write.
    fn write(&mut self, now_ms: i64) -> LeaseWrite {
        self.lease.updated_at_epoch_ms = now_ms;
        self.lease.lease_expires_epoch_ms = now_ms.saturating_add(self.timing.lease_duration_ms);
        LeaseWrite {
            key: self.key.clone(),
            value: LeaseValue::Lease(self.lease.clone()),
            gossip: GossipEvent::endpoint_lease_upserted(
                &self.lease.endpoint_id,
                &self.lease.service,
                self.lease.lease_seq,
                &self.lease.contract_id,
                now_ms,
            ),
        }
    }
}
