//! JSON mode (spec §4.5).
//!
//! Output matches Python's `json.dumps(obj, separators=(",", ":"))`: no
//! whitespace, keys in declaration order, every char outside printable ASCII
//! escaped as `\uXXXX` (astral chars as surrogate pairs, DEL included), floats
//! in Python's `repr` style (`1.0`, `1e-05`, `1e+16`). Non-finite floats are
//! written as `null` (serde has no other way; the reference would write `NaN`).
//!
//! Input is strict: an unknown key at any depth is a contract violation
//! (status 101), with the reference's message shape.

use std::io;

use serde::Serialize;
use serde_json::ser::Formatter;

use crate::status::Status;
use crate::xlang::{FieldDesc, FieldType, TypeDesc};

/// serde_json formatter reproducing Python's `json.dumps` bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct PythonFormatter;

impl Formatter for PythonFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if (c as u32) < 0x7f {
                continue;
            }
            writer.write_all(&fragment.as_bytes()[start..i])?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            start = i + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        writer.write_all(python_float_repr(value).as_bytes())
    }

    fn write_f32<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f32) -> io::Result<()> {
        self.write_f64(writer, f64::from(value))
    }
}

/// Python's `repr(float)`: shortest round-trip digits; positional notation
/// for exponents -4..16 (always with a fraction), scientific otherwise with a
/// signed, at least two-digit exponent.
pub fn python_float_repr(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    // `{:e}` gives the shortest round-trip digits: "-1.2345e-7".
    let sci = format!("{v:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-4..16).contains(&exp) {
        let n = digits.len() as i32;
        if exp < 0 {
            format!("{sign}0.{}{digits}", "0".repeat((-exp - 1) as usize))
        } else if exp + 1 >= n {
            format!("{sign}{digits}{}.0", "0".repeat((exp + 1 - n) as usize))
        } else {
            let (a, b) = digits.split_at((exp + 1) as usize);
            format!("{sign}{a}.{b}")
        }
    } else {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() { String::new() } else { format!(".{rest}") };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{first}{frac}e{esign}{:02}", exp.abs())
    }
}

/// Serializes `value` exactly as the reference's JSON codec would.
pub fn to_python_json<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PythonFormatter);
    // Serializing into a Vec fails only if a Serialize impl reports an error;
    // derived impls of wire types do not.
    if value.serialize(&mut ser).is_err() {
        out.clear();
        out.extend_from_slice(b"null");
    }
    out
}

/// Python's `repr()` of a string: single quotes unless the text has a single
/// quote and no double quote; backslash escapes for quotes, `\\`, `\n`, `\r`,
/// `\t` and other non-printable chars.
pub fn python_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if c.is_control() => {
                let n = c as u32;
                if n <= 0xff {
                    out.push_str(&format!("\\x{n:02x}"));
                } else if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Unexpected keys listed in a contract-violation message (the reference's cap).
const MAX_REPORTED_KEYS: usize = 5;
const MAX_REPORTED_KEY_LEN: usize = 80;

/// Checks a decoded JSON object against a struct's fields, recursively, and
/// reports the first object with unknown keys the way the reference does:
/// `contract violation at <path>: unexpected JSON field(s) [...] (expected: [...])`.
pub fn check_strict(value: &serde_json::Value, type_name: &str, fields: &[FieldDesc]) -> Result<(), Status> {
    check_object(value, type_name, fields, 0)
}

fn check_object(value: &serde_json::Value, path: &str, fields: &[FieldDesc], depth: usize) -> Result<(), Status> {
    let serde_json::Value::Object(map) = value else { return Ok(()) };
    if depth > crate::limits::MAX_JSON_DEPTH {
        return Err(Status::contract_violation(format!("contract violation at {path}: nesting too deep")));
    }
    let unexpected: Vec<&String> = map.keys().filter(|k| !fields.iter().any(|f| f.name == k.as_str())).collect();
    if !unexpected.is_empty() {
        let mut shown: Vec<String> = unexpected
            .iter()
            .take(MAX_REPORTED_KEYS)
            .map(|k| {
                let mut k: String = k.chars().take(MAX_REPORTED_KEY_LEN + 1).collect();
                if k.chars().count() > MAX_REPORTED_KEY_LEN {
                    k = k.chars().take(MAX_REPORTED_KEY_LEN).collect::<String>() + "...(truncated)";
                }
                python_repr(&python_repr(&k))
            })
            .collect();
        if unexpected.len() > MAX_REPORTED_KEYS {
            shown.push(python_repr(&format!("...(+{} more)", unexpected.len() - MAX_REPORTED_KEYS)));
        }
        let mut expected: Vec<&str> = fields.iter().map(|f| f.name).collect();
        expected.sort_unstable();
        let expected: Vec<String> = expected.iter().map(|n| python_repr(n)).collect();
        return Err(Status::contract_violation(format!(
            "contract violation at {path}: unexpected JSON field(s) [{}] (expected: [{}])",
            shown.join(", "),
            expected.join(", ")
        )));
    }
    for f in fields {
        if let Some(v) = map.get(f.name) {
            check_value(v, &format!("{path}.{}", f.name), &f.ty, depth + 1)?;
        }
    }
    Ok(())
}

fn check_value(value: &serde_json::Value, path: &str, ty: &FieldType, depth: usize) -> Result<(), Status> {
    match (ty, value) {
        (FieldType::Optional(inner), v) => check_value(v, path, inner, depth),
        (FieldType::Struct(named), v) => match (named.describe)() {
            TypeDesc::Struct(fields) => check_object(v, path, fields, depth),
            TypeDesc::Enum(_) => Ok(()),
        },
        (FieldType::List(elem), serde_json::Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                check_value(item, &format!("{path}[{i}]"), elem, depth + 1)?;
            }
            Ok(())
        }
        (FieldType::Map(_, v), serde_json::Value::Object(map)) => {
            for (k, item) in map {
                check_value(item, &format!("{path}[{}]", python_repr(k)), v, depth + 1)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_repr_matches_python() {
        for (v, want) in [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (1.5, "1.5"),
            (0.1, "0.1"),
            (123.0, "123.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (1e16, "1e+16"),
            (1234567890123456.0, "1234567890123456.0"),
            (1.2345678901234568e17, "1.2345678901234568e+17"),
            (1e-300, "1e-300"),
            (f64::MAX, "1.7976931348623157e+308"),
            (3.14159, "3.14159"),
        ] {
            assert_eq!(python_float_repr(v), want, "{v}");
        }
    }

    #[test]
    fn strings_escape_like_python() {
        let out = to_python_json(&"aé\u{7f}😀\"\n");
        assert_eq!(String::from_utf8(out).unwrap(), r#""a\u00e9\u007f\ud83d\ude00\"\n""#);
    }

    #[test]
    fn python_repr_quotes() {
        assert_eq!(python_repr("bogus"), "'bogus'");
        assert_eq!(python_repr("it's"), "\"it's\"");
        assert_eq!(python_repr("a\nb"), "'a\\nb'");
    }
}
