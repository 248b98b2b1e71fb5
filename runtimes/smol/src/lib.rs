//! Aster RPC from [smol](https://docs.rs/smol).
//!
//! iroh needs a tokio reactor, so this crate adds nothing but the glue: a
//! [`Reactor`] (a tokio runtime on its own threads) where endpoints are
//! bound and connections made, and [`Bridged`] callers so that typed stubs
//! can be awaited from smol tasks. Response streams, request streams and
//! results are plain futures and streams, polled by smol.
//!
//! ```no_run
//! aster_smol::block_on(|reactor| async move {
//!     let client = reactor.run(aster::Client::connect("aster1...")).await??;
//!     let request = serde_json::json!({"agent_id": "edge-7"});
//!     let call = async move { client.call_json("MissionControl", "getStatus", request).await };
//!     let answer = reactor.run(call).await??;
//!     println!("{answer}");
//!     Ok::<_, Box<dyn std::error::Error>>(())
//! })
//! .unwrap();
//! ```

pub use aster::bridge::{Bridged, Reactor, ReactorError};

/// Starts a [`Reactor`] and runs `main` on smol's executor, on this thread.
pub fn block_on<F, Fut>(main: F) -> std::io::Result<Fut::Output>
where
    F: FnOnce(Reactor) -> Fut,
    Fut: std::future::Future,
{
    let reactor = Reactor::start()?;
    Ok(smol::block_on(main(reactor)))
}
