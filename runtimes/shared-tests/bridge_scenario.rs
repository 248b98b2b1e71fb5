//! The bridge scenario both non-tokio adapters run (included by their tests
//! with `#[path]`): a server and a client made on the reactor, then every
//! pattern and a session driven from the foreign executor, which has no
//! tokio context of its own.

use std::time::Duration;

use aster::bridge::{Bridged, Reactor};
use aster::{Client, NetworkMode, RequestStream, ResponseStream, Server, Status, WireType};
use futures_util::StreamExt;

#[derive(Debug, Clone, Default, PartialEq, WireType)]
#[wire(tag = "bridge/Word")]
pub struct Word {
    pub text: String,
}

#[aster::service(name = "Words", version = 1)]
pub trait Words {
    #[rpc]
    async fn shout(&self, req: Word) -> Result<Word, Status>;
    #[server_stream]
    async fn letters(&self, req: Word) -> Result<ResponseStream<Word>, Status>;
    #[client_stream]
    async fn join(&self, reqs: RequestStream<Word>) -> Result<Word, Status>;
    #[bidi_stream]
    async fn echo(&self, reqs: RequestStream<Word>) -> Result<ResponseStream<Word>, Status>;
}

#[aster::service(name = "Counter", version = 1, scope = "session")]
pub trait Counter {
    #[rpc]
    async fn next(&self, req: Word) -> Result<Word, Status>;
}

struct WordsImpl;

impl Words for WordsImpl {
    async fn shout(&self, req: Word) -> Result<Word, Status> {
        Ok(Word {
            text: req.text.to_uppercase(),
        })
    }
    async fn letters(&self, req: Word) -> Result<ResponseStream<Word>, Status> {
        let items: Vec<_> = req
            .text
            .chars()
            .map(|c| {
                Ok(Word {
                    text: c.to_string(),
                })
            })
            .collect();
        Ok(Box::pin(futures_util::stream::iter(items)))
    }
    async fn join(&self, mut reqs: RequestStream<Word>) -> Result<Word, Status> {
        let mut parts = Vec::new();
        while let Some(w) = reqs.next().await {
            parts.push(w?.text);
        }
        Ok(Word {
            text: parts.join("+"),
        })
    }
    async fn echo(&self, reqs: RequestStream<Word>) -> Result<ResponseStream<Word>, Status> {
        Ok(Box::pin(reqs.map(|r| {
            r.map(|w| Word {
                text: format!("<{}>", w.text),
            })
        })))
    }
}

#[derive(Default)]
struct CounterImpl(std::sync::atomic::AtomicUsize);

impl Counter for CounterImpl {
    async fn next(&self, req: Word) -> Result<Word, Status> {
        let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        Ok(Word {
            text: format!("{}{n}", req.text),
        })
    }
}

/// Runs everything from the calling executor; panics on any failure.
pub async fn run(reactor: Reactor) {
    assert!(
        tokio::runtime::Handle::try_current().is_err(),
        "the foreign executor has no tokio context"
    );
    let server = reactor
        .run(
            Server::builder()
                .service(WordsServer::new(WordsImpl))
                .service(CounterServer::new(|_: &aster::SessionContext| {
                    CounterImpl::default()
                }))
                .loopback()
                .dev_mode()
                .no_registry()
                .bind(),
        )
        .await
        .expect("reactor")
        .expect("server binds");
    let ticket = server.ticket();
    let client = reactor
        .run(async move {
            Client::builder()
                .network(NetworkMode::loopback())
                .connect(&ticket)
                .await
        })
        .await
        .expect("reactor")
        .expect("client connects");

    let words = WordsClient::new(Bridged::new(client.clone(), &reactor));
    assert_eq!(
        words
            .shout(Word { text: "hi".into() })
            .await
            .expect("unary")
            .text,
        "HI"
    );

    let letters: Vec<String> = words
        .letters(Word { text: "abc".into() })
        .await
        .expect("server stream")
        .map(|w| w.expect("item").text)
        .collect()
        .await;
    assert_eq!(letters, ["a", "b", "c"]);

    let parts = futures_util::stream::iter(["x", "y", "z"].map(|t| Word { text: t.into() }));
    assert_eq!(
        words.join(parts).await.expect("client stream").text,
        "x+y+z"
    );

    let mut echoes = words
        .echo(futures_util::stream::iter([
            Word { text: "1".into() },
            Word { text: "2".into() },
        ]))
        .await
        .expect("bidi");
    assert_eq!(echoes.next().await.expect("first").expect("ok").text, "<1>");
    assert_eq!(
        echoes.next().await.expect("second").expect("ok").text,
        "<2>"
    );
    assert!(echoes.next().await.is_none());

    let session_client = client.clone();
    let session = reactor
        .run(async move {
            session_client
                .session(CounterClient::<Client>::descriptor())
                .await
        })
        .await
        .expect("reactor")
        .expect("session");
    let counter = CounterClient::new(Bridged::new(session, &reactor));
    assert_eq!(
        counter
            .next(Word { text: "n".into() })
            .await
            .expect("1")
            .text,
        "n1"
    );
    assert_eq!(
        counter
            .next(Word { text: "n".into() })
            .await
            .expect("2")
            .text,
        "n2"
    );

    // Shutting down happens on the reactor too; bounded.
    let closing = reactor.run(async move {
        client.close().await;
        tokio::time::timeout(Duration::from_secs(10), server.shutdown())
            .await
            .is_ok()
    });
    assert!(closing.await.expect("reactor"), "server shut down in time");
}
