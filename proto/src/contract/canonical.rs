//! The canonical byte primitives that contract identity is built from.
//!
//! Spec: wire.md §5.2. These are *not* live Fory payload rules: a string is
//! always flagged UTF-8 (`varint(len << 2 | 2)`), a list header is the count
//! followed by the fixed element marker `0c`, an optional is `fd` (absent) or
//! `00` followed by the value. Every structure is a fixed sequence of these
//! with no tags and no lengths (§5.4), so the bytes are only meaningful with
//! the schema in hand — the reader below is driven by the caller the same way.
//!
//! [`CanonicalWriter`] cannot fail. [`CanonicalReader`] is bounded: every
//! length and count is checked against the bytes that remain *before* any
//! allocation, varints longer than 10 bytes or not minimally encoded are
//! refused, and nothing panics on any input. It exists so that `contract.bin`
//! and `types/<hash>.bin` from a registry can be decoded.

use thiserror::Error;

/// Marker of an absent optional (§5.2).
pub const ABSENT: u8 = 0xfd;
/// Marker of a present optional; the value follows (§5.2).
pub const PRESENT: u8 = 0x00;
/// The element marker that follows every list count (§5.2).
pub const LIST_MARKER: u8 = 0x0c;
/// Flag in the low two bits of a string header: UTF-8 (§5.2).
const STRING_UTF8: u64 = 0b10;

/// Elements a list reader reserves room for before any has decoded.
const MAX_PREALLOCATED_ELEMENTS: usize = 64;

/// Why canonical bytes could not be read. Offsets are from the start of the
/// input given to [`CanonicalReader::new`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CanonicalError {
    #[error("input ends at offset {offset}: {needed} more byte(s) needed")]
    Truncated { offset: usize, needed: usize },
    #[error("varint at offset {offset} is longer than 10 bytes or exceeds 64 bits")]
    VarintOverflow { offset: usize },
    #[error("varint at offset {offset} is not minimally encoded (canonical bytes never pad)")]
    VarintNotMinimal { offset: usize },
    #[error("{what} at offset {offset} is {value}, which does not fit")]
    OutOfRange {
        what: &'static str,
        offset: usize,
        value: u64,
    },
    #[error(
        "string header {header:#x} at offset {offset} is not flagged UTF-8 (low bits must be 0b10)"
    )]
    StringFlag { offset: usize, header: u64 },
    #[error("string at offset {offset} is not valid UTF-8")]
    InvalidUtf8 { offset: usize },
    #[error("bool byte {byte:#04x} at offset {offset}; expected 00 or 01")]
    InvalidBool { offset: usize, byte: u8 },
    #[error("list marker {byte:#04x} at offset {offset}; expected 0c")]
    ListMarker { offset: usize, byte: u8 },
    #[error("list at offset {offset} claims {count} elements but only {remaining} bytes remain")]
    ListTooLong {
        offset: usize,
        count: u64,
        remaining: usize,
    },
    #[error("optional marker {byte:#04x} at offset {offset}; expected 00 (present) or fd (absent)")]
    OptionalMarker { offset: usize, byte: u8 },
    #[error("{what} {value} at offset {offset} is not a known value")]
    UnknownEnum {
        what: &'static str,
        offset: usize,
        value: u64,
    },
    #[error("{what} at offset {offset} has {len} bytes; expected {expected}")]
    HashLength {
        what: &'static str,
        offset: usize,
        len: usize,
        expected: &'static str,
    },
    #[error("{count} trailing byte(s) after the value, from offset {offset}")]
    TrailingBytes { offset: usize, count: usize },
}

/// Appends canonical primitives to a byte vector.
#[derive(Debug, Default, Clone)]
pub struct CanonicalWriter {
    buf: Vec<u8>,
}

impl CanonicalWriter {
    pub fn new() -> CanonicalWriter {
        CanonicalWriter::default()
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Unsigned LEB128: 7 bits per byte, low group first (`300` ⇒ `ac 02`).
    pub fn varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.buf.push((value as u8 & 0x7f) | 0x80);
            value >>= 7;
        }
        self.buf.push(value as u8);
    }

    /// Zigzag then varint. The i32 form stays within 32 bits, so
    /// `i32::MIN` is `varint(0xffff_ffff)` (§5.2).
    pub fn zigzag_i32(&mut self, value: i32) {
        self.varint(u64::from(((value << 1) ^ (value >> 31)) as u32));
    }

    pub fn zigzag_i64(&mut self, value: i64) {
        self.varint(((value << 1) ^ (value >> 63)) as u64);
    }

    /// `varint(utf8_len << 2 | 2)` + UTF-8; `""` ⇒ `02`.
    pub fn string(&mut self, s: &str) {
        self.varint(((s.len() as u64) << 2) | STRING_UTF8);
        self.buf.extend_from_slice(s.as_bytes());
    }

    /// `varint(len)` + raw bytes; empty ⇒ `00`.
    pub fn bytes(&mut self, data: &[u8]) {
        self.varint(data.len() as u64);
        self.buf.extend_from_slice(data);
    }

    pub fn bool(&mut self, value: bool) {
        self.buf.push(u8::from(value));
    }

    /// IEEE-754 binary64, little-endian, bits as given (NaN payloads kept).
    pub fn float64(&mut self, value: f64) {
        self.buf.extend_from_slice(&value.to_le_bytes());
    }

    /// An enumeration is written as the unsigned varint of its number (§5.2).
    pub fn enum_value(&mut self, number: u64) {
        self.varint(number);
    }

    /// `varint(count)` + `0c`; the caller writes the elements.
    pub fn list_header(&mut self, count: usize) {
        self.varint(count as u64);
        self.buf.push(LIST_MARKER);
    }

    /// A whole list, each element written by `item`.
    pub fn list<T>(&mut self, items: &[T], mut item: impl FnMut(&mut CanonicalWriter, &T)) {
        self.list_header(items.len());
        for x in items {
            item(self, x);
        }
    }

    /// `fd` when absent, `00` + value when present.
    pub fn optional<T>(&mut self, value: Option<&T>, write: impl FnOnce(&mut CanonicalWriter, &T)) {
        match value {
            None => self.buf.push(ABSENT),
            Some(v) => {
                self.buf.push(PRESENT);
                write(self, v);
            }
        }
    }
}

/// Reads canonical primitives from a slice, never past its end.
#[derive(Debug, Clone)]
pub struct CanonicalReader<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> CanonicalReader<'a> {
    pub fn new(input: &'a [u8]) -> CanonicalReader<'a> {
        CanonicalReader { input, pos: 0 }
    }

    /// Offset of the next byte to read.
    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.input.len() - self.pos
    }

    /// Top-level values must use the whole input: trailing bytes would
    /// hash differently from the value they decode to.
    pub fn finish(&self) -> Result<(), CanonicalError> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(CanonicalError::TrailingBytes {
                offset: self.pos,
                count,
            }),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], CanonicalError> {
        let rest = &self.input[self.pos..];
        if rest.len() < n {
            return Err(CanonicalError::Truncated {
                offset: self.pos,
                needed: n - rest.len(),
            });
        }
        self.pos += n;
        Ok(&rest[..n])
    }

    fn byte(&mut self) -> Result<u8, CanonicalError> {
        Ok(self.take(1)?[0])
    }

    pub fn varint(&mut self) -> Result<u64, CanonicalError> {
        let offset = self.pos;
        let mut value: u64 = 0;
        for i in 0..10u32 {
            let b = self.byte()?;
            let group = u64::from(b & 0x7f);
            // The 10th byte may only carry the single remaining bit.
            if i == 9 && group > 1 {
                return Err(CanonicalError::VarintOverflow { offset });
            }
            value |= group << (7 * i);
            if b & 0x80 == 0 {
                if i > 0 && group == 0 {
                    return Err(CanonicalError::VarintNotMinimal { offset });
                }
                return Ok(value);
            }
        }
        Err(CanonicalError::VarintOverflow { offset })
    }

    pub fn zigzag_i32(&mut self) -> Result<i32, CanonicalError> {
        let offset = self.pos;
        let raw = self.varint()?;
        let raw = u32::try_from(raw).map_err(|_| CanonicalError::OutOfRange {
            what: "zigzag i32",
            offset,
            value: raw,
        })?;
        Ok(((raw >> 1) as i32) ^ -((raw & 1) as i32))
    }

    pub fn zigzag_i64(&mut self) -> Result<i64, CanonicalError> {
        let raw = self.varint()?;
        Ok(((raw >> 1) as i64) ^ -((raw & 1) as i64))
    }

    /// A length that must fit in what is left of the input.
    fn length(&mut self, what: &'static str) -> Result<usize, CanonicalError> {
        let offset = self.pos;
        let n = self.varint()?;
        match usize::try_from(n) {
            Ok(n) if n <= self.remaining() => Ok(n),
            Ok(n) => Err(CanonicalError::Truncated {
                offset: self.pos,
                needed: n - self.remaining(),
            }),
            Err(_) => Err(CanonicalError::OutOfRange {
                what,
                offset,
                value: n,
            }),
        }
    }

    pub fn string(&mut self) -> Result<String, CanonicalError> {
        let offset = self.pos;
        let header = self.varint()?;
        if header & 0b11 != STRING_UTF8 {
            return Err(CanonicalError::StringFlag { offset, header });
        }
        let len = header >> 2;
        let len = match usize::try_from(len) {
            Ok(n) => n,
            Err(_) => {
                return Err(CanonicalError::OutOfRange {
                    what: "string length",
                    offset,
                    value: len,
                });
            }
        };
        let start = self.pos;
        let raw = self.take(len)?;
        std::str::from_utf8(raw)
            .map(str::to_owned)
            .map_err(|_| CanonicalError::InvalidUtf8 { offset: start })
    }

    pub fn bytes(&mut self) -> Result<&'a [u8], CanonicalError> {
        let n = self.length("bytes length")?;
        self.take(n)
    }

    pub fn bool(&mut self) -> Result<bool, CanonicalError> {
        let offset = self.pos;
        match self.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            byte => Err(CanonicalError::InvalidBool { offset, byte }),
        }
    }

    pub fn float64(&mut self) -> Result<f64, CanonicalError> {
        let raw = self.take(8)?;
        let mut le = [0u8; 8];
        le.copy_from_slice(raw);
        Ok(f64::from_le_bytes(le))
    }

    /// An enumeration number; the caller maps it with the enum's `TryFrom`.
    pub fn enum_value(&mut self) -> Result<u64, CanonicalError> {
        self.varint()
    }

    /// Reads `varint(count)` + `0c`. Every element takes at least one byte,
    /// so a count larger than the remaining input is refused here, before
    /// the caller reserves anything.
    pub fn list_header(&mut self) -> Result<usize, CanonicalError> {
        let offset = self.pos;
        let count = self.varint()?;
        let marker_at = self.pos;
        let marker = self.byte()?;
        if marker != LIST_MARKER {
            return Err(CanonicalError::ListMarker {
                offset: marker_at,
                byte: marker,
            });
        }
        let remaining = self.remaining();
        match usize::try_from(count) {
            Ok(n) if n <= remaining => Ok(n),
            _ => Err(CanonicalError::ListTooLong {
                offset,
                count,
                remaining,
            }),
        }
    }

    /// A whole list, each element read by `item`.
    pub fn list<T>(
        &mut self,
        mut item: impl FnMut(&mut CanonicalReader<'a>) -> Result<T, CanonicalError>,
    ) -> Result<Vec<T>, CanonicalError> {
        let count = self.list_header()?;
        // The count is bounded by the input's bytes, not by its elements'
        // in-memory size (a FieldDef is ~200 bytes): reserve a little and
        // grow only as elements actually decode.
        let mut out = Vec::with_capacity(count.min(MAX_PREALLOCATED_ELEMENTS));
        for _ in 0..count {
            out.push(item(self)?);
        }
        Ok(out)
    }

    /// `fd` ⇒ `None`; `00` ⇒ the value read by `read`.
    pub fn optional<T>(
        &mut self,
        read: impl FnOnce(&mut CanonicalReader<'a>) -> Result<T, CanonicalError>,
    ) -> Result<Option<T>, CanonicalError> {
        let offset = self.pos;
        match self.byte()? {
            ABSENT => Ok(None),
            PRESENT => read(self).map(Some),
            byte => Err(CanonicalError::OptionalMarker { offset, byte }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(f: impl FnOnce(&mut CanonicalWriter)) -> Vec<u8> {
        let mut w = CanonicalWriter::new();
        f(&mut w);
        w.into_bytes()
    }

    #[test]
    fn spec_examples() {
        assert_eq!(written(|w| w.varint(300)), [0xac, 0x02]);
        assert_eq!(written(|w| w.zigzag_i32(-1)), [0x01]);
        assert_eq!(written(|w| w.zigzag_i32(1)), [0x02]);
        assert_eq!(
            written(|w| w.zigzag_i32(i32::MIN)),
            [0xff, 0xff, 0xff, 0xff, 0x0f]
        );
        assert_eq!(written(|w| w.string("")), [0x02]);
        assert_eq!(written(|w| w.string("xlang")), b"\x16xlang");
        assert_eq!(written(|w| w.bytes(&[])), [0x00]);
        assert_eq!(written(|w| w.list_header(0)), [0x00, 0x0c]);
        assert_eq!(
            written(|w| w.optional(None::<&bool>, |w, b| w.bool(*b))),
            [0xfd]
        );
        assert_eq!(
            written(|w| w.optional(Some(&true), |w, b| w.bool(*b))),
            [0x00, 0x01]
        );
    }

    #[test]
    fn varint_extremes() {
        let max = written(|w| w.varint(u64::MAX));
        assert_eq!(max.len(), 10);
        assert_eq!(CanonicalReader::new(&max).varint(), Ok(u64::MAX));
        let too_big = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert_eq!(
            CanonicalReader::new(&too_big).varint(),
            Err(CanonicalError::VarintOverflow { offset: 0 })
        );
        assert_eq!(
            CanonicalReader::new(&[0x80, 0x00]).varint(),
            Err(CanonicalError::VarintNotMinimal { offset: 0 })
        );
        assert_eq!(
            CanonicalReader::new(&[0x80]).varint(),
            Err(CanonicalError::Truncated {
                offset: 1,
                needed: 1
            })
        );
    }

    #[test]
    fn reader_refuses_bad_markers() {
        assert!(matches!(
            CanonicalReader::new(&[0x02]).bool(),
            Err(CanonicalError::InvalidBool { .. })
        ));
        assert!(matches!(
            CanonicalReader::new(&[0x01, 0x0d]).list_header(),
            Err(CanonicalError::ListMarker { .. })
        ));
        assert!(matches!(
            CanonicalReader::new(&[0x05, 0x0c]).list_header(),
            Err(CanonicalError::ListTooLong { .. })
        ));
        assert!(matches!(
            CanonicalReader::new(&[0x01]).string(),
            Err(CanonicalError::StringFlag { .. })
        ));
        assert!(matches!(
            CanonicalReader::new(&[0x06, 0xff]).string(),
            Err(CanonicalError::InvalidUtf8 { .. })
        ));
        let mut r = CanonicalReader::new(&[0x01]);
        assert!(matches!(
            r.optional(|r| r.bool()),
            Err(CanonicalError::OptionalMarker { .. })
        ));
        assert!(matches!(
            CanonicalReader::new(&[0x80, 0x80, 0x80, 0x80, 0x10]).zigzag_i32(),
            Err(CanonicalError::OutOfRange { .. })
        ));
    }
}
