//! The admission ALPNs, server side: one JSON object each way on one
//! bi-stream (FIN-delimited, 64 KiB at most). The decisions are the
//! gatekeeper's; this is the I/O.

use std::sync::Arc;
use std::time::Duration;

use aster_proto::limits::MAX_ADMISSION_PAYLOAD_SIZE;
use iroh::endpoint::Connection;
use iroh::protocol::{AcceptError, ProtocolHandler};
use tracing::debug;

use super::ServerShared;

/// How long the answer's connection is kept for the peer to read it.
const LINGER: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub(super) struct ConsumerAdmission {
    pub(super) shared: Arc<ServerShared>,
}

impl std::fmt::Debug for ConsumerAdmission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConsumerAdmission")
    }
}

impl ProtocolHandler for ConsumerAdmission {
    async fn accept(&self, conn: Connection) -> Result<(), AcceptError> {
        let peer = conn.remote_id();
        let (mut send, mut recv) = conn.accept_bi().await?;
        let request = recv
            .read_to_end(MAX_ADMISSION_PAYLOAD_SIZE)
            .await
            .map_err(AcceptError::from_err)?;
        let mut response =
            self.shared
                .keeper
                .admit_consumer(&request, &peer.to_string(), &self.shared.summaries);
        if response.admitted {
            response.registry_namespace = self.shared.registry_namespace.clone();
        }
        debug!(%peer, admitted = response.admitted, "consumer admission");
        send.write_all(&response.encode())
            .await
            .map_err(AcceptError::from_err)?;
        send.finish()?;
        // Closing now could race the peer's read of the answer: wait for it
        // to close (bounded).
        let _ = tokio::time::timeout(LINGER, conn.closed()).await;
        Ok(())
    }
}

#[derive(Clone)]
pub(super) struct ProducerAdmission {
    pub(super) shared: Arc<ServerShared>,
}

impl std::fmt::Debug for ProducerAdmission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProducerAdmission")
    }
}

impl ProtocolHandler for ProducerAdmission {
    async fn accept(&self, conn: Connection) -> Result<(), AcceptError> {
        let peer = conn.remote_id();
        let (mut send, mut recv) = conn.accept_bi().await?;
        let request = recv
            .read_to_end(MAX_ADMISSION_PAYLOAD_SIZE)
            .await
            .map_err(AcceptError::from_err)?;
        let response = self
            .shared
            .keeper
            .admit_producer(&request, &peer.to_string());
        send.write_all(&response)
            .await
            .map_err(AcceptError::from_err)?;
        send.finish()?;
        let _ = tokio::time::timeout(LINGER, conn.closed()).await;
        Ok(())
    }
}
