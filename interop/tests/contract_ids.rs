//! Contract identity against the live reference: services defined here in
//! Rust must get the contract ids aster-rpc 0.1.2 computes for their Python
//! twins in `interop/python/contract_ids.py` (computed when the test runs,
//! never pasted). Together with `python_client.rs` (Echo, Tally,
//! MissionControl, AgentSession) this covers sized ints, nested and
//! optional types, bytes, lists, maps, service- and method-level
//! `requires` (ROLE, ANY_OF, ALL_OF — which G1 does not hash, so the ids
//! must match whatever they say), non-ASCII service and method names,
//! several modes, timeouts, idempotency, session scope and every pattern.
//!
//! Recursive types are not here: a 0.1.2 `@service` cannot use one (its tag
//! validation recurses without end); their identity is checked against the
//! reference's own pipeline in `conformance/vectors/contract-identity.json`.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use aster::proto::service::ServiceDescriptor;
use aster::{RequestStream, ResponseStream, Status, WireType};

#[derive(Debug, Clone, Default, PartialEq, WireType)]
#[wire(tag = "ids/Probe")]
pub struct Probe {
    pub text: String,
    pub n: i64,
    pub small: i32,
    pub ratio: f64,
    pub ok: bool,
    pub blob: Vec<u8>,
    pub tags: Vec<String>,
    pub labels: HashMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, WireType)]
#[wire(tag = "ids/Reply")]
pub struct Reply {
    pub text: String,
    pub count: i32,
}

#[derive(Debug, Clone, Default, PartialEq, WireType)]
#[wire(tag = "ids/Envelope")]
pub struct Envelope {
    pub probe: Probe,
    pub replies: Vec<Reply>,
    pub note: Option<String>,
}

#[aster::service(name = "Counter", version = 1)]
pub trait Counter {
    #[server_stream]
    async fn count_up(&self, req: Reply) -> Result<ResponseStream<Reply>, Status>;
}

#[aster::service(name = "Guarded", version = 3, requires = any_of("member"))]
pub trait Guarded {
    #[rpc(requires = "reader")]
    async fn read(&self, req: Probe) -> Result<Reply, Status>;
    #[rpc(requires = any_of("writer", "admin"))]
    async fn write(&self, req: Probe) -> Result<Reply, Status>;
    #[server_stream(requires = all_of("ops", "auditor", "admin"))]
    async fn audit(&self, req: Probe) -> Result<ResponseStream<Reply>, Status>;
    #[rpc]
    async fn open(&self, req: Probe) -> Result<Reply, Status>;
}

#[aster::service(name = "Café", version = 1)]
pub trait Cafe {
    #[rpc(name = "grüßen")]
    async fn greet(&self, req: Probe) -> Result<Reply, Status>;
}

#[aster::service(name = "Books", version = 7, modes = ["xlang", "json"])]
pub trait Books {
    #[rpc(timeout = 2.5, idempotent)]
    async fn balance(&self, req: Probe) -> Result<Envelope, Status>;
    #[client_stream]
    async fn post(&self, reqs: RequestStream<Envelope>) -> Result<Reply, Status>;
}

#[aster::service(name = "Chat", version = 2, scope = "session")]
pub trait Chat {
    #[bidi_stream]
    async fn talk(&self, reqs: RequestStream<Probe>) -> Result<ResponseStream<Envelope>, Status>;
    #[rpc]
    async fn hello(&self, req: Probe) -> Result<Reply, Status>;
}

fn rust_services() -> Vec<&'static ServiceDescriptor> {
    vec![
        CounterClient::<aster::Client>::descriptor(),
        GuardedClient::<aster::Client>::descriptor(),
        CafeClient::<aster::Client>::descriptor(),
        BooksClient::<aster::Client>::descriptor(),
        ChatClient::<aster::Client>::descriptor(),
    ]
}

#[tokio::test]
async fn rust_services_get_the_contract_ids_the_reference_computes() {
    let python = common::run_json(
        "contract_ids.py",
        common::python_command("contract_ids.py"),
        Duration::from_secs(120),
    )
    .await;
    let python = python.as_object().expect("a JSON object of contract ids");
    let services = rust_services();
    assert_eq!(
        python.len(),
        services.len(),
        "the Python side defines the same services: {python:?}"
    );
    for d in services {
        let theirs = python
            .get(d.name)
            .and_then(|v| v.as_str())
            .unwrap_or_else(|| panic!("{} missing: {python:?}", d.name));
        assert_eq!(d.contract_id().to_hex(), theirs, "{}: contract id", d.name);
    }
}

#[test]
fn requirements_are_declared_even_though_g1_does_not_hash_them() {
    // The ids above match whatever `requires` says; make sure the Rust
    // side really declares them (Gates 2 and 3 read these).
    let guarded = GuardedClient::<aster::Client>::descriptor();
    assert!(guarded.requires.is_some(), "service-level requires");
    let by_name = |n: &str| {
        guarded
            .methods
            .iter()
            .find(|m| m.name == n)
            .expect("method")
    };
    assert!(by_name("read").requires.is_some());
    assert!(by_name("write").requires.is_some());
    assert!(by_name("audit").requires.is_some());
    assert!(by_name("open").requires.is_none());
}
