//! Aster from executors other than tokio (smol, async-std, a game loop).
//!
//! iroh needs a tokio reactor: endpoints, connections and their timers must
//! be created inside a tokio runtime. Everything else — awaiting a call's
//! result, polling a response stream, feeding a request stream, dropping
//! them — works from any executor. So the bridge is small: a [`Reactor`]
//! owns a tokio runtime on its own threads, [`Reactor::run`] moves a future
//! there and hands back one that any executor can await, and [`Bridged`]
//! wraps a [`Caller`] so typed stubs issue their calls on the reactor.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use aster::bridge::{Bridged, Reactor};
//! let reactor = Reactor::start()?;
//! // From smol / async-std: bind and connect on the reactor...
//! let client = reactor.run(aster::Client::connect("aster1...")).await??;
//! // ...then call through typed stubs as usual:
//! // let mc = MissionControlClient::new(Bridged::new(client, &reactor));
//! # Ok(()) }
//! ```

use std::future::Future;
use std::sync::Arc;

use aster_proto::Status;
use aster_proto::service::{MethodDescriptor, ServiceDescriptor};
use tokio::runtime::{Handle, Runtime};

use crate::caller::{CallFuture, CallOptions, Caller, Outbound};

/// Worker threads of the reactor's runtime.
const REACTOR_THREADS: usize = 2;

/// A tokio runtime for iroh, on its own threads. Cheap to clone; the
/// runtime stops when the last clone is dropped (without waiting for tasks).
#[derive(Clone)]
pub struct Reactor {
    handle: Handle,
    _runtime: Arc<RuntimeOwner>,
}

struct RuntimeOwner(Option<Runtime>);

impl Drop for RuntimeOwner {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            // Dropping a runtime blocks; from inside another executor that
            // could stall it, so let the worker threads wind down alone.
            rt.shutdown_background();
        }
    }
}

impl std::fmt::Debug for Reactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reactor")
    }
}

/// A reactor task ended without an answer.
#[derive(Debug, thiserror::Error)]
#[error("the reactor task did not finish: {0}")]
pub struct ReactorError(String);

impl Reactor {
    /// Starts a multi-threaded tokio runtime with timers and I/O enabled.
    pub fn start() -> std::io::Result<Reactor> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(REACTOR_THREADS)
            .thread_name("aster-reactor")
            .enable_all()
            .build()?;
        Ok(Reactor {
            handle: runtime.handle().clone(),
            _runtime: Arc::new(RuntimeOwner(Some(runtime))),
        })
    }

    /// The runtime's handle (to spawn or enter it directly).
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Runs `future` on the reactor; the returned future completes with its
    /// output on whatever executor awaits it. A panic in `future` is
    /// reported as an error rather than resumed.
    pub fn run<F>(
        &self,
        future: F,
    ) -> impl Future<Output = Result<F::Output, ReactorError>> + Send + 'static
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let task = self.handle().spawn(future);
        async move { task.await.map_err(|e| ReactorError(e.to_string())) }
    }
}

/// A [`Caller`] whose calls run on a [`Reactor`]: wrap a `Client`, a
/// `Session` or a `Balancer` in it, and generated stubs work from any
/// executor.
#[derive(Clone, Debug)]
pub struct Bridged<C> {
    caller: C,
    reactor: Reactor,
}

impl<C> Bridged<C> {
    pub fn new(caller: C, reactor: &Reactor) -> Bridged<C> {
        Bridged {
            caller,
            reactor: reactor.clone(),
        }
    }

    /// The wrapped caller.
    pub fn inner(&self) -> &C {
        &self.caller
    }
}

impl<C: Caller + Clone + 'static> Caller for Bridged<C> {
    fn call(
        &self,
        service: &'static ServiceDescriptor,
        method: &'static MethodDescriptor,
        options: CallOptions,
        input: Outbound,
    ) -> CallFuture<'_> {
        let caller = self.caller.clone();
        let done = self
            .reactor
            .run(async move { caller.call(service, method, options, input).await });
        Box::pin(async move {
            match done.await {
                Ok(result) => result,
                Err(e) => Err(Status::internal(e.to_string())),
            }
        })
    }
}
