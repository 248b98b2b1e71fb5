//! The one-time-token nonce store (trust-registry.md §1.6).
//!
//! An OTT credential is admitted once: its 32-byte nonce is *consumed* as the
//! last admission check, and a second presentation finds it consumed. The
//! store is a trait so that the runtime can pick the backend: in memory
//! ([`MemoryNonceStore`], the reference's default, lost on restart and
//! per-node), a file ([`super::FileNonceStore`], survives restarts), or a
//! shared store later (the reference mentions iroh-docs as future work).
//!
//! The methods take `&mut self` / `&self` and do no locking: a store shared
//! between tasks must sit behind the caller's mutex, so that "check and mark"
//! stays one step (two concurrent admissions of one OTT must not both see it
//! unconsumed).

use std::collections::HashSet;

/// A nonce store that cannot answer. Admission treats this as a denial
/// (fail closed): an unreadable store must never turn into "not consumed".
#[derive(Debug, thiserror::Error)]
pub enum NonceStoreError {
    #[error("nonce store {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("nonce store {path} is corrupt: {detail}")]
    Corrupt { path: String, detail: String },
}

/// Single-use nonces (§1.6). Nonces are exactly 32 bytes by type; the
/// reference's runtime length check is the type here.
pub trait NonceStore {
    /// Marks `nonce` used. `Ok(true)` the first time, `Ok(false)` ever after.
    /// When it returns `Ok(true)` the consumption must already be as durable
    /// as the store promises (a persistent store has written it to disk).
    fn consume(&mut self, nonce: &[u8; 32]) -> Result<bool, NonceStoreError>;

    /// Whether `nonce` has been consumed.
    fn is_consumed(&self, nonce: &[u8; 32]) -> Result<bool, NonceStoreError>;
}

/// In-memory store: per process, forgotten on restart. This is what the
/// reference's `AsterServer` uses by default (defect T4 when relied on for
/// single use across restarts or nodes).
#[derive(Debug, Default, Clone)]
pub struct MemoryNonceStore {
    consumed: HashSet<[u8; 32]>,
}

impl MemoryNonceStore {
    pub fn new() -> MemoryNonceStore {
        MemoryNonceStore::default()
    }

    pub fn len(&self) -> usize {
        self.consumed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.consumed.is_empty()
    }
}

impl NonceStore for MemoryNonceStore {
    fn consume(&mut self, nonce: &[u8; 32]) -> Result<bool, NonceStoreError> {
        Ok(self.consumed.insert(*nonce))
    }

    fn is_consumed(&self, nonce: &[u8; 32]) -> Result<bool, NonceStoreError> {
        Ok(self.consumed.contains(nonce))
    }
}

impl<S: NonceStore + ?Sized> NonceStore for &mut S {
    fn consume(&mut self, nonce: &[u8; 32]) -> Result<bool, NonceStoreError> {
        (**self).consume(nonce)
    }

    fn is_consumed(&self, nonce: &[u8; 32]) -> Result<bool, NonceStoreError> {
        (**self).is_consumed(nonce)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_store_is_single_use() {
        let mut store = MemoryNonceStore::new();
        assert!(!store.is_consumed(&[1; 32]).unwrap());
        assert!(store.consume(&[1; 32]).unwrap());
        assert!(!store.consume(&[1; 32]).unwrap());
        assert!(store.is_consumed(&[1; 32]).unwrap());
        assert!(store.consume(&[2; 32]).unwrap());
        assert_eq!(store.len(), 2);
    }
}
