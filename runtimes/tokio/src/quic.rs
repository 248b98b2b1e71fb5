//! Small operations on iroh's QUIC streams, shaped for the call loops.

use std::future::Future;
use std::pin::pin;
use std::task::Poll;

use aster_proto::frame::Chunk;
use bytes::Bytes;
use iroh::endpoint::{SendStream, WriteError};

/// Writes `data` in full, without copying it (what `SendStream::write_chunk`
/// does). That method's future is 176 bytes; this one holds the stream and
/// the chunk (40 bytes). It sits in every call's future, whose size decides
/// whether a call task or a boxed call is allocated on the allocator's fast
/// path, and how much is copied when it moves.
pub(crate) fn write_all(
    send: &mut SendStream,
    mut data: Bytes,
) -> impl Future<Output = Result<(), WriteError>> + Send + '_ {
    std::future::poll_fn(move |cx| {
        // A written chunk is taken (left empty); a partly written one keeps
        // its rest. `write_many_chunks` keeps no state between polls (the
        // waker is registered with the stream), so a fresh one per poll is
        // the same as one kept.
        while !data.is_empty() {
            let mut rest: &mut [Bytes] = std::slice::from_mut(&mut data);
            match pin!(send.write_many_chunks(&mut rest)).poll(cx) {
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    })
}

/// Writes what a stream's state machine shows next ([`Chunk`]): its own
/// bytes from a borrowed slice (iroh copies writes of up to about a packet
/// into its send buffer anyway, so making them a `Bytes` first would only
/// cost an allocation), a shared piece without copying.
pub(crate) async fn write_chunk(send: &mut SendStream, chunk: Chunk<'_>) -> Result<(), WriteError> {
    match chunk {
        Chunk::Borrowed(mut rest) => {
            std::future::poll_fn(|cx| {
                while !rest.is_empty() {
                    match pin!(send.write(rest)).poll(cx) {
                        Poll::Ready(Ok(n)) => rest = &rest[n..],
                        Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                        Poll::Pending => return Poll::Pending,
                    }
                }
                Poll::Ready(Ok(()))
            })
            .await
        }
        Chunk::Shared(data) => write_all(send, data.clone()).await,
    }
}
