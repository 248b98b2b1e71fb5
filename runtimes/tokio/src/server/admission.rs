//! Consumer admission, server side (open mode): every peer is admitted with
//! no attributes and gets the service list.

use std::sync::Arc;
use std::time::Duration;

use aster_proto::admission::{AdmissionRequest, AdmissionResponse};
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
        let request = recv.read_to_end(MAX_ADMISSION_PAYLOAD_SIZE).await.map_err(AcceptError::from_err)?;
        let response = match AdmissionRequest::decode(&request) {
            Ok(_) => AdmissionResponse {
                admitted: true,
                services: self.shared.summaries.clone(),
                root_pubkey: self.shared.root_pubkey.clone(),
                ..AdmissionResponse::default()
            },
            Err(e) => {
                debug!(%peer, error = %e, "malformed admission request");
                AdmissionResponse::denied(self.shared.root_pubkey.clone())
            }
        };
        send.write_all(&response.encode()).await.map_err(AcceptError::from_err)?;
        send.finish()?;
        // Closing now could race the peer's read of the answer: wait for it
        // to close (bounded).
        let _ = tokio::time::timeout(LINGER, conn.closed()).await;
        Ok(())
    }
}
