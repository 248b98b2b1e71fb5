//! Static descriptions of services, as the `#[aster::service]` macro emits
//! them: everything the protocol needs to know about a service without its
//! code — routing (name, version, scope, methods and patterns), serialization
//! modes, authorization requirements, and the message types from which the
//! contract identity and the manifest are computed.

use crate::call::{MethodSpec, Pattern, Scope, ServiceSpec};
use crate::codec::SerializationMode;
use crate::contract::struct_type;
use crate::xlang::{NamedType, WireStruct};

/// A capability requirement on a service or method (spec: trust, Gate 2/3).
/// Roles come from the caller's admitted `aster.role` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    /// The caller must hold this role.
    Role(&'static str),
    /// The caller must hold at least one of these roles.
    AnyOf(&'static [&'static str]),
    /// The caller must hold all of these roles.
    AllOf(&'static [&'static str]),
}

impl Requirement {
    /// Whether a caller with `roles` satisfies the requirement. An empty
    /// role list in the requirement is satisfied by anyone (the reference's rule).
    pub fn allows(&self, roles: &[&str]) -> bool {
        match self {
            Requirement::Role(r) => r.is_empty() || roles.contains(r),
            Requirement::AnyOf(rs) => rs.is_empty() || rs.iter().any(|r| roles.contains(r)),
            Requirement::AllOf(rs) => rs.iter().all(|r| roles.contains(r)),
        }
    }

    /// The roles named, in declaration order.
    pub fn roles(&self) -> Vec<&'static str> {
        match self {
            Requirement::Role(r) => vec![r],
            Requirement::AnyOf(rs) | Requirement::AllOf(rs) => rs.to_vec(),
        }
    }
}

/// One method of a service.
#[derive(Debug, Clone, Copy)]
pub struct MethodDescriptor {
    /// The name on the wire (`getStatus`).
    pub name: &'static str,
    pub pattern: Pattern,
    pub request: NamedType,
    pub response: NamedType,
    pub idempotent: bool,
    /// Default timeout in seconds (0 = none). Enters the contract identity.
    pub timeout_secs: f64,
    pub requires: Option<Requirement>,
    /// Documentation (manifest `description`).
    pub doc: &'static str,
}

/// A service.
#[derive(Debug, Clone, Copy)]
pub struct ServiceDescriptor {
    pub name: &'static str,
    pub version: i32,
    pub scope: Scope,
    /// Declared modes, in order; JSON is accepted in addition, always.
    pub modes: &'static [SerializationMode],
    pub requires: Option<Requirement>,
    pub methods: &'static [MethodDescriptor],
    pub doc: &'static str,
}

impl MethodDescriptor {
    /// A method between two wire structs; not idempotent, no timeout, no
    /// requirement.
    pub const fn of<Req: WireStruct, Resp: WireStruct>(
        name: &'static str,
        pattern: Pattern,
    ) -> MethodDescriptor {
        MethodDescriptor::new(name, pattern, struct_type::<Req>(), struct_type::<Resp>())
    }

    pub const fn new(
        name: &'static str,
        pattern: Pattern,
        request: NamedType,
        response: NamedType,
    ) -> MethodDescriptor {
        MethodDescriptor {
            name,
            pattern,
            request,
            response,
            idempotent: false,
            timeout_secs: 0.0,
            requires: None,
            doc: "",
        }
    }

    pub const fn idempotent(mut self, idempotent: bool) -> MethodDescriptor {
        self.idempotent = idempotent;
        self
    }

    pub const fn timeout_secs(mut self, seconds: f64) -> MethodDescriptor {
        self.timeout_secs = seconds;
        self
    }

    pub const fn requires(mut self, requirement: Requirement) -> MethodDescriptor {
        self.requires = Some(requirement);
        self
    }
}

impl ServiceDescriptor {
    /// A service with no declared modes (XLANG), no requirement.
    pub const fn new(
        name: &'static str,
        version: i32,
        scope: Scope,
        methods: &'static [MethodDescriptor],
    ) -> ServiceDescriptor {
        ServiceDescriptor {
            name,
            version,
            scope,
            modes: &[],
            requires: None,
            methods,
            doc: "",
        }
    }

    pub const fn modes(mut self, modes: &'static [SerializationMode]) -> ServiceDescriptor {
        self.modes = modes;
        self
    }

    pub const fn requires(mut self, requirement: Requirement) -> ServiceDescriptor {
        self.requires = Some(requirement);
        self
    }

    /// The declared modes; none declared means XLANG (the reference's default).
    pub fn effective_modes(&self) -> &'static [SerializationMode] {
        if self.modes.is_empty() {
            &[SerializationMode::Xlang]
        } else {
            self.modes
        }
    }

    /// The routing view used by [`crate::call::ServiceTable`].
    pub fn spec(&self) -> ServiceSpec {
        ServiceSpec {
            name: self.name.to_string(),
            version: i64::from(self.version),
            scope: self.scope,
            modes: self.effective_modes().to_vec(),
            methods: self
                .methods
                .iter()
                .map(|m| MethodSpec {
                    name: m.name.to_string(),
                    pattern: m.pattern,
                })
                .collect(),
        }
    }

    pub fn method(&self, name: &str) -> Option<(usize, &MethodDescriptor)> {
        self.methods
            .iter()
            .enumerate()
            .find(|(_, m)| m.name == name)
    }

    /// The mode a client uses by default: XLANG when declared, else the
    /// first declared mode (a JSON-only service gets JSON).
    pub fn default_mode(&self) -> SerializationMode {
        let modes = self.effective_modes();
        if modes.contains(&SerializationMode::Xlang) {
            SerializationMode::Xlang
        } else {
            modes[0]
        }
    }

    /// `"shared"` or `"session"`, as in manifests and admission summaries.
    pub fn scope_name(&self) -> &'static str {
        match self.scope {
            Scope::Shared => "shared",
            Scope::Session => "session",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirement_rules() {
        assert!(Requirement::Role("ops.status").allows(&["ops.status", "x"]));
        assert!(!Requirement::Role("ops.admin").allows(&["ops.status"]));
        assert!(Requirement::AnyOf(&["a", "b"]).allows(&["b"]));
        assert!(!Requirement::AnyOf(&["a", "b"]).allows(&["c"]));
        assert!(Requirement::AnyOf(&[]).allows(&[]));
        assert!(Requirement::AllOf(&["a", "b"]).allows(&["b", "a"]));
        assert!(!Requirement::AllOf(&["a", "b"]).allows(&["a"]));
        assert!(Requirement::AllOf(&[]).allows(&[]));
    }
}
