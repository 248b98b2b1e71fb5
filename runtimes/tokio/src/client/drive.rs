//! Drives one [`ClientCall`] over a QUIC bi-stream.
//!
//! Unary calls run inline in the caller's future (no task, no channel).
//! Streaming calls run in a task that writes requests and reads responses at
//! the same time; responses reach the caller through a small channel, so a
//! caller that stops reading stops the reads (QUIC flow control then holds
//! the server back). Dropping the caller's future or stream cancels the call:
//! the stream is reset, which the server sees as a cancellation.
//!
//! Responses cross the channel in batches (all that one read delivered, up
//! to [`BATCH_ITEMS`] messages or [`BATCH_BYTES`]): one channel operation and
//! at most one task wake-up per batch rather than per message.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use aster_proto::Status;
use aster_proto::call::{ClientCall, ClientEvent};
use aster_proto::codec::SerializationMode;
use bytes::Bytes;
use futures_util::StreamExt;
use iroh::endpoint::{RecvStream, SendStream, VarInt};
use tokio::sync::{mpsc, oneshot};

use crate::caller::{Inbound, Outbound};
use crate::handler::{BoxMessage, BoxStream};
use crate::net::now_ms;
use crate::timer::DeadlineTimer;

const READ_CHUNK: usize = 256 * 1024;
/// Batches of response messages buffered ahead of a streaming caller.
const OUTPUT_BATCHES: usize = 4;
/// Most messages in one batch.
const BATCH_ITEMS: usize = 64;
/// A batch takes no more messages once it holds this many payload bytes.
const BATCH_BYTES: usize = 64 * 1024;
/// QUIC code for a call abandoned by the client (the reference uses 1).
const CANCELLED: u32 = 1;

/// Resets both directions unless the call completed.
struct Streams {
    /// Until the request side is finished. Dropping a send side finishes
    /// it, in one turn of the connection's lock where `finish` and a later
    /// drop take two; a call cancelled after that stops its receive side,
    /// which the server sees as the peer going away.
    send: Option<SendStream>,
    recv: RecvStream,
    done: bool,
}

impl Drop for Streams {
    fn drop(&mut self) {
        if !self.done {
            if let Some(send) = self.send.as_mut() {
                let _ = send.reset(VarInt::from_u32(CANCELLED));
            }
            let _ = self.recv.stop(VarInt::from_u32(CANCELLED));
        }
    }
}

fn map_write_error(e: impl std::fmt::Display) -> Status {
    Status::unavailable(format!("stream write failed: {e}"))
}

/// A unary or server-stream request, or a client-stream/bidi request stream.
/// A plain function returning an `async move` block: an `async fn` would
/// keep its arguments twice in the future. The call's state machine comes
/// boxed: it moves into a task for streaming calls, and kept in place it
/// would be most of the future.
#[allow(clippy::manual_async_fn)] // on purpose: see above
pub(crate) fn run(
    mut call: Box<ClientCall>,
    send: SendStream,
    recv: RecvStream,
    input: Outbound,
) -> impl Future<Output = Result<(SerializationMode, Inbound), Status>> + Send {
    async move {
        let mode = call.mode();
        let pattern = call.pattern();
        let mut streams = Streams {
            send: Some(send),
            recv,
            done: false,
        };
        match input {
            Outbound::Unary(message) => {
                call.send_with(|mode, out| message.encode_frame(mode, out))
                    .map_err(|e| Status::internal(e.to_string()))?;
                if !pattern.server_streams() {
                    let reply = unary(&mut call, &mut streams).await;
                    return reply.map(|b| (mode, Inbound::Unary(b)));
                }
                flush(&mut call, &mut streams).await?;
                let (tx, rx) = mpsc::channel(OUTPUT_BATCHES);
                tokio::spawn(stream_task(call, streams, None, Output::Stream(tx)));
                Ok((mode, Inbound::Stream(batch_receiver_stream(rx))))
            }
            Outbound::Stream(requests) => {
                flush(&mut call, &mut streams).await?;
                if pattern.server_streams() {
                    let (tx, rx) = mpsc::channel(OUTPUT_BATCHES);
                    tokio::spawn(stream_task(
                        call,
                        streams,
                        Some(requests),
                        Output::Stream(tx),
                    ));
                    Ok((mode, Inbound::Stream(batch_receiver_stream(rx))))
                } else {
                    let (tx, rx) = oneshot::channel();
                    tokio::spawn(stream_task(
                        call,
                        streams,
                        Some(requests),
                        Output::One(Some(tx), None),
                    ));
                    let reply = rx
                        .await
                        .map_err(|_| Status::internal("call task ended without an outcome"))??;
                    Ok((mode, Inbound::Unary(reply)))
                }
            }
        }
    }
}

/// The caller's side of a channel of single messages (session streams).
pub(crate) fn receiver_stream(
    mut rx: mpsc::Receiver<Result<Bytes, Status>>,
) -> BoxStream<Result<Bytes, Status>> {
    Box::pin(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)))
}

/// A batch of response messages (an error, if any, comes last).
type Batch = Vec<Result<Bytes, Status>>;

/// The caller's side of a streaming call: messages one by one, taken from
/// the task's batches.
fn batch_receiver_stream(mut rx: mpsc::Receiver<Batch>) -> BoxStream<Result<Bytes, Status>> {
    let mut batch = Batch::new().into_iter();
    Box::pin(futures_util::stream::poll_fn(move |cx| {
        loop {
            if let Some(item) = batch.next() {
                return Poll::Ready(Some(item));
            }
            match rx.poll_recv(cx) {
                Poll::Ready(Some(next)) => batch = next.into_iter(),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }))
}

/// Writes what the call queued.
async fn flush(call: &mut ClientCall, streams: &mut Streams) -> Result<(), Status> {
    while let Some(t) = call.peek_transmit() {
        let Some(send) = streams.send.as_mut() else {
            break;
        };
        crate::quic::write_chunk(send, t.data)
            .await
            .map_err(map_write_error)?;
        if t.fin {
            // Dropping the send side finishes it (see `Streams`).
            streams.send = None;
        }
        call.advance_transmit();
    }
    Ok(())
}

/// After the trailer: takes the stream's end (FIN) if it is already there,
/// without waiting. A receive side dropped before its end is stopped by iroh,
/// which wakes the connection's driver; on the common path the FIN came
/// with the trailer and this is a lookup.
async fn read_end_if_there(recv: &mut RecvStream) {
    let _ = crate::quic::read_chunk_now(recv, READ_CHUNK).await;
}

/// The inline unary path: write, then read until the outcome.
async fn unary(call: &mut ClientCall, streams: &mut Streams) -> Result<Bytes, Status> {
    flush(call, streams).await?;
    let mut reply = None;
    let mut timer = DeadlineTimer::default();
    loop {
        while let Some(ev) = call.poll_event() {
            match ev {
                ClientEvent::Response(b) => reply = Some(b),
                ClientEvent::Done(status) => {
                    streams.done = !call.ended_locally();
                    if streams.done {
                        read_end_if_there(&mut streams.recv).await;
                    }
                    return if status.is_ok() {
                        reply.ok_or_else(|| Status::internal("call ended without a response"))
                    } else {
                        Err(status)
                    };
                }
            }
        }
        let deadline = call.poll_timeout();
        timer.arm(deadline);
        tokio::select! {
            r = streams.recv.read_chunk(READ_CHUNK) => match r {
                Ok(Some(data)) => call.handle_bytes(data),
                Ok(None) => call.handle_fin(),
                Err(iroh::endpoint::ReadError::Reset(code)) => call.handle_reset_code(code.into_inner()),
                Err(_) => call.handle_reset(),
            },
            _ = timer.wait(), if deadline.is_some() => {
                timer.fired();
                call.handle_timeout(now_ms());
            }
        }
    }
}

enum Output {
    Stream(mpsc::Sender<Batch>),
    /// Client stream: the single response, delivered with the outcome.
    One(
        Option<oneshot::Sender<Result<Bytes, Status>>>,
        Option<Bytes>,
    ),
}

/// A write in flight; gives the send side back unless it wrote the FIN.
type Write = Pin<Box<dyn Future<Output = (Option<SendStream>, Result<(), Status>)> + Send>>;

enum Wake {
    Read(Result<Option<Bytes>, iroh::endpoint::ReadError>),
    Wrote(Option<SendStream>, Result<(), Status>),
    Request(Option<BoxMessage>),
    Room(Option<mpsc::OwnedPermit<Batch>>),
    CallerGone,
    Timer,
}

/// Streaming calls: requests out and responses in, concurrently.
async fn stream_task(
    mut call: Box<ClientCall>,
    mut streams: Streams,
    mut requests: Option<BoxStream<BoxMessage>>,
    mut output: Output,
) {
    let mut writing: Option<Write> = None;
    // A batch the channel had no room for; reading pauses while it waits.
    let mut pending: Option<Batch> = None;
    let mut outcome: Option<Status> = None;
    let mut timer = DeadlineTimer::default();
    loop {
        // Start writing queued bytes when no write is in flight.
        if writing.is_none() {
            if let Some(t) = call.poll_transmit() {
                if let Some(mut send) = streams.send.take() {
                    writing = Some(Box::pin(async move {
                        let r = if t.data.is_empty() {
                            Ok(())
                        } else {
                            send.write_chunk(t.data).await.map_err(map_write_error)
                        };
                        // Dropped after the FIN: that finishes it.
                        let open = (r.is_err() || !t.fin).then_some(send);
                        (open, r)
                    }));
                }
            }
        }
        // Hand responses to the caller, a batch at a time.
        while pending.is_none() && outcome.is_none() {
            let mut batch = Batch::new();
            let mut bytes = 0;
            while batch.len() < BATCH_ITEMS && bytes < BATCH_BYTES {
                match call.poll_event() {
                    Some(ClientEvent::Response(b)) => match &mut output {
                        Output::Stream(_) => {
                            bytes += b.len();
                            batch.push(Ok(b));
                        }
                        Output::One(_, reply) => *reply = Some(b),
                    },
                    Some(ClientEvent::Done(status)) => {
                        outcome = Some(status);
                        break;
                    }
                    None => break,
                }
            }
            if batch.is_empty() {
                break;
            }
            if let Output::Stream(tx) = &output {
                match tx.try_send(batch) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(batch)) => pending = Some(batch),
                    Err(mpsc::error::TrySendError::Closed(_)) => call.cancel(),
                }
            }
        }
        if let Some(status) = outcome.take() {
            streams.done = !call.ended_locally();
            match output {
                Output::Stream(tx) => {
                    let mut last = pending.take().unwrap_or_default();
                    if !status.is_ok() {
                        last.push(Err(status));
                    }
                    if !last.is_empty() {
                        let _ = tx.send(last).await;
                    }
                }
                Output::One(tx, reply) => {
                    let result = if status.is_ok() {
                        reply.ok_or_else(|| Status::internal("call ended without a response"))
                    } else {
                        Err(status)
                    };
                    if let Some(tx) = tx {
                        let _ = tx.send(result);
                    }
                }
            }
            // Let a last in-flight write (e.g. the FIN) complete.
            if let Some(w) = writing.take() {
                streams.send = w.await.0;
            }
            return;
        }
        let deadline = call.poll_timeout();
        timer.arm(deadline);
        let want_requests = requests.is_some() && writing.is_none() && !call.is_done();
        let room = match &output {
            Output::Stream(tx) if pending.is_some() => Some(tx.clone()),
            _ => None,
        };
        let wake = tokio::select! {
            r = streams.recv.read_chunk(READ_CHUNK), if pending.is_none() => Wake::Read(r),
            r = async { writing.as_mut().expect("guarded").await }, if writing.is_some() => Wake::Wrote(r.0, r.1),
            r = async { requests.as_mut().expect("guarded").next().await }, if want_requests => Wake::Request(r),
            r = async move { room.expect("guarded").reserve_owned().await.ok() }, if room.is_some() => Wake::Room(r),
            _ = async {
                match &mut output {
                    Output::Stream(tx) => tx.closed().await,
                    Output::One(Some(tx), _) => tx.closed().await,
                    Output::One(None, _) => std::future::pending().await,
                }
            } => Wake::CallerGone,
            _ = timer.wait(), if deadline.is_some() => Wake::Timer,
        };
        match wake {
            Wake::Read(Ok(Some(data))) => call.handle_bytes(data),
            Wake::Read(Ok(None)) => call.handle_fin(),
            Wake::Read(Err(iroh::endpoint::ReadError::Reset(code))) => {
                call.handle_reset_code(code.into_inner())
            }
            Wake::Read(Err(_)) => call.handle_reset(),
            Wake::Wrote(send, result) => {
                writing = None;
                streams.send = send;
                if let Err(status) = result {
                    call.fail(status);
                }
            }
            Wake::Request(Some(message)) => {
                if let Err(e) = call.send_with(|mode, out| message.encode_frame(mode, out)) {
                    call.fail(Status::internal(e.to_string()));
                }
            }
            Wake::Request(None) => {
                requests = None;
                let _ = call.finish_sending();
            }
            Wake::Room(Some(permit)) => {
                if let Some(b) = pending.take() {
                    permit.send(b);
                }
            }
            Wake::Room(None) | Wake::CallerGone => {
                // Nobody will take what waits; dropping it lets the loop
                // reach the call's end (pending pauses the event drain).
                pending = None;
                call.cancel();
            }
            Wake::Timer => {
                timer.fired();
                call.handle_timeout(now_ms());
            }
        }
    }
}
