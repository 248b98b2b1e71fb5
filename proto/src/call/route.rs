//! The server's table of services and methods, and the reference's routing
//! order with its exact errors (spec §3.5, dispatch steps 3–8).

use std::collections::HashMap;

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
#[derive(Debug, Clone, Default)]
pub struct ServiceTable {
    services: Vec<ServiceSpec>,
    by_key: HashMap<(String, i64), usize>,
    versions: HashMap<String, Vec<usize>>,
    methods: Vec<HashMap<String, usize>>,
}

impl ServiceTable {
    pub fn new(services: Vec<ServiceSpec>) -> Result<ServiceTable, RouteError> {
        let mut table = ServiceTable::default();
        for spec in services {
            let idx = table.services.len();
            let key = (spec.name.clone(), spec.version);
            if table.by_key.insert(key, idx).is_some() {
                return Err(RouteError::DuplicateService {
                    name: spec.name,
                    version: spec.version,
                });
            }
            let mut methods = HashMap::new();
            for (i, m) in spec.methods.iter().enumerate() {
                if methods.insert(m.name.clone(), i).is_some() {
                    return Err(RouteError::DuplicateMethod {
                        service: spec.name.clone(),
                        method: m.name.clone(),
                    });
                }
            }
            table
                .versions
                .entry(spec.name.clone())
                .or_default()
                .push(idx);
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
        if let Some(&i) = self.by_key.get(&(name.to_string(), version)) {
            return Ok(i);
        }
        if version == 1 {
            if let Some([only]) = self.versions.get(name).map(Vec::as_slice) {
                return Ok(*only);
            }
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
