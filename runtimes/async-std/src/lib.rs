//! Aster RPC from [async-std](https://docs.rs/async-std).
//!
//! iroh needs a tokio reactor, so this crate adds nothing but the glue: a
//! [`Reactor`] (a tokio runtime on its own threads) where endpoints are
//! bound and connections made, and [`Bridged`] callers so that typed stubs
//! can be awaited from async-std tasks. Response streams, request streams and
//! results are plain futures and streams, polled by async-std.
//!
//! ```no_run
//! aster_async_std::block_on(|reactor| async move {
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

/// Starts a [`Reactor`] and runs `main` on async-std's executor (`task::block_on`).
pub fn block_on<F, Fut>(main: F) -> std::io::Result<Fut::Output>
where
    F: FnOnce(Reactor) -> Fut,
    Fut: std::future::Future,
{
    let reactor = Reactor::start()?;
    Ok(async_std::task::block_on(main(reactor)))
}
