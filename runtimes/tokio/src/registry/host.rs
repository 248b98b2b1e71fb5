//! A node that holds a shared registry document and nothing else: what
//! `aster registry create` runs. Producers join it with its write ticket,
//! consumers with its read ticket; once they have synced, the document
//! lives on in every replica, so the host is a meeting point, not a
//! single point of failure for data already replicated.

use std::path::Path;
use std::time::Duration;

use iroh::address_lookup::MemoryLookup;
use iroh::protocol::Router;
use iroh::{Endpoint, SecretKey};

use super::{RegistryDoc, RegistryError, RegistryNode, own_doc, set_lease_config};
use crate::net::{EndpointOptions, NetworkMode, bind_endpoint};

/// A running registry host.
pub struct RegistryHost {
    node: RegistryNode,
    doc: RegistryDoc,
    router: Router,
    repair: tokio::task::JoinHandle<()>,
}

/// How often the host looks for values it holds entries for but not content.
const REPAIR_INTERVAL: Duration = Duration::from_millis(500);

/// The host is where members meet, so it must hold every value, not just
/// every entry: an entry can reach it through a member that cannot serve
/// the content (a closed producer refuses other producers). Reading the
/// document fetches what is missing from every member seen.
async fn repair(doc: RegistryDoc) {
    loop {
        tokio::time::sleep(REPAIR_INTERVAL).await;
        if let Err(e) = doc.entries("").await {
            tracing::debug!(error = %e, "registry host repair pass failed");
        }
    }
}

impl Drop for RegistryHost {
    fn drop(&mut self) {
        self.repair.abort();
    }
}

impl std::fmt::Debug for RegistryHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryHost")
            .field("namespace", &self.doc.namespace())
            .finish()
    }
}

impl RegistryHost {
    /// Binds an endpoint and creates (or, with `storage`, reopens) the
    /// shared document.
    pub async fn bind(
        network: NetworkMode,
        secret_key: Option<SecretKey>,
        storage: Option<&Path>,
    ) -> Result<RegistryHost, RegistryError> {
        let lookup = MemoryLookup::new();
        let options = EndpointOptions {
            secret_key,
            network,
            ..EndpointOptions::default()
        };
        let endpoint: Endpoint = bind_endpoint(&options, &lookup)
            .await
            .map_err(|e| RegistryError::Storage(e.to_string()))?;
        let node = RegistryNode::spawn(&endpoint, storage).await?;
        let router = node.install(Router::builder(endpoint)).spawn();
        let doc = own_doc(&node).await?;
        let repair = tokio::spawn(repair(doc.clone()));
        Ok(RegistryHost {
            node,
            doc,
            router,
            repair,
        })
    }

    /// Sets the lease timing every member reads (`_aster/config/lease_*`).
    pub async fn set_lease_timing(
        &self,
        lease_duration: Duration,
        refresh_interval: Duration,
    ) -> Result<(), RegistryError> {
        set_lease_config(
            &self.doc,
            self.node.author().await?,
            lease_duration,
            refresh_interval,
        )
        .await
    }

    /// The ticket producers join with (write access).
    pub async fn write_ticket(&self) -> Result<String, RegistryError> {
        self.doc.ticket(true).await
    }

    /// The ticket consumers join with (read only).
    pub async fn read_ticket(&self) -> Result<String, RegistryError> {
        self.doc.ticket(false).await
    }

    pub fn doc(&self) -> &RegistryDoc {
        &self.doc
    }

    pub fn node(&self) -> &RegistryNode {
        &self.node
    }

    pub async fn shutdown(self) {
        self.repair.abort();
        let _ = self.router.shutdown().await;
    }
}
