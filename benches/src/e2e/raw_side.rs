//! The baseline: the same workloads on raw iroh streams, no RPC layer.
//!
//! One bi-stream per call, exactly like Aster. Messages are framed the way
//! Aster frames them (4-byte little-endian length, one kind byte, payload),
//! so the bytes on the wire differ from Aster's only by Aster's header and
//! trailer frames and the XLANG envelope of each payload. The server side
//! runs under iroh's `Router` with one task per stream, as Aster's does, on
//! an endpoint built by the same `aster::net::bind_endpoint`.

use std::io::Write;

use anyhow::Context;
use aster::NetworkMode;
use aster::net::{EndpointOptions, bind_endpoint, parse_address, ticket_of};
use bytes::{BufMut, Bytes, BytesMut};
use iroh::address_lookup::MemoryLookup;
use iroh::endpoint::{Connection, RecvStream, SendStream};
use iroh::protocol::{AcceptError, ProtocolHandler, Router};

use super::{BULK_MESSAGE, STREAM_PAYLOAD, Target, UNARY_PAYLOAD, incompressible};

pub const ALPN: &[u8] = b"aster-bench/raw/1";

const KIND_ECHO: u8 = 1;
const KIND_STREAM: u8 = 2;
const KIND_BULK: u8 = 3;
const KIND_DATA: u8 = 0;
/// Largest request the server reads.
const MAX_REQUEST: usize = BULK_MESSAGE + 64;
const READ_CHUNK: usize = 256 * 1024;

/// `[len u32 LE][kind][payload]`, len counting kind and payload (Aster's layout).
fn frame(kind: u8, payload: &[u8]) -> Bytes {
    let mut b = BytesMut::with_capacity(5 + payload.len());
    b.put_u32_le(1 + payload.len() as u32);
    b.put_u8(kind);
    b.put_slice(payload);
    b.freeze()
}

fn open_offline() -> EndpointOptions {
    EndpointOptions {
        network: NetworkMode::loopback(),
        ..EndpointOptions::default()
    }
}

#[derive(Debug, Clone)]
struct RawBench {
    /// Server-stream frames per write (1 = one write per message, like
    /// Aster today; >1 only for diagnostics via `ASTER_BENCH_RAW_STREAM_BATCH`).
    stream_batch: usize,
}

impl ProtocolHandler for RawBench {
    async fn accept(&self, conn: Connection) -> Result<(), AcceptError> {
        while let Ok((send, recv)) = conn.accept_bi().await {
            let batch = self.stream_batch;
            tokio::spawn(async move {
                if let Err(e) = serve_stream(send, recv, batch).await {
                    eprintln!("[raw server] stream failed: {e:#}");
                }
            });
        }
        Ok(())
    }
}

async fn serve_stream(
    mut send: SendStream,
    mut recv: RecvStream,
    batch: usize,
) -> anyhow::Result<()> {
    let req = recv.read_to_end(MAX_REQUEST).await?;
    anyhow::ensure!(req.len() >= 5, "short request ({} bytes)", req.len());
    let len = u32::from_le_bytes(req[..4].try_into()?) as usize;
    anyhow::ensure!(
        len + 4 == req.len(),
        "request frame length {len} but {} bytes",
        req.len()
    );
    let payload = &req[5..];
    match req[4] {
        KIND_ECHO => send.write_chunk(frame(KIND_DATA, payload)).await?,
        KIND_STREAM => {
            anyhow::ensure!(
                payload.len() == 8,
                "stream request of {} bytes",
                payload.len()
            );
            let count = u32::from_le_bytes(payload[..4].try_into()?);
            let size = u32::from_le_bytes(payload[4..].try_into()?) as usize;
            let item = frame(KIND_DATA, &vec![0x5a; size]);
            if batch <= 1 {
                for _ in 0..count {
                    send.write_chunk(item.clone()).await?;
                }
            } else {
                let mut left = count as usize;
                while left > 0 {
                    let n = left.min(batch);
                    let mut buf = BytesMut::with_capacity(n * item.len());
                    for _ in 0..n {
                        buf.put_slice(&item);
                    }
                    send.write_chunk(buf.freeze()).await?;
                    left -= n;
                }
            }
        }
        KIND_BULK => {
            send.write_chunk(frame(KIND_DATA, &(payload.len() as u64).to_le_bytes()))
                .await?
        }
        other => anyhow::bail!("unknown request kind {other}"),
    }
    send.finish()?;
    Ok(())
}

/// `aster-bench serve-raw`: prints an `aster1…` address, serves until killed.
pub async fn serve() -> anyhow::Result<()> {
    let lookup = MemoryLookup::new();
    let endpoint = bind_endpoint(&open_offline(), &lookup).await?;
    let stream_batch = std::env::var("ASTER_BENCH_RAW_STREAM_BATCH")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1usize);
    let router = Router::builder(endpoint)
        .accept(ALPN, RawBench { stream_batch })
        .spawn();
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", ticket_of(&router.endpoint().addr()))?;
    out.flush()?;
    drop(out);
    std::future::pending::<()>().await;
    Ok(())
}

/// Counts whole frames in a byte stream split anywhere.
#[derive(Default)]
struct FrameCounter {
    header: [u8; 4],
    header_len: usize,
    body_left: usize,
    frames: u64,
}

impl FrameCounter {
    fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            if self.body_left > 0 {
                let n = self.body_left.min(data.len());
                self.body_left -= n;
                data = &data[n..];
                if self.body_left == 0 {
                    self.frames += 1;
                }
                continue;
            }
            let n = (4 - self.header_len).min(data.len());
            self.header[self.header_len..self.header_len + n].copy_from_slice(&data[..n]);
            self.header_len += n;
            data = &data[n..];
            if self.header_len == 4 {
                self.header_len = 0;
                self.body_left = u32::from_le_bytes(self.header) as usize;
                if self.body_left == 0 {
                    self.frames += 1;
                }
            }
        }
    }
}

#[derive(Clone)]
pub struct RawTarget {
    /// Kept alive: dropping the endpoint closes its connections.
    _endpoint: iroh::Endpoint,
    conn: Connection,
    echo: Bytes,
    bulk: Bytes,
}

impl RawTarget {
    pub async fn connect(address: &str) -> anyhow::Result<RawTarget> {
        let peer = parse_address(address)?;
        let lookup = MemoryLookup::new();
        let endpoint = bind_endpoint(&open_offline(), &lookup).await?;
        let conn = endpoint.connect(peer, ALPN).await.context("connect")?;
        Ok(RawTarget {
            _endpoint: endpoint,
            conn,
            echo: frame(KIND_ECHO, &[0xa5; UNARY_PAYLOAD]),
            bulk: frame(KIND_BULK, &incompressible(BULK_MESSAGE)),
        })
    }

    /// One call: the request frame and FIN out, the whole answer back.
    async fn call(&self, request: Bytes, limit: usize) -> anyhow::Result<Vec<u8>> {
        let (mut send, mut recv) = self.conn.open_bi().await?;
        send.write_chunk(request).await?;
        send.finish()?;
        Ok(recv.read_to_end(limit).await?)
    }
}

impl Target for RawTarget {
    async fn unary(&self) -> anyhow::Result<()> {
        let reply = self.call(self.echo.clone(), 1024).await?;
        anyhow::ensure!(
            reply.len() == 5 + UNARY_PAYLOAD,
            "echo answered {} bytes",
            reply.len()
        );
        Ok(())
    }

    async fn stream(&self, count: u32) -> anyhow::Result<u64> {
        let mut req = [0u8; 8];
        req[..4].copy_from_slice(&count.to_le_bytes());
        req[4..].copy_from_slice(&(STREAM_PAYLOAD as u32).to_le_bytes());
        let (mut send, mut recv) = self.conn.open_bi().await?;
        send.write_chunk(frame(KIND_STREAM, &req)).await?;
        send.finish()?;
        let mut counter = FrameCounter::default();
        while let Some(chunk) = recv.read_chunk(READ_CHUNK).await? {
            counter.feed(&chunk);
        }
        anyhow::ensure!(
            counter.frames == u64::from(count),
            "stream delivered {} of {count} messages",
            counter.frames
        );
        Ok(counter.frames)
    }

    async fn bulk(&self) -> anyhow::Result<()> {
        let reply = self.call(self.bulk.clone(), 1024).await?;
        anyhow::ensure!(reply.len() == 13, "bulk answered {} bytes", reply.len());
        let received = u64::from_le_bytes(reply[5..].try_into()?);
        anyhow::ensure!(
            received == BULK_MESSAGE as u64,
            "bulk acknowledged {received} bytes"
        );
        Ok(())
    }
}
