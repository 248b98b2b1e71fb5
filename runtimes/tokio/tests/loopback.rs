//! Server and client over real QUIC on 127.0.0.1: every pattern, sessions,
//! errors, deadlines, cancellation, both modes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use aster::proto::codec::SerializationMode;
use aster::{
    CallContext, CallOptions, Client, RequestStream, ResponseStream, Server, SessionContext,
    Status, StatusCode, WireType,
};
use futures_util::StreamExt;

#[derive(Debug, Clone, Default, PartialEq, WireType)]
#[wire(tag = "echo/EchoRequest")]
pub struct EchoRequest {
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, WireType)]
#[wire(tag = "echo/EchoResponse")]
pub struct EchoResponse {
    pub reply: String,
}

#[aster::service(name = "Echo", version = 1)]
pub trait Echo {
    #[rpc]
    async fn echo(&self, ctx: CallContext, req: EchoRequest) -> Result<EchoResponse, Status>;
    #[server_stream]
    async fn spell(&self, req: EchoRequest) -> Result<ResponseStream<EchoResponse>, Status>;
    #[client_stream]
    async fn join(&self, reqs: RequestStream<EchoRequest>) -> Result<EchoResponse, Status>;
    #[bidi_stream]
    async fn chat(
        &self,
        reqs: RequestStream<EchoRequest>,
    ) -> Result<ResponseStream<EchoResponse>, Status>;
    #[rpc]
    async fn slow(&self, req: EchoRequest) -> Result<EchoResponse, Status>;
    #[client_stream]
    async fn count(&self, reqs: RequestStream<EchoRequest>) -> Result<EchoResponse, Status>;
    /// An endless stream of 1 KiB messages, ready as fast as they are taken.
    #[server_stream]
    async fn flood(&self, req: EchoRequest) -> Result<ResponseStream<EchoResponse>, Status>;
}

#[derive(Default)]
struct EchoImpl {
    slow_started: Arc<AtomicUsize>,
    slow_dropped: Arc<AtomicUsize>,
    flood_produced: Arc<AtomicUsize>,
    flood_dropped: Arc<AtomicUsize>,
}

struct DropFlag(Arc<AtomicUsize>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl Echo for EchoImpl {
    async fn echo(&self, ctx: CallContext, req: EchoRequest) -> Result<EchoResponse, Status> {
        match req.message.as_str() {
            "fail" => Err(Status::permission_denied("nope")),
            "meta" => Ok(EchoResponse {
                reply: ctx.metadata_value("k").unwrap_or("-").to_string(),
            }),
            _ => Ok(EchoResponse { reply: req.message }),
        }
    }
    async fn spell(&self, req: EchoRequest) -> Result<ResponseStream<EchoResponse>, Status> {
        let items: Vec<_> = req
            .message
            .chars()
            .map(|c| {
                Ok(EchoResponse {
                    reply: c.to_string(),
                })
            })
            .collect();
        Ok(Box::pin(futures_util::stream::iter(items)))
    }
    async fn join(&self, mut reqs: RequestStream<EchoRequest>) -> Result<EchoResponse, Status> {
        let mut parts = vec![];
        while let Some(r) = reqs.next().await {
            parts.push(r?.message);
        }
        Ok(EchoResponse {
            reply: parts.join("|"),
        })
    }
    async fn chat(
        &self,
        reqs: RequestStream<EchoRequest>,
    ) -> Result<ResponseStream<EchoResponse>, Status> {
        Ok(Box::pin(reqs.map(|r| {
            r.map(|r| EchoResponse {
                reply: format!("re:{}", r.message),
            })
        })))
    }
    async fn count(&self, mut reqs: RequestStream<EchoRequest>) -> Result<EchoResponse, Status> {
        // A slow consumer: the client must be held back, and nothing lost.
        let mut n = 0u64;
        while let Some(r) = reqs.next().await {
            r?;
            n += 1;
            if n % 500 == 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
        Ok(EchoResponse {
            reply: n.to_string(),
        })
    }
    async fn flood(&self, _req: EchoRequest) -> Result<ResponseStream<EchoResponse>, Status> {
        let produced = self.flood_produced.clone();
        let flag = DropFlag(self.flood_dropped.clone());
        let reply = "f".repeat(1024);
        Ok(Box::pin(futures_util::stream::repeat_with(move || {
            let _alive = &flag;
            produced.fetch_add(1, Ordering::SeqCst);
            Ok(EchoResponse {
                reply: reply.clone(),
            })
        })))
    }
    async fn slow(&self, req: EchoRequest) -> Result<EchoResponse, Status> {
        self.slow_started.fetch_add(1, Ordering::SeqCst);
        let _flag = DropFlag(self.slow_dropped.clone());
        tokio::time::sleep(Duration::from_secs(30)).await;
        Ok(EchoResponse { reply: req.message })
    }
}

#[aster::service(name = "Tally", version = 1, scope = "session")]
pub trait Tally {
    #[rpc]
    async fn add(&self, req: EchoRequest) -> Result<EchoResponse, Status>;
    #[bidi_stream]
    async fn running(
        &self,
        reqs: RequestStream<EchoRequest>,
    ) -> Result<ResponseStream<EchoResponse>, Status>;
}

struct TallyImpl {
    total: Arc<std::sync::Mutex<i64>>,
    closed: Arc<AtomicUsize>,
}

impl Tally for TallyImpl {
    async fn add(&self, req: EchoRequest) -> Result<EchoResponse, Status> {
        let n: i64 = req
            .message
            .parse()
            .map_err(|_| Status::invalid_argument("not a number"))?;
        let mut t = self.total.lock().unwrap();
        *t += n;
        Ok(EchoResponse {
            reply: t.to_string(),
        })
    }
    async fn running(
        &self,
        reqs: RequestStream<EchoRequest>,
    ) -> Result<ResponseStream<EchoResponse>, Status> {
        let total = self.total.clone();
        Ok(Box::pin(reqs.map(move |r| {
            let n: i64 = r?
                .message
                .parse()
                .map_err(|_| Status::invalid_argument("not a number"))?;
            let mut t = total.lock().unwrap();
            *t += n;
            Ok(EchoResponse {
                reply: t.to_string(),
            })
        })))
    }
    async fn on_session_close(&self) {
        self.closed.fetch_add(1, Ordering::SeqCst);
    }
}

struct Fixture {
    server: Server,
    client: Client,
    slow_dropped: Arc<AtomicUsize>,
    slow_started: Arc<AtomicUsize>,
    flood_produced: Arc<AtomicUsize>,
    flood_dropped: Arc<AtomicUsize>,
    closed: Arc<AtomicUsize>,
}

async fn fixture() -> Fixture {
    let echo = EchoImpl::default();
    let (slow_started, slow_dropped) = (echo.slow_started.clone(), echo.slow_dropped.clone());
    let (flood_produced, flood_dropped) = (echo.flood_produced.clone(), echo.flood_dropped.clone());
    let closed = Arc::new(AtomicUsize::new(0));
    let c = closed.clone();
    let server = Server::builder()
        .service(EchoServer::new(echo))
        .service(TallyServer::new(move |_: &SessionContext| TallyImpl {
            total: Arc::new(std::sync::Mutex::new(0)),
            closed: c.clone(),
        }))
        .loopback()
        .bind()
        .await
        .expect("server binds");
    let client = connect(&server).await;
    Fixture {
        server,
        client,
        slow_dropped,
        slow_started,
        flood_produced,
        flood_dropped,
        closed,
    }
}

/// A loopback client of `server`.
async fn connect(server: &Server) -> Client {
    Client::builder()
        .loopback()
        .connect(&server.ticket())
        .await
        .expect("client connects")
}

fn req(m: &str) -> EchoRequest {
    EchoRequest { message: m.into() }
}

#[tokio::test]
async fn admission_lists_services_with_contract_ids() {
    let f = fixture().await;
    let names: Vec<_> = f
        .client
        .services()
        .iter()
        .map(|s| (s.name.as_str(), s.pattern.as_str()))
        .collect();
    assert_eq!(names, [("Echo", "shared"), ("Tally", "session")]);
    assert_eq!(
        f.client.services()[0].contract_id,
        EchoServer::<EchoImpl>::descriptor()
            .contract_id()
            .to_string()
    );
    f.server.shutdown().await;
}

#[tokio::test]
async fn all_patterns_in_both_modes() {
    let f = fixture().await;
    let echo = EchoClient::new(f.client.clone());
    for mode in [SerializationMode::Xlang, SerializationMode::Json] {
        let o = || CallOptions::new().mode(mode);
        assert_eq!(echo.echo_with(req("hi"), o()).await.unwrap().reply, "hi");
        let spelled: Vec<_> = echo
            .spell_with(req("abc"), o())
            .await
            .unwrap()
            .map(|r| r.unwrap().reply)
            .collect()
            .await;
        assert_eq!(spelled, ["a", "b", "c"]);
        let empty: Vec<_> = echo.spell_with(req(""), o()).await.unwrap().collect().await;
        assert!(empty.is_empty());
        let joined = echo
            .join_with(futures_util::stream::iter(vec![req("x"), req("y")]), o())
            .await
            .unwrap();
        assert_eq!(joined.reply, "x|y");
        let chat: Vec<_> = echo
            .chat_with(
                futures_util::stream::iter(vec![req("1"), req("2"), req("3")]),
                o(),
            )
            .await
            .unwrap()
            .map(|r| r.unwrap().reply)
            .collect()
            .await;
        assert_eq!(chat, ["re:1", "re:2", "re:3"]);
    }
    // A slow client-stream consumer loses nothing.
    let many = futures_util::stream::iter((0..20_000).map(|i| req(&i.to_string())));
    assert_eq!(echo.count(many).await.unwrap().reply, "20000");
    // Large payloads are compressed on the wire and arrive whole.
    let big = "z".repeat(1_000_000);
    assert_eq!(echo.echo(req(&big)).await.unwrap().reply.len(), 1_000_000);
    f.server.shutdown().await;
}

#[tokio::test]
async fn errors_metadata_deadlines_and_cancellation() {
    let f = fixture().await;
    let echo = EchoClient::new(f.client.clone());
    assert_eq!(
        echo.echo(req("fail")).await.unwrap_err(),
        Status::permission_denied("nope")
    );
    let with_meta = echo
        .echo_with(req("meta"), CallOptions::new().metadata("k", "v"))
        .await
        .unwrap();
    assert_eq!(with_meta.reply, "v");

    // Deadline: the client gives up at 200 ms; the server's handler is dropped.
    let err = echo
        .slow_with(
            req("x"),
            CallOptions::new().timeout(Duration::from_millis(200)),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code, StatusCode::DeadlineExceeded);
    // Dropping a call future cancels it on the wire: the handler is dropped.
    let call = echo.slow(req("y"));
    let _ = tokio::time::timeout(Duration::from_millis(200), call).await;
    for _ in 0..100 {
        if f.slow_dropped.load(Ordering::SeqCst) == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(f.slow_started.load(Ordering::SeqCst), 2);
    assert_eq!(
        f.slow_dropped.load(Ordering::SeqCst),
        2,
        "both abandoned handlers were dropped"
    );
    f.server.shutdown().await;
}

/// A server stream whose reader stops: the handler's stream is held back (the
/// server pulls only what QUIC flow control lets it write, batching or not),
/// and dropping the reader cancels the call, dropping the handler's stream.
#[tokio::test]
async fn slow_stream_reader_holds_the_server_back() {
    let f = fixture().await;
    let echo = EchoClient::new(f.client.clone());
    let mut items = echo.flood(req("")).await.unwrap();
    for _ in 0..100 {
        assert_eq!(items.next().await.unwrap().unwrap().reply.len(), 1024);
    }
    // Nobody reads now: production stops once the windows are full.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let stalled = f.flood_produced.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        f.flood_produced.load(Ordering::SeqCst),
        stalled,
        "the server went on producing for nobody"
    );
    // What QUIC buffers (a few MiB) plus one batch: far below an unbounded run.
    assert!(
        stalled < 20_000,
        "{stalled} messages produced for a reader that took 100"
    );
    // Reading resumes where it stopped.
    for _ in 0..5_000 {
        assert_eq!(items.next().await.unwrap().unwrap().reply.len(), 1024);
    }
    drop(items);
    for _ in 0..100 {
        if f.flood_dropped.load(Ordering::SeqCst) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        f.flood_dropped.load(Ordering::SeqCst),
        1,
        "dropping the reader cancelled the call"
    );
    f.server.shutdown().await;
}

#[tokio::test]
async fn sessions_keep_state_per_session() {
    let f = fixture().await;
    let s1 = TallyClient::new(
        f.client
            .session(TallyClient::<Client>::descriptor())
            .await
            .unwrap(),
    );
    let s2 = TallyClient::new(
        f.client
            .session(TallyClient::<Client>::descriptor())
            .await
            .unwrap(),
    );
    assert_eq!(s1.add(req("2")).await.unwrap().reply, "2");
    assert_eq!(s1.add(req("5")).await.unwrap().reply, "7");
    assert_eq!(s2.add(req("1")).await.unwrap().reply, "1");
    assert_eq!(
        s1.add(req("x")).await.unwrap_err().code,
        StatusCode::InvalidArgument
    );
    assert_eq!(
        s1.add(req("1")).await.unwrap().reply,
        "8",
        "an error keeps the session"
    );
    let running: Vec<_> = s2
        .running(futures_util::stream::iter(vec![req("10"), req("20")]))
        .await
        .unwrap()
        .map(|r| r.unwrap().reply)
        .collect()
        .await;
    assert_eq!(running, ["11", "31"]);
    // Calling a session service outside a session is refused locally.
    let direct = TallyClient::new(f.client.clone());
    assert_eq!(
        direct.add(req("1")).await.unwrap_err().code,
        StatusCode::FailedPrecondition
    );
    drop(s1);
    drop(s2);
    for _ in 0..100 {
        if f.closed.load(Ordering::SeqCst) == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        f.closed.load(Ordering::SeqCst),
        2,
        "closing the sessions ran on_session_close"
    );
    f.server.shutdown().await;
}

#[tokio::test]
async fn many_concurrent_calls_on_one_connection() {
    let f = fixture().await;
    let echo = EchoClient::new(f.client.clone());
    let calls = (0..200).map(|i| {
        let echo = echo.clone();
        async move { echo.echo(req(&i.to_string())).await.map(|r| r.reply) }
    });
    let results = futures_util::future::join_all(calls).await;
    for (i, r) in results.into_iter().enumerate() {
        assert_eq!(r.unwrap(), i.to_string());
    }
    f.server.shutdown().await;
}

#[tokio::test]
async fn dynamic_json_client() {
    use aster::proto::call::Pattern;
    use aster::{JsonInput, JsonOutput};
    use serde_json::json;
    let f = fixture().await;
    assert_eq!(
        f.client
            .call_json("Echo", "echo", json!({"message": "hé"}))
            .await
            .unwrap(),
        json!({"reply": "hé"})
    );
    let err = f
        .client
        .call_json("Echo", "echo", json!({"message": "x", "bogus": 1}))
        .await
        .unwrap_err();
    assert_eq!(err.code, StatusCode::ContractViolation);
    assert_eq!(
        f.client
            .call_json("Echo", "nope", json!({}))
            .await
            .unwrap_err()
            .code,
        StatusCode::Unimplemented
    );
    match f
        .client
        .call_json_with(
            "Echo",
            "spell",
            Pattern::ServerStream,
            JsonInput::One(json!({"message": "ab"})),
            CallOptions::new(),
        )
        .await
        .unwrap()
    {
        JsonOutput::Stream(s) => {
            let items: Vec<_> = s.map(|r| r.unwrap()).collect().await;
            assert_eq!(items, [json!({"reply": "a"}), json!({"reply": "b"})]);
        }
        other => panic!("{other:?}"),
    }
    let input = JsonInput::Stream(Box::pin(futures_util::stream::iter(vec![
        json!({"message": "p"}),
        json!({"message": "q"}),
    ])));
    match f
        .client
        .call_json_with(
            "Echo",
            "join",
            Pattern::ClientStream,
            input,
            CallOptions::new(),
        )
        .await
        .unwrap()
    {
        JsonOutput::One(v) => assert_eq!(v, json!({"reply": "p|q"})),
        other => panic!("{other:?}"),
    }
    // A session-scoped service gets a session for the call.
    assert_eq!(
        f.client
            .call_json("Tally", "add", json!({"message": "4"}))
            .await
            .unwrap(),
        json!({"reply": "4"})
    );
    let s = f.client.json_session("Tally").await.unwrap();
    for (n, want) in [("1", "1"), ("2", "3")] {
        match s
            .call(
                "add",
                Pattern::Unary,
                JsonInput::One(json!({"message": n})),
                CallOptions::new(),
            )
            .await
            .unwrap()
        {
            JsonOutput::One(v) => assert_eq!(v, json!({"reply": want})),
            other => panic!("{other:?}"),
        }
    }
    f.server.shutdown().await;
}

#[derive(Debug, Clone, Default, PartialEq, WireType)]
#[wire(tag = "blobs/Blob")]
pub struct Blob {
    pub label: String,
    pub data: bytes::Bytes,
}

#[aster::service(name = "Blobs", version = 1)]
pub trait Blobs {
    #[rpc]
    async fn echo(&self, req: Blob) -> Result<Blob, Status>;
    /// The request three times, labelled 0, 1, 2.
    #[server_stream]
    async fn triple(&self, req: Blob) -> Result<ResponseStream<Blob>, Status>;
}

struct BlobsImpl;

impl Blobs for BlobsImpl {
    async fn echo(&self, req: Blob) -> Result<Blob, Status> {
        Ok(req)
    }
    async fn triple(&self, req: Blob) -> Result<ResponseStream<Blob>, Status> {
        let items = (0..3).map(move |i| {
            Ok(Blob {
                label: i.to_string(),
                data: req.data.clone(),
            })
        });
        Ok(Box::pin(futures_util::stream::iter(items)))
    }
}

/// xorshift bytes: zstd cannot shrink them.
fn noise(len: usize) -> Vec<u8> {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Large `Bytes` fields leave by reference (in pieces, not copied into the
/// frame) when they do not compress, and compressed when they do; either
/// way they arrive whole, both directions, unary and streamed, next to a
/// small field, in both modes.
#[tokio::test]
async fn large_bytes_fields_arrive_whole() {
    let server = Server::builder()
        .service(BlobsServer::new(BlobsImpl))
        .loopback()
        .bind()
        .await
        .expect("server binds");
    let blobs = BlobsClient::new(connect(&server).await);
    for data in [
        noise(300_000),
        vec![0u8; 300_000],
        noise(65_535),
        noise(65_536),
    ] {
        for mode in [SerializationMode::Xlang, SerializationMode::Json] {
            let o = || CallOptions::new().mode(mode);
            let blob = Blob {
                label: "x".into(),
                data: bytes::Bytes::from(data.clone()),
            };
            let case = format!("{} bytes, {mode:?}", data.len());
            assert_eq!(
                blobs.echo_with(blob.clone(), o()).await.unwrap(),
                blob,
                "{case}"
            );
            let items: Vec<Blob> = blobs
                .triple_with(blob.clone(), o())
                .await
                .unwrap()
                .map(|r| r.unwrap())
                .collect()
                .await;
            assert_eq!(items.len(), 3, "{case}");
            for (i, item) in items.iter().enumerate() {
                assert_eq!(item.label, i.to_string(), "{case}");
                assert!(item.data == blob.data, "{case}: item {i} differs");
            }
        }
    }
    server.shutdown().await;
}

/// A request stream the test feeds by hand.
fn fed_requests() -> (
    tokio::sync::mpsc::UnboundedSender<EchoRequest>,
    impl futures_util::Stream<Item = EchoRequest> + Send + 'static,
) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let stream =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|r| (r, rx)) });
    (tx, stream)
}

/// Waits (bounded) until the server counts `n` streams in flight.
async fn until_active(server: &Server, n: usize) {
    for _ in 0..200 {
        if server.active_streams() == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{} streams in flight, not {n}", server.active_streams());
}

/// Streams are counted on every connection; a drain refuses new calls,
/// lets the running ones finish and ends when the last one has.
#[tokio::test]
async fn drain_waits_for_calls_in_flight_on_every_connection() {
    let f = fixture().await;
    let other = connect(&f.server).await;
    let (echo_a, echo_b) = (EchoClient::new(f.client.clone()), EchoClient::new(other));
    until_active(&f.server, 0).await;

    let (tx_a, reqs_a) = fed_requests();
    let (tx_b, reqs_b) = fed_requests();
    let call_a = tokio::spawn({
        let echo = echo_a.clone();
        async move { echo.join(reqs_a).await }
    });
    let call_b = tokio::spawn(async move { echo_b.join(reqs_b).await });
    tx_a.send(req("a1")).unwrap();
    tx_b.send(req("b1")).unwrap();
    until_active(&f.server, 2).await;

    let draining = tokio::spawn(f.server.drain(Duration::from_secs(20)));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let refused = echo_a.echo(req("late")).await;
    assert!(
        refused.is_err(),
        "a call started during the drain: {refused:?}"
    );
    assert!(!draining.is_finished(), "two calls still in flight");

    tx_a.send(req("a2")).unwrap();
    drop(tx_a);
    assert_eq!(call_a.await.unwrap().unwrap().reply, "a1|a2");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!draining.is_finished(), "one call still in flight");

    drop(tx_b);
    assert_eq!(call_b.await.unwrap().unwrap().reply, "b1");
    tokio::time::timeout(Duration::from_secs(5), draining)
        .await
        .expect("the drain ends once the last call did")
        .unwrap();
}

#[aster::service(name = "Probe", version = 1)]
pub trait Probe {
    /// The id of the tokio task the handler runs in.
    #[rpc]
    async fn task(&self, req: EchoRequest) -> Result<EchoResponse, Status>;
    /// Works for 60 ms without yielding.
    #[rpc]
    async fn busy(&self, req: EchoRequest) -> Result<EchoResponse, Status>;
    /// Panics at once, or (message "later") after waiting.
    #[rpc]
    async fn boom(&self, req: EchoRequest) -> Result<EchoResponse, Status>;
    /// Three messages, then a panic.
    #[server_stream]
    async fn crack(&self, req: EchoRequest) -> Result<ResponseStream<EchoResponse>, Status>;
    /// 4096 messages, all ready at once, each the id of the task that made it.
    #[server_stream]
    async fn pour(&self, req: EchoRequest) -> Result<ResponseStream<EchoResponse>, Status>;
}

struct ProbeImpl;

#[aster::service(name = "Where", version = 1, scope = "session")]
pub trait Where {
    /// The id of the tokio task the handler runs in.
    #[rpc]
    async fn task(&self, req: EchoRequest) -> Result<EchoResponse, Status>;
}

struct WhereImpl;

impl Where for WhereImpl {
    async fn task(&self, _req: EchoRequest) -> Result<EchoResponse, Status> {
        Ok(EchoResponse {
            reply: format!("{:?}", tokio::task::try_id()),
        })
    }
}

impl Probe for ProbeImpl {
    async fn task(&self, _req: EchoRequest) -> Result<EchoResponse, Status> {
        Ok(EchoResponse {
            reply: format!("{:?}", tokio::task::try_id()),
        })
    }
    async fn busy(&self, _req: EchoRequest) -> Result<EchoResponse, Status> {
        std::thread::sleep(Duration::from_millis(60));
        Ok(EchoResponse::default())
    }
    async fn boom(&self, req: EchoRequest) -> Result<EchoResponse, Status> {
        if req.message == "later" {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("a handler bug ({})", req.message);
    }
    async fn crack(&self, _req: EchoRequest) -> Result<ResponseStream<EchoResponse>, Status> {
        let mut n = 0;
        Ok(Box::pin(futures_util::stream::repeat_with(move || {
            n += 1;
            assert!(n <= 3, "a stream bug");
            Ok(EchoResponse {
                reply: n.to_string(),
            })
        })))
    }
    async fn pour(&self, _req: EchoRequest) -> Result<ResponseStream<EchoResponse>, Status> {
        Ok(Box::pin(
            futures_util::stream::repeat_with(|| {
                Ok(EchoResponse {
                    reply: format!("{:?}", tokio::task::try_id()),
                })
            })
            .take(4096),
        ))
    }
}

/// A server of `Probe`, with an inline budget far above a quick call's
/// time and below `busy`'s, so that a loaded machine cannot flip it.
async fn probe_server(budget: Option<Duration>) -> (Server, ProbeClient<Client>) {
    let server = Server::builder()
        .service(ProbeServer::new(ProbeImpl))
        .service(WhereServer::new(|_: &SessionContext| WhereImpl))
        .inline_budget(budget)
        .loopback()
        .bind()
        .await
        .expect("server binds");
    let client = ProbeClient::new(connect(&server).await);
    (server, client)
}

/// Quick calls are served in the connection's accept loop, one after the
/// other in the same task, and a streaming answer moves to a task of its
/// own without ending that. Once a call holds the loop up (works without
/// yielding past the budget), calls get tasks of their own for a while.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quick_calls_are_served_inline_until_one_is_slow() {
    let (server, probe) = probe_server(Some(Duration::from_millis(40))).await;
    let first = probe.task(req("")).await.unwrap().reply;
    let second = probe.task(req("")).await.unwrap().reply;
    assert!(first.starts_with("Some("), "{first}");
    assert_eq!(first, second, "both ran in the accept loop's task");

    let poured: Vec<_> = probe.pour(req("")).await.unwrap().collect().await;
    assert_eq!(poured.len(), 4096);
    for item in poured {
        assert_ne!(
            item.unwrap().reply,
            first,
            "streamed from a task of its own"
        );
    }
    let after_stream = probe.task(req("")).await.unwrap().reply;
    assert_eq!(after_stream, first, "a stream does not stop inline serving");

    probe.busy(req("")).await.unwrap();
    let third = probe.task(req("")).await.unwrap().reply;
    let fourth = probe.task(req("")).await.unwrap().reply;
    assert_ne!(third, first, "no longer in the accept loop");
    assert_ne!(third, fourth, "a task per call");

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let later = probe.task(req("")).await.unwrap().reply;
    assert_eq!(later, first, "inline again after the back-off");

    // A session takes its calls in a task of its own.
    let session = WhereClient::new(
        probe
            .caller()
            .session(WhereClient::<Client>::descriptor())
            .await
            .unwrap(),
    );
    let in_session = session.task(req("")).await.unwrap().reply;
    assert_ne!(in_session, first, "not in the accept loop");
    assert_eq!(session.task(req("")).await.unwrap().reply, in_session);
    assert_eq!(probe.task(req("")).await.unwrap().reply, first);
    server.shutdown().await;
}

/// A handler that panics fails its own call only, with INTERNAL, whether
/// it panics while served inline, in a task of its own, or in the middle of
/// its response stream; the connection serves on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_fails_only_its_call() {
    // Reporting a panic (with a backtrace, if asked for) takes long enough
    // to trip a small budget; this test is not about the budget.
    let (server, probe) = probe_server(Some(Duration::from_secs(10))).await;
    let accept_loop = probe.task(req("")).await.unwrap().reply;
    for when in ["at once", "later"] {
        let err = probe
            .boom_with(
                req(when),
                CallOptions::new().timeout(Duration::from_secs(5)),
            )
            .await
            .unwrap_err();
        assert_eq!(err, Status::internal("the handler panicked"), "{when}");
        // Served inline by the same accept loop: the connection lives on.
        assert_eq!(
            probe.task(req("")).await.unwrap().reply,
            accept_loop,
            "{when}"
        );
    }
    let items: Vec<_> = probe.crack(req("")).await.unwrap().collect().await;
    let replies: Vec<_> = items[..3]
        .iter()
        .map(|r| r.as_ref().unwrap().reply.as_str())
        .collect();
    assert_eq!(replies, ["1", "2", "3"]);
    assert_eq!(items.len(), 4, "three messages, then the error");
    assert_eq!(items[3].as_ref().unwrap_err().code, StatusCode::Internal);
    assert_eq!(probe.task(req("")).await.unwrap().reply, accept_loop);
    server.shutdown().await;
}

/// Without an inline budget every call gets a task of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_inline_budget_every_call_has_its_own_task() {
    let (server, probe) = probe_server(None).await;
    let first = probe.task(req("")).await.unwrap().reply;
    let second = probe.task(req("")).await.unwrap().reply;
    assert!(first.starts_with("Some("), "{first}");
    assert_ne!(first, second);
    server.shutdown().await;
}
