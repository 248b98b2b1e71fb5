//! zstd for payloads (spec §2.4): compress above 4096 bytes, decompress as a
//! stream with a hard cap so a small bomb cannot allocate more than 16 MiB.

use std::io::Read;

use crate::limits::MAX_DECOMPRESSED_SIZE;

/// Level of python-zstandard's default compressor.
const LEVEL: i32 = 3;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompressionError {
    #[error("decompressed payload exceeds the {limit} byte limit")]
    TooLarge { limit: usize },
    #[error("invalid zstd data: {0}")]
    Corrupt(String),
}

/// One zstd frame with the content size and no checksum, like the reference.
pub fn compress(data: &[u8]) -> Vec<u8> {
    // Compressing an in-memory slice fails only on allocation failure inside
    // zstd; an uncompressed fallback would be wrong on the wire (the flag is
    // set by the caller), so report empty output and let the frame check fail.
    zstd::bulk::compress(data, LEVEL).unwrap_or_default()
}

/// Decompresses the first zstd frame of `data`, refusing more than
/// [`MAX_DECOMPRESSED_SIZE`] bytes of output whatever the frame header claims.
pub fn decompress(data: &[u8]) -> Result<Vec<u8>, CompressionError> {
    decompress_capped(data, MAX_DECOMPRESSED_SIZE)
}

pub fn decompress_capped(data: &[u8], limit: usize) -> Result<Vec<u8>, CompressionError> {
    let decoder = zstd::stream::read::Decoder::with_buffer(data)
        .map_err(|e| CompressionError::Corrupt(e.to_string()))?
        .single_frame();
    let mut out = Vec::new();
    let mut bounded = decoder.take(limit as u64 + 1);
    bounded.read_to_end(&mut out).map_err(|e| CompressionError::Corrupt(e.to_string()))?;
    if out.len() > limit {
        return Err(CompressionError::TooLarge { limit });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_content_size() {
        let data = vec![b'x'; 5026];
        let c = compress(&data);
        assert_eq!(&c[..4], &[0x28, 0xb5, 0x2f, 0xfd]);
        assert!(c.len() < 100);
        assert_eq!(decompress(&c).unwrap(), data);
    }

    #[test]
    fn bomb_is_capped() {
        let data = vec![0u8; 2048];
        let c = compress(&data);
        assert_eq!(decompress_capped(&c, 1024), Err(CompressionError::TooLarge { limit: 1024 }));
        assert_eq!(decompress_capped(&c, 2048).unwrap().len(), 2048);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(decompress(b"not zstd").is_err());
    }
}
