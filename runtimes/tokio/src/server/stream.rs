//! One accepted RPC stream: the I/O loop around [`ServerStream`].
//!
//! One future per stream, no other spawn: the handler future and its
//! response stream are polled here, next to the stream's reads, writes and
//! deadline timer. Its first poll runs in the connection's accept loop, and
//! a quick unary call is done there; a stream that has to wait continues as
//! a task of its own (`first_poll` in the server module). Every protocol
//! decision is the state machine's; this loop only moves bytes, runs
//! handlers and keeps their input and output bounded:
//! request messages wait in a small channel (reading pauses while it is full)
//! and response messages are pulled only after the previous ones were
//! written (a slow reader pauses the handler through QUIC flow control).
//! Responses that are ready together go out in one write, up to
//! [`OUTPUT_BATCH_ITEMS`] messages or [`OUTPUT_BATCH_BYTES`].
//!
//! Per loop turn the loop allocates nothing and registers nothing: the
//! deadline timer and the "peer stopped reading" future live as long as the
//! stream, and a handler is polled once as soon as it starts, so a handler
//! that answers at once never waits on a timer.

use std::collections::VecDeque;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use aster_proto::call::{CallId, CallInfo, Pattern, ServerEvent, ServerStream, SessionInfo};
use aster_proto::{Status, StatusCode};
use bytes::Bytes;
use futures_util::StreamExt;
use iroh::endpoint::{RecvStream, SendStream, StoppedError, VarInt};
use tokio::sync::mpsc;
use tracing::instrument::Instrumented;
use tracing::{Instrument, debug};

use super::{ActiveStream, ConnShared, ServerShared};
use crate::handler::{
    BoxFuture, BoxMessage, BoxStream, CallContext, Dispatch, Incoming, Outgoing, SessionContext,
};
use crate::net::now_ms;
use crate::spans::call_span;
use crate::timer::DeadlineTimer;

/// Bytes asked of QUIC per read.
const READ_CHUNK: usize = 256 * 1024;
/// Most chunks taken from the stream in one read.
const READ_CHUNKS: usize = 16;
/// Chunks taken per read until a read fills them all.
const FEW_READ_CHUNKS: usize = 2;
/// Request messages buffered ahead of a streaming handler.
const INPUT_BUFFER: usize = 16;
/// QUIC error code for a stream abandoned by the server.
const STREAM_ABANDONED: u32 = 1;
/// After a call ends, how long and how much of the peer's leftover request
/// is read and dropped before the stream is stopped.
const DRAIN_TIME: Duration = Duration::from_secs(2);
const DRAIN_BYTES: usize = 1 << 20;
/// Most response messages framed into one write.
const OUTPUT_BATCH_ITEMS: usize = 64;
/// A write stops taking more ready responses once it holds this many bytes.
const OUTPUT_BATCH_BYTES: usize = 64 * 1024;

/// What a stream's future keeps between turns besides its I/O: the protocol
/// state machine and the call it runs. Kept on the heap, in one allocation
/// small enough for the allocator's fast path, so that the task itself stays
/// small: tokio moves a task's future on spawn and on completion, and a task
/// over about a kilobyte takes the allocator's slow path on every call.
struct State {
    sm: ServerStream,
    active: Option<Active>,
    session: Option<(Arc<dyn Dispatch>, SessionContext)>,
    /// Requests waiting for room in the handler's channel. Reading pauses
    /// while any wait, so this holds at most what one read delivered.
    pending_input: VecDeque<Bytes>,
}

/// Where one read puts what the stream has buffered (QUIC delivers it about
/// a packet per chunk). A few slots inline, since a unary request is usually
/// one chunk; after a read fills them all (a large request) the stream grows
/// to [`READ_CHUNKS`] slots, so that it costs one loop turn per batch rather
/// than per packet.
enum ReadSlots {
    Few([Bytes; FEW_READ_CHUNKS]),
    Many(Box<[Bytes; READ_CHUNKS]>),
}

impl Default for ReadSlots {
    fn default() -> Self {
        ReadSlots::Few([const { Bytes::new() }; FEW_READ_CHUNKS])
    }
}

impl ReadSlots {
    fn get(&mut self) -> &mut [Bytes] {
        match self {
            ReadSlots::Few(few) => few,
            ReadSlots::Many(many) => &mut many[..],
        }
    }

    /// After a read that filled `n` slots (and their chunks were taken).
    fn filled(&mut self, n: usize) {
        if matches!(self, ReadSlots::Few(_)) && n == FEW_READ_CHUNKS {
            *self = ReadSlots::Many(Box::new([const { Bytes::new() }; READ_CHUNKS]));
        }
    }
}

/// The instance a call runs on.
enum Instance {
    /// The server's one instance of a shared service (index into
    /// `shared_instances`): borrowed when the handler starts, not cloned
    /// per call (its count would be written by both cores on every call).
    Shared(usize),
    /// A session's instance, or one opened for this call.
    Own(Arc<dyn Dispatch>),
}

struct Active {
    id: CallId,
    instance: Instance,
    method: usize,
    pattern: Pattern,
    /// Until the handler starts.
    ctx: Option<CallContext>,
    span: tracing::Span,
    /// Taken only when the span records anything.
    started: Option<Instant>,
}

/// A running handler, inside its call's span.
type Handler = Instrumented<Guarded<BoxFuture<Result<Outgoing, Status>>>>;

impl Active {
    /// Starts the handler.
    fn run(&mut self, shared: &ServerShared, input: Incoming) -> Option<Handler> {
        let dispatch: &dyn Dispatch = match &self.instance {
            Instance::Shared(i) => shared.shared_instances.get(*i)?.as_deref()?,
            Instance::Own(d) => &**d,
        };
        let ctx = self.ctx.take()?;
        Some(Guarded::new(dispatch.call(self.method, ctx, input)).instrument(self.span.clone()))
    }
}

enum Wake {
    /// How many of the read slots one read filled.
    Read(Result<Option<usize>, iroh::endpoint::ReadError>),
    Handler(Result<Outgoing, Status>),
    Output(Option<Result<BoxMessage, Status>>),
    InputRoom(Option<mpsc::OwnedPermit<Result<Bytes, Status>>>),
    /// The peer stopped reading (it abandoned the call).
    Stopped,
    Timer,
}

/// Serves one accepted stream until its call (or session) ends. A plain
/// function returning the loop as an `async move` block: an `async fn` would
/// keep its arguments twice in the task, as arguments and as moved locals.
///
/// `inline`: the stream's first poll runs in its connection's accept loop
/// (see `first_poll` in the server module). A call that answers with a
/// stream then yields before its first response, and a session as soon as
/// it opens, so that streaming, which may go on for as long as flow control
/// allows, and a session's calls happen in a task of their own.
#[allow(clippy::manual_async_fn)] // on purpose: see above
pub(crate) fn serve_stream(
    conn: ActiveStream,
    send: SendStream,
    mut recv: RecvStream,
    mut inline: bool,
) -> impl Future<Output = ()> + Send {
    async move {
        // Dropped once the trailer went out: dropping a send side finishes
        // it, in one turn of the connection's lock where `finish` and a
        // later drop take two (each contended with the connection's driver).
        let mut send = Some(send);
        let mut st = Box::new(State {
            sm: ServerStream::new(conn.server.table.clone()),
            active: None,
            session: None,
            pending_input: VecDeque::new(),
        });
        let mut handler: Option<Handler> = None;
        // A handler started since the last turn: polled once before waiting.
        let mut handler_fresh = false;
        let mut output: Option<Guarded<BoxStream<Result<BoxMessage, Status>>>> = None;
        let mut input: Option<mpsc::Sender<Result<Bytes, Status>>> = None;
        // The request side ended; drop the channel once `st.pending_input` drains.
        let mut input_ended = false;
        let mut read_open = true;
        let mut write_failed = false;
        // Made on first use, then kept for the stream's life: a fresh future per
        // turn would cost a connection lock and a timer registration each time.
        let mut stopped: Option<BoxFuture<Result<Option<VarInt>, StoppedError>>> = None;
        let mut timer = DeadlineTimer::default();
        // The clock as of the last wake-up that needed it (epoch ms): calls
        // start from the bytes of a read, so their admission check uses the
        // read's time rather than reading the clock again.
        let mut now: Option<u64> = None;
        let mut slots = ReadSlots::default();

        loop {
            if st.active.is_none() {
                // No call, no input: whatever was waiting belongs to a call that ended.
                st.pending_input.clear();
                input = None;
                input_ended = false;
            }
            // Write what the state machine queued.
            while let Some(t) = st.sm.peek_transmit() {
                let mut failed = false;
                if let Some(open) = send.as_mut().filter(|_| !write_failed) {
                    failed = crate::quic::write_chunk(open, t.data).await.is_err();
                    if t.fin && !failed {
                        send = None;
                        stopped = None;
                    }
                }
                st.sm.advance_transmit();
                if failed {
                    write_failed = true;
                    st.sm.handle_reset();
                }
            }
            // React to what happened.
            let mut progressed = false;
            while let Some(ev) = st.sm.poll_event() {
                progressed = true;
                match ev {
                    ServerEvent::SessionOpen(info) => {
                        let (dispatch, ctx) = open_session(&conn, info);
                        st.session = Some((dispatch, ctx));
                        if std::mem::take(&mut inline) {
                            // A session may go on taking calls for as long
                            // as its client sends them: not in the accept loop.
                            tokio::task::yield_now().await;
                        }
                    }
                    ServerEvent::Call(info) => {
                        match start_call(
                            &conn,
                            st.session.as_ref(),
                            info,
                            now.unwrap_or_else(now_ms),
                        ) {
                            Ok(mut call) => {
                                if call.pattern.client_streams() {
                                    // Streaming input: the handler starts now and
                                    // pulls requests from a bounded channel.
                                    let (tx, mut rx) = mpsc::channel(INPUT_BUFFER);
                                    input = Some(tx);
                                    let requests =
                                        futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
                                    handler = call
                                        .run(&conn.server, Incoming::Stream(Box::pin(requests)));
                                    handler_fresh = handler.is_some();
                                }
                                st.active = Some(call);
                            }
                            Err((id, status)) => {
                                let _ = st.sm.complete(id, Err(status));
                            }
                        }
                    }
                    ServerEvent::Request { id, payload } => {
                        let Some(call) = st.active.as_mut().filter(|c| c.id == id) else {
                            continue;
                        };
                        if !call.pattern.client_streams() {
                            handler = call.run(&conn.server, Incoming::Unary(payload));
                            handler_fresh = handler.is_some();
                        } else if let Some(tx) = &input {
                            if !st.pending_input.is_empty() {
                                st.pending_input.push_back(payload);
                            } else if let Err(mpsc::error::TrySendError::Full(Ok(p))) =
                                tx.try_send(Ok(payload))
                            {
                                st.pending_input.push_back(p);
                            }
                        }
                    }
                    ServerEvent::RequestEnd { id } => {
                        if st.active.as_ref().is_some_and(|c| c.id == id) {
                            if st.pending_input.is_empty() {
                                input = None;
                            } else {
                                input_ended = true;
                            }
                        }
                    }
                    ServerEvent::Aborted { id, status } => {
                        if let Some(call) = st.active.take().filter(|c| c.id == id) {
                            finish_span(&call, &status);
                        }
                        handler = None;
                        output = None;
                        input = None;
                        st.pending_input.clear();
                        input_ended = false;
                    }
                    ServerEvent::Closed => {}
                }
            }
            if progressed {
                continue;
            }
            if st.sm.is_closed() {
                break;
            }

            // A handler that answers at once (most unary ones) is done here,
            // without a turn through the select below.
            let ready = match handler.as_mut() {
                Some(h) if std::mem::take(&mut handler_fresh) => {
                    std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *h).poll(cx))).await
                }
                _ => Poll::Pending,
            };
            let wake = if let Poll::Ready(r) = ready {
                Wake::Handler(r)
            } else {
                let watch_stop = st.active.is_some() && !write_failed;
                if watch_stop && stopped.is_none() {
                    stopped = send.as_ref().map(|s| Box::pin(s.stopped()) as _);
                }
                let watch_stop = watch_stop && stopped.is_some();
                let deadline = st.sm.poll_timeout();
                timer.arm(deadline);
                // Biased: the rare events (peer gone, deadline) are looked at
                // first, so a handler whose output is always ready cannot starve
                // them; responses last, so reading input goes on meanwhile.
                tokio::select! {
                    biased;
                    // After its FIN a client can only cancel by stopping our send side.
                    _ = async { stopped.as_mut().expect("guarded").await }, if watch_stop => Wake::Stopped,
                    _ = timer.wait(), if deadline.is_some() => Wake::Timer,
                    r = recv.read_many_chunks(slots.get()), if read_open && st.pending_input.is_empty() => Wake::Read(r),
                    r = async { handler.as_mut().expect("guarded").await }, if handler.is_some() => Wake::Handler(r),
                    r = async { Box::pin(input.clone().expect("guarded").reserve_owned()).await.ok() }, if !st.pending_input.is_empty() && input.is_some() => Wake::InputRoom(r),
                    r = async { output.as_mut().expect("guarded").next().await }, if output.is_some() && handler.is_none() => Wake::Output(r),
                }
            };

            match wake {
                Wake::Read(Ok(Some(n))) => {
                    let now = *now.insert(now_ms());
                    for chunk in &mut slots.get()[..n] {
                        st.sm.handle_bytes(std::mem::take(chunk), now);
                    }
                    slots.filled(n);
                }
                Wake::Read(Ok(None)) => {
                    read_open = false;
                    st.sm.handle_fin(*now.insert(now_ms()));
                }
                Wake::Read(Err(e)) => {
                    debug!(error = %e, "stream read failed");
                    read_open = false;
                    st.sm.handle_reset();
                }
                Wake::Handler(result) => {
                    handler = None;
                    let Some(call) = st.active.as_ref() else {
                        continue;
                    };
                    let id = call.id;
                    match result {
                        Ok(Outgoing::Unary(message)) => {
                            let sent = st
                                .sm
                                .send_with(id, |mode, out| message.encode_frame(mode, out));
                            let status = sent.map_err(|e| Status::internal(e.to_string()));
                            let _ = st.sm.complete(id, status);
                            end_call(&mut st.active, &Status::ok());
                            input = None;
                        }
                        Ok(Outgoing::Stream(s)) => {
                            output = Some(Guarded::new(s));
                            if std::mem::take(&mut inline) {
                                tokio::task::yield_now().await;
                            }
                        }
                        Err(status) => {
                            let _ = st.sm.complete(id, Err(status.clone()));
                            end_call(&mut st.active, &status);
                            input = None;
                        }
                    }
                }
                Wake::Output(first) => {
                    let Some(id) = st.active.as_ref().map(|c| c.id) else {
                        output = None;
                        continue;
                    };
                    // Frame this message and whichever follow it at once, so
                    // that they go out in one write (the loop's top).
                    let (mut item, mut items, mut bytes) = (first, 0usize, 0usize);
                    loop {
                        match item {
                            Some(Ok(message)) => {
                                let sent = st.sm.send_with(id, |mode, out| {
                                    let before = out.len();
                                    let r = message.encode_frame(mode, out);
                                    bytes += out.len().saturating_sub(before);
                                    r
                                });
                                if let Err(e) = sent {
                                    let status = Status::internal(e.to_string());
                                    let _ = st.sm.complete(id, Err(status.clone()));
                                    output = None;
                                    end_call(&mut st.active, &status);
                                    break;
                                }
                            }
                            Some(Err(status)) => {
                                output = None;
                                let _ = st.sm.complete(id, Err(status.clone()));
                                end_call(&mut st.active, &status);
                                break;
                            }
                            None => {
                                output = None;
                                let _ = st.sm.complete(id, Ok(()));
                                end_call(&mut st.active, &Status::ok());
                                break;
                            }
                        }
                        items += 1;
                        if items >= OUTPUT_BATCH_ITEMS || bytes >= OUTPUT_BATCH_BYTES {
                            break;
                        }
                        // Another message ready now? Polled with a no-op waker:
                        // on Pending the select above polls the stream again,
                        // with this task's waker, before the task sleeps.
                        let Some(s) = output.as_mut() else { break };
                        match s.poll_next_unpin(&mut Context::from_waker(Waker::noop())) {
                            Poll::Ready(next) => item = next,
                            Poll::Pending => break,
                        }
                    }
                    if st.active.is_none() {
                        input = None;
                    }
                }
                Wake::InputRoom(Some(permit)) => {
                    if let Some(p) = st.pending_input.pop_front() {
                        permit.send(Ok(p));
                    }
                    if st.pending_input.is_empty() && input_ended {
                        input = None;
                        input_ended = false;
                    }
                }
                Wake::InputRoom(None) => {
                    // The handler dropped its request stream; drop further input.
                    st.pending_input.clear();
                    input = None;
                }
                Wake::Stopped => {
                    write_failed = true;
                    st.sm.handle_reset();
                }
                Wake::Timer => {
                    timer.fired();
                    st.sm.handle_timeout(*now.insert(now_ms()));
                }
            }
        }

        if write_failed || !st.sm.is_closed() {
            if let Some(open) = send.as_mut() {
                let _ = open.reset(VarInt::from_u32(STREAM_ABANDONED));
            }
        }
        if read_open && !write_failed {
            // The peer may still be writing the request of a call we already
            // answered (refused, or ended early); stopping the stream now would
            // fail its next write before it reads our trailer. Read and drop what
            // still comes, briefly and boundedly, then stop.
            // Usually the FIN is already there: read inline, and box the
            // timed wait only when it is not (it would enlarge every task).
            let mut drained = 0;
            read_open = match drain_ready(&mut recv, &mut drained).await {
                Some(ended) => !ended,
                None => !Box::pin(drain_wait(&mut recv, drained)).await,
            };
        }
        if read_open {
            // Only a stream not read to its end needs stopping: `stop` wakes
            // the connection's driver, a cost on every call otherwise.
            let _ = recv.stop(VarInt::from_u32(0));
        }
        if let Some((dispatch, _)) = st.session.take() {
            dispatch.close().await;
        }
    }
}

/// Reads and drops what of the peer's leftover request is already there.
/// `Some(true)` when the stream's end (FIN, or a reset) was read,
/// `Some(false)` when [`DRAIN_BYTES`] were dropped without reaching it,
/// `None` when more may come (see [`drain_wait`]).
async fn drain_ready(recv: &mut RecvStream, drained: &mut usize) -> Option<bool> {
    while *drained < DRAIN_BYTES {
        match crate::quic::read_chunk_now(recv, READ_CHUNK).await {
            Poll::Ready(Ok(Some(chunk))) => *drained += chunk.len(),
            Poll::Ready(_) => return Some(true),
            Poll::Pending => return None,
        }
    }
    Some(false)
}

/// Goes on dropping the peer's leftover request, up to [`DRAIN_BYTES`] in
/// all for up to [`DRAIN_TIME`]. True when the stream's end was read.
async fn drain_wait(recv: &mut RecvStream, mut drained: usize) -> bool {
    tokio::time::timeout(DRAIN_TIME, async {
        while drained < DRAIN_BYTES {
            match recv.read_chunk(READ_CHUNK).await {
                Ok(Some(chunk)) => drained += chunk.len(),
                _ => return true,
            }
        }
        false
    })
    .await
    .unwrap_or(false)
}

fn open_session(conn: &ConnShared, info: SessionInfo) -> (Arc<dyn Dispatch>, SessionContext) {
    let service = &conn.server.services[info.service];
    let ctx = SessionContext {
        service: service.descriptor().name,
        peer: Some(conn.peer.clone()),
        session_id: info.session_id,
        metadata: info.metadata,
        attributes: conn.server.attributes_of(&conn.peer),
    };
    (service.open(&ctx), ctx)
}

/// Builds the call's context and runs the authorization checks (Gates 2 and
/// 3): a refusal becomes the call's only outcome.
fn start_call(
    conn: &ConnShared,
    session: Option<&(Arc<dyn Dispatch>, SessionContext)>,
    info: CallInfo,
    now_ms: u64,
) -> Result<Active, (CallId, Status)> {
    let shared = &*conn.server;
    let peer = &conn.peer;
    let service = &shared.services[info.route.service];
    let desc = service.descriptor();
    let method = &desc.methods[info.route.method];
    let span = call_span!(tracing::Level::INFO, "rpc", service = desc.name, method = method.name, peer = %short(peer), status = tracing::field::Empty, elapsed_us = tracing::field::Empty);
    let attributes = match conn.authorize(desc, method, now_ms) {
        Ok(a) => a,
        Err(status) => {
            span.record("status", status.code.name());
            return Err((info.id, status));
        }
    };
    let ctx = CallContext {
        service: desc.name,
        method: method.name,
        peer: Some(peer.clone()),
        metadata: info.metadata,
        attributes,
        deadline_epoch_ms: info.deadline_epoch_ms,
        call_id: info.call_id,
        session_id: session.map(|(_, s)| s.session_id.clone()),
        mode: info.mode,
    };
    let instance = match (session, &shared.shared_instances[info.route.service]) {
        (Some((d, _)), _) => Instance::Own(d.clone()),
        (None, Some(_)) => Instance::Shared(info.route.service),
        (None, None) => Instance::Own(service.open(&SessionContext {
            service: desc.name,
            peer: ctx.peer.clone(),
            session_id: String::new(),
            metadata: vec![],
            attributes: Default::default(),
        })),
    };
    Ok(Active {
        id: info.id,
        instance,
        method: info.route.method,
        pattern: info.pattern,
        ctx: Some(ctx),
        started: (!span.is_disabled()).then(Instant::now),
        span,
    })
}

fn short(id: &str) -> &str {
    &id[..id.len().min(10)]
}

fn finish_span(call: &Active, status: &Status) {
    let Some(started) = call.started else {
        return;
    };
    call.span.record("status", status.code.name());
    call.span
        .record("elapsed_us", started.elapsed().as_micros() as u64);
    call.span.in_scope(|| {
        if status.code == StatusCode::Ok {
            debug!("call done");
        } else {
            debug!(message = %status.message, "call failed");
        }
    });
}

fn end_call(active: &mut Option<Active>, status: &Status) {
    if let Some(call) = active.take() {
        finish_span(&call, status);
    }
}

/// A handler's future or response stream, with a panic in it turned into
/// its call's INTERNAL status: the caller gets a trailer that says what
/// happened, and the stream ends as any failed call does. (The panic's
/// message stays in the server's log: it may say more than a caller should
/// see.)
struct Guarded<T> {
    inner: T,
    panicked: bool,
}

/// What a caller is told about a panicked handler.
const PANICKED: &str = "the handler panicked";

impl<T: Unpin> Guarded<T> {
    fn new(inner: T) -> Guarded<T> {
        Guarded {
            inner,
            panicked: false,
        }
    }

    /// Polls the inner value once; a panic is logged and becomes `Err`.
    fn poll_guarded<R>(
        &mut self,
        poll: impl FnOnce(Pin<&mut T>) -> Poll<R>,
    ) -> Result<Poll<R>, Status> {
        if self.panicked {
            return Err(Status::internal(PANICKED));
        }
        let inner = &mut self.inner;
        std::panic::catch_unwind(AssertUnwindSafe(|| poll(Pin::new(inner)))).map_err(|payload| {
            self.panicked = true;
            let what = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("(no message)");
            tracing::error!(panic = what, "a handler panicked");
            Status::internal(PANICKED)
        })
    }
}

impl<F: Future<Output = Result<Outgoing, Status>> + Unpin> Future for Guarded<F> {
    type Output = Result<Outgoing, Status>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.poll_guarded(|f| f.poll(cx))
            .unwrap_or_else(|status| Poll::Ready(Err(status)))
    }
}

impl<S: futures_util::Stream<Item = Result<BoxMessage, Status>> + Unpin> futures_util::Stream
    for Guarded<S>
{
    type Item = Result<BoxMessage, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        // After the panic's error item, the stream is over.
        let was_over = self.panicked;
        match self.poll_guarded(|s| s.poll_next(cx)) {
            Ok(polled) => polled,
            Err(_) if was_over => Poll::Ready(None),
            Err(status) => Poll::Ready(Some(Err(status))),
        }
    }
}

#[allow(dead_code)]
fn _assert_send() {
    fn is_send<T: Send>(_: T) {}
    let _ = |s: ActiveStream, a: SendStream, b: RecvStream| is_send(serve_stream(s, a, b, true));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn future_size<A, B, C, D, F>(_: fn(A, B, C, D) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    /// The stream task and its state each stay under about a kilobyte, where
    /// glibc's allocator has its fast path (see [`State`]).
    #[test]
    fn the_stream_task_stays_small() {
        let task = future_size(serve_stream);
        let state = std::mem::size_of::<State>();
        assert!(task <= 640, "stream task future is {task} bytes");
        assert!(state <= 1000, "stream state is {state} bytes");
    }
}
