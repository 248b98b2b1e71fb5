//! ServiceContract, MethodDef and CapabilityRequirement, with their G1
//! canonical layouts and the contract id.
//!
//! Spec: wire.md §5.4–5.5. G1's ServiceContract has 6 members (no
//! `producer_language`). The writer applies the ordering rules itself, as
//! G1's core does, so any construction order gives the same id:
//! - methods are sorted (stably) by the code points of NFC(name), but each
//!   name is written exactly as given — an NFD name stays NFD on the wire;
//! - serialization modes keep their given order;
//! - capability roles are NFC-normalised, written normalised and sorted by
//!   code point; duplicates are kept.

use super::canonical::{CanonicalError, CanonicalReader, CanonicalWriter};
use super::hash::{ContractId, TypeHash};
use super::kinds::{CapabilityKind, MethodPattern, ScopeKind};
use super::nfc::{cmp_nfc, nfc};
use super::typedef::read_hash;

/// A role check. G1 Python never puts one into a contract (§5.6): the
/// decorators' `requires=` does not change the contract id. It exists here
/// for vectors and for contracts built by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapabilityRequirement {
    pub kind: CapabilityKind,
    pub roles: Vec<String>,
}

/// One method of a service.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodDef {
    pub name: String,
    pub pattern: MethodPattern,
    /// Type hash of the request message (32 zero bytes when G1 cannot resolve it).
    pub request_type: TypeHash,
    pub response_type: TypeHash,
    pub idempotent: bool,
    /// The decorator's `timeout` in seconds; `0.0` when unset (§5.6).
    pub default_timeout: f64,
    pub requires: Option<CapabilityRequirement>,
}

/// The value whose canonical bytes are hashed into the contract id.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceContract {
    pub name: String,
    pub version: i32,
    pub methods: Vec<MethodDef>,
    /// Lowercase mode names in declaration order; G1 defaults to `["xlang"]`.
    pub serialization_modes: Vec<String>,
    pub scoped: ScopeKind,
    pub requires: Option<CapabilityRequirement>,
}

impl CapabilityRequirement {
    pub fn write(&self, w: &mut CanonicalWriter) {
        w.enum_value(self.kind.value());
        let mut roles: Vec<String> = self.roles.iter().map(|r| nfc(r)).collect();
        roles.sort();
        w.list(&roles, |w, r| w.string(r));
    }

    pub fn read(r: &mut CanonicalReader<'_>) -> Result<CapabilityRequirement, CanonicalError> {
        Ok(CapabilityRequirement {
            kind: CapabilityKind::read(r)?,
            roles: r.list(|r| r.string())?,
        })
    }
}

impl MethodDef {
    pub fn write(&self, w: &mut CanonicalWriter) {
        w.string(&self.name);
        w.enum_value(self.pattern.value());
        w.bytes(&self.request_type.0);
        w.bytes(&self.response_type.0);
        w.bool(self.idempotent);
        w.float64(self.default_timeout);
        w.optional(self.requires.as_ref(), |w, c| c.write(w));
    }

    pub fn read(r: &mut CanonicalReader<'_>) -> Result<MethodDef, CanonicalError> {
        Ok(MethodDef {
            name: r.string()?,
            pattern: MethodPattern::read(r)?,
            request_type: read_hash(r, "MethodDef.request_type")?,
            response_type: read_hash(r, "MethodDef.response_type")?,
            idempotent: r.bool()?,
            default_timeout: r.float64()?,
            requires: r.optional(CapabilityRequirement::read)?,
        })
    }

    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut w = CanonicalWriter::new();
        self.write(&mut w);
        w.into_bytes()
    }
}

impl ServiceContract {
    pub fn write(&self, w: &mut CanonicalWriter) {
        w.string(&self.name);
        w.zigzag_i32(self.version);
        let mut methods: Vec<&MethodDef> = self.methods.iter().collect();
        methods.sort_by(|a, b| cmp_nfc(&a.name, &b.name));
        w.list(&methods, |w, m| m.write(w));
        w.list(&self.serialization_modes, |w, m| w.string(m));
        w.enum_value(self.scoped.value());
        w.optional(self.requires.as_ref(), |w, c| c.write(w));
    }

    /// Reads one contract (lists in the order found) and stops after it.
    pub fn read(r: &mut CanonicalReader<'_>) -> Result<ServiceContract, CanonicalError> {
        Ok(ServiceContract {
            name: r.string()?,
            version: r.zigzag_i32()?,
            methods: r.list(MethodDef::read)?,
            serialization_modes: r.list(|r| r.string())?,
            scoped: ScopeKind::read(r)?,
            requires: r.optional(CapabilityRequirement::read)?,
        })
    }

    /// Decodes `contract.bin`-style bytes: exactly one contract, nothing
    /// after it. Verify them with [`ContractId::of`] on the input itself.
    pub fn decode(bytes: &[u8]) -> Result<ServiceContract, CanonicalError> {
        let mut r = CanonicalReader::new(bytes);
        let sc = ServiceContract::read(&mut r)?;
        r.finish()?;
        Ok(sc)
    }

    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut w = CanonicalWriter::new();
        self.write(&mut w);
        w.into_bytes()
    }

    /// BLAKE3 of [`ServiceContract::canonical_bytes`]; print it with `{}`
    /// for the lowercase hex form (§5.1 step 5).
    pub fn contract_id(&self) -> ContractId {
        ContractId::of(&self.canonical_bytes())
    }
}
