//! Lowercase hex, as Python's `bytes.hex()` writes it, and a strict reader.
//!
//! `aster-proto` keeps `hex` out of its dependencies; these few lines are all
//! the trust formats need. Reading accepts both cases (Python's
//! `bytes.fromhex` does) but, unlike `fromhex`, no whitespace: every hex
//! field of the trust formats has a fixed length (trust-registry.md §1.5).

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Lowercase hex of `bytes`.
pub(crate) fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Whether `text` is made of hex digits only (either case).
pub(crate) fn is_hex(text: &str) -> bool {
    text.bytes().all(|c| nibble(c).is_some())
}

/// Why a fixed-length hex field was refused; the caller adds the field name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HexError {
    /// `got` characters where `expected` were required.
    Length { expected: usize, got: usize },
    /// A character outside `0-9a-fA-F`.
    NotHex,
}

/// Decodes exactly `N` bytes from `2 * N` hex characters.
pub(crate) fn decode_array<const N: usize>(text: &str) -> Result<[u8; N], HexError> {
    let raw = text.as_bytes();
    if raw.len() != 2 * N {
        return Err(HexError::Length {
            expected: 2 * N,
            got: text.chars().count(),
        });
    }
    let mut out = [0u8; N];
    for (slot, pair) in out.iter_mut().zip(raw.chunks_exact(2)) {
        let (Some(hi), Some(lo)) = (nibble(pair[0]), nibble(pair[1])) else {
            return Err(HexError::NotHex);
        };
        *slot = (hi << 4) | lo;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        assert_eq!(encode(&[0x00, 0xab, 0xff]), "00abff");
        assert_eq!(decode_array::<3>("00ABff"), Ok([0x00, 0xab, 0xff]));
        assert_eq!(
            decode_array::<2>("abc"),
            Err(HexError::Length {
                expected: 4,
                got: 3
            })
        );
        assert_eq!(decode_array::<2>("ab g"), Err(HexError::NotHex));
        // A multi-byte char must not be split or counted as two characters.
        assert_eq!(decode_array::<2>("aé1"), Err(HexError::NotHex));
        assert_eq!(decode_array::<1>("é"), Err(HexError::NotHex));
        assert!(is_hex("09afAF") && !is_hex("0x"));
    }
}
