//! The three JSON spellings the trust formats use, each reproducing a
//! specific Python `json.dumps` call byte for byte:
//!
//! | Use | Python call | [`Layout`] | `ascii` |
//! |---|---|---|---|
//! | signed attributes (trust-registry.md §1.4) | `dumps(a, sort_keys=True, separators=(",", ":"), ensure_ascii=False)` | compact | no |
//! | `credential_json` on the wire (§1.10.1) | `dumps(d, separators=(",", ":"))` | compact | yes |
//! | credential / key files (§1.2) | `dump(d, f, indent=2)` + `"\n"` | indent 2 | yes |
//!
//! The objects are small and of fixed shape, so they are written field by
//! field: the key order is the reference's, and nothing depends on how
//! `serde_json` orders maps.

use std::fmt::Write as _;

use super::attributes::Attributes;

/// Whitespace between tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// `separators=(",", ":")`: no whitespace at all.
    Compact,
    /// `indent=2`: one member per line, `": "` after keys, `{}` when empty.
    Indent2,
}

/// A member value.
pub(crate) enum Value<'a> {
    Str(&'a str),
    OptStr(Option<&'a str>),
    U64(u64),
    /// An attribute map, in its own order.
    Attributes(&'a Attributes),
}

/// Appends `s` as a JSON string literal the way Python's encoder does:
/// `"` and `\` escaped, `\n \r \t \b \f` short forms, other C0 controls as
/// `\u00XX` (lowercase); with `ascii`, every char from DEL (U+007F) up as
/// `\uXXXX`, astral chars as a surrogate pair.
pub(crate) fn write_str(out: &mut String, s: &str, ascii: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if ascii && (c as u32) >= 0x7f => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn newline(out: &mut String, layout: Layout, depth: usize) {
    if layout == Layout::Indent2 {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    }
}

fn key_sep(layout: Layout) -> &'static str {
    match layout {
        Layout::Compact => ":",
        Layout::Indent2 => ": ",
    }
}

/// Writes a map of strings (an empty one is `{}` in both layouts).
fn write_map<'a>(
    out: &mut String,
    entries: impl ExactSizeIterator<Item = (&'a str, &'a str)>,
    layout: Layout,
    ascii: bool,
    depth: usize,
) {
    if entries.len() == 0 {
        out.push_str("{}");
        return;
    }
    out.push('{');
    for (i, (k, v)) in entries.enumerate() {
        if i > 0 {
            out.push(',');
        }
        newline(out, layout, depth + 1);
        write_str(out, k, ascii);
        out.push_str(key_sep(layout));
        write_str(out, v, ascii);
    }
    newline(out, layout, depth);
    out.push('}');
}

/// Writes a top-level object with members in the given order.
pub(crate) fn object(members: &[(&str, Value<'_>)], layout: Layout, ascii: bool) -> String {
    let mut out = String::with_capacity(256);
    out.push('{');
    for (i, (key, value)) in members.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        newline(&mut out, layout, 1);
        write_str(&mut out, key, ascii);
        out.push_str(key_sep(layout));
        match value {
            Value::Str(s) | Value::OptStr(Some(s)) => write_str(&mut out, s, ascii),
            Value::OptStr(None) => out.push_str("null"),
            Value::U64(n) => {
                let _ = write!(out, "{n}");
            }
            Value::Attributes(attrs) => write_map(&mut out, attrs.iter(), layout, ascii, 1),
        }
    }
    if !members.is_empty() {
        newline(&mut out, layout, 0);
    }
    out.push('}');
    out
}

/// Canonical JSON of attributes (trust-registry.md §1.4): keys sorted by code
/// point (= UTF-8 byte order, what Python's `sort_keys` does on `str`),
/// compact, non-ASCII as raw UTF-8.
pub(crate) fn canonical_attributes(attrs: &Attributes) -> String {
    let mut sorted: Vec<(&str, &str)> = attrs.iter().collect();
    sorted.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut out = String::with_capacity(
        16 + attrs
            .iter()
            .map(|(k, v)| k.len() + v.len() + 6)
            .sum::<usize>(),
    );
    write_map(&mut out, sorted.into_iter(), Layout::Compact, false, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_python() {
        let mut s = String::new();
        write_str(
            &mut s,
            "a\"\\\n\r\t\u{8}\u{c}\u{1}\u{1f} \u{7f}é\u{2028}🚀",
            false,
        );
        assert_eq!(
            s,
            "\"a\\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u001f \u{7f}é\u{2028}🚀\""
        );
        let mut s = String::new();
        write_str(&mut s, "\u{7f}é\u{2028}🚀~", true);
        assert_eq!(s, "\"\\u007f\\u00e9\\u2028\\ud83d\\ude80~\"");
    }

    #[test]
    fn layouts() {
        let attrs = Attributes::from_iter([("b", "1"), ("a", "2")]);
        let empty = Attributes::new();
        let members = [
            ("x", Value::U64(5)),
            ("attributes", Value::Attributes(&attrs)),
            ("n", Value::OptStr(None)),
        ];
        assert_eq!(
            object(&members, Layout::Compact, true),
            r#"{"x":5,"attributes":{"b":"1","a":"2"},"n":null}"#
        );
        assert_eq!(
            object(&members, Layout::Indent2, true),
            "{\n  \"x\": 5,\n  \"attributes\": {\n    \"b\": \"1\",\n    \"a\": \"2\"\n  },\n  \"n\": null\n}"
        );
        assert_eq!(
            object(&[("e", Value::Attributes(&empty))], Layout::Indent2, true),
            "{\n  \"e\": {}\n}"
        );
        assert_eq!(canonical_attributes(&attrs), r#"{"a":"2","b":"1"}"#);
        assert_eq!(canonical_attributes(&empty), "{}");
    }
}
