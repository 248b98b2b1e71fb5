//! Endpoint leases in a shared registry: the I/O half of
//! [`LeasePublisher`], plus the registry gossip topic.
//!
//! One task per server drives one publisher per service: it writes what
//! the publisher returns into the document (the truth) and broadcasts the
//! matching event on the registry's gossip topic (a hint, §2.6). Timing is
//! the registry's (`_aster/config/lease_*`), so everyone agrees on it.

use std::time::Duration;

use aster_proto::registry::{
    GossipEvent, HealthStatus, LeasePublisher, LeaseSpec, LeaseTiming, LeaseWrite, keys,
};
use bytes::Bytes;
use iroh::EndpointId;
use iroh_docs::AuthorId;
use iroh_gossip::api::GossipSender;
use iroh_gossip::proto::TopicId;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use super::{RegistryDoc, RegistryError};
use crate::net::now_ms;

/// The registry's gossip topic: `_aster/config/gossip_topic` when it holds
/// 64 hex digits, else BLAKE3 of `"aster-registry/"` and the namespace id,
/// so every member of a document derives the same topic without
/// configuration.
pub async fn gossip_topic(doc: &RegistryDoc) -> Result<TopicId, RegistryError> {
    if let Some(value) = doc.config(keys::CONFIG_GOSSIP_TOPIC).await? {
        let text = String::from_utf8_lossy(&value);
        let mut bytes = [0u8; 32];
        if hex::decode_to_slice(text.trim(), &mut bytes).is_ok() {
            return Ok(TopicId::from_bytes(bytes));
        }
        debug!(value = %text, "gossip_topic is not 64 hex digits; using the derived topic");
    }
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"aster-registry/");
    hasher.update(doc.namespace().as_bytes());
    Ok(TopicId::from_bytes(*hasher.finalize().as_bytes()))
}

/// Joins the registry's gossip topic with `peers` as bootstrap.
pub async fn join_gossip(
    doc: &RegistryDoc,
    peers: Vec<EndpointId>,
) -> Result<(GossipSender, iroh_gossip::api::GossipReceiver), RegistryError> {
    let topic = gossip_topic(doc).await?;
    let sub = doc
        .node()
        .gossip()
        .subscribe(topic, peers)
        .await
        .map_err(RegistryError::docs)?;
    Ok(sub.split())
}

enum Command {
    Health(HealthStatus),
    Load(Option<f64>),
    Withdraw {
        grace: Duration,
        done: oneshot::Sender<()>,
    },
}

/// Keeps a server's leases alive. Dropping it stops refreshing (the leases
/// lapse, as when the process dies); [`LeaseKeeper::withdraw`] is the
/// graceful way out.
pub struct LeaseKeeper {
    commands: mpsc::Sender<Command>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for LeaseKeeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LeaseKeeper")
    }
}

impl LeaseKeeper {
    /// Registers a lease per spec (`starting`), then reports them `ready`,
    /// and keeps refreshing them.
    pub async fn start(
        doc: RegistryDoc,
        author: AuthorId,
        specs: Vec<LeaseSpec>,
        timing: LeaseTiming,
        gossip: Option<GossipSender>,
    ) -> Result<LeaseKeeper, RegistryError> {
        let mut publishers = Vec::with_capacity(specs.len());
        let writer = Writer {
            doc,
            author,
            gossip,
        };
        for spec in specs {
            let now = now_ms() as i64;
            let (mut p, first) = LeasePublisher::register(spec, timing, now)
                .map_err(|e| RegistryError::Record(e.to_string()))?;
            writer.write(&first).await?;
            let ready = p
                .set_health(HealthStatus::Ready, now_ms() as i64)
                .map_err(|e| RegistryError::Record(e.to_string()))?;
            writer.write(&ready).await?;
            info!(service = %p.lease().service, contract_id = %p.lease().contract_id, "lease registered");
            publishers.push(p);
        }
        let (tx, rx) = mpsc::channel(8);
        let task = tokio::spawn(run(writer, publishers, rx));
        Ok(LeaseKeeper { commands: tx, task })
    }

    /// Reports a new health for every lease.
    pub async fn set_health(&self, health: HealthStatus) {
        let _ = self.commands.send(Command::Health(health)).await;
    }

    /// Reports a load (0..1) for every lease, for least-load resolvers.
    pub async fn set_load(&self, load: Option<f64>) {
        let _ = self.commands.send(Command::Load(load)).await;
    }

    /// Marks every lease `draining`, waits `grace` (readers stop choosing
    /// this endpoint; calls already routed here still succeed), then writes
    /// the tombstones. Returns once they are written.
    pub async fn withdraw(self, grace: Duration) {
        let (done, wait) = oneshot::channel();
        if self
            .commands
            .send(Command::Withdraw { grace, done })
            .await
            .is_ok()
        {
            let _ = wait.await;
        }
    }
}

impl Drop for LeaseKeeper {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Writer {
    doc: RegistryDoc,
    author: AuthorId,
    gossip: Option<GossipSender>,
}

impl Writer {
    async fn write(&self, w: &LeaseWrite) -> Result<(), RegistryError> {
        self.doc.set(self.author, &w.key, w.value_bytes()).await?;
        self.hint(&w.gossip).await;
        Ok(())
    }

    async fn hint(&self, event: &GossipEvent) {
        if let Some(g) = &self.gossip {
            if let Err(e) = g.broadcast(Bytes::from(event.encode())).await {
                debug!(error = %e, "registry gossip broadcast failed");
            }
        }
    }
}

async fn run(
    writer: Writer,
    mut publishers: Vec<LeasePublisher>,
    mut commands: mpsc::Receiver<Command>,
) {
    let mut withdrawn: Option<oneshot::Sender<()>> = None;
    loop {
        let next = publishers
            .iter()
            .filter_map(LeasePublisher::poll_timeout)
            .min();
        let Some(next) = next else { break };
        let wait = Duration::from_millis(next.saturating_sub(now_ms() as i64).max(0) as u64);
        tokio::select! {
            cmd = commands.recv(), if withdrawn.is_none() => {
                let now = now_ms() as i64;
                let Some(cmd) = cmd else { return };
                for p in &mut publishers {
                    let w = match &cmd {
                        Command::Health(h) => p.set_health(*h, now),
                        Command::Load(l) => p.set_load(*l, now),
                        Command::Withdraw { grace, .. } => p.withdraw(grace.as_millis() as i64, now),
                    };
                    match w {
                        Ok(w) => {
                            if let Err(e) = writer.write(&w).await {
                                warn!(error = %e, "lease write failed");
                            }
                        }
                        Err(e) => debug!(error = %e, "lease update refused"),
                    }
                }
                if let Command::Withdraw { done, .. } = cmd {
                    withdrawn = Some(done);
                }
            }
            _ = tokio::time::sleep(wait) => {
                let now = now_ms() as i64;
                for p in &mut publishers {
                    match p.handle_timeout(now) {
                        Ok(Some(w)) => {
                            if let Err(e) = writer.write(&w).await {
                                warn!(error = %e, key = %w.key, "lease write failed");
                            }
                        }
                        Ok(None) => {}
                        Err(e) => warn!(error = %e, "lease refresh refused"),
                    }
                }
            }
        }
    }
    info!("leases withdrawn");
    if let Some(done) = withdrawn {
        let _ = done.send(());
    }
}
