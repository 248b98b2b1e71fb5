//! The server's table of services and methods, and the reference's routing
//! order with its exact errors (spec §3.5, dispatch steps 3–8).

use rustc_hash::FxHashMap;

use super::Pattern;
use crate::codec::SerializationMode;
use crate::status::Status;

/// Service lifetime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// One instance serves every caller; one stream per call.
    Shared,
    /// One instance per session stream; calls go over that stream.
    Session,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodSpec {
    pub name: String,
    pub pattern: Pattern,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSpec {
    pub name: String,
    pub version: i64,
    pub scope: Scope,
    /// Declared modes; JSON is accepted in addition, always.
    pub modes: Vec<SerializationMode>,
    pub methods: Vec<MethodSpec>,
}

/// Where a call goes: indices into the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Route {
    pub service: usize,
    pub method: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("service `{name}` version {version} is registered twice")]
    DuplicateService { name: String, version: i64 },
    #[error("method `{service}.{method}` is registered twice")]
    DuplicateMethod { service: String, method: String },
}

/// Immutable once built; shared by every stream of a server.
///
/// Looked up on every call by names from the wire, so the maps are keyed by
/// `str` (no allocation per lookup) and use Fx hashing: their key sets are
/// the server's own services and methods, fixed at start, so a peer's
/// choice of names cannot grow them or crowd a bucket.
#[derive(Debug, Clone, Default)]
pub struct ServiceTable {
    services: Vec<ServiceSpec>,
    /// Service name → (version, index) of each registration.
    by_name: FxHashMap<String, Vec<(i64, usize)>>,
    methods: Vec<FxHashMap<String, usize>>,
}

impl ServiceTable {
    pub fn new(services: Vec<ServiceSpec>) -> Result<ServiceTable, RouteError> {
        let mut table = ServiceTable::default();
        for spec in services {
            let idx = table.services.len();
            let versions = table.by_name.entry(spec.name.clone()).or_default();
            if versions.iter().any(|&(v, _)| v == spec.version) {
                return Err(RouteError::DuplicateService {
                    name: spec.name,
                    version: spec.version,
                });
            }
            versions.push((spec.version, idx));
            let mut methods = FxHashMap::default();
            for (i, m) in spec.methods.iter().enumerate() {
                if methods.insert(m.name.clone(), i).is_some() {
                    return Err(RouteError::DuplicateMethod {
                        service: spec.name.clone(),
                        method: m.name.clone(),
                    });
                }
            }
            table.methods.push(methods);
            table.services.push(spec);
        }
        Ok(table)
    }

    pub fn services(&self) -> &[ServiceSpec] {
        &self.services
    }

    pub fn service(&self, index: usize) -> Option<&ServiceSpec> {
        self.services.get(index)
    }

    pub fn method(&self, route: Route) -> Option<&MethodSpec> {
        self.services.get(route.service)?.methods.get(route.method)
    }

    /// Finds a service by exact (name, version). The reference's clients send
    /// version 1 for every shared call whatever the service's version (spec
    /// §3.2), so a request for version 1 of a name registered under exactly
    /// one other version goes to that version (the reference answers
    /// NOT_FOUND there; this is a deliberate improvement).
    pub fn find_service(&self, name: &str, version: i64) -> Result<usize, Status> {
        let registered = self.by_name.get(name).map_or(&[][..], Vec::as_slice);
        if let Some(&(_, i)) = registered.iter().find(|&&(v, _)| v == version) {
            return Ok(i);
        }
        if let ([(_, only)], 1) = (registered, version) {
            return Ok(*only);
        }
        Err(Status::not_found(format!(
            "Service '{name}' v{version} not found"
        )))
    }

    /// Looks up a method of a service.
    pub fn find_method(&self, service: usize, method: &str) -> Option<usize> {
        self.methods.get(service)?.get(method).copied()
    }

    /// Whether `mode` is accepted by the service (its modes plus JSON).
    pub fn accepts_mode(&self, service: usize, mode: SerializationMode) -> bool {
        mode.is_json()
            || self
                .services
                .get(service)
                .is_some_and(|s| s.modes.contains(&mode))
    }
}
