//! The decentralised registry, on iroh-blobs, iroh-docs and iroh-gossip.
//!
//! Three uses, one set of records (trust-registry.md §2, `spec/registry.md`):
//!
//! * **Contract publication.** Every server stores each service's contract
//!   bundle in iroh-blobs and writes `contracts/`, `manifests/` and
//!   `services/<name>/versions/` keys into its own registry document, whose
//!   namespace consumer admission hands out as `registry_namespace`. A
//!   consumer joins that document ([`crate::Client::registry`]), reads the
//!   manifest, fetches the bundle and verifies it against the contract id
//!   ([`crate::Client::contract_bundle`]). This is what lets a client without
//!   the service's Rust types speak XLANG to it, and what the reference's
//!   tools (`gen-client`, `shell`) read.
//! * **Shared registries.** Many producers write into one document
//!   ([`crate::ServerBuilder::shared_registry`]): their contracts and an
//!   [`EndpointLease`](aster_proto::registry::EndpointLease) per service,
//!   refreshed on a timer and withdrawn on drain ([`leases`]).
//! * **Resolution and failover.** A consumer that knows a shared registry
//!   resolves a service name to live producers and spreads calls over them
//!   ([`Balancer`]), failing over when one stops.
//!
//! The record formats, the lease state machine and the resolve rules are
//! pure code in `aster_proto::registry`; this module only moves bytes.

mod balance;
mod doc;
mod host;
pub mod leases;
mod node;
mod publish;

pub use balance::{Balancer, BalancerBuilder};
pub use doc::{MAX_ENTRIES_PER_READ, MAX_ENTRY_VALUE_LEN, RegistryDoc};
pub use host::RegistryHost;
pub use node::RegistryNode;
pub use publish::{Publication, fetch_bundle, own_doc, publish, store_bundle};

use std::time::Duration;

use aster_proto::contract::BundleError;
use aster_proto::registry::keys::{self, CONFIG_LEASE_DURATION_S, CONFIG_LEASE_REFRESH_INTERVAL_S};

/// How long a consumer waits for a registry document's first sync.
pub const DEFAULT_SYNC_WAIT: Duration = Duration::from_secs(10);

/// A registry failure. Registry problems never stop a server from serving:
/// publication errors are logged, and a consumer that cannot read a registry
/// still calls services it has types for.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("registry storage: {0}")]
    Storage(String),
    #[error("registry document: {0}")]
    Docs(String),
    #[error("blob store: {0}")]
    Blobs(String),
    #[error("registry sync: {0}")]
    Sync(String),
    #[error("registry ticket: {0}")]
    Ticket(String),
    #[error("registry key: {0}")]
    Key(String),
    #[error("registry record: {0}")]
    Record(String),
    #[error("contract bundle: {0}")]
    Bundle(#[from] BundleError),
    #[error("the peer publishes no registry (empty registry_namespace)")]
    NoRegistry,
    #[error(transparent)]
    Resolve(#[from] aster_proto::registry::ResolveError),
    #[error("{0} not found in the registry")]
    NotFound(String),
}

impl RegistryError {
    pub(crate) fn docs(e: impl std::fmt::Display) -> RegistryError {
        RegistryError::Docs(format!("{e:#}"))
    }

    pub(crate) fn blobs(e: impl std::fmt::Display) -> RegistryError {
        RegistryError::Blobs(format!("{e:#}"))
    }

    pub(crate) fn key(e: impl std::fmt::Display) -> RegistryError {
        RegistryError::Key(e.to_string())
    }
}

/// Lease timing a shared registry asks of its producers and readers, from
/// its `_aster/config/lease_duration_s` and `lease_refresh_interval_s`
/// keys (§2.2); the defaults (45 s, 15 s) where a key is missing or bad.
pub async fn lease_config(
    doc: &RegistryDoc,
) -> Result<aster_proto::registry::LeaseTiming, RegistryError> {
    let mut timing = aster_proto::registry::LeaseTiming::default();
    let read = |bytes: Option<Vec<u8>>| -> Option<i64> {
        let text = String::from_utf8(bytes?).ok()?;
        let secs: f64 = text.trim().parse().ok()?;
        (secs.is_finite() && secs > 0.0 && secs <= 86_400.0).then_some((secs * 1000.0) as i64)
    };
    if let Some(ms) = read(doc.config(CONFIG_LEASE_DURATION_S).await?) {
        timing.lease_duration_ms = ms;
    }
    if let Some(ms) = read(doc.config(CONFIG_LEASE_REFRESH_INTERVAL_S).await?) {
        timing.refresh_interval_ms = ms;
    }
    if timing.refresh_interval_ms >= timing.lease_duration_ms {
        // A refresh slower than the lease would let every lease lapse.
        timing.refresh_interval_ms = timing.lease_duration_ms / 3;
    }
    Ok(timing)
}

/// Writes a shared registry's lease timing (seconds), for producers and
/// readers to pick up.
pub async fn set_lease_config(
    doc: &RegistryDoc,
    author: iroh_docs::AuthorId,
    lease_duration: Duration,
    refresh_interval: Duration,
) -> Result<(), RegistryError> {
    let duration_key = keys::config_key(CONFIG_LEASE_DURATION_S).map_err(RegistryError::key)?;
    let refresh_key =
        keys::config_key(CONFIG_LEASE_REFRESH_INTERVAL_S).map_err(RegistryError::key)?;
    doc.set(
        author,
        &duration_key,
        format!("{}", lease_duration.as_secs_f64()).into_bytes(),
    )
    .await?;
    doc.set(
        author,
        &refresh_key,
        format!("{}", refresh_interval.as_secs_f64()).into_bytes(),
    )
    .await
}
