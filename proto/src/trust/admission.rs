//! The credential admission check, Gate 1 (trust-registry.md §1.5, §1.9).
//!
//! [`admit`] is a pure function of the credential, the configured root key,
//! the peer's QUIC-authenticated EndpointId, the current time and a nonce
//! store; its documentation lists the checks and their order.
//!
//! A denial carries a typed [`DenyReason`] for the server's log. The peer
//! must never see it: the wire answer is a bare `admitted: false` (§1.10.1),
//! so a prober cannot tell a replayed nonce from a bad signature.

use super::attributes::{ATTR_IID_PROVIDER, Attributes};
use super::credential::{
    ConsumerCredential, ConsumerKind, Credential, CredentialError, EnrollmentCredential,
};
use super::keys::RootPublicKey;
use super::nonce::{NonceStore, NonceStoreError};

/// A successful admission: what to grant the peer and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admitted {
    /// The credential's attributes, granted to the peer for its calls (§1.8).
    pub attributes: Attributes,
    /// The credential's expiry, epoch seconds: the peer record ends here
    /// at the latest ([`super::PeerAdmission`]).
    pub expires_at: u64,
}

/// Why a credential was refused. For logs and metrics only.
#[derive(Debug, thiserror::Error)]
pub enum DenyReason {
    #[error("credential could not be read: {0}")]
    Malformed(#[from] CredentialError),
    #[error("OTT credential carries no nonce")]
    OttWithoutNonce,
    #[error("policy credential carries a nonce")]
    PolicyWithNonce,
    #[error("credential is signed for root {credential}, this node trusts {trusted}")]
    UntrustedRoot {
        credential: RootPublicKey,
        trusted: RootPublicKey,
    },
    #[error("invalid signature")]
    BadSignature,
    #[error("credential expired (expires_at={expires_at}, now={now})")]
    Expired { expires_at: u64, now: u64 },
    #[error("credential is bound to endpoint {credential:?}, peer is {peer:?}")]
    EndpointMismatch { credential: String, peer: String },
    #[error(
        "instance-identity provider {provider:?} requested; IID verification is not implemented"
    )]
    IidUnsupported { provider: String },
    #[error("OTT credential presented but no nonce store is configured")]
    NoNonceStore,
    #[error("OTT nonce already consumed")]
    NonceReplayed,
    #[error("nonce store failed: {0}")]
    NonceStore(#[from] NonceStoreError),
}

/// A refused admission.
#[derive(Debug, thiserror::Error)]
#[error("admission denied: {reason}")]
pub struct Denied {
    pub reason: DenyReason,
}

impl From<DenyReason> for Denied {
    fn from(reason: DenyReason) -> Denied {
        Denied { reason }
    }
}

fn deny<T>(reason: DenyReason) -> Result<T, Denied> {
    Err(Denied { reason })
}

/// Admits `credential` for the peer `peer_endpoint_id` (the lowercase hex
/// EndpointId from the QUIC handshake, never a value taken from the
/// credential) at `now_epoch_secs`, or says why not. `nonce_store` is needed
/// for OTT credentials only. Checks run in this order and stop at the first
/// failure (trust-registry.md §1.5):
///
/// 1. **Structure**: an OTT carries a 32-byte nonce, a policy none (the
///    nonce length is guaranteed by the type; an unknown type never parses).
/// 2. **Root**: the credential's `root_pubkey` is the configured root. Without
///    this anyone could mint a root of their own and self-admit. (The
///    reference's servers do this check before calling `admit`; it is part of
///    the function here so that no caller can forget it.)
/// 3. **Signature** by that root over the §1.4 signing bytes.
/// 4. **Expiry**: `expires_at > now` (epoch seconds, no skew allowance;
///    `expires_at == now` is expired).
/// 5. **Endpoint binding** to the peer id the *caller* passes from the QUIC
///    handshake: always for a producer credential, for a consumer credential
///    only if it names one. The reference's producer admission compared the
///    credential's field with itself (defect T1): anyone holding a copy of a
///    producer credential was admitted.
/// 6. **IID**: a credential with `aster.iid_provider` is refused. The
///    reference's IID backends are not a security check (AWS reads the
///    verifier's own metadata and skips the signature check, GCP and Azure
///    always fail; §1.7, T5), so this port does not implement IID and fails
///    closed instead of pretending. The reference runs this step after the
///    nonce, burning the token of a credential it then refuses; here it runs
///    before.
/// 7. **Nonce** (OTT only), last, so that a credential failing any other
///    check never burns its token: the store must report the nonce unused and
///    record it. No store, or a store error, is a denial.
///
pub fn admit(
    credential: &Credential,
    trusted_root: &RootPublicKey,
    peer_endpoint_id: &str,
    now_epoch_secs: u64,
    nonce_store: Option<&mut dyn NonceStore>,
) -> Result<Admitted, Denied> {
    // 1. Structure.
    let nonce = match credential {
        Credential::Producer(_) => None,
        Credential::Consumer(c) => match (c.kind, &c.nonce) {
            (ConsumerKind::Ott, None) => return deny(DenyReason::OttWithoutNonce),
            (ConsumerKind::Ott, Some(n)) => Some(n),
            (ConsumerKind::Policy, Some(_)) => return deny(DenyReason::PolicyWithNonce),
            (ConsumerKind::Policy, None) => None,
        },
    };
    // 2. Root.
    if credential.root_pubkey() != trusted_root {
        return deny(DenyReason::UntrustedRoot {
            credential: *credential.root_pubkey(),
            trusted: *trusted_root,
        });
    }
    // 3. Signature, with the trusted key (equal to the credential's by now).
    if !credential.verify(trusted_root) {
        return deny(DenyReason::BadSignature);
    }
    // 4. Expiry.
    let expires_at = credential.expires_at();
    if expires_at <= now_epoch_secs {
        return deny(DenyReason::Expired {
            expires_at,
            now: now_epoch_secs,
        });
    }
    // 5. Endpoint binding to the authenticated peer.
    if let Some(bound) = credential.endpoint_id() {
        if bound != peer_endpoint_id {
            return deny(DenyReason::EndpointMismatch {
                credential: bound.to_string(),
                peer: peer_endpoint_id.to_string(),
            });
        }
    }
    // 6. IID: not implemented, so refused.
    if let Some(provider) = credential.attributes().get(ATTR_IID_PROVIDER) {
        return deny(DenyReason::IidUnsupported {
            provider: provider.to_string(),
        });
    }
    // 7. Nonce, last.
    if let Some(nonce) = nonce {
        let Some(store) = nonce_store else {
            return deny(DenyReason::NoNonceStore);
        };
        if !store.consume(nonce)? {
            return deny(DenyReason::NonceReplayed);
        }
    }
    Ok(Admitted {
        attributes: credential.attributes().clone(),
        expires_at,
    })
}

impl From<NonceStoreError> for Denied {
    fn from(e: NonceStoreError) -> Denied {
        Denied {
            reason: DenyReason::NonceStore(e),
        }
    }
}

/// Server side of consumer admission (§1.10.1 step 4–5): parses the
/// request's `credential_json` string and runs [`admit`]. A producer
/// credential presented here is malformed. The empty string ("no
/// credential", open-gate mode) is the caller's decision, not this one's: it
/// is refused here like any unreadable credential.
pub fn admit_consumer_json(
    credential_json: &str,
    trusted_root: &RootPublicKey,
    peer_endpoint_id: &str,
    now_epoch_secs: u64,
    nonce_store: Option<&mut dyn NonceStore>,
) -> Result<Admitted, Denied> {
    let credential = ConsumerCredential::from_json(credential_json).map_err(DenyReason::from)?;
    admit(
        &Credential::Consumer(credential),
        trusted_root,
        peer_endpoint_id,
        now_epoch_secs,
        nonce_store,
    )
}

/// Server side of producer admission (§1.10.2): parses `credential_json` as
/// a producer credential and runs [`admit`], binding it to the QUIC peer
/// (the reference did not; T1). Producer credentials carry no nonce.
pub fn admit_producer_json(
    credential_json: &str,
    trusted_root: &RootPublicKey,
    peer_endpoint_id: &str,
    now_epoch_secs: u64,
) -> Result<Admitted, Denied> {
    let credential = EnrollmentCredential::from_json(credential_json).map_err(DenyReason::from)?;
    admit(
        &Credential::Producer(credential),
        trusted_root,
        peer_endpoint_id,
        now_epoch_secs,
        None,
    )
}
