//! One registry document: an iroh-docs replica read and written as the
//! registry's key/value layout (trust-registry.md §2.2).

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use aster_proto::registry::{DOWNLOAD_PREFIXES, DocEntry};
use bytes::Bytes;
use iroh::EndpointAddr;
use iroh_docs::api::Doc;
use iroh_docs::api::protocol::{AddrInfoOptions, ShareMode};
use iroh_docs::engine::LiveEvent;
use iroh_docs::store::{DownloadPolicy, FilterKind, Query};
use iroh_docs::{AuthorId, Capability, DocTicket, NamespaceId};
use n0_future::StreamExt;
use tracing::debug;

use super::{RegistryError, RegistryNode};

/// Largest value read from a registry entry: 1 MiB. Manifests are the
/// biggest values (a few KiB); anything larger is skipped, not buffered.
pub const MAX_ENTRY_VALUE_LEN: u64 = 1024 * 1024;
/// Most entries one read returns.
pub const MAX_ENTRIES_PER_READ: usize = 100_000;
/// Most peers remembered as content sources.
const MAX_CONTENT_SOURCES: usize = 64;
/// Most missing values one read fetches itself.
const MAX_FETCHES_PER_READ: usize = 256;
/// How long one read waits for those fetches.
const CONTENT_FETCH_WAIT: Duration = Duration::from_secs(2);
/// Longest wait, after a sync, for content still on its way.
const CONTENT_WAIT: Duration = Duration::from_secs(3);
/// How often that wait looks.
const CONTENT_POLL: Duration = Duration::from_millis(50);
/// Ambiguous rounds (close raced) retried before one is taken as done.
const MAX_CLOSE_RACES: u32 = 3;
/// Pause before asking again after a failed sync round.
const SYNC_RETRY_DELAY: Duration = Duration::from_millis(200);
/// How iroh-docs 0.101 spells a failure of only the connection close at
/// the end of a sync round (`ConnectError::Close`).
const CLOSE_ERROR_PREFIX: &str = "Failed to close connection";

/// A registry document on a [`RegistryNode`]: the producer's own (written
/// by it, read by its consumers) or a shared one many producers write.
#[derive(Clone)]
pub struct RegistryDoc {
    node: RegistryNode,
    doc: Doc,
    /// Peers asked directly for content the docs engine could not fetch:
    /// the ones this replica was joined from, and every peer it has synced
    /// or neighboured with since. (The engine asks only the peer that
    /// delivered an entry; with closed producers that is often a peer that
    /// does not have the content either.)
    sources: Arc<std::sync::Mutex<Vec<iroh::EndpointId>>>,
}

impl std::fmt::Debug for RegistryDoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryDoc")
            .field("namespace", &self.doc.id())
            .finish()
    }
}

impl RegistryDoc {
    /// A new document; this node holds its write capability.
    pub async fn create(node: &RegistryNode) -> Result<RegistryDoc, RegistryError> {
        let doc = node.docs().create().await.map_err(RegistryError::docs)?;
        let this = RegistryDoc {
            node: node.clone(),
            doc,
            sources: Default::default(),
        };
        this.track_peers().await?;
        this.serve().await?;
        Ok(this)
    }

    /// Opens a document this node already has (from its storage).
    pub async fn open(
        node: &RegistryNode,
        namespace: NamespaceId,
    ) -> Result<Option<RegistryDoc>, RegistryError> {
        let Some(doc) = node
            .docs()
            .open(namespace)
            .await
            .map_err(RegistryError::docs)?
        else {
            return Ok(None);
        };
        let this = RegistryDoc {
            node: node.clone(),
            doc,
            sources: Default::default(),
        };
        this.track_peers().await?;
        this.serve().await?;
        Ok(Some(this))
    }

    /// Joins the document `namespace` read-only, syncing from `peers`, and
    /// waits (up to `wait`) until a first sync succeeded and its content has
    /// arrived. This is how a consumer reads a producer's registry: the
    /// namespace comes from consumer admission, the peer is the producer.
    pub async fn join(
        node: &RegistryNode,
        namespace: NamespaceId,
        peers: Vec<EndpointAddr>,
        wait: Duration,
    ) -> Result<RegistryDoc, RegistryError> {
        let doc = node
            .docs()
            .import_namespace(Capability::Read(namespace))
            .await
            .map_err(RegistryError::docs)?;
        let sources = Arc::new(std::sync::Mutex::new(peers.iter().map(|p| p.id).collect()));
        let this = RegistryDoc {
            node: node.clone(),
            doc,
            sources,
        };
        this.track_peers().await?;
        this.sync_with(peers, wait).await?;
        Ok(this)
    }

    /// Joins the document a ticket names (read or write, as the ticket
    /// grants), syncing with the ticket's peers; waits like [`RegistryDoc::join`].
    pub async fn join_ticket(
        node: &RegistryNode,
        ticket: &str,
        wait: Duration,
    ) -> Result<RegistryDoc, RegistryError> {
        let ticket =
            DocTicket::from_str(ticket.trim()).map_err(|e| RegistryError::Ticket(e.to_string()))?;
        let peers = ticket.nodes.clone();
        let doc = node
            .docs()
            .import_namespace(ticket.capability)
            .await
            .map_err(RegistryError::docs)?;
        let sources = Arc::new(std::sync::Mutex::new(peers.iter().map(|p| p.id).collect()));
        let this = RegistryDoc {
            node: node.clone(),
            doc,
            sources,
        };
        this.track_peers().await?;
        if peers.is_empty() {
            this.serve().await?;
        } else {
            this.sync_with(peers, wait).await?;
        }
        Ok(this)
    }

    /// Remembers every peer this replica syncs or neighbours with, as a
    /// content source (bounded; the task ends with the document's events).
    async fn track_peers(&self) -> Result<(), RegistryError> {
        let mut events = self.doc.subscribe().await.map_err(RegistryError::docs)?;
        let sources = Arc::downgrade(&self.sources);
        tokio::spawn(async move {
            while let Some(event) = events.next().await {
                let peer = match event {
                    Ok(LiveEvent::NeighborUp(p)) => p,
                    Ok(LiveEvent::SyncFinished(s)) => s.peer,
                    Ok(_) => continue,
                    Err(_) => return,
                };
                let Some(sources) = sources.upgrade() else {
                    return;
                };
                if let Ok(mut s) = sources.lock() {
                    if !s.contains(&peer) && s.len() < MAX_CONTENT_SOURCES {
                        s.push(peer);
                    }
                }
            }
        });
        Ok(())
    }

    /// Keeps the document live (accepting sync) without dialing anyone.
    async fn serve(&self) -> Result<(), RegistryError> {
        self.doc
            .start_sync(Vec::new())
            .await
            .map_err(RegistryError::docs)
    }

    /// Syncs with `peers` and waits for the first successful round.
    ///
    /// The first `SyncFinished` can be an error even when all is well: both
    /// sides start a sync at once and one refuses the other's as already
    /// syncing. So wait for an *Ok* one, then for the content downloads it
    /// triggered (`PendingContentReady`).
    async fn sync_with(
        &self,
        peers: Vec<EndpointAddr>,
        wait: Duration,
    ) -> Result<(), RegistryError> {
        let policy = DownloadPolicy::NothingExcept(
            DOWNLOAD_PREFIXES
                .iter()
                .map(|p| FilterKind::Prefix(Bytes::from_static(p.as_bytes())))
                .collect(),
        );
        self.doc
            .set_download_policy(policy)
            .await
            .map_err(RegistryError::docs)?;
        let mut events = self.doc.subscribe().await.map_err(RegistryError::docs)?;
        self.doc
            .start_sync(peers.clone())
            .await
            .map_err(RegistryError::docs)?;
        let namespace = self.doc.id();
        let outcome = tokio::time::timeout(wait, async {
            let mut synced = false;
            let mut close_races = 0;
            let mut last_error = None;
            // After a failed round nothing may follow (the other side's
            // round can find nothing to report): ask again, a bit later.
            let mut retry_at: Option<tokio::time::Instant> = None;
            loop {
                let retry = async {
                    match retry_at {
                        Some(at) => tokio::time::sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    event = events.next() => match event {
                        Some(Ok(LiveEvent::SyncFinished(s))) => match s.result {
                            Ok(details) => {
                                debug!(%namespace, received = details.entries_received, "registry sync finished");
                                if details.entries_received == 0 {
                                    return Ok(());
                                }
                                synced = true;
                                retry_at = None;
                            }
                            // iroh-docs reports a round as failed when only its
                            // closing handshake did. That is ambiguous: the exchange
                            // may have completed, or the peer may have refused it
                            // because its own round towards us is still running (and
                            // carries the entries). Ask again a few times; a round
                            // that runs alone answers cleanly. If the close keeps
                            // racing (it does for some empty documents), take it.
                            Err(e) if e.starts_with(CLOSE_ERROR_PREFIX) => {
                                close_races += 1;
                                if close_races >= MAX_CLOSE_RACES {
                                    debug!(%namespace, "registry sync done (close raced)");
                                    synced = true;
                                } else {
                                    retry_at = Some(tokio::time::Instant::now() + SYNC_RETRY_DELAY);
                                }
                            }
                            Err(e) => {
                                debug!(%namespace, error = %e, "registry sync round failed; retrying");
                                last_error = Some(e);
                                retry_at = Some(tokio::time::Instant::now() + SYNC_RETRY_DELAY);
                            }
                        },
                        Some(Ok(LiveEvent::PendingContentReady)) if synced => return Ok(()),
                        Some(Ok(_)) => {}
                        Some(Err(e)) => return Err(RegistryError::docs(e)),
                        None => {
                            return Err(RegistryError::Sync(last_error.unwrap_or_else(|| "event stream ended".into())));
                        }
                    },
                    _ = retry => {
                        retry_at = None;
                        self.doc.start_sync(peers.clone()).await.map_err(RegistryError::docs)?;
                    }
                }
            }
        })
        .await;
        match outcome {
            Ok(Ok(())) => {
                self.await_content(CONTENT_WAIT).await;
                Ok(())
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(RegistryError::Sync(format!(
                "no successful sync of {namespace} within {wait:?}"
            ))),
        }
    }

    /// Waits (up to `limit`) until every synced entry under the registry's
    /// prefixes has its content here. A sync round ends when its own
    /// downloads do; content a peer had not yet fetched itself (a third
    /// node's entries) arrives a little later, and a reader that looked
    /// right away would see keys without values.
    async fn await_content(&self, limit: Duration) {
        let until = tokio::time::Instant::now() + limit;
        loop {
            match self.missing_content().await {
                Ok(0) => return,
                Ok(n) if tokio::time::Instant::now() >= until => {
                    debug!(namespace = %self.doc.id(), missing = n, "registry content still missing; reading what is here");
                    return;
                }
                Ok(_) => tokio::time::sleep(CONTENT_POLL).await,
                Err(e) => {
                    debug!(error = %e, "cannot check registry content");
                    return;
                }
            }
        }
    }

    /// Entries under the download prefixes whose content is not here yet.
    async fn missing_content(&self) -> Result<usize, RegistryError> {
        let stream = self
            .doc
            .get_many(Query::all())
            .await
            .map_err(RegistryError::docs)?;
        tokio::pin!(stream);
        let mut missing = 0;
        while let Some(entry) = stream.next().await {
            let entry = entry.map_err(RegistryError::docs)?;
            let wanted = DOWNLOAD_PREFIXES
                .iter()
                .any(|p| entry.key().starts_with(p.as_bytes()));
            if wanted
                && entry.content_len() > 0
                && entry.content_len() <= MAX_ENTRY_VALUE_LEN
                && !self
                    .node
                    .blobs()
                    .has(entry.content_hash())
                    .await
                    .map_err(RegistryError::blobs)?
            {
                missing += 1;
            }
        }
        Ok(missing)
    }

    /// The namespace id (what consumer admission returns as `registry_namespace`).
    pub fn namespace(&self) -> NamespaceId {
        self.doc.id()
    }

    /// A ticket for this document: read-only or, if this node can write,
    /// with the write capability. It carries this node's addresses.
    pub async fn ticket(&self, write: bool) -> Result<String, RegistryError> {
        let mode = if write {
            ShareMode::Write
        } else {
            ShareMode::Read
        };
        let t = self
            .doc
            .share(mode, AddrInfoOptions::RelayAndAddresses)
            .await
            .map_err(RegistryError::docs)?;
        Ok(t.to_string())
    }

    pub fn node(&self) -> &RegistryNode {
        &self.node
    }

    /// Writes `value` under `key` as `author`.
    pub async fn set(
        &self,
        author: AuthorId,
        key: &str,
        value: impl Into<Bytes>,
    ) -> Result<(), RegistryError> {
        self.doc
            .set_bytes(author, key.as_bytes().to_vec(), value.into())
            .await
            .map_err(RegistryError::docs)?;
        Ok(())
    }

    /// The value `author` holds under `key`, if its content is here.
    pub async fn get_by(
        &self,
        author: AuthorId,
        key: &str,
    ) -> Result<Option<Vec<u8>>, RegistryError> {
        let entry = self
            .doc
            .get_exact(author, key.as_bytes().to_vec(), false)
            .await
            .map_err(RegistryError::docs)?;
        match entry {
            Some(e) => self.content(e.content_hash(), e.content_len()).await,
            None => Ok(None),
        }
    }

    /// Every entry (each author's latest value per key) under `prefix`
    /// whose content is available, as the pure resolver reads them. Entries
    /// too large or not yet downloaded are skipped.
    pub async fn entries(&self, prefix: &str) -> Result<Vec<DocEntry>, RegistryError> {
        let stream = self
            .doc
            .get_many(Query::key_prefix(prefix.as_bytes()))
            .await
            .map_err(RegistryError::docs)?;
        tokio::pin!(stream);
        let mut rows = Vec::new();
        while let Some(entry) = stream.next().await {
            rows.push(entry.map_err(RegistryError::docs)?);
            if rows.len() >= MAX_ENTRIES_PER_READ {
                break;
            }
        }
        self.fetch_missing(&rows).await;
        let mut out = Vec::with_capacity(rows.len());
        for entry in rows {
            let Some(value) = self
                .content(entry.content_hash(), entry.content_len())
                .await?
            else {
                continue;
            };
            out.push(DocEntry {
                key: entry.key().to_vec(),
                author: entry.author().to_string(),
                timestamp: entry.timestamp(),
                value,
            });
        }
        Ok(out)
    }

    /// A shared registry's `_aster/config/<name>` value: the newest one
    /// written by an author the registry's ACL trusts (§2.8; every author
    /// while no writers list exists), so an untrusted writer cannot change
    /// everyone's lease timing or gossip topic.
    pub async fn config(&self, name: &str) -> Result<Option<Vec<u8>>, RegistryError> {
        let key = aster_proto::registry::keys::config_key(name).map_err(RegistryError::key)?;
        let entries = self.entries("_aster/").await?;
        let acl = aster_proto::registry::RegistryAcl::from_entries(&entries, None);
        Ok(entries
            .into_iter()
            .filter(|e| e.key == key.as_bytes() && acl.is_trusted_writer(&e.author))
            .max_by(|a, b| {
                a.timestamp
                    .cmp(&b.timestamp)
                    .then_with(|| b.author.cmp(&a.author))
            })
            .map(|e| e.value))
    }

    /// The newest value any author wrote under `key`.
    pub async fn latest(&self, key: &str) -> Result<Option<Vec<u8>>, RegistryError> {
        let mut entries = self.entries(key).await?;
        entries.retain(|e| e.key == key.as_bytes());
        Ok(entries
            .into_iter()
            .max_by_key(|e| e.timestamp)
            .map(|e| e.value))
    }

    /// Fetches, from the peers this replica was joined from, the content of
    /// `rows` that is not here (bounded in count and time; what does not
    /// arrive is skipped by the reader).
    async fn fetch_missing(&self, rows: &[iroh_docs::Entry]) {
        let sources = self.sources.lock().map(|s| s.clone()).unwrap_or_default();
        if sources.is_empty() {
            return;
        }
        let mut missing = Vec::new();
        for e in rows {
            let len = e.content_len();
            if len > 0
                && len <= MAX_ENTRY_VALUE_LEN
                && !self
                    .node
                    .blobs()
                    .has(e.content_hash())
                    .await
                    .unwrap_or(true)
            {
                missing.push(e.content_hash());
            }
            if missing.len() >= MAX_FETCHES_PER_READ {
                break;
            }
        }
        if missing.is_empty() {
            return;
        }
        let downloader = self.node.blobs().downloader(self.node.endpoint());
        let fetches = missing.into_iter().map(|hash| {
            let request =
                downloader.download(iroh_blobs::HashAndFormat::raw(hash), sources.clone());
            async move {
                if let Err(e) = request.await {
                    debug!(%hash, error = %e, "registry content not fetched");
                }
            }
        });
        let _ =
            tokio::time::timeout(CONTENT_FETCH_WAIT, futures_util::future::join_all(fetches)).await;
    }

    async fn content(
        &self,
        hash: iroh_blobs::Hash,
        len: u64,
    ) -> Result<Option<Vec<u8>>, RegistryError> {
        if len > MAX_ENTRY_VALUE_LEN {
            debug!(%hash, len, "registry value too large; skipped");
            return Ok(None);
        }
        if len == 0 {
            return Ok(Some(Vec::new()));
        }
        match self.node.blobs().get_bytes(hash).await {
            Ok(b) => Ok(Some(b.to_vec())),
            Err(e) => {
                debug!(%hash, error = %e, "registry value not available yet");
                Ok(None)
            }
        }
    }

    /// Live change events of this document (inserts, syncs).
    pub async fn subscribe(
        &self,
    ) -> Result<
        impl n0_future::Stream<Item = Result<LiveEvent, RegistryError>> + Send + Unpin + 'static,
        RegistryError,
    > {
        let s = self.doc.subscribe().await.map_err(RegistryError::docs)?;
        Ok(s.map(|e| e.map_err(RegistryError::docs)))
    }
}
