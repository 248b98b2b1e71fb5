//! Registry change events (trust-registry.md §2.6, family 1).
//!
//! Events are unsigned JSON on a gossip topic (gap R3): anyone on the topic
//! can send any of them. They are therefore *hints only*: a receiver uses an
//! event to decide which part of the registry doc to re-read
//! ([`GossipEvent::resync_prefix`]) and never as data. Every decision
//! (which contract, which endpoints, their health) comes from doc entries,
//! whose authors iroh-docs authenticates and the ACL filters.

use serde::{Deserialize, Serialize, Serializer};

use super::json::{RecordError, check_size, null_as_default, parse};
use super::keys::{KeyError, MAX_NAME_LEN, check_contract_id, check_name, lease_prefix};
use crate::codec::json::to_python_json;

/// Largest event accepted, in bytes (a reference event is ~300 bytes).
pub const MAX_GOSSIP_EVENT_LEN: usize = 8 * 1024;

/// The six event types of §2.6, with their wire numbers.
///
/// An unknown number is refused ([`RecordError::UnknownEventType`]), as the
/// Python reference does (`GossipEventType(n)` raises and its listener drops
/// the message). The reference core instead maps every unknown number to
/// `COMPATIBILITY_PUBLISHED`; we do not, since a future event type would then
/// be misread as a different event. Dropping costs nothing: events are hints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GossipEventType {
    /// 0: a contract and its version pointer were written.
    ContractPublished,
    /// 1: a channel pointer moved.
    ChannelUpdated,
    /// 2: a lease was written; `version` carries the lease_seq.
    EndpointLeaseUpserted,
    /// 3: a lease was tombstoned.
    EndpointDown,
    /// 4: an ACL list changed; `key_prefix` names it.
    AclChanged,
    /// 5: a compatibility report (placeholder); the target contract id rides
    /// in `endpoint_id`.
    CompatibilityPublished,
}

impl GossipEventType {
    /// The wire number.
    pub fn as_i64(self) -> i64 {
        match self {
            GossipEventType::ContractPublished => 0,
            GossipEventType::ChannelUpdated => 1,
            GossipEventType::EndpointLeaseUpserted => 2,
            GossipEventType::EndpointDown => 3,
            GossipEventType::AclChanged => 4,
            GossipEventType::CompatibilityPublished => 5,
        }
    }

    /// The type for a wire number, if it is one of the six.
    pub fn from_i64(n: i64) -> Option<GossipEventType> {
        Some(match n {
            0 => GossipEventType::ContractPublished,
            1 => GossipEventType::ChannelUpdated,
            2 => GossipEventType::EndpointLeaseUpserted,
            3 => GossipEventType::EndpointDown,
            4 => GossipEventType::AclChanged,
            5 => GossipEventType::CompatibilityPublished,
            _ => return None,
        })
    }
}

impl Serialize for GossipEventType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.as_i64())
    }
}

/// One registry change event: the flat record of §2.6.
///
/// Encoding is the reference's `GossipEvent.to_json()`: compact JSON, the
/// eight keys always present in this order, `null` for absent fields.
/// Decoding: `type` is required; the others default (missing or `null`,
/// `timestamp_ms` to 0); unknown keys are ignored, as in the reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GossipEvent {
    /// The event type.
    #[serde(rename = "type")]
    pub kind: GossipEventType,
    /// Service name.
    pub service: Option<String>,
    /// Service version; for ENDPOINT_LEASE_UPSERTED the lease_seq (hence i64).
    pub version: Option<i64>,
    /// Channel name (CHANNEL_UPDATED).
    pub channel: Option<String>,
    /// Contract id; for COMPATIBILITY_PUBLISHED the source contract.
    pub contract_id: Option<String>,
    /// Endpoint id; for COMPATIBILITY_PUBLISHED the target contract.
    pub endpoint_id: Option<String>,
    /// Changed key prefix (ACL_CHANGED).
    pub key_prefix: Option<String>,
    /// Sender's clock, epoch ms. Informational only.
    pub timestamp_ms: i64,
}

/// The wire shape before the type number is checked.
#[derive(Deserialize)]
struct WireGossipEvent {
    #[serde(rename = "type")]
    kind: i64,
    #[serde(default)]
    service: Option<String>,
    #[serde(default)]
    version: Option<i64>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    contract_id: Option<String>,
    #[serde(default)]
    endpoint_id: Option<String>,
    #[serde(default)]
    key_prefix: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    timestamp_ms: i64,
}

impl GossipEvent {
    fn empty(kind: GossipEventType, now_ms: i64) -> GossipEvent {
        GossipEvent {
            kind,
            service: None,
            version: None,
            channel: None,
            contract_id: None,
            endpoint_id: None,
            key_prefix: None,
            timestamp_ms: now_ms,
        }
    }

    /// What `broadcast_contract_published` sends.
    pub fn contract_published(
        contract_id: &str,
        service: &str,
        version: i32,
        now_ms: i64,
    ) -> GossipEvent {
        GossipEvent {
            contract_id: Some(contract_id.to_owned()),
            service: Some(service.to_owned()),
            version: Some(i64::from(version)),
            ..GossipEvent::empty(GossipEventType::ContractPublished, now_ms)
        }
    }

    /// What `broadcast_channel_updated` sends.
    pub fn channel_updated(
        service: &str,
        channel: &str,
        contract_id: &str,
        now_ms: i64,
    ) -> GossipEvent {
        GossipEvent {
            service: Some(service.to_owned()),
            channel: Some(channel.to_owned()),
            contract_id: Some(contract_id.to_owned()),
            ..GossipEvent::empty(GossipEventType::ChannelUpdated, now_ms)
        }
    }

    /// What `broadcast_endpoint_lease_upserted` sends (lease_seq in `version`).
    pub fn endpoint_lease_upserted(
        endpoint_id: &str,
        service: &str,
        lease_seq: i64,
        contract_id: &str,
        now_ms: i64,
    ) -> GossipEvent {
        GossipEvent {
            endpoint_id: Some(endpoint_id.to_owned()),
            service: Some(service.to_owned()),
            version: Some(lease_seq),
            contract_id: Some(contract_id.to_owned()),
            ..GossipEvent::empty(GossipEventType::EndpointLeaseUpserted, now_ms)
        }
    }

    /// What `broadcast_endpoint_down` sends.
    pub fn endpoint_down(endpoint_id: &str, service: &str, now_ms: i64) -> GossipEvent {
        GossipEvent {
            endpoint_id: Some(endpoint_id.to_owned()),
            service: Some(service.to_owned()),
            ..GossipEvent::empty(GossipEventType::EndpointDown, now_ms)
        }
    }

    /// What `broadcast_acl_changed` sends.
    pub fn acl_changed(key_prefix: &str, now_ms: i64) -> GossipEvent {
        GossipEvent {
            key_prefix: Some(key_prefix.to_owned()),
            ..GossipEvent::empty(GossipEventType::AclChanged, now_ms)
        }
    }

    /// What `broadcast_compatibility_published` sends (target in `endpoint_id`).
    pub fn compatibility_published(
        source_contract_id: &str,
        target_contract_id: &str,
        now_ms: i64,
    ) -> GossipEvent {
        GossipEvent {
            contract_id: Some(source_contract_id.to_owned()),
            endpoint_id: Some(target_contract_id.to_owned()),
            ..GossipEvent::empty(GossipEventType::CompatibilityPublished, now_ms)
        }
    }

    /// The bytes the reference broadcasts for this event.
    pub fn encode(&self) -> Vec<u8> {
        to_python_json(self)
    }

    /// Reads a received payload (bounded by [`MAX_GOSSIP_EVENT_LEN`]).
    pub fn decode(bytes: &[u8]) -> Result<GossipEvent, RecordError> {
        check_size("gossip event", bytes, MAX_GOSSIP_EVENT_LEN)?;
        let wire: WireGossipEvent = parse("gossip event", bytes)?;
        let kind = GossipEventType::from_i64(wire.kind)
            .ok_or(RecordError::UnknownEventType { found: wire.kind })?;
        Ok(GossipEvent {
            kind,
            service: wire.service,
            version: wire.version,
            channel: wire.channel,
            contract_id: wire.contract_id,
            endpoint_id: wire.endpoint_id,
            key_prefix: wire.key_prefix,
            timestamp_ms: wire.timestamp_ms,
        })
    }

    /// The doc prefix worth re-reading after this event: the only use R3
    /// allows. `None` when the event's fields do not form a valid key (the
    /// event is then ignored, which is safe: the next sync brings the truth).
    pub fn resync_prefix(&self) -> Option<String> {
        let service = |s: &Option<String>| -> Result<String, KeyError> {
            check_name("service name", s.as_deref().unwrap_or(""), MAX_NAME_LEN)
        };
        let prefix = match self.kind {
            GossipEventType::ContractPublished => {
                service(&self.service).map(|s| format!("services/{s}/"))
            }
            GossipEventType::ChannelUpdated => {
                service(&self.service).map(|s| format!("services/{s}/channels/"))
            }
            GossipEventType::EndpointLeaseUpserted => {
                let cid = self.contract_id.as_deref().unwrap_or("");
                service(&self.service).and_then(|s| lease_prefix(&s, cid))
            }
            GossipEventType::EndpointDown => {
                service(&self.service).map(|s| format!("services/{s}/contracts/"))
            }
            GossipEventType::AclChanged => Ok("_aster/acl/".to_owned()),
            GossipEventType::CompatibilityPublished => {
                check_contract_id(self.contract_id.as_deref().unwrap_or(""))
                    .map(|cid| format!("compatibility/{cid}/"))
            }
        };
        prefix.ok()
    }
}
