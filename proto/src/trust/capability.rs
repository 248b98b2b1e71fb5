//! Capability checks (Gates 2 and 3) and the per-peer admission record
//! (trust-registry.md §1.8, §1.9, §1.12).
//!
//! After admission the server keeps, per peer, the attributes the credential
//! granted; every call from that peer is checked against the service's and
//! the method's `requires` using the roles in `aster.role`. Service and method
//! requirements are ANDed; no requirement at all lets any admitted peer call
//! (the reference's default, not default-deny).
//!
//! The reference evaluates a requirement *kind* at run time and denies an
//! unknown one (fail closed). Here [`Requirement`] is a closed enum, so an
//! unknown kind cannot be constructed, and adding a kind will not compile
//! until `Requirement::allows` handles it: the same guarantee, moved to
//! compile time.

use std::fmt;

use super::admission::Admitted;
use super::attributes::{ATTR_NAME, Attributes};
use crate::service::Requirement;
use crate::status::Status;

/// The server-side bound on how long an admission lasts, whatever the
/// credential's expiry (`ASTER_PEER_TTL_S`, default 24 h; §1.12).
pub const PEER_TTL_SECS: u64 = 86_400;

/// Whether a caller with `attributes` meets `requirement` (§1.8): roles
/// from `aster.role`, split on `,`, trimmed, empties dropped.
pub fn satisfies(requirement: &Requirement, attributes: &Attributes) -> bool {
    requirement.allows(&attributes.roles())
}

/// Which declaration refused the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateLevel {
    /// The service-wide `requires` (Gate 2 baseline).
    Service,
    /// The method's own `requires` (Gate 3).
    Method,
}

impl fmt::Display for GateLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GateLevel::Service => "service-level",
            GateLevel::Method => "method-level",
        })
    }
}

/// A call refused by a capability requirement.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{level} requirement {requirement:?} not met")]
pub struct CapabilityDenied {
    pub level: GateLevel,
    pub requirement: Requirement,
}

impl CapabilityDenied {
    /// The status the reference's `CapabilityInterceptor` answers with:
    /// PERMISSION_DENIED, "capability check failed for service 'Svc'" or
    /// "... for method 'Svc.method'" (§1.9, verified on the wire).
    pub fn to_status(&self, service: &str, method: &str) -> Status {
        Status::permission_denied(match self.level {
            GateLevel::Service => format!("capability check failed for service '{service}'"),
            GateLevel::Method => format!("capability check failed for method '{service}.{method}'"),
        })
    }
}

/// Gates 2/3 for one call: the service requirement first, then the
/// method's; both must hold.
pub fn authorize(
    service_requires: Option<&Requirement>,
    method_requires: Option<&Requirement>,
    attributes: &Attributes,
) -> Result<(), CapabilityDenied> {
    if service_requires.is_none() && method_requires.is_none() {
        // Most methods require nothing: no need to parse the roles.
        return Ok(());
    }
    let roles = attributes.roles();
    for (level, requirement) in [
        (GateLevel::Service, service_requires),
        (GateLevel::Method, method_requires),
    ] {
        if let Some(requirement) = requirement {
            if !requirement.allows(&roles) {
                return Err(CapabilityDenied {
                    level,
                    requirement: *requirement,
                });
            }
        }
    }
    Ok(())
}

/// How a peer got admitted (the reference's `admission_path`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdmissionPath {
    /// A credential checked by consumer admission.
    Consumer,
    /// No credential, admitted because the consumer gate is open (dev mode).
    OpenGate,
}

impl AdmissionPath {
    /// The reference's label (it labels both cases `consumer_admission`).
    pub fn as_str(self) -> &'static str {
        "consumer_admission"
    }
}

/// What the server remembers about an admitted peer (§1.12): the source of
/// Gate 0 (is this peer admitted?) and of every call's attributes.
///
/// Times are epoch seconds. The record is valid from `admitted_at` until the
/// earlier of the credential's expiry and `admitted_at + ttl`; re-admission
/// replaces it (fresh TTL). The runtime stores records and evicts expired
/// ones; this type only decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerAdmission {
    /// Lowercase hex EndpointId.
    pub endpoint_id: String,
    /// `aster.name`, or empty.
    pub handle: String,
    pub attributes: Attributes,
    pub admitted_at: u64,
    /// The credential's expiry; `None` when there was no credential.
    pub expires_at: Option<u64>,
    pub path: AdmissionPath,
}

impl PeerAdmission {
    /// The record for a peer that passed [`super::admit`] at `now`.
    pub fn consumer(
        endpoint_id: impl Into<String>,
        admitted: &Admitted,
        now: u64,
    ) -> PeerAdmission {
        PeerAdmission {
            endpoint_id: endpoint_id.into(),
            handle: admitted.attributes.get(ATTR_NAME).unwrap_or("").to_string(),
            attributes: admitted.attributes.clone(),
            admitted_at: now,
            expires_at: Some(admitted.expires_at),
            path: AdmissionPath::Consumer,
        }
    }

    /// The record for a credential-less peer admitted by an open gate: no
    /// attributes, TTL only.
    pub fn open_gate(endpoint_id: impl Into<String>, now: u64) -> PeerAdmission {
        PeerAdmission {
            endpoint_id: endpoint_id.into(),
            handle: String::new(),
            attributes: Attributes::new(),
            admitted_at: now,
            expires_at: None,
            path: AdmissionPath::OpenGate,
        }
    }

    /// The first second at which the record is expired, given the TTL.
    pub fn valid_until(&self, ttl_secs: u64) -> u64 {
        let ttl_end = self.admitted_at.saturating_add(ttl_secs);
        self.expires_at.map_or(ttl_end, |e| e.min(ttl_end))
    }

    /// Expired under the default TTL ([`PEER_TTL_SECS`]).
    ///
    /// `now == expires_at` is expired, the same boundary as admission
    /// (§1.5). The reference's store compares with `>` on float seconds,
    /// which keeps a record alive through the credential's last instant;
    /// with whole seconds that would be one second more than admission
    /// allows.
    pub fn is_expired(&self, now: u64) -> bool {
        self.is_expired_with_ttl(now, PEER_TTL_SECS)
    }

    /// Expired under a configured TTL (`ASTER_PEER_TTL_S`).
    pub fn is_expired_with_ttl(&self, now: u64, ttl_secs: u64) -> bool {
        now >= self.valid_until(ttl_secs)
    }
}
