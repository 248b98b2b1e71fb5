//! Every call has a `tracing` span on each side, with its service, method,
//! peer, status and duration, once a subscriber is set.
//!
//! Its own test binary: the subscriber is process-wide.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aster::{Client, Server, Status, StatusCode, WireType};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::Registry;

#[derive(Debug, Clone, Default, PartialEq, WireType)]
#[wire(tag = "spans/Ping")]
pub struct Ping {
    pub text: String,
}

#[aster::service(name = "Spans", version = 1)]
pub trait Spans {
    #[rpc]
    async fn ping(&self, req: Ping) -> Result<Ping, Status>;
    #[rpc]
    async fn fail(&self, req: Ping) -> Result<Ping, Status>;
}

struct SpansImpl;

impl Spans for SpansImpl {
    async fn ping(&self, req: Ping) -> Result<Ping, Status> {
        Ok(req)
    }

    async fn fail(&self, _req: Ping) -> Result<Ping, Status> {
        Err(Status::new(StatusCode::NotFound, "nothing here"))
    }
}

/// A closed span: its name and every field it was given or recorded.
type Closed = (String, BTreeMap<String, String>);

/// Keeps the fields of each span and hands them over when it closes.
#[derive(Clone, Default)]
struct Collect {
    open: Arc<Mutex<BTreeMap<u64, Closed>>>,
    closed: Arc<Mutex<Vec<Closed>>>,
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(
            field.name().to_string(),
            format!("{value:?}").replace('"', ""),
        );
    }
}

impl<S: tracing::Subscriber> Layer<S> for Collect {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let name = attrs.metadata().name().to_string();
        self.open
            .lock()
            .unwrap()
            .insert(id.into_u64(), (name, fields));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        if let Some((_, fields)) = self.open.lock().unwrap().get_mut(&id.into_u64()) {
            values.record(&mut Fields(fields));
        }
    }

    fn on_close(&self, id: Id, _ctx: Context<'_, S>) {
        if let Some(span) = self.open.lock().unwrap().remove(&id.into_u64()) {
            self.closed.lock().unwrap().push(span);
        }
    }
}

impl Collect {
    /// The closed spans called `name` whose `method` is `method`.
    fn closed(&self, name: &str, method: &str) -> Vec<BTreeMap<String, String>> {
        self.closed
            .lock()
            .unwrap()
            .iter()
            .filter(|(n, f)| n == name && f.get("method").is_some_and(|m| m == method))
            .map(|(_, f)| f.clone())
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_call_has_a_span_on_both_sides() {
    let collect = Collect::default();
    tracing::subscriber::set_global_default(Registry::default().with(collect.clone()))
        .expect("first subscriber in this process");

    let server = Server::builder()
        .service(SpansServer::new(SpansImpl))
        .loopback()
        .bind()
        .await
        .expect("server binds");
    let client = Client::builder()
        .loopback()
        .connect(&server.ticket())
        .await
        .expect("client connects");
    let spans = SpansClient::new(client.clone());
    let reply = spans
        .ping(Ping { text: "hi".into() })
        .await
        .expect("ping answers");
    assert_eq!(reply.text, "hi");
    let err = spans.fail(Ping::default()).await.expect_err("fail fails");
    assert_eq!(err.code, StatusCode::NotFound);

    // The server's span closes when its stream task ends, just after the
    // client has its answer: wait for it, boundedly.
    let server_id = server.endpoint_id().to_string();
    let client_id = client.endpoint().id().to_string();
    for _ in 0..200 {
        if collect.closed("rpc", "fail").len() == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // Each side's span names the other side as its peer.
    let sides = [("rpc", &client_id), ("rpc.client", &server_id)];
    for (method, status) in [("ping", "OK"), ("fail", "NOT_FOUND")] {
        for (span, other) in sides {
            let closed = collect.closed(span, method);
            assert_eq!(closed.len(), 1, "one {span} span for {method}");
            let field = |name: &str| closed[0].get(name).cloned().unwrap_or_default();
            assert_eq!(field("service"), "Spans", "{span} service");
            assert_eq!(field("status"), status, "{span} status of {method}");
            let peer = field("peer");
            assert!(
                !peer.is_empty() && other.starts_with(&peer),
                "{span} names its peer: {peer:?}"
            );
            assert!(
                field("elapsed_us").parse::<u64>().is_ok(),
                "{span} span timed"
            );
        }
    }
}
