//! Services described in Rust, turned into the contract G1 would compute.
//!
//! Spec: wire.md §5.6 (what `ServiceContract.from_service_info` feeds in):
//! - modes are lowercase names in declaration order, `["xlang"]` when none
//!   are declared;
//! - `default_timeout` is the method timeout in seconds, `0.0` when unset;
//! - `requires` is never written, neither on the service nor on methods:
//!   G1 Python never puts capability requirements into a contract, so they
//!   never change the id. Build a [`ServiceContract`] by hand to get one.
//! - request/response slots hold the type hash from the graph of all
//!   methods' types; a type that is not a struct (an enum) gets 32 zero bytes.

use crate::call::{Pattern, Scope};
use crate::service::ServiceDescriptor;
use crate::xlang::{NamedType, TypeDesc, WireStruct};

use super::graph::TypeGraph;
use super::hash::ContractId;
use super::kinds::{MethodPattern, ScopeKind};
use super::service::{MethodDef, ServiceContract};

/// The [`NamedType`] of a struct declared with `wire_struct!`.
pub const fn struct_type<T: WireStruct>() -> NamedType {
    NamedType {
        tag: T::TAG,
        describe: describe_struct::<T>,
        type_info: Some(T::type_info),
    }
}

fn describe_struct<T: WireStruct>() -> TypeDesc {
    TypeDesc::Struct(T::FIELDS)
}

impl From<Pattern> for MethodPattern {
    fn from(p: Pattern) -> MethodPattern {
        match p {
            Pattern::Unary => MethodPattern::Unary,
            Pattern::ServerStream => MethodPattern::ServerStream,
            Pattern::ClientStream => MethodPattern::ClientStream,
            Pattern::Bidi => MethodPattern::BidiStream,
        }
    }
}

impl From<Scope> for ScopeKind {
    fn from(s: Scope) -> ScopeKind {
        match s {
            Scope::Shared => ScopeKind::Shared,
            Scope::Session => ScopeKind::Session,
        }
    }
}

impl ServiceDescriptor {
    /// Every method's request and response type, in declaration order.
    pub fn roots(&self) -> Vec<NamedType> {
        self.methods
            .iter()
            .flat_map(|m| [m.request, m.response])
            .collect()
    }

    /// The type graph of all methods, with our default names.
    pub fn type_graph(&self) -> TypeGraph {
        TypeGraph::build(&self.roots())
    }

    /// The contract, with type hashes from [`ServiceDescriptor::type_graph`].
    pub fn contract(&self) -> ServiceContract {
        self.contract_in(&self.type_graph())
    }

    /// `contract_id` = BLAKE3 of the canonical contract (spec §6).
    pub fn contract_id(&self) -> ContractId {
        self.contract().contract_id()
    }

    /// The contract with type hashes taken from `types` (e.g. a graph built
    /// with [`TypeGraph::build_named`]).
    pub fn contract_in(&self, types: &TypeGraph) -> ServiceContract {
        let methods = self
            .methods
            .iter()
            .map(|m| MethodDef {
                name: m.name.to_owned(),
                pattern: m.pattern.into(),
                request_type: types.hash_of(&m.request),
                response_type: types.hash_of(&m.response),
                idempotent: m.idempotent,
                default_timeout: m.timeout_secs,
                requires: None,
            })
            .collect();
        let serialization_modes = self
            .effective_modes()
            .iter()
            .map(|m| m.name().to_owned())
            .collect();
        ServiceContract {
            name: self.name.to_owned(),
            version: self.version,
            methods,
            serialization_modes,
            scoped: self.scope.into(),
            requires: None,
        }
    }
}
