//! A small service for registry tests: every producer answers with its
//! own name, so a test can see which one served a call.

use std::sync::atomic::{AtomicI64, Ordering};

use aster::{Status, WireType};

#[derive(Debug, Clone, Default, PartialEq, WireType)]
#[wire(tag = "who/WhoRequest")]
pub struct WhoRequest {
    pub caller: String,
}

#[derive(Debug, Clone, PartialEq, WireType)]
#[wire(tag = "who/WhoResponse")]
pub struct WhoResponse {
    pub server: String,
    pub calls: i64,
}

impl Default for WhoResponse {
    fn default() -> Self {
        WhoResponse {
            server: "nobody".into(),
            calls: -1,
        }
    }
}

#[aster::service(name = "Who", version = 3)]
pub trait Who {
    #[rpc(idempotent)]
    async fn whoami(&self, req: WhoRequest) -> Result<WhoResponse, Status>;
    #[rpc]
    async fn record(&self, req: WhoRequest) -> Result<WhoResponse, Status>;
}

pub struct WhoImpl {
    name: String,
    calls: AtomicI64,
}

impl WhoImpl {
    pub fn new(name: &str) -> WhoImpl {
        WhoImpl {
            name: name.into(),
            calls: Default::default(),
        }
    }
}

impl Who for WhoImpl {
    async fn whoami(&self, _req: WhoRequest) -> Result<WhoResponse, Status> {
        let calls = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(WhoResponse {
            server: self.name.clone(),
            calls,
        })
    }
    async fn record(&self, req: WhoRequest) -> Result<WhoResponse, Status> {
        self.whoami(req).await
    }
}
