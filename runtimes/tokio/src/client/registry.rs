//! A client's view of its peer's registry: the document whose namespace
//! admission returned, the manifests in it and the verified bundles.

use std::str::FromStr;

use aster_proto::contract::manifest::Manifest;
use aster_proto::contract::{ContractBundle, ContractId};
use aster_proto::registry::{ArtifactRef, keys};
use iroh::protocol::Router;
use iroh_docs::NamespaceId;
use tokio::sync::OnceCell;
use tracing::debug;

use super::Client;
use crate::registry::{DEFAULT_SYNC_WAIT, RegistryDoc, RegistryError, RegistryNode, fetch_bundle};

/// Longest wait after joining for the advertised contracts' entries.
const ADVERTISED_WAIT: std::time::Duration = std::time::Duration::from_secs(5);
/// How often that wait looks.
const ADVERTISED_POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// The registry stack a client reads through, started on first use.
pub(super) struct ClientRegistry {
    given: Option<RegistryNode>,
    started: OnceCell<(RegistryNode, Option<Router>)>,
    doc: OnceCell<RegistryDoc>,
}

impl ClientRegistry {
    pub(super) fn new(given: Option<RegistryNode>) -> ClientRegistry {
        ClientRegistry {
            given,
            started: OnceCell::new(),
            doc: OnceCell::new(),
        }
    }

    pub(super) async fn close(&self) {
        if let Some((_, Some(router))) = self.started.get() {
            let _ = router.shutdown().await;
        }
    }
}

impl Client {
    /// The registry node this client reads through: the one it was given,
    /// else a new one on its own endpoint (with a router for the blobs,
    /// docs and gossip ALPNs, which docs sync needs in both directions).
    async fn registry_node(&self) -> Result<RegistryNode, RegistryError> {
        let reg = &self.inner.registry;
        if let Some(n) = &reg.given {
            return Ok(n.clone());
        }
        let (node, _) = reg
            .started
            .get_or_try_init(|| async {
                let node = RegistryNode::spawn(&self.inner.endpoint, None).await?;
                // A shared endpoint already has a router; only an own endpoint gets one.
                let router = self.inner.owns_endpoint.then(|| {
                    node.install(Router::builder(self.inner.endpoint.clone()))
                        .spawn()
                });
                Ok::<_, RegistryError>((node, router))
            })
            .await?;
        Ok(node.clone())
    }

    /// The peer's registry document, joined (read-only) on first use:
    /// the namespace from admission, synced from the peer.
    pub async fn registry(&self) -> Result<RegistryDoc, RegistryError> {
        let ns = self.registry_namespace();
        if ns.is_empty() {
            return Err(RegistryError::NoRegistry);
        }
        let namespace = NamespaceId::from_str(ns)
            .map_err(|e| RegistryError::Record(format!("registry_namespace: {e}")))?;
        let doc = self
            .inner
            .registry
            .doc
            .get_or_try_init(|| async {
                let node = self.registry_node().await?;
                let doc = RegistryDoc::join(
                    &node,
                    namespace,
                    vec![self.inner.peer.clone()],
                    DEFAULT_SYNC_WAIT,
                )
                .await?;
                self.await_advertised(&doc).await;
                Ok::<_, RegistryError>(doc)
            })
            .await?;
        Ok(doc.clone())
    }

    /// Waits (bounded) until the document holds a `contracts/<cid>` entry
    /// for every contract admission advertised. A first sync round can end
    /// before the producer's own round with the entries does (both sides
    /// sync at once and one yields); admission told us what must be there,
    /// so wait for exactly that, as the reference waits for `contracts/`.
    async fn await_advertised(&self, doc: &RegistryDoc) {
        let keys: Vec<String> = self
            .services()
            .iter()
            .filter_map(|s| keys::contract_key(&s.contract_id).ok())
            .collect();
        let until = tokio::time::Instant::now() + ADVERTISED_WAIT;
        loop {
            let mut missing = 0;
            for k in &keys {
                if !matches!(doc.latest(k).await, Ok(Some(_))) {
                    missing += 1;
                }
            }
            if missing == 0 {
                return;
            }
            if tokio::time::Instant::now() >= until {
                debug!(
                    missing,
                    "advertised contracts still missing from the registry; reading what is here"
                );
                return;
            }
            tokio::time::sleep(ADVERTISED_POLL).await;
        }
    }

    /// The contract id the peer advertised for `service`.
    fn advertised_contract(&self, service: &str) -> Result<ContractId, RegistryError> {
        let summary = self
            .services()
            .iter()
            .find(|s| s.name == service)
            .ok_or_else(|| RegistryError::NotFound(format!("service {service}")))?;
        ContractId::from_hex(&summary.contract_id).ok_or_else(|| {
            RegistryError::Record(format!(
                "{service}: contract id {:?} is not hex",
                summary.contract_id
            ))
        })
    }

    /// The manifest of `service` from the peer's registry: the
    /// `manifests/<cid>` shortcut when present and naming the advertised
    /// contract, else the verified bundle's.
    pub async fn manifest(&self, service: &str) -> Result<Manifest, RegistryError> {
        let cid = self.advertised_contract(service)?;
        let doc = self.registry().await?;
        let key = keys::manifest_key(&cid.to_hex()).map_err(RegistryError::key)?;
        if let Some(bytes) = doc.latest(&key).await? {
            match std::str::from_utf8(&bytes)
                .map_err(|e| e.to_string())
                .and_then(|t| Manifest::from_json(t).map_err(|e| e.to_string()))
            {
                Ok(m) if m.id() == Some(cid) => return Ok(m),
                Ok(_) => {
                    debug!(%service, "manifest shortcut names another contract; using the bundle")
                }
                Err(e) => {
                    debug!(%service, error = %e, "manifest shortcut unreadable; using the bundle")
                }
            }
        }
        let bundle = self.contract_bundle(service).await?;
        match bundle.manifest() {
            Some(m) => m.map_err(|e| RegistryError::Record(e.to_string())),
            None => Err(RegistryError::NotFound(format!("manifest of {service}"))),
        }
    }

    /// The contract bundle of `service`, fetched from the peer and accepted
    /// only if `contract.bin` hashes to the contract id admission
    /// advertised (and every type file to its name).
    pub async fn contract_bundle(&self, service: &str) -> Result<ContractBundle, RegistryError> {
        let cid = self.advertised_contract(service)?;
        let doc = self.registry().await?;
        let key = keys::contract_key(&cid.to_hex()).map_err(RegistryError::key)?;
        let bytes = doc
            .latest(&key)
            .await?
            .ok_or_else(|| RegistryError::NotFound(format!("contracts/{cid}")))?;
        let artifact =
            ArtifactRef::decode(&bytes).map_err(|e| RegistryError::Record(e.to_string()))?;
        let mut providers = vec![self.inner.peer.id];
        if let Some(p) = artifact
            .provider_endpoint_id
            .as_deref()
            .and_then(|p| p.parse().ok())
        {
            if !providers.contains(&p) {
                providers.push(p);
            }
        }
        fetch_bundle(&self.registry_node().await?, &cid, &artifact, providers).await
    }
}
