//! The JSON text of a manifest: Python's `json.dumps(obj, indent=2)`.
//!
//! The reference writes `json.dumps(asdict(manifest), indent=2)`: one
//! member per line, two spaces per level, `", "` never appears (with an
//! indent the item separator is `","` + newline), `": "` after keys, `[]` and
//! `{}` for empty containers, no trailing newline. `ensure_ascii` is on:
//! everything from U+007F up becomes `\uXXXX` (astral chars as surrogate
//! pairs), C0 controls the short escapes or `\u00XX`. Floats use Python's
//! `repr` (`0.0`, `1e-05`, `1e+16`). [`PythonPrettyFormatter`] is
//! `serde_json`'s pretty printer with the string and float output of
//! [`crate::codec::json::PythonFormatter`].

use std::io;

use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};

use crate::codec::json::{PythonFormatter, python_float_repr};

/// `serde_json` formatter producing the bytes of Python's
/// `json.dumps(value, indent=2)` (with the default `ensure_ascii=True`).
pub struct PythonPrettyFormatter {
    pretty: PrettyFormatter<'static>,
    strings: PythonFormatter,
}

impl Default for PythonPrettyFormatter {
    fn default() -> Self {
        PythonPrettyFormatter {
            pretty: PrettyFormatter::with_indent(b"  "),
            strings: PythonFormatter,
        }
    }
}

impl Formatter for PythonPrettyFormatter {
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.pretty.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.pretty.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_object_value(w)
    }
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        self.strings.write_string_fragment(w, fragment)
    }
    fn write_f64<W: ?Sized + io::Write>(&mut self, w: &mut W, value: f64) -> io::Result<()> {
        w.write_all(python_float_repr(value).as_bytes())
    }
    fn write_f32<W: ?Sized + io::Write>(&mut self, w: &mut W, value: f32) -> io::Result<()> {
        self.write_f64(w, f64::from(value))
    }
}

/// `json.dumps(value, indent=2)` as Python writes it.
pub fn to_python_pretty_json<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = Vec::with_capacity(4096);
    let mut ser =
        serde_json::Serializer::with_formatter(&mut out, PythonPrettyFormatter::default());
    // Manifests and `serde_json::Value`s cannot fail to serialize (map keys
    // are strings, no custom impl reports errors); keep the text valid anyway.
    if value.serialize(&mut ser).is_err() {
        return "null".to_owned();
    }
    // The formatter writes ASCII only.
    String::from_utf8(out).unwrap_or_default()
}

/// Python's `str(b)` for a `bytes` value: `b'...'`, or `b"..."` when the
/// bytes hold a `'` and no `"`; `\\`, the chosen quote, `\t` `\n` `\r`
/// escaped, other bytes outside 0x20..=0x7e as `\xNN`. The reference writes
/// this text as the `default_value` of a `bytes` field (it is not JSON-safe).
pub fn python_bytes_repr(bytes: &[u8]) -> String {
    let quote = if bytes.contains(&b'\'') && !bytes.contains(&b'"') {
        b'"'
    } else {
        b'\''
    };
    let mut out = String::with_capacity(bytes.len() + 3);
    out.push('b');
    out.push(char::from(quote));
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b if b == quote => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x20..=0x7e => out.push(char::from(b)),
            b => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push(char::from(quote));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pretty_layout_matches_python() {
        let v = json!({"a": [], "b": {}, "c": [1, 2.5, null], "d": {"e": "x\u{e9}\u{1F600}\u{7f}\n\"\\"}});
        // python3 -c 'import json; print(json.dumps({"a": [], "b": {}, "c": [1, 2.5, None],
        //   "d": {"e": "x\u00e9\U0001F600\x7f\n\"\\"}}, indent=2))'
        let want = "{\n  \"a\": [],\n  \"b\": {},\n  \"c\": [\n    1,\n    2.5,\n    null\n  ],\n  \"d\": {\n    \"e\": \"x\\u00e9\\ud83d\\ude00\\u007f\\n\\\"\\\\\"\n  }\n}";
        assert_eq!(to_python_pretty_json(&v), want);
        assert_eq!(to_python_pretty_json(&json!([])), "[]");
        assert_eq!(to_python_pretty_json(&json!(1e16)), "1e+16");
        assert_eq!(to_python_pretty_json(&json!("\u{1f}")), "\"\\u001f\"");
    }

    #[test]
    fn bytes_repr_matches_python() {
        assert_eq!(python_bytes_repr(b""), "b''");
        assert_eq!(python_bytes_repr(b"it's"), "b\"it's\"");
        assert_eq!(
            python_bytes_repr(b"\x00'a\"b\\\x7f\xff"),
            "b'\\x00\\'a\"b\\\\\\x7f\\xff'"
        );
        assert_eq!(python_bytes_repr(b"\t\n\r ~"), "b'\\t\\n\\r ~'");
    }
}
