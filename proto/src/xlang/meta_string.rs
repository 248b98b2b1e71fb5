//! Fory meta strings: the packed form in which a named struct's namespace and
//! type name travel (spec §4.4).
//!
//! pyfory 0.16 picks one of five encodings per string; a peer accepts any of
//! them, but byte-exact output needs the same choice, so [`MetaString::encode`]
//! reproduces pyfory's decision procedure. Namespaces use `.` and `_` as the
//! two extra characters of the 6-bit alphabet, type names `$` and `_`.
//!
//! Deviation: pyfory classifies characters with Python's `str.islower()` and
//! friends, which accept non-ASCII letters and then fail to pack them. We
//! classify ASCII only, so any non-ASCII name is sent as UTF-8 (pyfory cannot
//! register such names at all, so no interoperable byte sequence is affected).

use super::DecodeError;

/// Which name a meta string carries; it selects the two special characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaRole {
    Namespace,
    TypeName,
}

impl MetaRole {
    fn specials(self) -> (char, char) {
        match self {
            MetaRole::Namespace => ('.', '_'),
            MetaRole::TypeName => ('$', '_'),
        }
    }
}

/// Encoding tag of a meta string, as written in its header byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum MetaEncoding {
    Utf8 = 0,
    /// 5 bits per char: `a-z . _ $ |`.
    LowerSpecial = 1,
    /// 6 bits per char: `a-z A-Z 0-9` and the role's two specials.
    LowerUpperDigitSpecial = 2,
    /// Like `LowerSpecial` with the first char lowercased (one capital, in front).
    FirstToLowerSpecial = 3,
    /// Like `LowerSpecial`, each capital written as `|` + its lowercase.
    AllToLowerSpecial = 4,
}

impl MetaEncoding {
    pub fn from_u8(v: u8) -> Result<Self, DecodeError> {
        Ok(match v {
            0 => MetaEncoding::Utf8,
            1 => MetaEncoding::LowerSpecial,
            2 => MetaEncoding::LowerUpperDigitSpecial,
            3 => MetaEncoding::FirstToLowerSpecial,
            4 => MetaEncoding::AllToLowerSpecial,
            other => {
                return Err(DecodeError::BadMetaString(format!(
                    "unknown encoding {other}"
                )));
            }
        })
    }
}

/// A name in its packed wire form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaString {
    pub encoding: MetaEncoding,
    pub bytes: Vec<u8>,
}

impl MetaString {
    /// Packs `name` the way pyfory 0.16 does for the given role.
    pub fn encode(name: &str, role: MetaRole) -> MetaString {
        if name.is_empty() {
            return MetaString {
                encoding: MetaEncoding::Utf8,
                bytes: Vec::new(),
            };
        }
        let encoding = choose_encoding(name, role);
        let bytes = match encoding {
            MetaEncoding::Utf8 => name.as_bytes().to_vec(),
            MetaEncoding::LowerSpecial => pack(name.chars(), 5, role),
            MetaEncoding::LowerUpperDigitSpecial => pack(name.chars(), 6, role),
            MetaEncoding::FirstToLowerSpecial => {
                let mut chars = name.chars();
                let first = chars.next().map(|c| c.to_ascii_lowercase());
                pack(first.into_iter().chain(chars), 5, role)
            }
            MetaEncoding::AllToLowerSpecial => pack(
                name.chars().flat_map(|c| {
                    if c.is_ascii_uppercase() {
                        ['|', c.to_ascii_lowercase()].into_iter().take(2)
                    } else {
                        [c, c].into_iter().take(1)
                    }
                }),
                5,
                role,
            ),
        };
        MetaString { encoding, bytes }
    }

    /// Unpacks a meta string received for `role`.
    pub fn decode(
        encoding: MetaEncoding,
        bytes: &[u8],
        role: MetaRole,
    ) -> Result<String, DecodeError> {
        if bytes.is_empty() {
            return Ok(String::new());
        }
        match encoding {
            MetaEncoding::Utf8 => String::from_utf8(bytes.to_vec())
                .map_err(|_| DecodeError::BadMetaString("invalid UTF-8".into())),
            MetaEncoding::LowerSpecial => unpack(bytes, 5, role),
            MetaEncoding::LowerUpperDigitSpecial => unpack(bytes, 6, role),
            MetaEncoding::FirstToLowerSpecial => {
                let s = unpack(bytes, 5, role)?;
                let mut chars = s.chars();
                Ok(match chars.next() {
                    Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                    None => s,
                })
            }
            MetaEncoding::AllToLowerSpecial => {
                let s = unpack(bytes, 5, role)?;
                let mut out = String::with_capacity(s.len());
                let mut chars = s.chars();
                while let Some(c) = chars.next() {
                    if c == '|' {
                        let next = chars.next().ok_or_else(|| {
                            DecodeError::BadMetaString("dangling capital marker".into())
                        })?;
                        out.push(next.to_ascii_uppercase());
                    } else {
                        out.push(c);
                    }
                }
                Ok(out)
            }
        }
    }
}

fn choose_encoding(name: &str, role: MetaRole) -> MetaEncoding {
    let (s1, s2) = role.specials();
    let mut lower_special = true;
    let mut luds = true;
    let mut digits = 0usize;
    let mut uppers = 0usize;
    let mut len = 0usize;
    for c in name.chars() {
        len += 1;
        if !(c.is_ascii_alphanumeric() || c == s1 || c == s2) {
            luds = false;
        }
        if !(c.is_ascii_lowercase() || matches!(c, '.' | '_' | '$' | '|')) {
            lower_special = false;
        }
        if c.is_ascii_digit() {
            digits += 1;
        }
        if c.is_ascii_uppercase() {
            uppers += 1;
        }
    }
    if lower_special {
        return MetaEncoding::LowerSpecial;
    }
    if luds {
        if digits != 0 {
            return MetaEncoding::LowerUpperDigitSpecial;
        }
        let first_upper = name.chars().next().is_some_and(|c| c.is_ascii_uppercase());
        if uppers == 1 && first_upper {
            return MetaEncoding::FirstToLowerSpecial;
        }
        if (len + uppers) * 5 < len * 6 {
            return MetaEncoding::AllToLowerSpecial;
        }
        return MetaEncoding::LowerUpperDigitSpecial;
    }
    MetaEncoding::Utf8
}

fn char_value(c: char, bits: u32, role: MetaRole) -> u8 {
    let (s1, _) = role.specials();
    if bits == 5 {
        match c {
            'a'..='z' => c as u8 - b'a',
            '.' => 26,
            '_' => 27,
            '$' => 28,
            _ => 29, // '|': the only other char `choose_encoding` lets through
        }
    } else {
        match c {
            'a'..='z' => c as u8 - b'a',
            'A'..='Z' => 26 + (c as u8 - b'A'),
            '0'..='9' => 52 + (c as u8 - b'0'),
            _ if c == s1 => 62,
            // `choose_encoding` admits only the role's second special here.
            _ => 63,
        }
    }
}

fn value_char(v: u8, bits: u32, role: MetaRole) -> Result<char, DecodeError> {
    let (s1, s2) = role.specials();
    let c = if bits == 5 {
        match v {
            0..=25 => (b'a' + v) as char,
            26 => '.',
            27 => '_',
            28 => '$',
            29 => '|',
            _ => {
                return Err(DecodeError::BadMetaString(format!(
                    "5-bit code {v} is not a character"
                )));
            }
        }
    } else {
        match v {
            0..=25 => (b'a' + v) as char,
            26..=51 => (b'A' + v - 26) as char,
            52..=61 => (b'0' + v - 52) as char,
            62 => s1,
            _ => s2,
        }
    };
    Ok(c)
}

/// Packs chars MSB-first after one leading flag bit. The flag says "ignore the
/// last slot": it is set when the padding is wide enough to look like a char.
fn pack(chars: impl Iterator<Item = char> + Clone, bits: u32, role: MetaRole) -> Vec<u8> {
    let count = chars.clone().count();
    let total_bits = count * bits as usize + 1;
    let byte_len = total_bits.div_ceil(8);
    let mut out = vec![0u8; byte_len];
    let mut bit = 1usize;
    for c in chars {
        let v = char_value(c, bits, role);
        for i in (0..bits).rev() {
            if v & (1 << i) != 0 {
                out[bit / 8] |= 1 << (7 - bit % 8);
            }
            bit += 1;
        }
    }
    if byte_len * 8 >= total_bits + bits as usize {
        out[0] |= 0x80;
    }
    out
}

fn unpack(data: &[u8], bits: u32, role: MetaRole) -> Result<String, DecodeError> {
    let bits = bits as usize;
    let num_bits = data.len() * 8;
    let strip_last = data.first().is_some_and(|b| b & 0x80 != 0);
    let mask = (1u16 << bits) - 1;
    let mut out = String::new();
    let mut bit = 1usize;
    while bit + bits <= num_bits && !(strip_last && bit + 2 * bits > num_bits) {
        let byte = bit / 8;
        let hi = u16::from(data[byte]);
        let lo = u16::from(data.get(byte + 1).copied().unwrap_or(0));
        let v = (((hi << 8) | lo) >> (16 - bits - bit % 8)) & mask;
        out.push(value_char(v as u8, bits as u32, role)?);
        bit += bits;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(name: &str, role: MetaRole) -> (u8, String) {
        let m = MetaString::encode(name, role);
        let hex: String = m.bytes.iter().map(|b| format!("{b:02x}")).collect();
        (m.encoding as u8, hex)
    }

    #[test]
    fn matches_reference_bytes() {
        // Values observed in pyfory 0.16 output (wire.md §4.4, §9.1).
        assert_eq!(enc("_aster", MetaRole::Namespace), (1, "6c129922".into()));
        assert_eq!(
            enc("StreamHeader", MetaRole::TypeName),
            (4, "76538900ce9c801922".into())
        );
        assert_eq!(enc("echo", MetaRole::Namespace), (1, "104770".into()));
        assert_eq!(
            enc("EchoRequest", MetaRole::TypeName),
            (4, "f4823bbb12428494c0".into())
        );
        assert_eq!(
            enc("RpcStatus", MetaRole::TypeName),
            (2, "56785626026a24".into())
        );
    }

    #[test]
    fn round_trips_every_encoding() {
        for (name, role, want) in [
            ("abc.def", MetaRole::Namespace, MetaEncoding::LowerSpecial),
            (
                "Node2",
                MetaRole::TypeName,
                MetaEncoding::LowerUpperDigitSpecial,
            ),
            (
                "Inner",
                MetaRole::TypeName,
                MetaEncoding::FirstToLowerSpecial,
            ),
            (
                "StreamHeader",
                MetaRole::TypeName,
                MetaEncoding::AllToLowerSpecial,
            ),
            ("my-ns", MetaRole::Namespace, MetaEncoding::Utf8),
            (
                "ABCDEF",
                MetaRole::TypeName,
                MetaEncoding::LowerUpperDigitSpecial,
            ),
            ("a", MetaRole::Namespace, MetaEncoding::LowerSpecial),
            ("é", MetaRole::Namespace, MetaEncoding::Utf8),
        ] {
            let m = MetaString::encode(name, role);
            assert_eq!(m.encoding, want, "{name}");
            assert_eq!(
                MetaString::decode(m.encoding, &m.bytes, role).unwrap(),
                name
            );
        }
    }
}
