//! Contract identity: the canonical bytes of a service's description and the
//! BLAKE3 id computed from them, byte-compatible with aster-rpc 0.1.2 (G1).
//!
//! Spec: wire.md §5 (pipeline §5.1, primitives §5.2, numbers §5.3, layouts
//! §5.4, normalisation §5.5, what Python feeds in §5.6) and the vectors of
//! §9.3 and `conformance/vectors/contract-identity.json`.
//!
//! The pipeline, and the module holding each step:
//!
//! 1. [`graph`]: walk the named structs reachable from the methods'
//!    request/response types, cut cycles, and build one [`TypeDef`] per
//!    struct ([`field_mapping`] says how each Rust field type maps, following
//!    the Python binding), hashing leaves first ([`TypeHash`]).
//! 2. [`spec`]: a [`crate::service::ServiceDescriptor`] (name, version,
//!    scope, methods, modes) becomes a [`ServiceContract`] whose methods
//!    carry those hashes.
//! 3. [`service`] / [`typedef`]: the G1 canonical layouts, written with
//!    [`canonical`]'s primitives; [`ServiceContract::contract_id`] is the
//!    BLAKE3 of those bytes ([`ContractId`], lowercase hex as text).
//!
//! Everything here is pure: no I/O, clock or randomness, and the bounded
//! [`CanonicalReader`] never panics on any input.
//!
//! G1 leaks Python module paths into recursive types; our rule for those
//! cases (names are wire FQNs, `"ns.Name"`) and exactly when a Rust contract
//! id equals the Python one are in the [`graph`] module doc.
//!
//! ```
//! use aster_proto::call::{Pattern, Scope};
//! use aster_proto::service::{MethodDescriptor, ServiceDescriptor};
//! use aster_proto::wire_struct;
//!
//! #[derive(Default)]
//! struct EchoRequest { message: String }
//! wire_struct!(EchoRequest, "echo/EchoRequest", { message: String => "message" });
//! #[derive(Default)]
//! struct EchoResponse { reply: String }
//! wire_struct!(EchoResponse, "echo/EchoResponse", { reply: String => "reply" });
//!
//! const METHODS: &[MethodDescriptor] = &[MethodDescriptor::of::<EchoRequest, EchoResponse>("echo", Pattern::Unary)];
//! let contract = ServiceDescriptor::new("Echo", 1, Scope::Shared, METHODS).contract();
//! // The id aster-rpc 0.1.2 computes for the same service (wire.md §9.3).
//! assert_eq!(
//!     contract.contract_id().to_string(),
//!     "f7870d540a39beaddeee55e11c730e3a97e4db110f1062afd8130a6071e98f7b"
//! );
//! ```

pub mod bundle;
pub mod canonical;
pub mod field_mapping;
pub mod graph;
pub mod hash;
pub mod kinds;
pub mod manifest;
pub mod nfc;
pub mod schema;
pub mod service;
pub mod spec;
pub mod typedef;
pub mod vectors;

pub use bundle::{BundleError, ContractBundle};
pub use canonical::{CanonicalError, CanonicalReader, CanonicalWriter};
pub use graph::{ResolvedType, TypeGraph, split_tag, type_graph, wire_fqn};
pub use hash::{ContractId, TypeHash};
pub use kinds::{CapabilityKind, ContainerKind, MethodPattern, ScopeKind, TypeDefKind, TypeKind};
pub use schema::{
    ContractSchema, JsonValueError, MessageError, MethodLookupError, MethodSchema,
    SchemaBuildError, TypeHints,
};
pub use service::{CapabilityRequirement, MethodDef, ServiceContract};
pub use spec::struct_type;
pub use typedef::{EnumValueDef, FieldDef, TypeDef, UnionVariantDef};
pub use vectors::{check_golden, check_type_vector};
