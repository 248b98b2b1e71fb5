//! A G1 session (one stream, sequential calls) as a [`Caller`].
//!
//! An actor task owns the stream and the [`ClientSession`] state machine;
//! calls are queued to it and run one at a time, as the protocol requires.
//! Dropping every handle of the [`Session`] closes the session (FIN), which
//! ends the server's instance.

use aster_proto::Status;
use aster_proto::call::{CallId, ClientSession, Pattern, SessionCall, SessionEvent};
use aster_proto::codec::SerializationMode;
use aster_proto::service::{MethodDescriptor, ServiceDescriptor};
use bytes::Bytes;
use futures_util::StreamExt;
use iroh::endpoint::{RecvStream, SendStream, VarInt};
use tokio::sync::{mpsc, oneshot};

use crate::caller::{CallFuture, CallOptions, Caller, Inbound, Outbound};
use crate::handler::{BoxMessage, BoxStream};
use crate::net::now_ms;

const READ_CHUNK: usize = 256 * 1024;
const OUTPUT_BUFFER: usize = 16;

struct Command {
    method: String,
    pattern: Pattern,
    timeout: Option<std::time::Duration>,
    metadata: Vec<(String, String)>,
    input: Outbound,
    reply: oneshot::Sender<Result<(SerializationMode, Inbound), Status>>,
}

/// An open session of a session-scoped service.
#[derive(Clone)]
pub struct Session {
    commands: mpsc::Sender<Command>,
    service: String,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("service", &self.service)
            .finish()
    }
}

impl Session {
    pub(crate) fn start(
        sm: ClientSession,
        send: SendStream,
        recv: RecvStream,
        service: String,
    ) -> Session {
        let (tx, rx) = mpsc::channel(8);
        tokio::spawn(actor(sm, send, recv, rx));
        Session {
            commands: tx,
            service,
        }
    }

    /// The name of the session's service.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// Runs one call on the session (calls are sequential).
    pub async fn call_raw(
        &self,
        method: &str,
        pattern: Pattern,
        options: CallOptions,
        input: Outbound,
    ) -> Result<(SerializationMode, Inbound), Status> {
        let (reply, rx) = oneshot::channel();
        let command = Command {
            method: method.to_string(),
            pattern,
            timeout: options.timeout,
            metadata: options.metadata,
            input,
            reply,
        };
        self.commands
            .send(command)
            .await
            .map_err(|_| Status::unavailable("the session is closed"))?;
        rx.await
            .map_err(|_| Status::unavailable("the session ended during the call"))?
    }
}

impl Caller for Session {
    fn call(
        &self,
        service: &'static ServiceDescriptor,
        method: &'static MethodDescriptor,
        options: CallOptions,
        input: Outbound,
    ) -> CallFuture<'_> {
        if service.name != self.service {
            return Box::pin(std::future::ready(Err(Status::failed_precondition(
                format!(
                    "this session is with '{}', not '{}'",
                    self.service, service.name
                ),
            ))));
        }
        let mut options = options;
        options.timeout = options.timeout.or_else(|| timeout_of(method));
        Box::pin(self.call_raw(method.name, method.pattern, options, input))
    }
}

enum Output {
    Stream(mpsc::Sender<Result<Bytes, Status>>),
    One(
        Option<oneshot::Sender<Result<(SerializationMode, Inbound), Status>>>,
        Option<Bytes>,
    ),
}

struct Current {
    id: CallId,
    output: Output,
    pending: Option<Bytes>,
}

type Write = std::pin::Pin<Box<dyn std::future::Future<Output = (SendStream, bool)> + Send>>;

enum Wake {
    Command(Option<Command>),
    Read(Result<Option<Bytes>, iroh::endpoint::ReadError>),
    Wrote(SendStream, bool),
    Request(Option<BoxMessage>),
    Room(Option<mpsc::OwnedPermit<Result<Bytes, Status>>>),
    CallerGone,
    Timer,
}

async fn sleep_until_ms(at: Option<u64>) {
    match at {
        Some(at) => {
            tokio::time::sleep(std::time::Duration::from_millis(
                at.saturating_sub(now_ms()),
            ))
            .await
        }
        None => std::future::pending().await,
    }
}

fn deliver_outcome(current: Current, status: Status, mode: SerializationMode) {
    match current.output {
        Output::Stream(tx) => {
            tokio::spawn(async move {
                if let Some(b) = current.pending {
                    let _ = tx.send(Ok(b)).await;
                }
                if !status.is_ok() {
                    let _ = tx.send(Err(status)).await;
                }
            });
        }
        Output::One(Some(reply), body) => {
            let result = match (status.is_ok(), body) {
                (true, Some(b)) => Ok((mode, Inbound::Unary(b))),
                (true, None) => Err(Status::internal("call ended without a response")),
                (false, _) => Err(status),
            };
            let _ = reply.send(result);
        }
        Output::One(None, _) => {}
    }
}

async fn actor(
    mut sm: ClientSession,
    send: SendStream,
    mut recv: RecvStream,
    mut commands: mpsc::Receiver<Command>,
) {
    let mode = sm.mode();
    let mut send = Some(send);
    let mut writing: Option<Write> = None;
    let mut current: Option<Current> = None;
    // The current call's request stream (client-stream and bidi calls).
    let mut requests: Option<BoxStream<BoxMessage>> = None;
    let mut commands_open = true;
    let mut read_open = true;
    loop {
        if writing.is_none() {
            if let Some(t) = sm.poll_transmit() {
                if let Some(mut s) = send.take() {
                    writing = Some(Box::pin(async move {
                        let ok = t.data.is_empty() || s.write_chunk(t.data).await.is_ok();
                        if t.fin {
                            let _ = s.finish();
                        }
                        (s, ok)
                    }));
                }
            }
        }
        // Events stay queued in the state machine while a response waits for
        // room in the caller's channel.
        while current.as_ref().is_none_or(|c| c.pending.is_none()) {
            let Some(ev) = sm.poll_event() else { break };
            match ev {
                SessionEvent::Response { id, payload } => {
                    let Some(c) = current.as_mut().filter(|c| c.id == id) else {
                        continue;
                    };
                    match &mut c.output {
                        Output::Stream(tx) => {
                            if let Err(mpsc::error::TrySendError::Full(Ok(b))) =
                                tx.try_send(Ok(payload))
                            {
                                c.pending = Some(b);
                            }
                        }
                        Output::One(_, body) => *body = Some(payload),
                    }
                }
                SessionEvent::Done { id, status } => {
                    if let Some(c) = current.take_if(|c| c.id == id) {
                        requests = None;
                        deliver_outcome(c, status, mode);
                    }
                }
                SessionEvent::Closed(status) => {
                    requests = None;
                    if let Some(c) = current.take() {
                        deliver_outcome(c, status, mode);
                    }
                }
            }
        }
        if sm.is_closed() && writing.is_none() {
            break;
        }
        if !commands_open && current.is_none() && sm.is_idle() && writing.is_none() {
            sm.close();
            if let Some(t) = sm.poll_transmit() {
                if let Some(mut s) = send.take() {
                    let _ = s.write_chunk(t.data).await;
                    let _ = s.finish();
                }
            }
            break;
        }

        let deadline = sm.poll_timeout();
        let pending = current.as_ref().is_some_and(|c| c.pending.is_some());
        let want_requests = writing.is_none() && current.is_some() && requests.is_some();
        let room = match current.as_ref().map(|c| &c.output) {
            Some(Output::Stream(tx)) if pending => Some(tx.clone()),
            _ => None,
        };
        let wake = tokio::select! {
            c = commands.recv(), if commands_open && current.is_none() && writing.is_none() => Wake::Command(c),
            r = recv.read_chunk(READ_CHUNK), if read_open && !pending => Wake::Read(r),
            r = async { writing.as_mut().expect("guarded").await }, if writing.is_some() => Wake::Wrote(r.0, r.1),
            r = async { requests.as_mut().expect("guarded").next().await }, if want_requests => Wake::Request(r),
            r = async move { room.expect("guarded").reserve_owned().await.ok() }, if room.is_some() => Wake::Room(r),
            _ = async {
                match current.as_mut().map(|c| &mut c.output) {
                    Some(Output::Stream(tx)) => tx.closed().await,
                    Some(Output::One(Some(tx), _)) => tx.closed().await,
                    _ => std::future::pending().await,
                }
            }, if current.is_some() => Wake::CallerGone,
            _ = sleep_until_ms(deadline) => Wake::Timer,
        };
        match wake {
            Wake::Command(None) => commands_open = false,
            Wake::Command(Some(cmd)) => {
                let deadline = cmd.timeout.map(|t| now_ms() + t.as_millis() as u64);
                let started = sm.start_call(&SessionCall {
                    method: cmd.method,
                    pattern: cmd.pattern,
                    call_id: super::new_call_id(),
                    deadline_epoch_ms: deadline,
                    metadata: cmd.metadata,
                });
                let id = match started {
                    Ok(id) => id,
                    Err(e) => {
                        let _ = cmd
                            .reply
                            .send(Err(Status::failed_precondition(e.to_string())));
                        continue;
                    }
                };
                let first = match cmd.input {
                    Outbound::Unary(m) => Some(m),
                    Outbound::Stream(s) => {
                        requests = Some(s);
                        None
                    }
                };
                if let Some(m) = first {
                    if let Err(e) = sm.send_with(id, |mode, out| m.encode_frame(mode, out)) {
                        let _ = cmd.reply.send(Err(Status::internal(e.to_string())));
                        let _ = sm.cancel_call(id);
                        continue;
                    }
                }
                let output = if cmd.pattern.server_streams() {
                    let (tx, rx) = mpsc::channel(OUTPUT_BUFFER);
                    let _ = cmd.reply.send(Ok((
                        mode,
                        Inbound::Stream(super::drive::receiver_stream(rx)),
                    )));
                    Output::Stream(tx)
                } else {
                    Output::One(Some(cmd.reply), None)
                };
                current = Some(Current {
                    id,
                    output,
                    pending: None,
                });
            }
            Wake::Read(Ok(Some(data))) => sm.handle_data(&data),
            Wake::Read(Ok(None)) => {
                read_open = false;
                sm.handle_fin();
            }
            Wake::Read(Err(iroh::endpoint::ReadError::Reset(code))) => {
                read_open = false;
                sm.handle_reset_code(code.into_inner());
            }
            Wake::Read(Err(_)) => {
                read_open = false;
                sm.handle_reset();
            }
            Wake::Wrote(s, ok) => {
                writing = None;
                send = Some(s);
                if !ok {
                    sm.handle_reset();
                }
            }
            Wake::Request(Some(message)) => {
                if let Some(c) = current.as_ref() {
                    if let Err(e) = sm.send_with(c.id, |mode, out| message.encode_frame(mode, out))
                    {
                        let id = c.id;
                        tracing::debug!(error = %e, "session request not sent");
                        let _ = sm.cancel_call(id);
                    }
                }
            }
            Wake::Request(None) => {
                requests = None;
                if let Some(c) = current.as_ref() {
                    let _ = sm.finish_sending(c.id);
                }
            }
            Wake::Room(Some(permit)) => {
                if let Some(b) = current.as_mut().and_then(|c| c.pending.take()) {
                    permit.send(Ok(b));
                }
            }
            Wake::Room(None) | Wake::CallerGone => {
                if let Some(c) = current.as_ref() {
                    let _ = sm.cancel_call(c.id);
                }
            }
            Wake::Timer => sm.handle_timeout(now_ms()),
        }
    }
    if let Some(mut s) = send {
        if !sm.is_closed() {
            let _ = s.reset(VarInt::from_u32(1));
        }
    }
    let _ = recv.stop(VarInt::from_u32(0));
}

fn timeout_of(method: &MethodDescriptor) -> Option<std::time::Duration> {
    (method.timeout_secs > 0.0).then(|| std::time::Duration::from_secs_f64(method.timeout_secs))
}
