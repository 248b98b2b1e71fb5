//! XLANG strings (spec §4.4): `varint(byte_len << 2 | coder)` then the bytes.
//!
//! pyfory picks the coder from CPython's internal string width, so for
//! byte-exact output we do the same: Latin-1 (coder 0) when every char is
//! at most U+00FF, UTF-16LE (coder 1) when every char is in the BMP, UTF-8
//! (coder 2) otherwise. All three are accepted on input.

use std::borrow::Cow;

use bytes::{BufMut, BytesMut};

use super::DecodeError;
use super::buf::{Reader, XBufMut};
use crate::small::SmallString;

const LATIN1: u64 = 0;
const UTF16: u64 = 1;
const UTF8: u64 = 2;

/// Appends `s` in the coder pyfory 0.16 would choose.
pub fn write_string(buf: &mut BytesMut, s: &str) {
    if s.is_ascii() {
        buf.put_var_u64(((s.len() as u64) << 2) | LATIN1);
        buf.put_slice(s.as_bytes());
        return;
    }
    let widest = s.chars().map(u32::from).max().unwrap_or(0);
    if widest <= 0xff {
        let n = s.chars().count();
        buf.put_var_u64(((n as u64) << 2) | LATIN1);
        buf.reserve(n);
        for c in s.chars() {
            buf.put_u8(c as u32 as u8);
        }
    } else if widest <= 0xffff {
        // Every char is in the BMP, so each is exactly one UTF-16 unit.
        let n = s.chars().count();
        buf.put_var_u64(((n as u64 * 2) << 2) | UTF16);
        buf.reserve(n * 2);
        for unit in s.encode_utf16() {
            buf.put_u16_le(unit);
        }
    } else {
        buf.put_var_u64(((s.len() as u64) << 2) | UTF8);
        buf.put_slice(s.as_bytes());
    }
}

/// Reads a string in any of the three coders.
pub fn read_string(r: &mut Reader<'_>) -> Result<String, DecodeError> {
    read_str(r).map(Cow::into_owned)
}

/// [`read_string`] into a [`SmallString`]: a short name costs no allocation.
pub fn read_small_string(r: &mut Reader<'_>) -> Result<SmallString, DecodeError> {
    Ok(match read_str(r)? {
        Cow::Borrowed(s) => SmallString::new(s),
        Cow::Owned(s) => SmallString::from(s),
    })
}

/// Reads a string, borrowing it from the input when its bytes are already
/// UTF-8 (ASCII Latin-1, or UTF-8), converting it otherwise.
fn read_str<'a>(r: &mut Reader<'a>) -> Result<Cow<'a, str>, DecodeError> {
    let offset = r.position();
    let header = r.var_u64()?;
    let len = header >> 2;
    if len > r.remaining() as u64 {
        return Err(DecodeError::LengthExceedsInput {
            offset,
            length: usize::try_from(len).unwrap_or(usize::MAX),
            available: r.remaining(),
        });
    }
    let bytes = r.take(len as usize)?;
    match header & 3 {
        LATIN1 => match std::str::from_utf8(bytes) {
            // ASCII is the same in Latin-1 and UTF-8 (and always valid).
            Ok(s) if s.is_ascii() => Ok(Cow::Borrowed(s)),
            _ => Ok(Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect())),
        },
        UTF16 => {
            if bytes.len() % 2 != 0 {
                return Err(DecodeError::BadString {
                    offset,
                    reason: "odd UTF-16 byte length",
                });
            }
            let units = bytes
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]));
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .map(Cow::Owned)
                .map_err(|_| DecodeError::BadString {
                    offset,
                    reason: "unpaired UTF-16 surrogate",
                })
        }
        UTF8 => std::str::from_utf8(bytes)
            .map(Cow::Borrowed)
            .map_err(|_| DecodeError::BadString {
                offset,
                reason: "invalid UTF-8",
            }),
        _ => Err(DecodeError::BadString {
            offset,
            reason: "unknown string coder 3",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// On any input the allocation-free reader agrees with the owning one:
        /// same string, or both refuse.
        #[test]
        fn small_reader_agrees(data in proptest::collection::vec(any::<u8>(), 0..48)) {
            let owned = read_string(&mut Reader::new(&data));
            let small = read_small_string(&mut Reader::new(&data));
            match (owned, small) {
                (Ok(a), Ok(b)) => prop_assert_eq!(b.as_str(), a.as_str()),
                (Err(a), Err(b)) => prop_assert_eq!(a, b),
                (a, b) => prop_assert!(false, "owned {:?} but small {:?}", a, b),
            }
        }
    }

    fn hex(s: &str) -> String {
        let mut b = BytesMut::new();
        write_string(&mut b, s);
        b.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn coder_choice_matches_pyfory() {
        // Bytes observed from pyfory 0.16.
        assert_eq!(hex(""), "00");
        assert_eq!(hex("abc"), "0c616263");
        assert_eq!(hex("é"), "04e9");
        assert_eq!(hex("aé"), "0861e9");
        assert_eq!(hex("こん"), "1153309330");
        assert_eq!(hex("aあ"), "1161004230");
        assert_eq!(hex("😀"), "12f09f9880");
        assert_eq!(hex("a😀"), "1661f09f9880");
    }

    #[test]
    fn round_trip() {
        for s in ["", "x", "café", "こんにちは", "a😀b", &"y".repeat(20000)] {
            let mut b = BytesMut::new();
            write_string(&mut b, s);
            assert_eq!(read_string(&mut Reader::new(&b)).unwrap(), s);
            assert_eq!(read_small_string(&mut Reader::new(&b)).unwrap(), s);
        }
    }

    #[test]
    fn rejects_bad_input() {
        assert!(read_string(&mut Reader::new(&[0x05, 0x61])).is_err()); // odd utf16
        assert!(read_string(&mut Reader::new(&[0x0a, 0xff])).is_err()); // bad utf8
        assert!(read_string(&mut Reader::new(&[0x0b])).is_err()); // coder 3
        assert!(read_string(&mut Reader::new(&[0x40, 0x61])).is_err()); // too long
        for bad in [&[0x05, 0x61][..], &[0x0a, 0xff], &[0x0b], &[0x40, 0x61]] {
            assert!(read_small_string(&mut Reader::new(bad)).is_err());
        }
    }
}
