//! Trust: root keys, enrollment credentials, the admission check (Gate 1),
//! capability checks (Gates 2/3), the OTT nonce store and `.aster-identity`.
//!
//! All trust flows from one offline ed25519 root key (trust-registry.md §1.1):
//! nodes hold only its public half and admit a peer when it presents a
//! credential that the root key signed over a hand-built byte string
//! (§1.4). This module reproduces the reference's formats byte for byte —
//! the signing bytes, the key and credential files written by `aster trust
//! keygen` / `aster trust sign`, the `credential_json` string its client sends
//! and the `.aster-identity` TOML of `aster enroll node` — and checks them
//! with the reference's order of checks, minus its known defects (§1.16):
//!
//! * T1: a producer credential is bound to the QUIC-authenticated peer id the
//!   caller passes in, never to its own `endpoint_id` field ([`admit`]).
//! * T4: the persistent nonce store fails closed on a corrupt file and makes a
//!   nonce durable before reporting it consumed ([`FileNonceStore`]).
//! * A denied credential never burns an OTT nonce: consumption is the last
//!   check, after the (unimplemented, hence denying) IID check (§1.5, §1.7).
//!
//! Like the rest of `aster-proto`, this is sans-IO: time is a parameter
//! (epoch seconds), keys and nonces come from the caller, and nothing here
//! opens a socket. The one exception is [`FileNonceStore`], a storage adapter
//! behind the [`NonceStore`] trait (see [`nonce_file`] for why it lives here).
//!
//! A server's admission flow, with the runtime doing the I/O:
//!
//! ```
//! use aster_proto::trust::{
//!     admit_consumer_json, Attributes, ConsumerCredential, ConsumerKind, MemoryNonceStore,
//!     PeerAdmission, RootSigningKey,
//! };
//!
//! // Offline, once: the operator signs a policy credential with the root key.
//! let root = RootSigningKey::from_seed(&[7; 32]);
//! let attributes = Attributes::from_iter([("aster.role", "ops.status")]);
//! let credential = ConsumerCredential::new(ConsumerKind::Policy, root.public_key(), 2_000_000_000, attributes)
//!     .signed(&root);
//! let credential_json = credential.to_wire_json(); // what the client sends
//!
//! // On the server, per admission request: the peer id comes from the QUIC handshake.
//! let peer = "29acbae141bccaf0b22e1a94d34d0bc7361e526d0bfe12c89794bc9322966dd7";
//! let now = 1_700_000_000;
//! let mut nonces = MemoryNonceStore::new();
//! let admitted = admit_consumer_json(&credential_json, &root.public_key(), peer, now, Some(&mut nonces)).unwrap();
//! let record = PeerAdmission::consumer(peer, &admitted, now);
//! assert!(!record.is_expired(now + 60));
//! ```

mod admission;
mod attributes;
mod capability;
mod credential;
mod hex;
mod identity;
mod keys;
mod nonce;
pub mod nonce_file;
mod pyjson;

pub use admission::{
    Admitted, Denied, DenyReason, admit, admit_consumer_json, admit_producer_json,
};
pub use attributes::{
    ATTR_IID_ACCOUNT, ATTR_IID_PROVIDER, ATTR_IID_REGION, ATTR_IID_ROLE_ARN, ATTR_NAME, ATTR_ROLE,
    Attributes,
};
pub use capability::{
    AdmissionPath, CapabilityDenied, GateLevel, PEER_TTL_SECS, PeerAdmission, authorize, satisfies,
};
pub use credential::{
    ConsumerCredential, ConsumerKind, Credential, CredentialError, EnrollmentCredential,
};
pub use identity::{IdentityError, IdentityFile, NodeSection, PeerEntry, PeerRole};
pub use keys::{
    KeyError, NodeSecretKey, RootKeyFile, RootPublicKey, RootSigningKey, SIGNATURE_LEN,
};
pub use nonce::{MemoryNonceStore, NonceStore, NonceStoreError};
pub use nonce_file::FileNonceStore;
