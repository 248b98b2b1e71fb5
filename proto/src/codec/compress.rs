//! zstd for payloads (spec §2.4, §4.3): compress above 4096 bytes when that
//! shrinks the payload, decompress with a hard cap so a small bomb cannot
//! allocate more than 16 MiB.
//!
//! Contexts are cached per thread. Creating and sizing a zstd context costs
//! 15–30 µs, more than compressing or decompressing a typical 5–64 KiB
//! payload (about 3 µs), so one context per call would dominate; the
//! reference keeps one per codec for the same reason. The cache holds no
//! protocol state: every call resets its context's session, and the bytes
//! produced are the same as with a fresh context. The compressor also keeps
//! the buffer it compresses into (up to [`SCRATCH_KEEP`] bytes).

use std::cell::RefCell;
use std::io::Read;

use bytes::BytesMut;
use zstd::zstd_safe::{self, CCtx, CParameter, DCtx};

use crate::limits::MAX_DECOMPRESSED_SIZE;

/// Level of python-zstandard's default compressor.
const LEVEL: i32 = 3;
/// Magic number of a zstd data frame (RFC 8878 §3.1.1), little-endian.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompressionError {
    #[error("decompressed payload exceeds the {limit} byte limit")]
    TooLarge { limit: usize },
    #[error("invalid zstd data: {0}")]
    Corrupt(String),
}

/// This thread's compressor: a zstd context and the buffer it compresses
/// into (see [`Compressor::compress_smaller`]).
struct Compressor {
    cctx: CCtx<'static>,
    scratch: Vec<u8>,
}

/// Largest scratch buffer kept between calls; a larger one (a payload of
/// several MiB) is freed after use.
const SCRATCH_KEEP: usize = 4 << 20;

/// Payloads from this size on are probed before being compressed whole
/// ([`Compressor::worth_compressing`]).
const PROBE_FROM: usize = 64 * 1024;
/// The probe's sample: this many slices ...
const PROBE_SLICES: usize = 4;
/// ... of this many bytes each.
const PROBE_SLICE: usize = 4 * 1024;
/// The sample must compress to less than `(PROBE_GAIN - 1) / PROBE_GAIN`
/// of its size.
const PROBE_GAIN: usize = 32;

thread_local! {
    static COMPRESSOR: RefCell<Option<Compressor>> = const { RefCell::new(None) };
    static DCTX: RefCell<Option<DCtx<'static>>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's compressor (level 3, content size on, no
/// checksum: the reference's frame format). `None` only if zstd cannot
/// allocate a context.
fn with_compressor<R>(f: impl FnOnce(&mut Compressor) -> R) -> Option<R> {
    fn fresh() -> Option<Compressor> {
        let mut cctx = CCtx::try_create()?;
        cctx.set_parameter(CParameter::CompressionLevel(LEVEL))
            .ok()?;
        cctx.set_parameter(CParameter::ContentSizeFlag(true)).ok()?;
        cctx.set_parameter(CParameter::ChecksumFlag(false)).ok()?;
        Some(Compressor {
            cctx,
            scratch: Vec::new(),
        })
    }
    let mut f = Some(f);
    let cached = COMPRESSOR.try_with(|cell| {
        let mut slot = cell.try_borrow_mut().ok()?;
        if slot.is_none() {
            *slot = fresh();
        }
        let f = f.take()?;
        slot.as_mut().map(f)
    });
    match cached {
        Ok(Some(r)) => Some(r),
        // Thread-local storage torn down (thread exit): a one-off context.
        _ => f.take().and_then(|f| fresh().as_mut().map(f)),
    }
}

/// Runs `f` with this thread's decompression context.
fn with_dctx<R>(f: impl FnOnce(&mut DCtx<'static>) -> R) -> Option<R> {
    let mut f = Some(f);
    let cached = DCTX.try_with(|cell| {
        let mut slot = cell.try_borrow_mut().ok()?;
        if slot.is_none() {
            *slot = DCtx::try_create();
        }
        let f = f.take()?;
        slot.as_mut().map(f)
    });
    match cached {
        Ok(Some(r)) => Some(r),
        _ => f.take().and_then(|f| DCtx::try_create().as_mut().map(f)),
    }
}

fn zstd_error(code: zstd_safe::ErrorCode) -> CompressionError {
    CompressionError::Corrupt(zstd_safe::get_error_name(code).to_string())
}

/// One zstd frame with the content size and no checksum, like the reference.
pub fn compress(data: &[u8]) -> Vec<u8> {
    // Compressing an in-memory slice fails only on allocation failure inside
    // zstd; an uncompressed fallback would be wrong on the wire (the flag is
    // set by the caller), so report empty output and let the frame check fail.
    let mut out = Vec::with_capacity(zstd_safe::compress_bound(data.len()));
    match with_compressor(|c| c.cctx.compress2(&mut out, data)) {
        Some(Ok(_)) => out,
        _ => Vec::new(),
    }
}

impl Compressor {
    /// Compresses `data` into the scratch buffer; `Some(n)` if the frame,
    /// `scratch[..n]`, is smaller than `data`.
    ///
    /// The scratch buffer is reused from call to call. Compressing straight
    /// into a fresh region of the output buffer instead would touch as many
    /// new pages as the payload is long, only to find, for incompressible
    /// data, that nothing goes there (measured: about a third of the cost of
    /// compressing). This way only a frame that is kept gets copied, and it
    /// is the small one.
    fn compress_smaller(&mut self, data: &[u8]) -> Option<usize> {
        if data.len() < 2 || !self.worth_compressing(data) {
            return None;
        }
        self.scratch.clear();
        // Room for a frame one byte shorter than `data`: zstd gives up when
        // it does not fit. (A larger buffer left from an earlier call is
        // fine: the length check decides.)
        self.scratch.reserve(data.len() - 1);
        self.cctx
            .compress2(&mut self.scratch, data)
            .ok()
            .filter(|&n| n < data.len())
    }

    /// For a large payload, whether a sample of it compresses: random or
    /// already compressed bytes (media, archives, ciphertext) are sent as
    /// they are without running zstd over all of them, which costs more
    /// than the QUIC transfer of the same bytes on a fast path. The sample
    /// is [`PROBE_SLICES`] slices of [`PROBE_SLICE`] bytes spread evenly
    /// over the payload; it must shrink by at least 1/[`PROBE_GAIN`].
    /// Any answer is correct on the wire (spec §4.3): the flag says what
    /// was done.
    fn worth_compressing(&mut self, data: &[u8]) -> bool {
        if data.len() < PROBE_FROM {
            return true;
        }
        let mut sample = [0u8; PROBE_SLICES * PROBE_SLICE];
        let step = (data.len() - PROBE_SLICE) / (PROBE_SLICES - 1);
        for (i, chunk) in sample.chunks_exact_mut(PROBE_SLICE).enumerate() {
            let at = i * step;
            chunk.copy_from_slice(&data[at..at + PROBE_SLICE]);
        }
        self.scratch.clear();
        self.scratch.reserve(sample.len());
        match self.cctx.compress2(&mut self.scratch, &sample) {
            Ok(n) => n * PROBE_GAIN < sample.len() * (PROBE_GAIN - 1),
            // Did not fit in the sample's own size: no gain at all.
            Err(_) => false,
        }
    }

    /// Frees a scratch buffer grown for an unusually large payload.
    fn trim(&mut self) {
        if self.scratch.capacity() > SCRATCH_KEEP {
            self.scratch = Vec::new();
        }
    }
}

/// Whether a large payload (or the large field that makes most of it) is
/// worth running zstd over: the sample test of
/// [`Compressor::worth_compressing`]. Below 64 KiB, always.
pub fn worth_compressing(data: &[u8]) -> bool {
    with_compressor(|c| c.worth_compressing(data)).unwrap_or(false)
}

/// Appends `data` to `out` as one zstd frame if that frame is smaller than
/// `data`; returns whether it did. On `false` `out` is as it was, and the
/// caller sends `data` uncompressed (spec §4.3).
pub fn compress_into_if_smaller(data: &[u8], out: &mut BytesMut) -> bool {
    with_compressor(|c| {
        let n = c.compress_smaller(data);
        if let Some(n) = n {
            out.extend_from_slice(&c.scratch[..n]);
        }
        c.trim();
        n.is_some()
    })
    .unwrap_or(false)
}

/// Replaces `buf[start..]` by its zstd frame if that frame is smaller;
/// returns whether it did (on `false`, `buf` is as it was). For payloads
/// serialized straight into an output buffer.
pub fn compress_tail_if_smaller(buf: &mut BytesMut, start: usize) -> bool {
    if start > buf.len() {
        return false;
    }
    with_compressor(|c| {
        let n = c.compress_smaller(&buf[start..]);
        if let Some(n) = n {
            buf.truncate(start);
            buf.extend_from_slice(&c.scratch[..n]);
        }
        c.trim();
        n.is_some()
    })
    .unwrap_or(false)
}

/// Decompresses the first zstd frame of `data`, refusing more than
/// [`MAX_DECOMPRESSED_SIZE`] bytes of output whatever the frame header claims.
pub fn decompress(data: &[u8]) -> Result<Vec<u8>, CompressionError> {
    decompress_capped(data, MAX_DECOMPRESSED_SIZE)
}

/// [`decompress`] with another cap.
///
/// A frame that declares its content size (the reference's always do) is
/// decoded in one pass into a buffer of exactly that size: a declared size
/// above `limit` is `TooLarge` before anything is allocated, and a header
/// that lies is caught by zstd (output longer than declared does not fit,
/// shorter fails its size check), so `Corrupt`. A frame without a declared
/// size is decoded as a stream and cut off after `limit` bytes.
pub fn decompress_capped(data: &[u8], limit: usize) -> Result<Vec<u8>, CompressionError> {
    if data.starts_with(&ZSTD_MAGIC) {
        if let Ok(Some(size)) = zstd_safe::get_frame_content_size(data) {
            let size = usize::try_from(size)
                .ok()
                .filter(|&s| s <= limit)
                .ok_or(CompressionError::TooLarge { limit })?;
            return decompress_sized(data, size);
        }
    }
    decompress_streaming(data, limit)
}

/// One-pass decoding of a frame that declares `size` bytes of content.
fn decompress_sized(data: &[u8], size: usize) -> Result<Vec<u8>, CompressionError> {
    // Spec §2.4: only the first frame counts. The one-pass API would decode
    // every frame of its input, so it gets the first one alone.
    let frame_len = zstd_safe::find_frame_compressed_size(data).map_err(zstd_error)?;
    let frame = data
        .get(..frame_len)
        .ok_or_else(|| CompressionError::Corrupt("frame longer than its payload".into()))?;
    let mut out = Vec::with_capacity(size);
    match with_dctx(|d| d.decompress(&mut out, frame)) {
        Some(Ok(n)) if n == size && out.len() == size => Ok(out),
        Some(Ok(n)) => Err(CompressionError::Corrupt(format!(
            "frame declares {size} bytes of content and holds {n}"
        ))),
        Some(Err(code)) => Err(zstd_error(code)),
        None => Err(CompressionError::Corrupt(
            "cannot allocate a zstd context".into(),
        )),
    }
}

/// Stream decoding, for frames that do not declare their size: output stops
/// one byte past `limit`.
fn decompress_streaming(data: &[u8], limit: usize) -> Result<Vec<u8>, CompressionError> {
    let decoder = zstd::stream::read::Decoder::with_buffer(data)
        .map_err(|e| CompressionError::Corrupt(e.to_string()))?
        .single_frame();
    let mut out = Vec::new();
    let mut bounded = decoder.take(limit as u64 + 1);
    bounded
        .read_to_end(&mut out)
        .map_err(|e| CompressionError::Corrupt(e.to_string()))?;
    if out.len() > limit {
        return Err(CompressionError::TooLarge { limit });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame without the content size field (python-zstandard's streaming
    /// writer produces these, the reference's one-shot compressor does not).
    fn compress_unsized(data: &[u8]) -> Vec<u8> {
        let mut stream = zstd::stream::write::Encoder::new(Vec::new(), LEVEL).unwrap();
        stream.include_contentsize(false).unwrap();
        std::io::Write::write_all(&mut stream, data).unwrap();
        let out = stream.finish().unwrap();
        assert_eq!(zstd_safe::get_frame_content_size(&out).ok(), Some(None));
        out
    }

    #[test]
    fn round_trip_and_content_size() {
        let data = vec![b'x'; 5026];
        let c = compress(&data);
        assert_eq!(&c[..4], &[0x28, 0xb5, 0x2f, 0xfd]);
        assert_eq!(zstd_safe::get_frame_content_size(&c).ok(), Some(Some(5026)));
        assert!(c.len() < 100);
        assert_eq!(decompress(&c).unwrap(), data);
        // The cached context gives the same bytes every time.
        assert_eq!(compress(&data), c);
        assert_eq!(compress(&[]).len(), 9);
        assert_eq!(decompress(&compress(&[])).unwrap(), b"");
    }

    #[test]
    fn frame_without_content_size() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let c = compress_unsized(&data);
        assert_eq!(decompress(&c).unwrap(), data);
        assert_eq!(
            decompress_capped(&c, 99_999),
            Err(CompressionError::TooLarge { limit: 99_999 })
        );
        assert_eq!(decompress_capped(&c, 100_000).unwrap(), data);
    }

    #[test]
    fn only_the_first_frame_counts() {
        let mut two = compress(b"first");
        two.extend_from_slice(&compress(b"second"));
        assert_eq!(decompress(&two).unwrap(), b"first");
        let mut two = compress_unsized(b"first");
        two.extend_from_slice(&compress_unsized(b"second"));
        assert_eq!(decompress(&two).unwrap(), b"first");
        let mut trailing = compress(b"first");
        trailing.extend_from_slice(b"junk");
        assert_eq!(decompress(&trailing).unwrap(), b"first");
    }

    #[test]
    fn lying_header_is_corrupt() {
        // 5026 × 'x': header `60 a2 12` = single segment, 2-byte content
        // size 0x12a2 + 256.
        let good = compress(&vec![b'x'; 5026]);
        assert_eq!(&good[4..7], &[0x60, 0xa2, 0x12]);
        for claimed in [5025u16, 5027, 256, 6000] {
            let mut bad = good.clone();
            bad[5..7].copy_from_slice(&(claimed - 256).to_le_bytes());
            assert_eq!(
                zstd_safe::get_frame_content_size(&bad).ok(),
                Some(Some(u64::from(claimed)))
            );
            assert!(
                matches!(decompress(&bad), Err(CompressionError::Corrupt(_))),
                "claimed {claimed}"
            );
        }
        // Truncated frames.
        for cut in [5, 7, good.len() - 1] {
            assert!(
                matches!(decompress(&good[..cut]), Err(CompressionError::Corrupt(_))),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn bomb_is_capped() {
        // Declared size above the cap: refused before decoding.
        let data = vec![0u8; 2048];
        let c = compress(&data);
        assert_eq!(
            decompress_capped(&c, 1024),
            Err(CompressionError::TooLarge { limit: 1024 })
        );
        assert_eq!(decompress_capped(&c, 2048).unwrap().len(), 2048);
        // The real thing: 17 MiB of zeros in a few hundred bytes.
        let bomb = compress(&vec![0u8; 17 << 20]);
        assert!(bomb.len() < 4096);
        assert_eq!(
            decompress(&bomb),
            Err(CompressionError::TooLarge {
                limit: MAX_DECOMPRESSED_SIZE
            })
        );
        // Without a declared size: cut off by the stream decoder.
        let bomb = compress_unsized(&vec![0u8; (16 << 20) + 1]);
        assert_eq!(
            decompress(&bomb),
            Err(CompressionError::TooLarge {
                limit: MAX_DECOMPRESSED_SIZE
            })
        );
        // A header claiming 1 TiB: refused without an allocation (one of
        // that size would abort the test).
        let mut huge = ZSTD_MAGIC.to_vec();
        huge.push(0xe0); // single segment, 8-byte content size
        huge.extend_from_slice(&(1u64 << 40).to_le_bytes());
        huge.extend_from_slice(&[0x09, 0x00, 0x00, 0x61]); // last block, raw, 1 byte
        assert_eq!(
            zstd_safe::get_frame_content_size(&huge).ok(),
            Some(Some(1 << 40))
        );
        assert_eq!(
            decompress(&huge),
            Err(CompressionError::TooLarge {
                limit: MAX_DECOMPRESSED_SIZE
            })
        );
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(decompress(b"not zstd").is_err());
        assert!(decompress(b"").is_err());
        assert!(decompress(&ZSTD_MAGIC).is_err());
    }

    #[test]
    fn compresses_only_when_smaller() {
        let text = vec![b'x'; 5026];
        let mut out = BytesMut::from(&b"hdr"[..]);
        assert!(compress_into_if_smaller(&text, &mut out));
        assert_eq!(&out[..3], b"hdr");
        assert_eq!(&out[3..], &compress(&text)[..]);

        // xorshift bytes: zstd cannot shrink them.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let noise: Vec<u8> = (0..8192)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let mut out = BytesMut::from(&b"hdr"[..]);
        assert!(!compress_into_if_smaller(&noise, &mut out));
        assert_eq!(&out[..], b"hdr");
        assert!(!compress_into_if_smaller(b"", &mut out));
        assert!(!compress_into_if_smaller(b"a", &mut out));

        let mut buf = BytesMut::from(&b"hdr"[..]);
        buf.extend_from_slice(&text);
        assert!(compress_tail_if_smaller(&mut buf, 3));
        assert_eq!(&buf[..3], b"hdr");
        assert_eq!(&buf[3..], &compress(&text)[..]);
        let mut buf = BytesMut::from(&b"hdr"[..]);
        buf.extend_from_slice(&noise);
        assert!(!compress_tail_if_smaller(&mut buf, 3));
        assert_eq!(&buf[3..], &noise[..]);
        let past_end = buf.len() + 5;
        assert!(!compress_tail_if_smaller(&mut buf, past_end));
    }

    fn xorshift(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn large_payloads_are_probed_first() {
        // Compressible throughout: compressed, and the frame is the plain zstd frame.
        let text: Vec<u8> = (0..1u32 << 20)
            .map(|i| b"aster rpc "[(i % 10) as usize])
            .collect();
        let mut out = BytesMut::new();
        assert!(compress_into_if_smaller(&text, &mut out));
        assert_eq!(&out[..], &compress(&text)[..]);
        assert_eq!(decompress(&out).unwrap(), text);
        // Random throughout: the probe says no, nothing is written.
        let noise = xorshift(1 << 20, 0x9e37_79b9_7f4a_7c15);
        let mut out = BytesMut::new();
        assert!(!compress_into_if_smaller(&noise, &mut out));
        assert!(out.is_empty());
        // Just under the probe size: compressed whole, still refused when it does not shrink.
        let small = xorshift(PROBE_FROM - 1, 7);
        assert!(!compress_into_if_smaller(&small, &mut out));
        // A compressible run between the sample points: the probe says no,
        // so the payload goes as is although zstd would have shrunk it
        // (the price of not compressing 1 MiB to learn that).
        let mut between = xorshift(1 << 20, 11);
        between[100 << 10..164 << 10].fill(0);
        assert!(compress(&between).len() < between.len());
        assert!(!compress_into_if_smaller(&between, &mut out));
        // A small run at a sample point: the probe lets it through, the
        // whole frame is not shorter, so it still goes as is.
        let mut mostly = xorshift(1 << 20, 11);
        mostly[..1024].fill(0);
        assert!(with_compressor(|c| c.worth_compressing(&mostly)).unwrap());
        assert!(!compress_into_if_smaller(&mostly, &mut out));
        // Half compressible: two of four samples shrink to almost nothing.
        let mut half = xorshift(1 << 20, 13);
        half[..1 << 19].fill(b'z');
        assert!(compress_into_if_smaller(&half, &mut out));
        assert_eq!(decompress(&out).unwrap(), half);
    }
}
