//! The Aster side: a `Bench` service served by [`aster::Server`] and called
//! through the generated typed client, as an application would.

use std::io::Write;

use aster::{Client, ResponseStream, Server, Status, WireType};
use bytes::Bytes;
use futures_util::StreamExt;

use super::{BULK_MESSAGE, STREAM_PAYLOAD, Target, UNARY_PAYLOAD, incompressible};

/// An opaque payload (Python `bytes`).
#[derive(Debug, Clone, Default, PartialEq, WireType)]
#[wire(tag = "bench/Blob")]
pub struct Blob {
    pub data: Bytes,
}

#[derive(Debug, Clone, Default, PartialEq, WireType)]
#[wire(tag = "bench/StreamRequest")]
pub struct StreamRequest {
    pub count: i32,
    pub size: i32,
}

#[derive(Debug, Clone, Default, PartialEq, WireType)]
#[wire(tag = "bench/UploadAck")]
pub struct UploadAck {
    pub received: i64,
}

#[aster::service(name = "Bench", version = 1)]
pub trait Bench {
    /// Answers with the request's bytes.
    #[rpc]
    async fn echo(&self, req: Blob) -> Result<Blob, Status>;
    /// `count` messages of `size` bytes each.
    #[server_stream]
    async fn stream(&self, req: StreamRequest) -> Result<ResponseStream<Blob>, Status>;
    /// Takes a large request, answers with its length.
    #[rpc]
    async fn upload(&self, req: Blob) -> Result<UploadAck, Status>;
}

struct BenchImpl;

impl Bench for BenchImpl {
    async fn echo(&self, req: Blob) -> Result<Blob, Status> {
        Ok(req)
    }

    async fn stream(&self, req: StreamRequest) -> Result<ResponseStream<Blob>, Status> {
        let item = Blob {
            data: Bytes::from(vec![0x5a; req.size.max(0) as usize]),
        };
        let items = (0..req.count.max(0)).map(move |_| Ok(item.clone()));
        Ok(Box::pin(futures_util::stream::iter(items)))
    }

    async fn upload(&self, req: Blob) -> Result<UploadAck, Status> {
        Ok(UploadAck {
            received: req.data.len() as i64,
        })
    }
}

/// `aster-bench serve-aster`: prints the `aster1…` address, serves until killed.
pub async fn serve() -> anyhow::Result<()> {
    let server = Server::builder()
        .service(BenchServer::new(BenchImpl))
        .loopback()
        .bind()
        .await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", server.ticket())?;
    out.flush()?;
    drop(out);
    std::future::pending::<()>().await;
    Ok(())
}

#[derive(Clone)]
pub struct AsterTarget {
    client: BenchClient<Client>,
    small: Bytes,
    big: Bytes,
}

impl AsterTarget {
    /// Connects (consumer admission included) to an `aster1…` address.
    pub async fn connect(address: &str) -> anyhow::Result<AsterTarget> {
        let client = Client::builder().loopback().connect(address).await?;
        Ok(AsterTarget {
            client: BenchClient::new(client),
            small: Bytes::from(vec![0xa5; UNARY_PAYLOAD]),
            big: Bytes::from(incompressible(BULK_MESSAGE)),
        })
    }
}

impl Target for AsterTarget {
    async fn unary(&self) -> anyhow::Result<()> {
        let reply = self
            .client
            .echo(Blob {
                data: self.small.clone(),
            })
            .await?;
        anyhow::ensure!(
            reply.data.len() == UNARY_PAYLOAD,
            "echo answered {} bytes",
            reply.data.len()
        );
        Ok(())
    }

    async fn stream(&self, count: u32) -> anyhow::Result<u64> {
        let req = StreamRequest {
            count: count as i32,
            size: STREAM_PAYLOAD as i32,
        };
        let mut items = self.client.stream(req).await?;
        let mut n = 0u64;
        while let Some(item) = items.next().await {
            let item = item?;
            debug_assert_eq!(item.data.len(), STREAM_PAYLOAD);
            n += 1;
        }
        anyhow::ensure!(
            n == u64::from(count),
            "stream delivered {n} of {count} messages"
        );
        Ok(n)
    }

    async fn bulk(&self) -> anyhow::Result<()> {
        let ack = self
            .client
            .upload(Blob {
                data: self.big.clone(),
            })
            .await?;
        anyhow::ensure!(
            ack.received == BULK_MESSAGE as i64,
            "upload acknowledged {} bytes",
            ack.received
        );
        Ok(())
    }
}
