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

use serde_json::Value;

use crate::status::Status;
use crate::xlang::FieldDesc;

/// serde_json formatter reproducing Python's `json.dumps` bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct PythonFormatter;

impl Formatter for PythonFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
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
        return if v > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
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
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
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
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
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
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
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

/// The reference's contract-violation message for an object with unknown
/// keys: `contract violation at <path>: unexpected JSON field(s) [...]
/// (expected: [...])`, at most 5 keys of at most 80 chars, each quoted the
/// way Python's `repr` of a list of reprs would print it.
pub fn unexpected_fields(path: &str, unexpected: &[&str], expected: &[&str]) -> Status {
    let mut shown: Vec<String> = unexpected
        .iter()
        .take(MAX_REPORTED_KEYS)
        .map(|k| {
            let mut shown: String = k.chars().take(MAX_REPORTED_KEY_LEN).collect();
            if k.chars().count() > MAX_REPORTED_KEY_LEN {
                shown.push_str("...(truncated)");
            }
            python_repr(&python_repr(&shown))
        })
        .collect();
    if unexpected.len() > MAX_REPORTED_KEYS {
        shown.push(python_repr(&format!(
            "...(+{} more)",
            unexpected.len() - MAX_REPORTED_KEYS
        )));
    }
    let mut expected: Vec<&str> = expected.to_vec();
    expected.sort_unstable();
    let expected: Vec<String> = expected.iter().map(|n| python_repr(n)).collect();
    Status::contract_violation(format!(
        "contract violation at {path}: unexpected JSON field(s) [{}] (expected: [{}])",
        shown.join(", "),
        expected.join(", ")
    ))
}

/// A value that does not fit its declared type in JSON mode.
pub fn type_mismatch(path: &str, expected: &str, got: &Value) -> Status {
    let kind = match got {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    Status::contract_violation(format!(
        "contract violation at {path}: expected {expected}, got {kind}"
    ))
}

/// JSON mode of a wire type (spec §4.5): objects with the wire field names
/// in declaration order, missing fields taking their defaults (as Python
/// dataclasses do), unknown fields refused. `path` names the position for
/// error messages (`EchoRequest.items[2].name`).
pub trait WireJson: Sized {
    fn to_json(&self) -> Value;
    fn from_json(value: Value, path: &str) -> Result<Self, Status>;
    /// The value of a field the JSON object leaves out.
    fn json_default() -> Self;
}

macro_rules! json_int {
    ($($t:ty),*) => {$(
        impl WireJson for $t {
            fn to_json(&self) -> Value {
                Value::from(*self)
            }
            fn from_json(value: Value, path: &str) -> Result<Self, Status> {
                value
                    .as_i64()
                    .and_then(|i| <$t>::try_from(i).ok())
                    .ok_or_else(|| type_mismatch(path, concat!("an integer fitting ", stringify!($t)), &value))
            }
            fn json_default() -> Self {
                0
            }
        }
    )*};
}
json_int!(i8, i16, i32, i64);

macro_rules! json_float {
    ($($t:ty),*) => {$(
        impl WireJson for $t {
            fn to_json(&self) -> Value {
                serde_json::Number::from_f64(f64::from(*self)).map_or(Value::Null, Value::Number)
            }
            fn from_json(value: Value, path: &str) -> Result<Self, Status> {
                value.as_f64().map(|f| f as $t).ok_or_else(|| type_mismatch(path, "a number", &value))
            }
            fn json_default() -> Self {
                0.0
            }
        }
    )*};
}
json_float!(f32, f64);

impl WireJson for bool {
    fn to_json(&self) -> Value {
        Value::Bool(*self)
    }
    fn from_json(value: Value, path: &str) -> Result<Self, Status> {
        value
            .as_bool()
            .ok_or_else(|| type_mismatch(path, "a boolean", &value))
    }
    fn json_default() -> Self {
        false
    }
}

impl WireJson for String {
    fn to_json(&self) -> Value {
        Value::String(self.clone())
    }
    fn from_json(value: Value, path: &str) -> Result<Self, Status> {
        match value {
            Value::String(s) => Ok(s),
            other => Err(type_mismatch(path, "a string", &other)),
        }
    }
    fn json_default() -> Self {
        String::new()
    }
}

impl WireJson for crate::SmallString {
    fn to_json(&self) -> Value {
        Value::String(self.to_string())
    }
    fn from_json(value: Value, path: &str) -> Result<Self, Status> {
        String::from_json(value, path).map(Into::into)
    }
    fn json_default() -> Self {
        Self::default()
    }
}

/// Bytes travel as standard base64 (the reference's JSON mode cannot carry
/// `bytes` at all; its tools use base64 for them).
impl WireJson for Vec<u8> {
    fn to_json(&self) -> Value {
        use base64::Engine;
        Value::String(base64::engine::general_purpose::STANDARD.encode(self))
    }
    fn from_json(value: Value, path: &str) -> Result<Self, Status> {
        use base64::Engine;
        match &value {
            Value::String(s) => base64::engine::general_purpose::STANDARD
                .decode(s)
                .map_err(|_| type_mismatch(path, "base64 bytes", &value)),
            _ => Err(type_mismatch(path, "base64 bytes", &value)),
        }
    }
    fn json_default() -> Self {
        Vec::new()
    }
}

impl WireJson for bytes::Bytes {
    fn to_json(&self) -> Value {
        self.to_vec().to_json()
    }
    fn from_json(value: Value, path: &str) -> Result<Self, Status> {
        Vec::<u8>::from_json(value, path).map(bytes::Bytes::from)
    }
    fn json_default() -> Self {
        bytes::Bytes::new()
    }
}

impl<T: WireJson> WireJson for Option<T> {
    fn to_json(&self) -> Value {
        self.as_ref().map_or(Value::Null, WireJson::to_json)
    }
    fn from_json(value: Value, path: &str) -> Result<Self, Status> {
        if value.is_null() {
            Ok(None)
        } else {
            T::from_json(value, path).map(Some)
        }
    }
    fn json_default() -> Self {
        None
    }
}

impl<T: WireJson> WireJson for Box<T> {
    fn to_json(&self) -> Value {
        (**self).to_json()
    }
    fn from_json(value: Value, path: &str) -> Result<Self, Status> {
        T::from_json(value, path).map(Box::new)
    }
    fn json_default() -> Self {
        Box::new(T::json_default())
    }
}

impl<T: WireJson> WireJson for Vec<T> {
    fn to_json(&self) -> Value {
        Value::Array(self.iter().map(WireJson::to_json).collect())
    }
    fn from_json(value: Value, path: &str) -> Result<Self, Status> {
        match value {
            Value::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| T::from_json(v, &format!("{path}[{i}]")))
                .collect(),
            other => Err(type_mismatch(path, "an array", &other)),
        }
    }
    fn json_default() -> Self {
        Vec::new()
    }
}

/// JSON object keys are strings: a key whose JSON form is a string is used
/// as is; any other key (an integer, as Python's `json.dumps` writes them, or
/// a struct) is written as its JSON text.
fn key_to_string<K: WireJson>(key: &K) -> String {
    match key.to_json() {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

fn key_from_string<K: WireJson>(key: &str, path: &str) -> Result<K, Status> {
    if let Ok(k) = K::from_json(Value::String(key.to_string()), path) {
        return Ok(k);
    }
    let parsed: Value = serde_json::from_str(key).map_err(|_| {
        type_mismatch(
            path,
            "a key of the declared type",
            &Value::String(key.to_string()),
        )
    })?;
    K::from_json(parsed, path)
}

fn map_from_json<K: WireJson, V: WireJson>(
    value: Value,
    path: &str,
) -> Result<Vec<(K, V)>, Status> {
    match value {
        Value::Object(map) => map
            .into_iter()
            .map(|(k, v)| {
                let at = format!("{path}[{}]", python_repr(&k));
                Ok((key_from_string(&k, &at)?, V::from_json(v, &at)?))
            })
            .collect(),
        other => Err(type_mismatch(path, "an object", &other)),
    }
}

impl<K, V, S> WireJson for std::collections::HashMap<K, V, S>
where
    K: WireJson + Eq + std::hash::Hash,
    V: WireJson,
    S: std::hash::BuildHasher + Default,
{
    fn to_json(&self) -> Value {
        Value::Object(
            self.iter()
                .map(|(k, v)| (key_to_string(k), v.to_json()))
                .collect(),
        )
    }
    fn from_json(value: Value, path: &str) -> Result<Self, Status> {
        Ok(map_from_json(value, path)?.into_iter().collect())
    }
    fn json_default() -> Self {
        Self::default()
    }
}

impl<K: WireJson + Ord, V: WireJson> WireJson for std::collections::BTreeMap<K, V> {
    fn to_json(&self) -> Value {
        Value::Object(
            self.iter()
                .map(|(k, v)| (key_to_string(k), v.to_json()))
                .collect(),
        )
    }
    fn from_json(value: Value, path: &str) -> Result<Self, Status> {
        Ok(map_from_json(value, path)?.into_iter().collect())
    }
    fn json_default() -> Self {
        Self::new()
    }
}

/// Takes a struct's JSON object apart: refuses unknown keys, then hands out
/// each field's value (or `None` when absent). Used by the wire-type macros.
pub struct JsonObject {
    map: serde_json::Map<String, Value>,
    path: String,
}

impl JsonObject {
    /// `type_name` is the struct's name (the reference reports errors at the
    /// class name, e.g. `EchoRequest`), `path` the position when nested.
    pub fn open(value: Value, path: &str, fields: &[FieldDesc]) -> Result<JsonObject, Status> {
        let map = match value {
            Value::Object(map) => map,
            other => return Err(type_mismatch(path, "an object", &other)),
        };
        let unexpected: Vec<&str> = map
            .keys()
            .map(String::as_str)
            .filter(|k| !fields.iter().any(|f| f.name == *k))
            .collect();
        if !unexpected.is_empty() {
            let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
            return Err(unexpected_fields(path, &unexpected, &names));
        }
        Ok(JsonObject {
            map,
            path: path.to_string(),
        })
    }

    /// Field `name`, decoded, or `default` when absent (the struct's
    /// `Default` value of that field, as a Python dataclass default).
    pub fn field_or<T: WireJson>(&mut self, name: &str, default: T) -> Result<T, Status> {
        match self.map.remove(name) {
            Some(v) => T::from_json(v, &format!("{}.{name}", self.path)),
            None => Ok(default),
        }
    }
}

/// The path prefix for a top-level struct: its type name (after the last `/`).
pub fn root_path(tag: &str) -> &str {
    crate::xlang::split_tag(tag).1
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
            (2.5e-3, "0.0025"),
        ] {
            assert_eq!(python_float_repr(v), want, "{v}");
        }
    }

    #[test]
    fn strings_escape_like_python() {
        let out = to_python_json(&"aé\u{7f}😀\"\n");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#""a\u00e9\u007f\ud83d\ude00\"\n""#
        );
    }

    #[test]
    fn python_repr_quotes() {
        assert_eq!(python_repr("bogus"), "'bogus'");
        assert_eq!(python_repr("it's"), "\"it's\"");
        assert_eq!(python_repr("a\nb"), "'a\\nb'");
    }
}
