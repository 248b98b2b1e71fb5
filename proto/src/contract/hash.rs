//! The two digests of contract identity: type hashes and contract ids.
//!
//! Spec: wire.md §5.1 steps 4–6. Both are plain BLAKE3-256 of canonical
//! bytes: no key, no context string, no length prefix.

use std::fmt;

/// BLAKE3-256 of a TypeDef's canonical bytes; what a REF field and a
/// method's request/response slot carry (32 raw bytes on the wire).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TypeHash(pub [u8; 32]);

impl TypeHash {
    /// G1 writes 32 zero bytes wherever it cannot resolve a type (a string
    /// annotation, an enum or primitive root, a forward REF inside a cycle).
    pub const ZERO: TypeHash = TypeHash([0; 32]);

    /// The hash of canonical bytes.
    pub fn of(canonical: &[u8]) -> TypeHash {
        TypeHash(*blake3::hash(canonical).as_bytes())
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Parses 64 hex digits (either case).
    pub fn from_hex(s: &str) -> Option<TypeHash> {
        parse_hex32(s).map(TypeHash)
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        to_hex(&self.0)
    }
}

impl fmt::Debug for TypeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TypeHash({})", self.to_hex())
    }
}

impl fmt::Display for TypeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// BLAKE3-256 of a ServiceContract's canonical bytes. Its text form (the
/// one used in admission responses and registry keys, §5.8) is lowercase hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContractId(pub [u8; 32]);

impl ContractId {
    pub fn of(canonical: &[u8]) -> ContractId {
        ContractId(*blake3::hash(canonical).as_bytes())
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Parses 64 hex digits (either case).
    pub fn from_hex(s: &str) -> Option<ContractId> {
        parse_hex32(s).map(ContractId)
    }

    /// Lowercase hex, the form the reference prints and compares.
    pub fn to_hex(&self) -> String {
        to_hex(&self.0)
    }
}

impl fmt::Debug for ContractId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContractId({})", self.to_hex())
    }
}

impl fmt::Display for ContractId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// Decodes hex of any even length; `None` on odd length or a non-hex digit.
pub(crate) fn parse_hex(s: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let raw = s.as_bytes();
    if raw.len() % 2 != 0 {
        return None;
    }
    raw.chunks_exact(2)
        .map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?))
        .collect()
}

fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    parse_hex(s)?.try_into().ok()
}
