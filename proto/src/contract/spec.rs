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

use crate::xlang::{NamedType, TypeDesc, WireStruct};

use super::graph::TypeGraph;
use super::kinds::{MethodPattern, ScopeKind};
use super::service::{MethodDef, ServiceContract};

/// One method as the service declares it.
#[derive(Debug, Clone, Copy)]
pub struct MethodSpec<'a> {
    /// Written as given (not NFC-normalised); only the sort uses NFC.
    pub name: &'a str,
    pub pattern: MethodPattern,
    /// The request message type (for client and bidi streams: the element type).
    pub request: NamedType,
    /// The response message type (for server and bidi streams: the element type).
    pub response: NamedType,
    pub idempotent: bool,
    /// Seconds; `0.0` means "no timeout declared".
    pub timeout_seconds: f64,
}

/// The [`NamedType`] of a struct declared with `wire_struct!`.
pub const fn struct_type<T: WireStruct>() -> NamedType {
    NamedType { tag: T::TAG, describe: describe_struct::<T> }
}

fn describe_struct<T: WireStruct>() -> TypeDesc {
    TypeDesc::Struct(T::FIELDS)
}

impl<'a> MethodSpec<'a> {
    /// A method between two `wire_struct!` types, not idempotent, no timeout.
    pub const fn of<Req: WireStruct, Resp: WireStruct>(name: &'a str, pattern: MethodPattern) -> MethodSpec<'a> {
        MethodSpec::new(name, pattern, struct_type::<Req>(), struct_type::<Resp>())
    }

    /// A method that is not idempotent and declares no timeout.
    pub const fn new(name: &'a str, pattern: MethodPattern, request: NamedType, response: NamedType) -> MethodSpec<'a> {
        MethodSpec { name, pattern, request, response, idempotent: false, timeout_seconds: 0.0 }
    }

    pub const fn idempotent(mut self, idempotent: bool) -> MethodSpec<'a> {
        self.idempotent = idempotent;
        self
    }

    pub const fn timeout_seconds(mut self, seconds: f64) -> MethodSpec<'a> {
        self.timeout_seconds = seconds;
        self
    }
}

/// A service as declared: everything its contract is computed from.
#[derive(Debug, Clone, Copy)]
pub struct ServiceSpec<'a> {
    pub name: &'a str,
    pub version: i32,
    pub scope: ScopeKind,
    pub methods: &'a [MethodSpec<'a>],
    /// Lowercase mode names (`"xlang"`, `"json"`, ...); empty means `["xlang"]`.
    pub serialization_modes: &'a [&'a str],
}

impl ServiceSpec<'_> {
    /// Every method's request and response type, in declaration order.
    pub fn roots(&self) -> Vec<NamedType> {
        self.methods.iter().flat_map(|m| [m.request, m.response]).collect()
    }

    /// The type graph of all methods, with our default names.
    pub fn type_graph(&self) -> TypeGraph {
        TypeGraph::build(&self.roots())
    }

    /// The contract, with type hashes from [`ServiceSpec::type_graph`].
    pub fn contract(&self) -> ServiceContract {
        self.contract_in(&self.type_graph())
    }

    /// The contract with type hashes taken from `types` (e.g. a graph built
    /// with [`TypeGraph::build_named`]).
    pub fn contract_in(&self, types: &TypeGraph) -> ServiceContract {
        let methods = self
            .methods
            .iter()
            .map(|m| MethodDef {
                name: m.name.to_owned(),
                pattern: m.pattern,
                request_type: types.hash_of(&m.request),
                response_type: types.hash_of(&m.response),
                idempotent: m.idempotent,
                default_timeout: m.timeout_seconds,
                requires: None,
            })
            .collect();
        let serialization_modes = if self.serialization_modes.is_empty() {
            vec!["xlang".to_owned()]
        } else {
            self.serialization_modes.iter().map(|m| (*m).to_owned()).collect()
        };
        ServiceContract {
            name: self.name.to_owned(),
            version: self.version,
            methods,
            serialization_modes,
            scoped: self.scope,
            requires: None,
        }
    }
}

impl ServiceContract {
    /// Shorthand for [`ServiceSpec::contract`].
    pub fn from_parts(
        name: &str,
        version: i32,
        scope: ScopeKind,
        methods: &[MethodSpec<'_>],
        serialization_modes: &[&str],
    ) -> ServiceContract {
        ServiceSpec { name, version, scope, methods, serialization_modes }.contract()
    }
}
