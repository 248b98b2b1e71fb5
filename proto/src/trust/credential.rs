//! Enrollment credentials (trust-registry.md §1.3), their canonical signing
//! bytes (§1.4) and their JSON forms (§1.2, §1.10).
//!
//! Two JSON spellings exist and the reference uses both:
//!
//! * the **file** form, written by `aster trust sign` (indent 2, ASCII-only,
//!   type under the key `type`): [`ConsumerCredential::to_file_json`];
//! * the **wire** form, the `credential_json` string of a consumer admission
//!   request (compact, ASCII-only, type under the key `credential_type`, in
//!   the order `credential_type, root_pubkey, expires_at, attributes,
//!   endpoint_id, nonce, signature`): [`ConsumerCredential::to_wire_json`].
//!   The reference *server* reads only `credential_type`, so a client that
//!   forwarded the file text unchanged would be refused.
//!
//! Readers accept either form (`credential_type` wins over `type`, and a
//! missing type means `policy`, as the reference client's loader does).
//! Hex fields are checked against the reference's lengths (§1.5:
//! `root_pubkey` and `nonce` 64, `signature` 128, `endpoint_id` 64
//! characters) before anything else is done with them.

use serde::Deserialize;
use serde_json::Value as Json;

use super::attributes::Attributes;
use super::hex::{self, HexError};
use super::keys::{RootPublicKey, RootSigningKey, SIGNATURE_LEN};
use super::pyjson::{self, Layout, Value};
use crate::limits::MAX_ADMISSION_PAYLOAD_SIZE;

/// A credential that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("credential of {0} bytes exceeds the 64 KiB limit")]
    TooLarge(usize),
    #[error("credential is not a JSON object: {0}")]
    Malformed(String),
    #[error("credential has no {0:?} field")]
    MissingField(&'static str),
    #[error("credential field {field:?}: expected {expected}")]
    WrongType {
        field: &'static str,
        expected: &'static str,
    },
    #[error("credential field {field:?}: expected {expected} hex characters, got {got}")]
    HexLength {
        field: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("credential field {field:?}: not a hex string")]
    NotHex { field: &'static str },
    #[error("unknown credential type {0:?} (expected \"producer\", \"policy\" or \"ott\")")]
    UnknownType(String),
    #[error("expected a {expected} credential, got type {got:?}")]
    WrongKind { expected: &'static str, got: String },
    #[error("credential carries no signature")]
    MissingSignature,
}

/// The two consumer credential kinds (§1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConsumerKind {
    /// Reusable bearer credential; must not carry a nonce.
    Policy,
    /// One-time token; must carry a 32-byte nonce, consumed on admission.
    Ott,
}

impl ConsumerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsumerKind::Policy => "policy",
            ConsumerKind::Ott => "ott",
        }
    }

    pub fn parse(text: &str) -> Option<ConsumerKind> {
        match text {
            "policy" => Some(ConsumerKind::Policy),
            "ott" => Some(ConsumerKind::Ott),
            _ => None,
        }
    }

    /// The type byte that opens the consumer signing bytes (§1.4).
    fn code(self) -> u8 {
        match self {
            ConsumerKind::Policy => 0x00,
            ConsumerKind::Ott => 0x01,
        }
    }
}

/// A producer enrollment credential: authorises the node `endpoint_id` to
/// join the producer mesh (§1.3, §1.10.2).
///
/// Built unsigned by [`EnrollmentCredential::new`] (an all-zero signature,
/// which verifies nothing) and signed with [`EnrollmentCredential::sign`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentCredential {
    /// Lowercase hex EndpointId of the producer.
    pub endpoint_id: String,
    pub root_pubkey: RootPublicKey,
    /// Epoch seconds; the credential is expired from this second on.
    pub expires_at: u64,
    pub attributes: Attributes,
    pub signature: [u8; SIGNATURE_LEN],
}

/// A consumer enrollment credential, `policy` or `ott` (§1.3).
///
/// The structural rules (an OTT carries a nonce, a policy none) are checked
/// at admission, not here, so that a malformed credential can be represented,
/// logged and refused with a precise reason (§1.5 step 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerCredential {
    pub kind: ConsumerKind,
    pub root_pubkey: RootPublicKey,
    /// Epoch seconds; the credential is expired from this second on.
    pub expires_at: u64,
    pub attributes: Attributes,
    /// Binding to one EndpointId (hex); `None` = usable by any node.
    pub endpoint_id: Option<String>,
    pub nonce: Option<[u8; 32]>,
    pub signature: [u8; SIGNATURE_LEN],
}

/// Either credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Producer(EnrollmentCredential),
    Consumer(ConsumerCredential),
}

fn hex_err(field: &'static str) -> impl Fn(HexError) -> CredentialError {
    move |e| match e {
        HexError::Length { expected, got } => CredentialError::HexLength {
            field,
            expected,
            got,
        },
        HexError::NotHex => CredentialError::NotHex { field },
    }
}

/// The fields of either JSON form; unknown fields are ignored, as the
/// reference ignores them. `null` and absent are the same.
#[derive(Deserialize)]
struct RawCredential {
    #[serde(rename = "type")]
    type_: Option<Json>,
    credential_type: Option<Json>,
    endpoint_id: Option<Json>,
    root_pubkey: Option<Json>,
    expires_at: Option<Json>,
    attributes: Option<Attributes>,
    nonce: Option<Json>,
    signature: Option<Json>,
}

fn opt_str<'a>(
    field: &'static str,
    value: &'a Option<Json>,
) -> Result<Option<&'a str>, CredentialError> {
    match value {
        None => Ok(None),
        Some(Json::String(s)) => Ok(Some(s)),
        Some(_) => Err(CredentialError::WrongType {
            field,
            expected: "a string",
        }),
    }
}

impl RawCredential {
    fn parse(text: &str) -> Result<RawCredential, CredentialError> {
        if text.len() > MAX_ADMISSION_PAYLOAD_SIZE {
            return Err(CredentialError::TooLarge(text.len()));
        }
        // serde would also read a struct from a JSON array; the forms are objects.
        if !text.trim_start().starts_with('{') {
            return Err(CredentialError::Malformed("expected a JSON object".into()));
        }
        serde_json::from_str(text).map_err(|e| CredentialError::Malformed(e.to_string()))
    }

    /// `credential_type`, else `type`; empty counts as absent (Python `or`).
    fn type_name(&self) -> Result<Option<&str>, CredentialError> {
        let ct = opt_str("credential_type", &self.credential_type)?.filter(|s| !s.is_empty());
        let t = opt_str("type", &self.type_)?.filter(|s| !s.is_empty());
        Ok(ct.or(t))
    }

    fn root_pubkey(&self) -> Result<RootPublicKey, CredentialError> {
        let text = opt_str("root_pubkey", &self.root_pubkey)?
            .ok_or(CredentialError::MissingField("root_pubkey"))?;
        hex::decode_array::<32>(text)
            .map(RootPublicKey::from_bytes)
            .map_err(hex_err("root_pubkey"))
    }

    fn expires_at(&self) -> Result<u64, CredentialError> {
        match &self.expires_at {
            None => Err(CredentialError::MissingField("expires_at")),
            Some(v) => v.as_u64().ok_or(CredentialError::WrongType {
                field: "expires_at",
                expected: "an integer from 0 to 2^64-1",
            }),
        }
    }

    /// Empty or absent = no binding; anything else must look like an
    /// EndpointId (64 hex characters). An empty string is kept as `Some("")`:
    /// the reference keeps it, and it signs with the "has endpoint" flag set.
    fn endpoint_id(&self) -> Result<Option<String>, CredentialError> {
        let Some(text) = opt_str("endpoint_id", &self.endpoint_id)? else {
            return Ok(None);
        };
        if !text.is_empty() {
            if text.len() != 64 {
                return Err(CredentialError::HexLength {
                    field: "endpoint_id",
                    expected: 64,
                    got: text.chars().count(),
                });
            }
            if !hex::is_hex(text) {
                return Err(CredentialError::NotHex {
                    field: "endpoint_id",
                });
            }
        }
        Ok(Some(text.to_string()))
    }

    fn nonce(&self) -> Result<Option<[u8; 32]>, CredentialError> {
        match opt_str("nonce", &self.nonce)? {
            None | Some("") => Ok(None),
            Some(text) => hex::decode_array::<32>(text)
                .map(Some)
                .map_err(hex_err("nonce")),
        }
    }

    fn signature(&self) -> Result<[u8; SIGNATURE_LEN], CredentialError> {
        match opt_str("signature", &self.signature)? {
            None | Some("") => Err(CredentialError::MissingSignature),
            Some(text) => hex::decode_array::<SIGNATURE_LEN>(text).map_err(hex_err("signature")),
        }
    }

    fn attributes(&mut self) -> Attributes {
        self.attributes.take().unwrap_or_default()
    }

    fn into_producer(mut self) -> Result<EnrollmentCredential, CredentialError> {
        let endpoint_id = self
            .endpoint_id()?
            .ok_or(CredentialError::MissingField("endpoint_id"))?;
        if endpoint_id.is_empty() {
            return Err(CredentialError::MissingField("endpoint_id"));
        }
        Ok(EnrollmentCredential {
            endpoint_id,
            root_pubkey: self.root_pubkey()?,
            expires_at: self.expires_at()?,
            signature: self.signature()?,
            attributes: self.attributes(),
        })
    }

    fn into_consumer(mut self, kind: ConsumerKind) -> Result<ConsumerCredential, CredentialError> {
        Ok(ConsumerCredential {
            kind,
            root_pubkey: self.root_pubkey()?,
            expires_at: self.expires_at()?,
            endpoint_id: self.endpoint_id()?,
            nonce: self.nonce()?,
            signature: self.signature()?,
            attributes: self.attributes(),
        })
    }
}

impl EnrollmentCredential {
    /// An unsigned credential (all-zero signature) for `endpoint_id`.
    pub fn new(
        endpoint_id: impl Into<String>,
        root_pubkey: RootPublicKey,
        expires_at: u64,
        attributes: Attributes,
    ) -> EnrollmentCredential {
        EnrollmentCredential {
            endpoint_id: endpoint_id.into(),
            root_pubkey,
            expires_at,
            attributes,
            signature: [0; SIGNATURE_LEN],
        }
    }

    /// §1.4: `endpoint_id` UTF-8 (no length prefix) ‖ `root_pubkey` (32) ‖
    /// `expires_at` u64 big-endian ‖ canonical JSON of the attributes.
    pub fn signing_bytes(&self) -> Vec<u8> {
        let attrs = self.attributes.canonical_json();
        let mut out = Vec::with_capacity(self.endpoint_id.len() + 40 + attrs.len());
        out.extend_from_slice(self.endpoint_id.as_bytes());
        out.extend_from_slice(self.root_pubkey.as_bytes());
        out.extend_from_slice(&self.expires_at.to_be_bytes());
        out.extend_from_slice(attrs.as_bytes());
        out
    }

    /// Signs with the root key. `root_pubkey` is not touched: set it to
    /// `key.public_key()` (as [`EnrollmentCredential::new`] callers do), or
    /// the credential will not verify.
    pub fn sign(&mut self, key: &RootSigningKey) {
        self.signature = key.sign(&self.signing_bytes());
    }

    pub fn signed(mut self, key: &RootSigningKey) -> EnrollmentCredential {
        self.sign(key);
        self
    }

    /// Whether the signature is `key`'s over the signing bytes.
    pub fn verify(&self, key: &RootPublicKey) -> bool {
        key.verify(&self.signing_bytes(), &self.signature)
    }

    /// The file `aster trust sign --type producer` writes (with its final newline).
    pub fn to_file_json(&self) -> String {
        self.json(Layout::Indent2) + "\n"
    }

    /// The `credential_json` of a producer admission request: the compact
    /// form of the file. No reference client exists for producer admission;
    /// the reference server reads these keys (and ignores `type`).
    pub fn to_wire_json(&self) -> String {
        self.json(Layout::Compact)
    }

    fn json(&self, layout: Layout) -> String {
        let root = self.root_pubkey.to_hex();
        let sig = hex::encode(&self.signature);
        pyjson::object(
            &[
                ("type", Value::Str("producer")),
                ("endpoint_id", Value::Str(&self.endpoint_id)),
                ("root_pubkey", Value::Str(&root)),
                ("expires_at", Value::U64(self.expires_at)),
                ("attributes", Value::Attributes(&self.attributes)),
                ("signature", Value::Str(&sig)),
            ],
            layout,
            true,
        )
    }

    /// Reads either JSON form. A `type` other than `producer` is refused.
    pub fn from_json(text: &str) -> Result<EnrollmentCredential, CredentialError> {
        let raw = RawCredential::parse(text)?;
        match raw.type_name()? {
            None | Some("producer") => raw.into_producer(),
            Some(other) => Err(CredentialError::WrongKind {
                expected: "producer",
                got: other.to_string(),
            }),
        }
    }
}

impl ConsumerCredential {
    /// An unsigned credential (all-zero signature), unbound, without nonce.
    pub fn new(
        kind: ConsumerKind,
        root_pubkey: RootPublicKey,
        expires_at: u64,
        attributes: Attributes,
    ) -> ConsumerCredential {
        ConsumerCredential {
            kind,
            root_pubkey,
            expires_at,
            attributes,
            endpoint_id: None,
            nonce: None,
            signature: [0; SIGNATURE_LEN],
        }
    }

    /// Binds the credential to one EndpointId (hex).
    pub fn with_endpoint_id(mut self, endpoint_id: impl Into<String>) -> ConsumerCredential {
        self.endpoint_id = Some(endpoint_id.into());
        self
    }

    /// Sets the one-time nonce (32 random bytes from the caller).
    pub fn with_nonce(mut self, nonce: [u8; 32]) -> ConsumerCredential {
        self.nonce = Some(nonce);
        self
    }

    /// §1.4: type byte (0 policy, 1 ott) ‖ has-endpoint byte ‖ endpoint_id
    /// UTF-8 if present ‖ `root_pubkey` (32) ‖ `expires_at` u64 BE ‖
    /// canonical attributes ‖ has-nonce byte ‖ nonce (32) if present. The two
    /// presence bytes are what makes policy↔ott flips and nonce injection or
    /// removal break the signature.
    pub fn signing_bytes(&self) -> Vec<u8> {
        let attrs = self.attributes.canonical_json();
        let eid_len = self.endpoint_id.as_ref().map_or(0, String::len);
        let mut out = Vec::with_capacity(76 + eid_len + attrs.len());
        out.push(self.kind.code());
        match &self.endpoint_id {
            Some(eid) => {
                out.push(0x01);
                out.extend_from_slice(eid.as_bytes());
            }
            None => out.push(0x00),
        }
        out.extend_from_slice(self.root_pubkey.as_bytes());
        out.extend_from_slice(&self.expires_at.to_be_bytes());
        out.extend_from_slice(attrs.as_bytes());
        match &self.nonce {
            Some(nonce) => {
                out.push(0x01);
                out.extend_from_slice(nonce);
            }
            None => out.push(0x00),
        }
        out
    }

    /// Signs with the root key (see [`EnrollmentCredential::sign`] on `root_pubkey`).
    pub fn sign(&mut self, key: &RootSigningKey) {
        self.signature = key.sign(&self.signing_bytes());
    }

    pub fn signed(mut self, key: &RootSigningKey) -> ConsumerCredential {
        self.sign(key);
        self
    }

    pub fn verify(&self, key: &RootPublicKey) -> bool {
        key.verify(&self.signing_bytes(), &self.signature)
    }

    /// The file `aster trust sign --type policy|ott` writes (with its final
    /// newline): `type, root_pubkey, expires_at, attributes, endpoint_id,
    /// nonce, signature`, nulls for absent binding and nonce.
    pub fn to_file_json(&self) -> String {
        self.json(Layout::Indent2, "type") + "\n"
    }

    /// The `credential_json` string the reference client sends in its
    /// consumer admission request (`consumer_cred_to_json`).
    pub fn to_wire_json(&self) -> String {
        self.json(Layout::Compact, "credential_type")
    }

    fn json(&self, layout: Layout, type_key: &str) -> String {
        let root = self.root_pubkey.to_hex();
        let nonce = self.nonce.map(|n| hex::encode(&n));
        let sig = hex::encode(&self.signature);
        pyjson::object(
            &[
                (type_key, Value::Str(self.kind.as_str())),
                ("root_pubkey", Value::Str(&root)),
                ("expires_at", Value::U64(self.expires_at)),
                ("attributes", Value::Attributes(&self.attributes)),
                ("endpoint_id", Value::OptStr(self.endpoint_id.as_deref())),
                ("nonce", Value::OptStr(nonce.as_deref())),
                ("signature", Value::Str(&sig)),
            ],
            layout,
            true,
        )
    }

    /// Reads either JSON form. A missing type means `policy`; `producer` is
    /// refused ([`CredentialError::WrongKind`]).
    pub fn from_json(text: &str) -> Result<ConsumerCredential, CredentialError> {
        let raw = RawCredential::parse(text)?;
        match raw.type_name()? {
            None => raw.into_consumer(ConsumerKind::Policy),
            Some("producer") => Err(CredentialError::WrongKind {
                expected: "consumer",
                got: "producer".into(),
            }),
            Some(name) => match ConsumerKind::parse(name) {
                Some(kind) => raw.into_consumer(kind),
                None => Err(CredentialError::UnknownType(name.to_string())),
            },
        }
    }
}

impl Credential {
    /// Reads either JSON form of either credential, by its type.
    pub fn from_json(text: &str) -> Result<Credential, CredentialError> {
        let raw = RawCredential::parse(text)?;
        match raw.type_name()? {
            Some("producer") => raw.into_producer().map(Credential::Producer),
            None => raw
                .into_consumer(ConsumerKind::Policy)
                .map(Credential::Consumer),
            Some(name) => match ConsumerKind::parse(name) {
                Some(kind) => raw.into_consumer(kind).map(Credential::Consumer),
                None => Err(CredentialError::UnknownType(name.to_string())),
            },
        }
    }

    /// `producer`, `policy` or `ott`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Credential::Producer(_) => "producer",
            Credential::Consumer(c) => c.kind.as_str(),
        }
    }

    pub fn root_pubkey(&self) -> &RootPublicKey {
        match self {
            Credential::Producer(c) => &c.root_pubkey,
            Credential::Consumer(c) => &c.root_pubkey,
        }
    }

    pub fn expires_at(&self) -> u64 {
        match self {
            Credential::Producer(c) => c.expires_at,
            Credential::Consumer(c) => c.expires_at,
        }
    }

    pub fn attributes(&self) -> &Attributes {
        match self {
            Credential::Producer(c) => &c.attributes,
            Credential::Consumer(c) => &c.attributes,
        }
    }

    /// The bound EndpointId, if any (always present on a producer credential).
    pub fn endpoint_id(&self) -> Option<&str> {
        match self {
            Credential::Producer(c) => Some(&c.endpoint_id),
            Credential::Consumer(c) => c.endpoint_id.as_deref(),
        }
    }

    pub fn signature(&self) -> &[u8; SIGNATURE_LEN] {
        match self {
            Credential::Producer(c) => &c.signature,
            Credential::Consumer(c) => &c.signature,
        }
    }

    pub fn signing_bytes(&self) -> Vec<u8> {
        match self {
            Credential::Producer(c) => c.signing_bytes(),
            Credential::Consumer(c) => c.signing_bytes(),
        }
    }

    pub fn sign(&mut self, key: &RootSigningKey) {
        match self {
            Credential::Producer(c) => c.sign(key),
            Credential::Consumer(c) => c.sign(key),
        }
    }

    pub fn verify(&self, key: &RootPublicKey) -> bool {
        match self {
            Credential::Producer(c) => c.verify(key),
            Credential::Consumer(c) => c.verify(key),
        }
    }

    pub fn to_file_json(&self) -> String {
        match self {
            Credential::Producer(c) => c.to_file_json(),
            Credential::Consumer(c) => c.to_file_json(),
        }
    }

    pub fn to_wire_json(&self) -> String {
        match self {
            Credential::Producer(c) => c.to_wire_json(),
            Credential::Consumer(c) => c.to_wire_json(),
        }
    }
}

impl From<EnrollmentCredential> for Credential {
    fn from(c: EnrollmentCredential) -> Credential {
        Credential::Producer(c)
    }
}

impl From<ConsumerCredential> for Credential {
    fn from(c: ConsumerCredential) -> Credential {
        Credential::Consumer(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> RootSigningKey {
        RootSigningKey::from_seed(&[9; 32])
    }

    #[test]
    fn consumer_layout_by_hand() {
        let cred = ConsumerCredential::new(
            ConsumerKind::Ott,
            root().public_key(),
            0x0102,
            Attributes::new(),
        )
        .with_endpoint_id("ab")
        .with_nonce([5; 32]);
        let mut want = vec![1, 1, b'a', b'b'];
        want.extend_from_slice(root().public_key().as_bytes());
        want.extend_from_slice(&[0, 0, 0, 0, 0, 0, 1, 2]);
        want.extend_from_slice(b"{}");
        want.push(1);
        want.extend_from_slice(&[5; 32]);
        assert_eq!(cred.signing_bytes(), want);
    }

    #[test]
    fn parse_errors_are_typed() {
        let good = ConsumerCredential::new(
            ConsumerKind::Policy,
            root().public_key(),
            5,
            Attributes::new(),
        )
        .signed(&root());
        let text = good.to_wire_json();
        assert_eq!(ConsumerCredential::from_json(&text), Ok(good.clone()));
        assert_eq!(
            ConsumerCredential::from_json(&good.to_file_json()),
            Ok(good.clone())
        );
        let swap = |from: &str, to: &str| ConsumerCredential::from_json(&text.replace(from, to));
        assert_eq!(
            swap("\"policy\"", "\"bogus\""),
            Err(CredentialError::UnknownType("bogus".into()))
        );
        assert_eq!(
            swap("\"policy\"", "\"producer\"").unwrap_err(),
            CredentialError::WrongKind {
                expected: "consumer",
                got: "producer".into()
            }
        );
        assert_eq!(
            swap("\"endpoint_id\":null", "\"endpoint_id\":\"abc\""),
            Err(CredentialError::HexLength {
                field: "endpoint_id",
                expected: 64,
                got: 3
            })
        );
        assert_eq!(
            swap("\"nonce\":null", "\"nonce\":\"00\""),
            Err(CredentialError::HexLength {
                field: "nonce",
                expected: 64,
                got: 2
            })
        );
        assert_eq!(
            swap("\"expires_at\":5", "\"expires_at\":-5"),
            Err(CredentialError::WrongType {
                field: "expires_at",
                expected: "an integer from 0 to 2^64-1"
            })
        );
        assert_eq!(
            swap("\"expires_at\":5", "\"expires_at\":\"5\""),
            Err(CredentialError::WrongType {
                field: "expires_at",
                expected: "an integer from 0 to 2^64-1"
            })
        );
        let sig = hex::encode(&good.signature);
        assert_eq!(swap(&sig, ""), Err(CredentialError::MissingSignature));
        assert_eq!(
            swap(&sig, &sig[2..]),
            Err(CredentialError::HexLength {
                field: "signature",
                expected: 128,
                got: 126
            })
        );
        assert_eq!(
            swap(&sig, &format!("zz{}", &sig[2..])),
            Err(CredentialError::NotHex { field: "signature" })
        );
        assert!(matches!(
            ConsumerCredential::from_json("[1,2]"),
            Err(CredentialError::Malformed(_))
        ));
        assert!(
            matches!(ConsumerCredential::from_json("{\"attributes\":{\"a\":1}}"), Err(CredentialError::Malformed(m)) if m.contains("not a string"))
        );
        assert_eq!(
            ConsumerCredential::from_json("{}"),
            Err(CredentialError::MissingField("root_pubkey"))
        );
        // No type at all: policy, as the reference client's loader assumes.
        let untyped = text.replace("\"credential_type\":\"policy\",", "");
        assert_eq!(ConsumerCredential::from_json(&untyped), Ok(good));
    }
}
