//! Byte-level primitives of Fory's cross-language format: fixed-width little-endian
//! integers, LEB128 varints, Fory's 9-byte varint64 and zigzag.
//!
//! The reader works on a borrowed slice and never reads past it: every accessor
//! returns [`DecodeError::Truncated`] instead of panicking.

use bytes::{BufMut, BytesMut};

use super::DecodeError;

/// Zigzag-encodes a signed 32-bit integer (`-1` ⇒ `1`, `1` ⇒ `2`).
#[inline]
pub fn zigzag32(v: i32) -> u32 {
    ((v << 1) ^ (v >> 31)) as u32
}

/// Inverse of [`zigzag32`].
#[inline]
pub fn unzigzag32(v: u32) -> i32 {
    ((v >> 1) as i32) ^ -((v & 1) as i32)
}

/// Zigzag-encodes a signed 64-bit integer.
#[inline]
pub fn zigzag64(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Inverse of [`zigzag64`].
#[inline]
pub fn unzigzag64(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Appends XLANG primitives to a [`BytesMut`].
///
/// Writing cannot fail: the buffer grows as needed. Callers that must respect
/// a size limit (frames are capped at 16 MiB) check the final length.
pub trait XBufMut {
    /// Standard LEB128, at most 5 bytes.
    fn put_var_u32(&mut self, v: u32);
    /// Fory's unsigned varint64: LEB128 for the first 8 bytes (7 bits each);
    /// a 9th byte, when needed, carries the remaining 8 bits whole, so a
    /// value never takes more than 9 bytes.
    fn put_var_u64(&mut self, v: u64);
    /// Zigzag then [`XBufMut::put_var_u32`].
    fn put_var_i32(&mut self, v: i32) {
        self.put_var_u32(zigzag32(v));
    }
    /// Zigzag then [`XBufMut::put_var_u64`].
    fn put_var_i64(&mut self, v: i64) {
        self.put_var_u64(zigzag64(v));
    }
}

impl XBufMut for BytesMut {
    #[inline]
    fn put_var_u32(&mut self, mut v: u32) {
        while v >= 0x80 {
            self.put_u8((v as u8) | 0x80);
            v >>= 7;
        }
        self.put_u8(v as u8);
    }

    #[inline]
    fn put_var_u64(&mut self, mut v: u64) {
        for _ in 0..8 {
            if v < 0x80 {
                self.put_u8(v as u8);
                return;
            }
            self.put_u8((v as u8) | 0x80);
            v >>= 7;
        }
        self.put_u8(v as u8);
    }
}

/// A bounds-checked cursor over an input slice.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes not yet consumed.
    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    fn need(&self, n: usize) -> Result<(), DecodeError> {
        if self.remaining() < n {
            Err(DecodeError::Truncated {
                offset: self.pos,
                needed: n,
                available: self.remaining(),
            })
        } else {
            Ok(())
        }
    }

    /// The bytes not yet consumed.
    pub fn rest(&self) -> &'a [u8] {
        &self.data[self.pos..]
    }

    /// Consumes `n` bytes already checked to be there (saturating).
    pub fn skip(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.data.len());
    }

    /// Takes the next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        self.need(n)?;
        let out = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    /// Looks at the next byte without consuming it.
    pub fn peek_u8(&self) -> Result<u8, DecodeError> {
        self.need(1)?;
        Ok(self.data[self.pos])
    }

    pub fn i8(&mut self) -> Result<i8, DecodeError> {
        Ok(self.u8()? as i8)
    }

    pub fn i16_le(&mut self) -> Result<i16, DecodeError> {
        Ok(i16::from_le_bytes(self.array()?))
    }

    pub fn i32_le(&mut self) -> Result<i32, DecodeError> {
        Ok(i32::from_le_bytes(self.array()?))
    }

    pub fn i64_le(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    pub fn f32_le(&mut self) -> Result<f32, DecodeError> {
        Ok(f32::from_le_bytes(self.array()?))
    }

    pub fn f64_le(&mut self) -> Result<f64, DecodeError> {
        Ok(f64::from_le_bytes(self.array()?))
    }

    /// LEB128 varint of at most 5 bytes; the 5th byte may use only its low 4 bits.
    pub fn var_u32(&mut self) -> Result<u32, DecodeError> {
        let start = self.pos;
        let mut result: u32 = 0;
        for i in 0..5 {
            let b = self.u8()?;
            if i == 4 && b > 0x0f {
                return Err(DecodeError::BadVarint { offset: start });
            }
            result |= u32::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(result);
            }
        }
        Err(DecodeError::BadVarint { offset: start })
    }

    /// Fory's varint64 (see [`XBufMut::put_var_u64`]): the 9th byte is taken whole.
    pub fn var_u64(&mut self) -> Result<u64, DecodeError> {
        let mut result: u64 = 0;
        for i in 0..8 {
            let b = self.u8()?;
            result |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(result);
            }
        }
        let b = self.u8()?;
        Ok(result | (u64::from(b) << 56))
    }

    pub fn var_i32(&mut self) -> Result<i32, DecodeError> {
        Ok(unzigzag32(self.var_u32()?))
    }

    pub fn var_i64(&mut self) -> Result<i64, DecodeError> {
        Ok(unzigzag64(self.var_u64()?))
    }

    /// Reads a varint length and checks it against the bytes left, so that no
    /// caller allocates for a length the input cannot back. `min_item` is the
    /// smallest encoding of one item (1 for bytes and list elements).
    pub fn length(&mut self, min_item: usize) -> Result<usize, DecodeError> {
        let offset = self.pos;
        let n = self.var_u32()? as usize;
        if n.saturating_mul(min_item) > self.remaining() {
            return Err(DecodeError::LengthExceedsInput {
                offset,
                length: n,
                available: self.remaining(),
            });
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var64(v: u64) -> Vec<u8> {
        let mut b = BytesMut::new();
        b.put_var_u64(v);
        b.to_vec()
    }

    #[test]
    fn varint64_uses_at_most_nine_bytes() {
        assert_eq!(var64(0), [0]);
        assert_eq!(var64(127), [0x7f]);
        assert_eq!(var64(128), [0x80, 0x01]);
        assert_eq!(var64(u64::MAX).len(), 9);
        for v in [
            0,
            1,
            300,
            u64::from(u32::MAX),
            1 << 56,
            (1 << 56) - 1,
            u64::MAX,
        ] {
            let bytes = var64(v);
            assert_eq!(Reader::new(&bytes).var_u64().unwrap(), v, "{v}");
        }
    }

    #[test]
    fn zigzag_matches_reference_examples() {
        assert_eq!(zigzag32(-1), 1);
        assert_eq!(zigzag32(1), 2);
        assert_eq!(zigzag32(i32::MIN), u32::MAX);
        assert_eq!(zigzag64(101), 202);
        for v in [0, -1, 1, i64::MIN, i64::MAX] {
            assert_eq!(unzigzag64(zigzag64(v)), v);
        }
    }

    #[test]
    fn overlong_var_u32_is_rejected() {
        assert!(
            Reader::new(&[0xff, 0xff, 0xff, 0xff, 0x10])
                .var_u32()
                .is_err()
        );
        assert_eq!(
            Reader::new(&[0xff, 0xff, 0xff, 0xff, 0x0f])
                .var_u32()
                .unwrap(),
            u32::MAX
        );
        assert!(Reader::new(&[0x80]).var_u32().is_err());
    }
}
