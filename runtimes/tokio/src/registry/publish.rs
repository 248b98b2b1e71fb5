//! Contract publication (producer side) and bundle fetching (consumer side).
//!
//! A producer stores each service's [`ContractBundle`] as an iroh-blobs
//! collection, protects it with a persistent tag, and writes three keys into
//! a registry document (trust-registry.md §2.1): `contracts/<cid>` (an
//! [`ArtifactRef`] pointing at the collection), `manifests/<cid>` (the
//! manifest text, so readers need no blob round trip) and
//! `services/<name>/versions/v<n>` (the contract id).

use std::path::Path;

use aster_proto::contract::{BundleError, ContractBundle, ContractId};
use aster_proto::registry::{ArtifactRef, CollectionFormat, keys};
use iroh::{EndpointAddr, EndpointId};
use iroh_blobs::format::collection::Collection;
use iroh_blobs::ticket::BlobTicket;
use iroh_blobs::{BlobFormat, Hash, HashAndFormat};
use iroh_docs::{AuthorId, NamespaceId};
use tracing::{debug, info};

use super::{RegistryDoc, RegistryError, RegistryNode};

/// File in the storage directory naming the producer's own registry doc,
/// so its namespace survives restarts.
const NAMESPACE_FILE: &str = "registry-namespace";
/// Persistent tag protecting a bundle from garbage collection (the
/// reference's name: `aster-collection/` + the first 16 hex digits).
const TAG_PREFIX: &str = "aster-collection/";

/// Longest a bundle download may take.
const BUNDLE_FETCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// One service to publish.
#[derive(Debug, Clone)]
pub struct Publication {
    pub service: String,
    pub version: i32,
    pub bundle: ContractBundle,
}

/// Stores `bundle` as a collection and tags it; returns the collection hash.
pub async fn store_bundle(
    node: &RegistryNode,
    bundle: &ContractBundle,
) -> Result<Hash, RegistryError> {
    let store = node.blobs();
    let mut collection = Collection::default();
    // Temp tags keep the parts alive until the collection's tag covers them.
    let mut parts = Vec::new();
    for (name, bytes) in bundle.entries() {
        let tt = store
            .add_bytes(bytes.to_vec())
            .temp_tag()
            .await
            .map_err(RegistryError::blobs)?;
        collection.push(name, tt.hash());
        parts.push(tt);
    }
    let root = collection
        .store(store)
        .await
        .map_err(RegistryError::blobs)?;
    let hash = root.hash();
    let tag = format!("{TAG_PREFIX}{}", &hash.to_hex()[..16]);
    store
        .tags()
        .set(tag, HashAndFormat::hash_seq(hash))
        .await
        .map_err(RegistryError::blobs)?;
    drop(parts);
    Ok(hash)
}

/// Writes a service's three registry keys into `doc`, unless the same
/// collection is already published there by `author` (restarts with
/// persistent storage do not rewrite unchanged contracts).
pub async fn publish(
    doc: &RegistryDoc,
    author: AuthorId,
    publication: &Publication,
    collection: Hash,
    provider: &EndpointAddr,
    now_ms: i64,
) -> Result<(), RegistryError> {
    let cid = publication.bundle.contract_id.to_hex();
    let contract_key = keys::contract_key(&cid).map_err(RegistryError::key)?;
    let up_to_date = match doc.get_by(author, &contract_key).await? {
        Some(v) => ArtifactRef::decode(&v).is_ok_and(|r| r.collection_hash == collection.to_hex()),
        None => false,
    };
    if !up_to_date {
        let ticket = BlobTicket::new(provider.clone(), collection, BlobFormat::HashSeq);
        let artifact = ArtifactRef {
            contract_id: cid.clone(),
            collection_hash: collection.to_hex(),
            provider_endpoint_id: Some(provider.id.to_string()),
            relay_url: provider.relay_urls().next().map(|u| u.to_string()),
            ticket: Some(ticket.to_string()),
            published_by: author.to_string(),
            published_at_epoch_ms: now_ms,
            collection_format: CollectionFormat::Index,
        };
        doc.set(author, &contract_key, artifact.encode()).await?;
        if !publication.bundle.manifest.is_empty() {
            let key = keys::manifest_key(&cid).map_err(RegistryError::key)?;
            doc.set(
                author,
                &key,
                publication.bundle.manifest.clone().into_bytes(),
            )
            .await?;
        }
    }
    let version_key =
        keys::version_key(&publication.service, publication.version).map_err(RegistryError::key)?;
    if doc.get_by(author, &version_key).await?.as_deref() != Some(cid.as_bytes()) {
        doc.set(author, &version_key, cid.clone().into_bytes())
            .await?;
    }
    debug!(service = %publication.service, contract_id = %cid, collection = %collection, "contract published");
    Ok(())
}

/// The producer's own registry document: the one its storage names, or a
/// new one (remembered in storage, if any).
pub async fn own_doc(node: &RegistryNode) -> Result<RegistryDoc, RegistryError> {
    let Some(dir) = node.storage() else {
        return RegistryDoc::create(node).await;
    };
    let file = dir.join(NAMESPACE_FILE);
    if let Some(namespace) = read_namespace(&file)? {
        if let Some(doc) = RegistryDoc::open(node, namespace).await? {
            info!(%namespace, "registry document reopened");
            return Ok(doc);
        }
    }
    let doc = RegistryDoc::create(node).await?;
    write_atomically(&file, doc.namespace().to_string().as_bytes())?;
    Ok(doc)
}

fn read_namespace(file: &Path) -> Result<Option<NamespaceId>, RegistryError> {
    match std::fs::read_to_string(file) {
        Ok(text) => text
            .trim()
            .parse::<NamespaceId>()
            .map(Some)
            .map_err(|e| RegistryError::Storage(format!("{}: {e}", file.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(RegistryError::Storage(format!("{}: {e}", file.display()))),
    }
}

/// Write-then-rename, so a crash leaves the old file or the new one.
fn write_atomically(file: &Path, data: &[u8]) -> Result<(), RegistryError> {
    let tmp = file.with_extension("tmp");
    let fail = |e: std::io::Error| RegistryError::Storage(format!("{}: {e}", file.display()));
    std::fs::write(&tmp, data).map_err(fail)?;
    std::fs::rename(&tmp, file).map_err(fail)
}

/// Fetches the bundle of contract `cid` that `artifact` points at, from
/// `providers`, and accepts it only if it is that contract
/// ([`ContractBundle::from_entries`]).
pub async fn fetch_bundle(
    node: &RegistryNode,
    cid: &ContractId,
    artifact: &ArtifactRef,
    providers: Vec<EndpointId>,
) -> Result<ContractBundle, RegistryError> {
    artifact
        .validate()
        .map_err(|e| RegistryError::Record(e.to_string()))?;
    if artifact.contract_id != cid.to_hex() {
        return Err(RegistryError::Bundle(BundleError::ContractMismatch {
            expected: *cid,
            actual: ContractId::from_hex(&artifact.contract_id).unwrap_or(ContractId([0; 32])),
        }));
    }
    let root: Hash = artifact
        .collection_hash
        .parse()
        .map_err(|e| RegistryError::Record(format!("collection_hash: {e}")))?;
    let store = node.blobs();
    let format = match artifact.collection_format {
        CollectionFormat::Index => HashAndFormat::hash_seq(root),
        CollectionFormat::Raw => HashAndFormat::raw(root),
    };
    // Bounded in time: the size caps below apply once the blobs are here,
    // so a provider cannot keep us downloading for ever (spec §8.4).
    tokio::time::timeout(
        BUNDLE_FETCH_TIMEOUT,
        store
            .downloader(node.endpoint())
            .download(format, providers),
    )
    .await
    .map_err(|_| {
        RegistryError::Blobs(format!(
            "bundle download took longer than {BUNDLE_FETCH_TIMEOUT:?}"
        ))
    })?
    .map_err(RegistryError::blobs)?;
    let entries: Vec<(String, Vec<u8>)> = match artifact.collection_format {
        CollectionFormat::Raw => {
            let bytes = store.get_bytes(root).await.map_err(RegistryError::blobs)?;
            vec![(
                aster_proto::contract::bundle::CONTRACT_ENTRY.to_owned(),
                bytes.to_vec(),
            )]
        }
        CollectionFormat::Index => {
            let collection = Collection::load(root, store)
                .await
                .map_err(RegistryError::blobs)?;
            if collection.len() > aster_proto::contract::bundle::MAX_BUNDLE_ENTRIES {
                return Err(RegistryError::Bundle(BundleError::TooManyEntries));
            }
            let mut out = Vec::with_capacity(collection.len());
            for (name, hash) in collection.iter() {
                let bytes = store.get_bytes(*hash).await.map_err(RegistryError::blobs)?;
                out.push((name.clone(), bytes.to_vec()));
            }
            out
        }
    };
    ContractBundle::from_entries(cid, entries).map_err(RegistryError::Bundle)
}
