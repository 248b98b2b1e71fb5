//! The blobs + docs + gossip stack on one iroh endpoint.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use iroh::Endpoint;
use iroh::protocol::RouterBuilder;
use iroh_blobs::BlobsProtocol;
use iroh_blobs::api::Store as BlobStore;
use iroh_blobs::store::fs::FsStore;
use iroh_blobs::store::mem::MemStore;
use iroh_docs::AuthorId;
use iroh_docs::protocol::Docs;
use iroh_gossip::net::Gossip;

use super::RegistryError;

/// The registry's storage on one endpoint: an iroh-blobs store (contract
/// bundles), iroh-docs (registry documents) and iroh-gossip (docs' live
/// sync and registry change hints). In memory unless built with a storage
/// directory, in which case documents, blobs and the default author survive
/// restarts.
///
/// A server makes one for itself; a client makes one on its own endpoint
/// the first time it reads a registry. Cheap to clone.
#[derive(Clone)]
pub struct RegistryNode {
    inner: Arc<NodeInner>,
}

struct NodeInner {
    endpoint: Endpoint,
    store: BlobStore,
    gossip: Gossip,
    docs: Docs,
    storage: Option<PathBuf>,
}

impl std::fmt::Debug for RegistryNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryNode")
            .field("endpoint", &self.inner.endpoint.id())
            .field("storage", &self.inner.storage)
            .finish()
    }
}

impl RegistryNode {
    /// Starts the stack on `endpoint`. The caller must also route the three
    /// ALPNs to it ([`RegistryNode::install`]) on the endpoint's router.
    pub async fn spawn(
        endpoint: &Endpoint,
        storage: Option<&Path>,
    ) -> Result<RegistryNode, RegistryError> {
        let store: BlobStore = match storage {
            Some(dir) => {
                let blobs = dir.join("blobs");
                std::fs::create_dir_all(&blobs)
                    .map_err(|e| RegistryError::Storage(format!("{}: {e}", blobs.display())))?;
                FsStore::load(&blobs)
                    .await
                    .map_err(|e| RegistryError::Storage(format!("blob store: {e:#}")))?
                    .into()
            }
            None => MemStore::new().into(),
        };
        let gossip = Gossip::builder().spawn(endpoint.clone());
        let docs = match storage {
            Some(dir) => {
                let docs = dir.join("docs");
                std::fs::create_dir_all(&docs)
                    .map_err(|e| RegistryError::Storage(format!("{}: {e}", docs.display())))?;
                Docs::persistent(docs)
            }
            None => Docs::memory(),
        }
        .spawn(endpoint.clone(), store.clone(), gossip.clone())
        .await
        .map_err(|e| RegistryError::Storage(format!("docs engine: {e:#}")))?;
        Ok(RegistryNode {
            inner: Arc::new(NodeInner {
                endpoint: endpoint.clone(),
                store,
                gossip,
                docs,
                storage: storage.map(Path::to_path_buf),
            }),
        })
    }

    /// Routes the blobs, gossip and docs ALPNs to this node.
    pub fn install(&self, router: RouterBuilder) -> RouterBuilder {
        router
            .accept(
                iroh_blobs::ALPN,
                BlobsProtocol::new(&self.inner.store, None),
            )
            .accept(iroh_gossip::ALPN, self.inner.gossip.clone())
            .accept(iroh_docs::ALPN, self.inner.docs.clone())
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.inner.endpoint
    }

    /// The blob store (contract bundles).
    pub fn blobs(&self) -> &BlobStore {
        &self.inner.store
    }

    pub fn docs(&self) -> &Docs {
        &self.inner.docs
    }

    pub fn gossip(&self) -> &Gossip {
        &self.inner.gossip
    }

    /// The storage directory, if persistent.
    pub fn storage(&self) -> Option<&Path> {
        self.inner.storage.as_deref()
    }

    /// This node's default author (persistent with storage).
    pub async fn author(&self) -> Result<AuthorId, RegistryError> {
        self.inner
            .docs
            .author_default()
            .await
            .map_err(RegistryError::docs)
    }
}
