//! Small operations on iroh's QUIC streams, shaped for the call loops.

use std::future::Future;
use std::pin::pin;
use std::task::Poll;

use aster_proto::frame::Chunk;
use bytes::Bytes;
use iroh::endpoint::{ReadError, RecvStream, SendStream, WriteError};

/// Writes what a stream's state machine shows next ([`Chunk`]) in full.
///
/// Its own bytes go from a borrowed slice: iroh copies writes of up to
/// about a packet into its send buffer anyway, so making them a `Bytes`
/// first would only cost an allocation. A shared piece (a large field) goes
/// by reference, without a copy.
///
/// The future holds the stream and the chunk; iroh's own write futures are
/// far larger (`write_chunk`'s is 176 bytes), and this one sits in every
/// call's future, whose size decides whether a call task or a boxed call
/// is allocated on the allocator's fast path.
pub(crate) fn write_chunk<'a>(
    send: &'a mut SendStream,
    chunk: Chunk<'a>,
) -> impl Future<Output = Result<(), WriteError>> + Send + 'a {
    let (mut slice, mut shared) = match chunk {
        Chunk::Borrowed(b) => (b, Bytes::new()),
        Chunk::Shared(b) => (&[][..], b.clone()),
    };
    std::future::poll_fn(move |cx| {
        // iroh's write futures keep no state between polls (the waker is
        // registered with the stream), so a fresh one per poll is the same
        // as one kept. A written chunk is taken (left empty); a partly
        // written one keeps its rest.
        loop {
            let step = if !shared.is_empty() {
                let mut rest: &mut [Bytes] = std::slice::from_mut(&mut shared);
                pin!(send.write_many_chunks(&mut rest))
                    .poll(cx)
                    .map_ok(drop)
            } else if !slice.is_empty() {
                match pin!(send.write(slice)).poll(cx) {
                    Poll::Ready(Ok(n)) => {
                        slice = &slice[n.min(slice.len())..];
                        Poll::Ready(Ok(()))
                    }
                    other => other.map_ok(drop),
                }
            } else {
                return Poll::Ready(Ok(()));
            };
            match step {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    })
}

/// One read of up to `max` bytes if the stream has something (data, its
/// end, or an error) right now; `Pending` instead of waiting.
pub(crate) fn read_chunk_now(
    recv: &mut RecvStream,
    max: usize,
) -> impl Future<Output = Poll<Result<Option<Bytes>, ReadError>>> + Send + '_ {
    std::future::poll_fn(move |cx| Poll::Ready(pin!(recv.read_chunk(max)).poll(cx)))
}
