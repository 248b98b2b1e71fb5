//! Root and node keys and their files (trust-registry.md §1.1, §1.2).
//!
//! Key generation is the caller's business: a key is built from 32 seed
//! bytes (the runtime draws them from its RNG), so this crate stays free of
//! randomness. Signatures are plain ed25519 (RFC 8032, no prehash, no
//! context), as the reference's `cryptography` calls make them.

use std::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::Deserialize;

use super::hex::{self, HexError};
use super::pyjson::{self, Layout, Value};

/// Length of an ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;

/// Why a key or key file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("{field}: expected {expected} hex characters, got {got}")]
    HexLength {
        field: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("{field}: not a hex string")]
    NotHex { field: &'static str },
    #[error("key file is not valid JSON: {0}")]
    Json(String),
    #[error("key file has no {0:?} field")]
    MissingField(&'static str),
    #[error("key file's public_key {stated} does not match its private key (public key {derived})")]
    PublicKeyMismatch { stated: String, derived: String },
    #[error(
        "root public key file is neither {{\"public_key\": hex}} JSON nor a 64-character hex string"
    )]
    UnrecognisedPublicKeyFile,
}

pub(crate) fn hex_field<const N: usize>(
    field: &'static str,
    text: &str,
) -> Result<[u8; N], KeyError> {
    hex::decode_array::<N>(text).map_err(|e| match e {
        HexError::Length { expected, got } => KeyError::HexLength {
            field,
            expected,
            got,
        },
        HexError::NotHex => KeyError::NotHex { field },
    })
}

/// The deployment's trust anchor: a 32-byte ed25519 public key, written as
/// 64 lowercase hex characters everywhere (§1.2).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RootPublicKey([u8; 32]);

impl RootPublicKey {
    pub const fn from_bytes(bytes: [u8; 32]) -> RootPublicKey {
        RootPublicKey(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }

    /// Parses 64 hex characters.
    pub fn from_hex(text: &str) -> Result<RootPublicKey, KeyError> {
        hex_field("public_key", text).map(RootPublicKey)
    }

    /// Whether `signature` is this key's ed25519 signature of `message`.
    ///
    /// Uses dalek's `verify_strict`, which also refuses small-order public
    /// keys and small-order `R` components. An honest signer never produces
    /// those, so every signature the reference makes still verifies (the
    /// vectors check this); the strict form closes the malleability and
    /// weak-key corners that plain cofactorless verification leaves open.
    /// Bytes that are not a curve point verify nothing.
    pub fn verify(&self, message: &[u8], signature: &[u8; SIGNATURE_LEN]) -> bool {
        let Ok(key) = VerifyingKey::from_bytes(&self.0) else {
            return false;
        };
        key.verify_strict(message, &Signature::from_bytes(signature))
            .is_ok()
    }

    /// Reads a root public key file (`root.pub`, `ASTER_ROOT_PUBKEY_FILE`):
    /// either `{"public_key": "<64 hex>"}` as `aster trust keygen` writes it,
    /// or a bare 64-character hex string; surrounding whitespace is ignored
    /// (the reference's `_load_pubkey_from_file`).
    pub fn from_pub_file(text: &str) -> Result<RootPublicKey, KeyError> {
        #[derive(Deserialize)]
        struct PubFile {
            public_key: String,
        }
        let text = text.trim();
        if text.starts_with('{') {
            if let Ok(file) = serde_json::from_str::<PubFile>(text) {
                return RootPublicKey::from_hex(&file.public_key);
            }
        }
        match hex::decode_array::<32>(text) {
            Ok(bytes) => Ok(RootPublicKey(bytes)),
            Err(_) => Err(KeyError::UnrecognisedPublicKeyFile),
        }
    }

    /// The `root.pub` file text `aster trust keygen` writes: indent-2 JSON and
    /// a final newline.
    pub fn to_pub_file(&self) -> String {
        let hex = self.to_hex();
        pyjson::object(&[("public_key", Value::Str(&hex))], Layout::Indent2, true) + "\n"
    }
}

impl fmt::Debug for RootPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RootPublicKey({})", self.to_hex())
    }
}

impl fmt::Display for RootPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// The offline root signing key. Wiped from memory on drop; `Debug` shows
/// only the public half.
#[derive(Clone)]
pub struct RootSigningKey(SigningKey);

impl RootSigningKey {
    /// The key for a 32-byte seed (the `private_key` of a root key file).
    /// Generating a key = calling this with 32 random bytes.
    pub fn from_seed(seed: &[u8; 32]) -> RootSigningKey {
        RootSigningKey(SigningKey::from_bytes(seed))
    }

    pub fn public_key(&self) -> RootPublicKey {
        RootPublicKey(self.0.verifying_key().to_bytes())
    }

    /// The seed. Handle with care: this is the whole secret.
    pub fn seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// Deterministic ed25519 signature of `message` (RFC 8032).
    pub fn sign(&self, message: &[u8]) -> [u8; SIGNATURE_LEN] {
        self.0.sign(message).to_bytes()
    }
}

impl fmt::Debug for RootSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RootSigningKey(public {})", self.public_key().to_hex())
    }
}

/// A root key file, `{"private_key": <seed hex>, "public_key": <hex>}`,
/// as `aster trust keygen` and `aster keygen root --out` write it (§1.2).
#[derive(Clone, Debug)]
pub struct RootKeyFile {
    pub signing_key: RootSigningKey,
}

impl RootKeyFile {
    pub fn new(signing_key: RootSigningKey) -> RootKeyFile {
        RootKeyFile { signing_key }
    }

    /// Parses the file. `public_key` may be absent (the reference's signer
    /// then derives it); when present it must match the private key, because
    /// `aster trust sign` would otherwise embed a root key that cannot verify
    /// its own signatures.
    pub fn parse(text: &str) -> Result<RootKeyFile, KeyError> {
        #[derive(Deserialize)]
        struct KeyFile {
            private_key: Option<String>,
            public_key: Option<String>,
        }
        let file: KeyFile =
            serde_json::from_str(text.trim()).map_err(|e| KeyError::Json(e.to_string()))?;
        let seed: [u8; 32] = hex_field(
            "private_key",
            file.private_key
                .as_deref()
                .ok_or(KeyError::MissingField("private_key"))?,
        )?;
        let signing_key = RootSigningKey::from_seed(&seed);
        if let Some(stated) = file.public_key {
            let stated_key = RootPublicKey::from_hex(&stated)?;
            if stated_key != signing_key.public_key() {
                return Err(KeyError::PublicKeyMismatch {
                    stated,
                    derived: signing_key.public_key().to_hex(),
                });
            }
        }
        Ok(RootKeyFile { signing_key })
    }

    /// The file text the reference writes: indent-2 JSON and a final newline.
    /// (The reference creates it with mode 0600 and never overwrites one;
    /// that is the writer's job.)
    pub fn to_file_text(&self) -> String {
        let private = hex::encode(&self.signing_key.seed());
        let public = self.signing_key.public_key().to_hex();
        pyjson::object(
            &[
                ("private_key", Value::Str(&private)),
                ("public_key", Value::Str(&public)),
            ],
            Layout::Indent2,
            true,
        ) + "\n"
    }
}

/// A node's iroh secret key (`[node] secret_key` of `.aster-identity`). Its
/// ed25519 public key is the node's EndpointId, and credentials bind to that
/// id's 64-character lowercase hex form (§1.2). Wiped on drop.
#[derive(Clone)]
pub struct NodeSecretKey(SigningKey);

impl NodeSecretKey {
    pub fn from_bytes(secret: &[u8; 32]) -> NodeSecretKey {
        NodeSecretKey(SigningKey::from_bytes(secret))
    }

    /// The raw 32 bytes, e.g. to build the iroh `SecretKey`.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The EndpointId as credentials carry it: lowercase hex of the public key.
    pub fn endpoint_id(&self) -> String {
        hex::encode(self.0.verifying_key().as_bytes())
    }
}

impl PartialEq for NodeSecretKey {
    fn eq(&self, other: &NodeSecretKey) -> bool {
        self.0.verifying_key() == other.0.verifying_key()
    }
}

impl Eq for NodeSecretKey {}

impl fmt::Debug for NodeSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeSecretKey(endpoint {})", self.endpoint_id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8032_test_1() {
        // RFC 8032 §7.1, TEST 1 (empty message).
        let seed = hex::decode_array::<32>(
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        )
        .unwrap();
        let key = RootSigningKey::from_seed(&seed);
        assert_eq!(
            key.public_key().to_hex(),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        );
        let sig = key.sign(b"");
        assert_eq!(
            hex::encode(&sig),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        );
        assert!(key.public_key().verify(b"", &sig));
        assert!(!key.public_key().verify(b"x", &sig));
    }

    #[test]
    fn pub_file_forms() {
        let pk = RootSigningKey::from_seed(&[1; 32]).public_key();
        assert_eq!(RootPublicKey::from_pub_file(&pk.to_pub_file()), Ok(pk));
        assert_eq!(
            RootPublicKey::from_pub_file(&format!("  {}\n", pk.to_hex())),
            Ok(pk)
        );
        assert_eq!(
            RootPublicKey::from_pub_file(&pk.to_hex().to_uppercase()),
            Ok(pk)
        );
        assert_eq!(
            RootPublicKey::from_pub_file("{\"x\": 1}"),
            Err(KeyError::UnrecognisedPublicKeyFile)
        );
        assert_eq!(
            RootPublicKey::from_pub_file("{\"public_key\": \"ab\"}"),
            Err(KeyError::HexLength {
                field: "public_key",
                expected: 64,
                got: 2
            })
        );
        assert_eq!(
            RootPublicKey::from_pub_file("zz"),
            Err(KeyError::UnrecognisedPublicKeyFile)
        );
    }

    #[test]
    fn key_file_checks() {
        let file = RootKeyFile::new(RootSigningKey::from_seed(&[2; 32]));
        let text = file.to_file_text();
        assert_eq!(
            RootKeyFile::parse(&text).unwrap().signing_key.seed(),
            [2; 32]
        );
        let other = RootSigningKey::from_seed(&[3; 32]).public_key().to_hex();
        let bad = format!(
            "{{\"private_key\": \"{}\", \"public_key\": \"{other}\"}}",
            hex::encode(&[2; 32])
        );
        assert!(matches!(
            RootKeyFile::parse(&bad),
            Err(KeyError::PublicKeyMismatch { .. })
        ));
        let no_pub = format!("{{\"private_key\": \"{}\"}}", hex::encode(&[2; 32]));
        assert!(RootKeyFile::parse(&no_pub).is_ok());
        assert_eq!(
            RootKeyFile::parse("{}").unwrap_err(),
            KeyError::MissingField("private_key")
        );
        assert!(matches!(RootKeyFile::parse("nope"), Err(KeyError::Json(_))));
        assert!(format!("{:?}", file).contains("public"));
        assert!(!format!("{:?}", file).contains(&hex::encode(&[2; 32])));
    }
}
