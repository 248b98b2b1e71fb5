//! The incremental frame decoder on arbitrary bytes, delivered in chunks whose
//! size comes from the first input byte; the result must not depend on it.
#![no_main]

use aster_proto::frame::FrameDecoder;
use libfuzzer_sys::fuzz_target;

fn decode(data: &[u8], chunk: usize) -> (Vec<(u8, Vec<u8>)>, bool) {
    let mut d = FrameDecoder::new();
    let mut frames = vec![];
    for piece in data.chunks(chunk.max(1)) {
        if d.push(piece).is_err() {
            return (frames, true);
        }
        loop {
            match d.next_frame() {
                Ok(Some(f)) => frames.push((f.flags.bits(), f.payload.to_vec())),
                Ok(None) => break,
                Err(_) => return (frames, true),
            }
        }
    }
    (frames, d.finish().is_err())
}

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, rest)) = data.split_first() else { return };
    assert_eq!(decode(rest, rest.len().max(1)), decode(rest, usize::from(chunk)));
});
